//! Command line of pe-sim.

use std::path::PathBuf;

use clap::Parser;

/// pe-sim: an HTTPS simulator of the Puppet Enterprise APIs used by pe-analytics.
///
/// It serves the node classifier (`/classifier-api/v1`), the status API
/// (`/status/v1`), a PuppetDB-shaped query API (`/pdb/query/v4`) and a few RBAC-shaped errors
/// on one port (like PE's 4433), and the
/// orchestrator (`/orchestrator/v1`) on a second port (like PE's 8143). Everything is
/// served over TLS with a private CA that pe-sim generates into `--state-dir`, together
/// with client certificates, an RBAC token file and a `pe.conf`.
///
/// On start it prints ONE line of JSON to stdout:
/// {"classifier_url", "orchestrator_url", "status_url", "ca", "cert", "key", "token_file",
/// "pe_conf", "pid", ...} and serves until SIGTERM/SIGINT.
///
/// For a demo in one command, `eval "$(pe-sim --print-env --state-dir DIR)"` starts it in
/// the background and sets the PE_ANALYTICS_* variables, so that `pe-analytics opt-out`,
/// `status` and `report` talk to it with no flag; `pe-sim --stop --state-dir DIR` stops it.
///
/// Test hooks (no authentication needed, not recorded): GET /_sim/requests,
/// POST /_sim/reset-requests, GET /_sim/nodes, GET /_sim/groups on either port.
#[derive(Parser, Debug, Clone)]
#[command(name = "pe-sim", version, about, long_about, max_term_width = 100)]
pub struct Args {
    /// Directory for the CA, certificates, keys, token file and pe.conf.
    ///
    /// Created if missing. Existing certificates, keys and the token are reused, so a
    /// client can be configured once; pe.conf is only written when absent.
    #[arg(long, value_name = "DIR")]
    pub state_dir: PathBuf,

    /// Host name put in the URLs and in the server certificate's SANs.
    ///
    /// The server certificate always covers `localhost` and `127.0.0.1` as well. The
    /// listeners are bound to 127.0.0.1 only; a name other than localhost must be made to
    /// resolve to it by the client (e.g. `curl --resolve`).
    #[arg(long, default_value = "localhost", value_name = "NAME")]
    pub hostname: String,

    /// Port of the console-services listener (classifier, status, RBAC); 0 picks a free port.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub port: u16,

    /// Port of the orchestrator listener; 0 picks a free port.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub orchestrator_port: u16,

    /// PE version to simulate (seeded groups, class parameters, API features).
    ///
    /// Tested seeds: 2016.4.0, 2016.5.1, 2018.1.0, 2019.8.12, 2021.7.1. Any
    /// YEAR.RELEASE.PATCH is accepted; features are gated by version: `config_data` from
    /// 2017.3, `serial_number`/`last_edited` from 2018.1, empty deploy environment from
    /// 2019.7. `puppet_enterprise::send_analytics_data` exists from 2016.4 on, so an older
    /// version answers a write of it with 422 missing-referents.
    #[arg(long, default_value = "2019.8.12", value_name = "VERSION")]
    pub pe_version: String,

    /// Certname of the primary server (also the CN of client.pem, which is allowlisted).
    #[arg(long, default_value = "primary.example.test", value_name = "NAME")]
    pub primary: String,

    /// Certname of the console node; only used with --split.
    #[arg(long, default_value = "console.example.test", value_name = "NAME")]
    pub console: String,

    /// Split install: the console runs on its own node (--console) instead of the primary.
    ///
    /// PE Console is then pinned to the console node and `console_host` names it.
    #[arg(long)]
    pub split: bool,

    /// Seed N additional child groups (e.g. 10000 for a benchmark).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub extra_groups: usize,

    /// Seed a second group named "PE Infrastructure" (in environment `staging`).
    #[arg(long)]
    pub duplicate_pe_infrastructure: bool,

