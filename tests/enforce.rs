//! Issue 5 (enforce): the runs after the classifier change, PE versions and
//! the 2016.5.1 reloads, the whole procedure, status. Against pe-sim over
//! real TLS, driving the real binary.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{run_env, with, write_script, Out, Sim};

const PRIMARY: &str = "primary.example.test";
const CONSOLE: &str = "console.example.test";

fn sim(extra: &[&str]) -> Sim {
    let mut args = vec!["--job-duration-ms", "200"];
    args.extend_from_slice(extra);
    Sim::start(&args)
}

/// Connection flags (token auth, both URLs) and no version file here.
fn conn(sim: &Sim) -> Vec<String> {
    let mut a = sim.token_args();
    a.extend([
        "--orchestrator-url".into(),
        sim.s("orchestrator_url"),
        "--pe-version-file".into(),
        sim.dir.path().join("no-pe_version").display().to_string(),
        "--certname".into(),
        PRIMARY.into(),
    ]);
    a
}

/// A directory with recording `systemctl` and `service` stubs; the log file.
fn stubs(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("reloads.log");
    for name in ["systemctl", "service"] {
        let p = bin.join(name);
        write_script(
            &p,
            &format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\n", log.display()),
        );
    }
    (bin, log)
}

fn run(sim: &Sim, args: &[String]) -> Out {
    let (bin, _) = stubs(sim.dir.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_env(sim.dir.path(), args, &[("PATH", path)]);
    assert!(!out.stdout.contains(&sim.token()) && !out.stderr.contains(&sim.token()));
    out
}

fn reload_log(sim: &Sim) -> String {
    std::fs::read_to_string(sim.dir.path().join("reloads.log")).unwrap_or_default()
}

/// Every request pe-sim recorded (both listeners).
fn all_requests(sim: &Sim) -> Vec<Value> {
    sim.sim_get("requests").as_array().unwrap().clone()
}

fn paths(sim: &Sim, method: &str) -> Vec<String> {
    all_requests(sim)
        .iter()
        .filter(|r| r["method"] == method)
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

fn deploys(sim: &Sim) -> Vec<Value> {
    all_requests(sim)
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/command/deploy"))
        .collect()
}

fn layer<'a>(j: &'a Value, name: &str) -> &'a Value {
    j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["layer"] == name)
        .unwrap_or_else(|| panic!("no layer {name} in {j:#}"))
}

fn analytics_of(sim: &Sim, node: &str) -> Value {
    let nodes = sim.sim_get("nodes");
    let n = nodes
        .as_array()
        .map(|a| a.iter().find(|n| n["name"] == node).cloned())
        .unwrap_or_else(|| nodes.get(node).cloned())
        .unwrap_or_else(|| panic!("no node {node} in {nodes:#}"));
    n.clone()
}

#[test]
fn full_opt_out_on_each_version_monolithic() {
    for v in ["2016.4.0", "2016.5.1", "2018.1.0", "2019.8.12", "2021.7.1"] {
        let sim = sim(&["--pe-version", v]);
        let out = run(
            &sim,
            &with(
                &["opt-out", "--classifier", "--format", "json"],
                &conn(&sim),
            ),
        );
        assert_eq!(out.code, 0, "{v}: {out:?}");
        let j = out.json();
        assert_eq!(j["outcome"], "done", "{v}");
        let runs = layer(&j, "runs");
        assert_eq!(runs["targets"], serde_json::json!([PRIMARY]), "{v}");
        assert_eq!(runs["outcome"], "ok", "{v}");
        assert_eq!(runs["nodes"][0]["state"], "finished", "{v}");
        let reloads = layer(&j, "reloads");
        // Version detected from the console services' status endpoint.
        assert_eq!(reloads["pe_version"]["version"], v, "{v}");
        let d = deploys(&sim);
        assert_eq!(d.len(), 1, "{v}");
        assert_eq!(d[0]["body"]["scope"]["nodes"], serde_json::json!([PRIMARY]));
        assert_eq!(d[0]["body"]["environment"], "production");
        let node = analytics_of(&sim, PRIMARY);
        assert!(
            node.to_string().contains("\"send_analytics_data\":false"),
            "{v}: {node}"
        );
        if v == "2016.5.1" {
            // Monolithic and this host is the primary: both reloads here.
            assert_eq!(
                reload_log(&sim),
                "service pe-console-services reload\nservice pe-puppetserver reload\n",
                "{v}"
            );
            assert_eq!(reloads["reloads"].as_array().unwrap().len(), 2);
        } else {
            assert_eq!(reload_log(&sim), "", "{v}");
        }
        // Idempotent by outcome: applied everywhere (from 2018.1 the job
        // history proves it) -> nothing written, no run.
        let again = run(&sim, &with(&["opt-out", "--classifier"], &conn(&sim)));
        assert_eq!(again.code, 0, "{v}: {again:?}");
        if v >= "2018.1.0" {
            assert_eq!(deploys(&sim).len(), 1, "{v}: {again:?}");
            assert!(again.stdout.contains("no Puppet run needed"), "{again:?}");
        } else {
            // No edit time before 2018.1: nothing tells, so it runs again.
            assert_eq!(deploys(&sim).len(), 2, "{v}");
        }
    }
}

#[test]
fn split_install_reload_on_other_host_is_printed_not_run() {
    let sim = sim(&[
        "--pe-version",
        "2016.5.1",
        "--split",
        "--primary",
        PRIMARY,
        "--console",
        CONSOLE,
    ]);
    let out = run(&sim, &with(&["opt-out", "--classifier"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    let d = deploys(&sim);
    assert_eq!(
        d[0]["body"]["scope"]["nodes"],
        serde_json::json!([PRIMARY, CONSOLE])
    );
    assert_eq!(reload_log(&sim), "service pe-puppetserver reload\n");
    assert!(
        out.stdout.contains(&format!(
            "ssh {CONSOLE} sudo service pe-console-services reload"
        )),
        "{out:?}"
    );
}

/// A target not connected to the orchestrator: the runs could not happen,
/// so the preflight stops everything before the first write (issue 13).
#[test]
fn disconnected_node_is_named_and_nothing_is_written() {
    let sim = sim(&[
        "--split",
        "--primary",
        PRIMARY,
        "--console",
        CONSOLE,
        "--disconnected",
        CONSOLE,
    ]);
    let out = run(&sim, &with(&["opt-out", "--classifier"], &conn(&sim)));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "{CONSOLE} not connected to the orchestrator (PCP broker): check pxp-agent"
        )) && out.stderr.contains("nothing was written"),
        "{out:?}"
    );
    assert!(paths(&sim, "POST").iter().all(|p| !p.contains("/groups/")));
    assert!(deploys(&sim).is_empty());
    // --nodes with the connected one goes ahead.
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--nodes", PRIMARY],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        deploys(&sim)[0]["body"]["scope"]["nodes"],
        serde_json::json!([PRIMARY])
    );
}

#[test]
fn failed_node_run_exits_4_with_the_reason() {
    let sim = sim(&["--fail-node", PRIMARY]);
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--format", "json"],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 4, "{out:?}");
    let j = out.json();
    assert_eq!(j["outcome"], "enforcement-failed");
    assert_eq!(layer(&j, "classifier")["written"], true);
    let runs = layer(&j, "runs");
    assert_eq!(runs["outcome"], "failed");
    assert_eq!(runs["remaining"], serde_json::json!([PRIMARY]));
    assert_eq!(runs["nodes"][0]["state"], "failed");
    let text = run(&sim, &with(&["opt-out", "--classifier"], &conn(&sim)));
    // The classifier holds the value but no run applied it: runs again, fails again.
    assert_eq!(text.code, 4, "{text:?}");
    assert!(
        text.stdout.contains(&format!("{PRIMARY}: FAILED"))
            && !text.stdout.contains("failed (failed)")
            && text
                .stderr
                .contains("error: the change was made but the Puppet runs did not succeed"),
        "{text:?}"
    );
}

#[test]
fn a_job_that_never_finishes_hits_the_deadline_and_is_stopped() {
    let sim = sim(&["--hang-jobs"]);
    let t = Instant::now();
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--wait-timeout", "2s"],
            &conn(&sim),
        ),
    );
    // Not a speed test: without the deadline the job would hang for the
    // default 30 minutes; the bound is loose so a loaded machine passes.
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stdout.contains("did not finish within --wait-timeout"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("still running then: {PRIMARY}")),
        "{out:?}"
    );
    assert!(
        paths(&sim, "POST")
            .iter()
            .any(|p| p.ends_with("/command/stop")),
        "no stop sent"
    );
}

#[test]
fn ctrl_c_stops_the_job() {
    let sim = sim(&["--hang-jobs"]);
    let (bin, _) = stubs(sim.dir.path());
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let child = support::fixtures::isolate(&mut Command::new(env!("CARGO_BIN_EXE_pe-analytics")))
        .args(with(&["opt-out", "--classifier"], &conn(&sim)))
        .env("HOME", &home)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env_remove("PE_RBAC_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while deploys(&sim).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(120), "no deploy");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("interrupted (Ctrl-C)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        paths(&sim, "POST")
            .iter()
            .any(|p| p.ends_with("/command/stop")),
        "no stop sent"
    );
}