    /// Do not seed the "PE Infrastructure" group (its children hang off All Nodes).
    #[arg(long)]
    pub no_pe_infrastructure: bool,

    /// Put a `send_analytics_data` parameter on a class of a group, e.g.
    /// `--override "PE Master:puppet_enterprise::profile::master:true"`.
    ///
    /// Format GROUP_NAME:CLASS:VALUE where VALUE is JSON (`true`, `false`, `"false"`);
    /// repeatable.
    #[arg(long = "override", value_name = "GROUP:CLASS:VALUE")]
    pub overrides: Vec<String>,

    /// Initial `send_analytics_data` of class `puppet_enterprise` in PE Infrastructure.
    ///
    /// A JSON value: `true`, `false` or `'"false"'` (a string, as some tools wrote it).
    /// Absent when not given (the module default, true, applies).
    #[arg(long, value_name = "JSON")]
    pub initial_value: Option<String>,

    /// A node that the orchestrator reports as not connected to the PCP broker (repeatable).
    ///
    /// Deploy jobs give such nodes the state `errored`.
    #[arg(long, value_name = "NODE")]
    pub disconnected: Vec<String>,

    /// A node whose Puppet runs fail (state `failed`, result status `failed`; repeatable).
    #[arg(long, value_name = "NODE")]
    pub fail_node: Vec<String>,

    /// Total simulated duration of a deploy job in milliseconds.
    ///
    /// The job is `new` for 10% of it, `ready` for the next 10%, `running` for the rest,
    /// then `finished` (all nodes finished) or `failed` (any node failed/errored/skipped).
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub job_duration_ms: u64,

    /// Jobs never finish (they stay `running` until stopped with /command/stop).
    #[arg(long)]
    pub hang_jobs: bool,

    /// Run a real Puppet agent for each node of a deploy job instead of simulating the run.
    ///
    /// PROGRAM is executed once per connected target node, one node after the other, with
    /// the node's certname as its only argument and PE_SIM_JOB, PE_SIM_ENVIRONMENT (the
    /// job's environment when it is enforced, else empty) and PE_SIM_NOOP (1 or 0) in its
    /// environment. It should run `puppet agent -t` with that node's own confdir. Exit 0
    /// or 2 (--detailed-exitcodes) is a finished run (unchanged / changed); anything else
    /// fails the node, with the run's `Error:` lines as the reason. The output is kept in
    /// `<state-dir>/agent-runs/<job>-<node>.log`. --job-duration-ms then only paces the
    /// `new` and `ready` states.
    #[arg(long, value_name = "PROGRAM")]
    pub agent_command: Option<PathBuf>,

    /// Seconds after which an --agent-command run is killed and its node failed.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub agent_timeout_secs: u64,

    /// Add this much latency (milliseconds) before answering each API request.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,

    /// Fraction (0.0-1.0) of API requests answered with an injected 503, 502 or 504
    /// without being processed.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub error_rate: f64,

    /// Seed for the --error-rate random generator (default: random).
    #[arg(long, value_name = "SEED")]
    pub seed: Option<u64>,

    /// Close the first N connections (on either port) right after the TLS handshake,
    /// without reading or answering the request.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub drop_connections: u64,

    /// Reject the (otherwise valid) token with 401 `puppetlabs.rbac/token-expired`.
    #[arg(long)]
    pub expired_token: bool,

    /// Simulate a concurrent edit before the first group write: the group's serial_number
    /// is bumped, so a write carrying the serial it just read gets 409 (2018.1+ only).
    #[arg(long)]
    pub stale_serial_once: bool,

    /// Accept connections, complete TLS, then never answer.
    #[arg(long)]
    pub never_answer: bool,

    /// Group writes get 422 missing-referents until POST /v1/update-classes is called
    /// (a stale class cache, as after an upgrade).
    #[arg(long = "fail-first-write-422")]
    pub fail_first_write_422: bool,