#[test]
fn no_run_prints_the_command_and_a_later_opt_out_runs() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    let out = run(
        &sim,
        &with(&["opt-out", "--classifier", "--no-run"], &conn(&sim)),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "puppet job run --nodes {PRIMARY} --environment production"
        )),
        "{out:?}"
    );
    assert!(deploys(&sim).is_empty());
    // The value is in place but nothing applied it since: the runs happen.
    let out = run(&sim, &with(&["opt-out", "--classifier"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("already opted out"), "{out:?}");
    assert_eq!(deploys(&sim).len(), 1);
}

#[test]
fn version_below_2016_4_is_refused_before_any_write() {
    let sim = sim(&[]);
    let file = sim.dir.path().join("pe_version");
    std::fs::write(&file, "2016.2.1\n").unwrap();
    let mut args = with(&["opt-out", "--classifier"], &conn(&sim));
    let i = args.iter().position(|a| a == "--pe-version-file").unwrap();
    args[i + 1] = file.display().to_string();
    let out = run(&sim, &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("introduced in PE 2016.4.0"), "{out:?}");
    assert!(paths(&sim, "POST").is_empty());
}

#[test]
fn dry_run_of_the_whole_procedure_sends_no_write() {
    let sim = sim(&["--pe-version", "2016.5.1"]);
    let out = run(
        &sim,
        &with(&["opt-out", "--classifier", "--dry-run"], &conn(&sim)),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("send_analytics_data"), "{out:?}");
    assert!(out.stdout.contains("run Puppet on"), "{out:?}");
    assert!(
        out.stdout.contains("would reload pe-puppetserver here"),
        "{out:?}"
    );
    // The same preflight as the real run, shown.
    assert!(
        out.stdout.contains("preflight: ok: orchestrator:")
            && out.stdout.contains("accepts the token"),
        "{out:?}"
    );
    assert!(paths(&sim, "POST").is_empty(), "{:?}", paths(&sim, "POST"));
    assert_eq!(reload_log(&sim), "");
}

fn status_rows(j: &Value) -> Vec<(String, String, Option<String>)> {
    j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["layer"].as_str().unwrap().to_string(),
                l["verdict"].as_str().unwrap().to_string(),
                l["node"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn status_on_non_compliant_then_compliant_installation() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    let marker = sim.dir.path().join("analytics-opt-out");
    let st = |sim: &Sim| {
        run(
            sim,
            &with(
                &[
                    "status",
                    "--format",
                    "json",
                    "--marker-file",
                    marker.to_str().unwrap(),
                ],
                &conn(sim),
            ),
        )
    };
    let out = st(&sim);
    assert_eq!(out.code, 2, "{out:?}");
    let rows = status_rows(&out.json());
    let verdict = |rows: &[(String, String, Option<String>)], l: &str| {
        rows.iter()
            .find(|r| r.0 == l)
            .unwrap_or_else(|| panic!("{l} in {rows:?}"))
            .1
            .clone()
    };
    assert_eq!(verdict(&rows, "pe.conf"), "not-applicable");
    assert_eq!(verdict(&rows, "classifier"), "not-compliant");
    assert_eq!(verdict(&rows, "node value"), "not-compliant");
    // Nothing proves a run applied it (the seeded run is no orchestrator job).
    assert_eq!(verdict(&rows, "applied"), "not-compliant");
    // No layer flag: classifier, runs (and no reloads on 2021.7.1).
    let out = run(&sim, &with(&["opt-out"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    // Puppet would create the marker on the node; the test plays Puppet.
    std::fs::write(&marker, "").unwrap();
    let out = st(&sim);
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["outcome"], "compliant");
    let rows = status_rows(&j);
    for l in ["classifier", "overrides", "node value", "applied", "marker"] {
        assert_eq!(verdict(&rows, l), "compliant", "{l}: {rows:?}");
    }
    // Text table.
    let out = run(
        &sim,
        &with(
            &["status", "--marker-file", marker.to_str().unwrap()],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("LAYER"), "{out:?}");
    // A defeating override makes it non-compliant again.
    let sim2 = self::sim(&[
        "--initial-value",
        "false",
        "--override",
        "PE Master:puppet_enterprise::profile::master:true",
    ]);
    let out = run(&sim2, &with(&["status", "--format", "json"], &conn(&sim2)));
    assert_eq!(out.code, 2, "{out:?}");
    let rows = status_rows(&out.json());
    assert_eq!(verdict(&rows, "overrides"), "not-compliant");
    assert_eq!(verdict(&rows, "node value"), "not-compliant");
}

#[test]
fn opt_in_mirrors_opt_out_runs_included() {
    let sim = sim(&["--pe-version", "2019.8.12", "--initial-value", "false"]);
    let out = run(&sim, &with(&["opt-in", "--format", "json"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(layer(&j, "classifier")["written"], true);
    assert_eq!(layer(&j, "runs")["outcome"], "ok");
    assert_eq!(deploys(&sim).len(), 1);
}

/// On a host with neither a pe.conf nor a PE connection, a command without
/// a layer flag says so (exit 1). The test always asserts: on a host that
/// has /etc/puppetlabs (a PE node, where the defaults would find pe.conf or
/// the agent certificate), the command runs in a private mount namespace
/// where an empty directory hides it.
#[test]
fn nothing_applies_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A certname with no certificate anywhere (and no `puppet config print`).
    let args = [
        "opt-out",
        "--cacert",
        "/nonexistent",
        "--certname",
        "no-such-node.invalid",
    ];
    let out = if Path::new("/etc/puppetlabs").exists() {
        run_hiding_etc_puppetlabs(dir.path(), &args)
    } else {
        support::run_clean(dir.path(), &args)
    };
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("nothing to work on here"), "{out:?}");
    assert!(
        out.stderr
            .contains("/etc/puppetlabs/enterprise/conf.d/pe.conf"),
        "{out:?}"
    );
}

/// Runs pe-analytics with an empty tmpfs over /etc/puppetlabs, in a mount
/// namespace of its own (unshare, util-linux); fails when that is impossible.
fn run_hiding_etc_puppetlabs(scratch: &Path, args: &[&str]) -> support::Out {
    let home = scratch.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let o = support::fixtures::isolate(&mut Command::new("unshare"))
        .args([
            "--mount",
            "--map-root-user",
            "sh",
            "-c",
            "mount -t tmpfs tmpfs /etc/puppetlabs && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_pe-analytics"),
        ])
        .args(args)
        .env("HOME", &home)
        .output()
        .expect("unshare (util-linux) hides this host's /etc/puppetlabs for the test");
    let out = support::Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("unshare:") && !out.stderr.contains("mount:"),
        "this host has /etc/puppetlabs; hiding it needs a mount namespace: {out:?}"
    );
    out
}

#[test]
fn whole_procedure_dry_run_with_pe_conf_json_sends_no_write() {
    let sim = sim(&["--pe-version", "2016.5.1"]);
    let pe_conf = sim.dir.path().join("copy.conf");
    std::fs::copy(sim.s("pe_conf"), &pe_conf).unwrap();
    let before = std::fs::read_to_string(&pe_conf).unwrap();
    let out = run(
        &sim,
        &with(
            &[
                "opt-out",
                "--pe-conf",
                pe_conf.to_str().unwrap(),
                "--classifier",
                "--dry-run",
                "--format",
                "json",
            ],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 2, "{out:?}");
    let j = out.json();
    let names: Vec<&str> = j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["pe.conf", "classifier", "plan"]);
    let steps = layer(&j, "plan")["steps"].as_array().unwrap().clone();
    assert_eq!(steps[0]["step"], "run");
    assert_eq!(steps[1]["step"], "reload");
    assert_eq!(steps.len(), 3);
    assert!(paths(&sim, "POST").is_empty(), "{:?}", paths(&sim, "POST"));
    assert_eq!(std::fs::read_to_string(&pe_conf).unwrap(), before);
    assert_eq!(reload_log(&sim), "");
}

#[test]
fn nodes_flag_overrides_the_targets() {
    let sim = sim(&["--split", "--primary", PRIMARY, "--console", CONSOLE]);
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--nodes", CONSOLE],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        deploys(&sim)[0]["body"]["scope"]["nodes"],
        serde_json::json!([CONSOLE])
    );
}

#[test]
fn a_failed_reload_exits_4_and_says_what_remains() {
    let sim = sim(&["--pe-version", "2016.5.1"]);
    let bin = sim.dir.path().join("failing-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["systemctl", "service"] {
        let p = bin.join(name);
        write_script(&p, "#!/bin/sh\necho 'reload refused' >&2\nexit 1\n");
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = run_env(
        sim.dir.path(),
        &with(&["opt-out", "--classifier"], &conn(&sim)),
        &[("PATH", path)],
    );
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stdout.contains("reloading pe-puppetserver here failed"),
        "{out:?}"
    );
    assert!(out.stderr.contains("reload refused"), "{out:?}");
}

/// Certificate auth (PE's default on a primary) cannot start runs: the
/// preflight says so before anything is written; `--no-run` opts out of
/// the runs (issue 13).
#[test]
fn certificate_only_auth_is_refused_before_the_write_unless_no_run() {
    let sim = sim(&[]);
    let mut args = sim.cert_args();
    args.extend([
        "--orchestrator-url".into(),
        sim.s("orchestrator_url"),
        "--pe-version".into(),
        "2021.7.1".into(),
    ]);
    let out = run(
        &sim,
        &with(&["opt-out", "--classifier", "--format", "json"], &args),
    );
    assert_eq!(out.code, 1, "{out:?}");
    let j = out.json();
    assert_eq!(j["outcome"], "error");
    assert_eq!(layer(&j, "classifier")["written"], false);
    assert!(
        j["error"].as_str().unwrap().contains("RBAC token")
            && j["error"].as_str().unwrap().contains("--no-run"),
        "{j:#}"
    );
    assert_eq!(j["plan"]["blocked"], true);
    assert!(paths(&sim, "POST").is_empty(), "{:?}", paths(&sim, "POST"));
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--no-run", "--format", "json"],
            &args,
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(layer(&j, "classifier")["written"], true);
    let plan = layer(&j, "plan");
    assert_eq!(plan["executed"], false);
    assert_eq!(plan["reason"], "--no-run");
    assert_eq!(
        plan["steps"][0]["command"],
        format!("puppet job run --nodes {PRIMARY} --environment production")
    );
    assert!(deploys(&sim).is_empty());
}

#[test]
fn check_without_a_layer_flag_checks_every_layer_that_applies() {
    let sim = sim(&[]);
    let out = run(&sim, &with(&["check"], &sim.token_args()));
    assert_eq!(out.code, 2, "{out:?}");
    let out = run(&sim, &with(&["opt-out"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(&sim, &with(&["check"], &sim.token_args()));
    assert_eq!(out.code, 0, "{out:?}");
    let help = run(&sim, &with(&["opt-out", "--help"], &[] as &[String]));
    assert!(help
        .stdout
        .contains("4  the change was made but enforcement failed"));
}

/// A string "false" in the classifier fails PE's Boolean parameter at
/// compile time (tests of the real stack: .ci/e2e/run.sh); status says so on
/// the "applied" row instead of "unknown".
#[test]
fn status_says_a_string_value_cannot_be_applied() {
    let sim = sim(&["--pe-version", "2021.7.1", "--initial-value", "\"false\""]);
    let out = run(&sim, &with(&["status", "--format", "json"], &conn(&sim)));
    assert_eq!(out.code, 2, "{out:?}");
    let j = out.json();
    let applied = layer(&j, "applied");
    assert_eq!(applied["verdict"], "not-compliant", "{applied}");
    assert!(
        applied["detail"]
            .as_str()
            .unwrap()
            .contains("\"false\", not a boolean"),
        "{applied}"
    );
    // opt-out writes the boolean; the row no longer says it cannot compile.
    let out = run(&sim, &with(&["opt-out"], &conn(&sim)));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(&sim, &with(&["status", "--format", "json"], &conn(&sim)));
    let j = out.json();
    let applied = layer(&j, "applied");
    assert_eq!(applied["verdict"], "compliant", "{applied}");
}

/// With --certname, the host's certname is never discovered (no `puppet
/// config print certname`, which takes seconds on a PE primary).
#[test]
fn a_given_certname_spares_the_puppet_lookup() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    let (bin, _) = stubs(sim.dir.path());
    let log = sim.dir.path().join("puppet-calls.log");
    let puppet = bin.join("puppet");
    write_script(
        &puppet,
        &format!(
            "#!/bin/sh\necho \"puppet $*\" >> '{}'\necho stub.example.test\n",
            log.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in ["status", "check"] {
        let mut args = with(&[command, "--format", "json"], &conn(&sim));
        if command == "check" {
            // check takes no --certname, --orchestrator-url or version flags.
            args = with(
                &[command, "--classifier", "--format", "json"],
                &sim.token_args(),
            );
        }
        let out = run_env(sim.dir.path(), &args, &[("PATH", path.clone())]);
        assert!(matches!(out.code, 0 | 2), "{command}: {out:?}");
        if command == "status" {
            let calls = std::fs::read_to_string(&log).unwrap_or_default();
            assert_eq!(calls, "", "status with --certname asked puppet: {calls}");
        }
    }
}