    /// Number of active synthetic nodes in the PuppetDB-shaped query API
    /// (`/pdb/query/v4/{nodes,facts,inventory}` on the console port): the primary plus
    /// agents with a fixed mix of OS and Puppet versions; one more, deactivated node is
    /// never counted.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub puppetdb_nodes: usize,

    /// Answer every PuppetDB query with this HTTP status (e.g. 500, 503).
    #[arg(long, value_name = "CODE")]
    pub puppetdb_status: Option<u16>,

    /// Answer every PuppetDB query with 200 and a JSON object that is not a query result.
    #[arg(long)]
    pub puppetdb_malformed: bool,

    /// Facts merged into the primary's facts in the PuppetDB-shaped API (a JSON object), e.g.
    /// `'{"cloud": {"provider": "azure"}, "networking": {"ip": "203.0.113.7"}}'`.
    #[arg(long, value_name = "JSON")]
    pub primary_facts: Option<String>,

    /// Seed the orchestrator's job history: `KIND:N,...` with KIND one of deploy, task,
    /// plan_task, plan_upload, plan_script, plan_command, plan_wait, e.g. `deploy:2,task:3`.
    ///
    /// The jobs are finished, started by `admin` or `ops` in turn, with 1 to 3 agent nodes,
    /// created in the half hour before pe-sim's start (after the simulated services' start,
    /// an hour before pe-sim's); one more deploy job is created two hours before, before that
    /// start, and no "since the orchestrator's start" figure may count it.
    #[arg(long, value_name = "KIND:N,...")]
    pub job_history: Option<String>,

    /// Port of a Puppet Server status listener (`/status/v1`, like PE's 8140: pe-jruby-metrics,
    /// pe-master and status-service with JVM metrics at level debug); 0 picks a free port.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub puppetserver_port: u16,

    /// A disaster recovery (HA) replica: pinned in a seeded "PE HA Replica" group (2018.1+);
    /// the console services then report replication mode `source` (repeatable).
    #[arg(long, value_name = "NODE")]
    pub ha_replica: Vec<String>,

    /// Custom RBAC roles with a user (`/rbac-api/v1/roles` also has PE's default roles and,
    /// when N > 0, one custom role nobody has).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub rbac_custom_roles: usize,

    /// Also accept client certificates signed by this CA (PEM; repeatable) at the TLS
    /// level, e.g. a real Puppet CA whose certificates a real PuppetDB wants too.
    /// Requests still authenticate with a token or an allowlisted certname.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Vec<PathBuf>,

    /// Append every recorded request as a JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Start in the background and print `export PE_ANALYTICS_...=...` lines for a shell.
    ///
    /// `eval "$(pe-sim --print-env --state-dir DIR)"` then points pe-analytics at the
    /// simulator (URLs, CA, client certificate, token, this shell's certname = the
    /// primary's, and the primary's simulated marker file). The background process keeps
    /// serving until `pe-sim --stop --state-dir DIR` (or SIGTERM to the pid in its pid
    /// file); its stderr goes to DIR/pe-sim.log. Refuses to start a second one for the same
    /// pid file.
    #[arg(long, conflicts_with = "stop")]
    pub print_env: bool,

    /// Stop the pe-sim running for --state-dir (the pid in its pid file), then exit.
    #[arg(long)]
    pub stop: bool,

    /// Write the process id to FILE while serving (removed on exit).
    ///
    /// Default with --print-env and --stop: STATE_DIR/pe-sim.pid.
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// The background process of --print-env: after the JSON line, stdout is closed.
    #[arg(long, hide = true)]
    pub daemon: bool,
}

impl Args {
    /// The pid file: --pid-file, else STATE_DIR/pe-sim.pid for the background modes.
    pub fn pid_path(&self) -> Option<PathBuf> {
        self.pid_file.clone().or_else(|| {
            (self.print_env || self.stop || self.daemon).then(|| self.state_dir.join("pe-sim.pid"))
        })
    }
}
