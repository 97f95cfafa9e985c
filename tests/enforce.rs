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

// ---- issue 13: one plan, preflight, verified writes, no duplicate runs ----

/// The orchestrator is needed for the runs: unreachable, or refusing the
/// token, the preflight stops the command before anything is written.
#[test]
fn orchestrator_unreachable_or_refusing_the_token_writes_nothing() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    let pe_conf = sim.dir.path().join("copy.conf");
    std::fs::copy(sim.s("pe_conf"), &pe_conf).unwrap();
    let before = std::fs::read(&pe_conf).unwrap();
    let mut args = with(
        &[
            "opt-out",
            "--classifier",
            "--pe-conf",
            pe_conf.to_str().unwrap(),
        ],
        &conn(&sim),
    );
    // A closed port: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let i = args.iter().position(|a| a == "--orchestrator-url").unwrap();
    args[i + 1] = format!("https://localhost:{port}");
    let out = run(&sim, &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("orchestrator") && out.stderr.contains("nothing was written"),
        "{out:?}"
    );
    assert!(paths(&sim, "POST").is_empty(), "{:?}", paths(&sim, "POST"));
    assert_eq!(
        std::fs::read(&pe_conf).unwrap(),
        before,
        "pe.conf was written"
    );

    // The dry run shows the same finding and exits 1.
    args.push("--dry-run".into());
    let out = run(&sim, &args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("preflight: BLOCKED: orchestrator:"),
        "{out:?}"
    );

    // Reachable, but the token is refused.
    sim.sim_post(
        "faults",
        serde_json::json!({"orchestrator_refuses_token": true}),
    );
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--format", "json"],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 1, "{out:?}");
    let j = out.json();
    assert!(
        j["error"].as_str().unwrap().contains("HTTP 401")
            && j["error"].as_str().unwrap().contains("nothing was written"),
        "{j:#}"
    );
    assert!(paths(&sim, "POST").is_empty(), "{:?}", paths(&sim, "POST"));
    assert_eq!(layer(&j, "classifier")["written"], false);
}

/// Non-GET requests pe-sim recorded, as (method, path, body).
fn writes_recorded(sim: &Sim) -> Vec<(String, String, Value)> {
    all_requests(sim)
        .into_iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap().contains("/classified/"))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["body"].clone(),
            )
        })
        .collect()
}

fn url_path(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("/{}", rest.split_once('/').unwrap().1)
}

/// The dry run's JSON plan is what the real run does: its requests are the
/// ones pe-sim records, in order, and its reloads the ones run.
#[test]
fn the_dry_run_plan_is_what_the_real_run_executes() {
    let cases: [(&str, &[&str], &[&str]); 4] = [
        ("monolithic", &["--pe-version", "2021.7.1"], &[]),
        (
            "split",
            &[
                "--pe-version",
                "2019.8.12",
                "--split",
                "--primary",
                PRIMARY,
                "--console",
                CONSOLE,
            ],
            &[],
        ),
        ("2016.5.1", &["--pe-version", "2016.5.1"], &[]),
        (
            "--nodes",
            &[
                "--pe-version",
                "2021.7.1",
                "--split",
                "--primary",
                PRIMARY,
                "--console",
                CONSOLE,
            ],
            &["--nodes", CONSOLE],
        ),
    ];
    for (name, sim_args, extra) in cases {
        let sim = sim(sim_args);
        let mut base = with(&["opt-out", "--classifier"], &conn(&sim));
        base.extend(extra.iter().map(|s| s.to_string()));
        let dry = run(
            &sim,
            &with(
                &base.iter().map(String::as_str).collect::<Vec<_>>(),
                &["--dry-run", "--format", "json"],
            ),
        );
        assert_eq!(dry.code, 2, "{name}: {dry:?}");
        assert!(
            writes_recorded(&sim).is_empty(),
            "{name}: the dry run wrote"
        );
        let plan = dry.json()["plan"].clone();
        assert_eq!(plan["blocked"], false, "{name}: {plan:#}");
        let steps = plan["steps"].as_array().unwrap().clone();
        let planned: Vec<(String, String, Value)> = steps
            .iter()
            .filter(|s| s["request"].is_object())
            .map(|s| {
                (
                    s["request"]["method"].as_str().unwrap().to_string(),
                    url_path(s["request"]["url"].as_str().unwrap()),
                    s["request"]["body"].clone(),
                )
            })
            .collect();
        let reloads: Vec<String> = steps
            .iter()
            .filter(|s| s["step"] == "reload" && s["local"] == true)
            .map(|s| s["command"].as_str().unwrap().to_string())
            .collect();
        let real = run(
            &sim,
            &with(
                &base.iter().map(String::as_str).collect::<Vec<_>>(),
                &["--format", "json"],
            ),
        );
        assert_eq!(real.code, 0, "{name}: {real:?}");
        let executed = real.json()["plan"]["steps"].clone();
        assert!(
            executed
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["state"] == "done"),
            "{name}: {executed:#}"
        );
        assert_eq!(writes_recorded(&sim), planned, "{name}");
        // The local reloads ran, exactly (the stubs log them).
        let log = reload_log(&sim);
        let ran: Vec<&str> = log.lines().collect();
        assert_eq!(ran.len(), reloads.len(), "{name}: {log} vs {reloads:?}");
        for (r, cmd) in ran.iter().zip(&reloads) {
            assert!(
                cmd.ends_with(r.split_once(' ').unwrap().1),
                "{name}: {r} vs {cmd}"
            );
        }
        if name == "2016.5.1" {
            assert_eq!(reloads.len(), 2, "{name}: {steps:?}");
        }
    }
}

/// A write that PE applied but answered badly (500, a body that is not
/// JSON, or no answer at all): the group is read back, the outcome says what
/// the classifier holds, and the procedure goes on.
#[test]
fn a_write_applied_then_answered_badly_is_read_back() {
    for fault in ["500", "not-json", "drop"] {
        let sim = sim(&["--pe-version", "2021.7.1"]);
        sim.sim_post("faults", serde_json::json!({"group_write": fault}));
        let out = run(
            &sim,
            &with(
                &["opt-out", "--classifier", "--format", "json"],
                &conn(&sim),
            ),
        );
        assert_eq!(out.code, 0, "{fault}: {out:?}");
        let j = out.json();
        let c = layer(&j, "classifier");
        assert_eq!(
            (
                c["written"].clone(),
                c["verified"].clone(),
                c["value_after"].clone()
            ),
            (
                serde_json::json!(true),
                serde_json::json!(true),
                serde_json::json!(false)
            ),
            "{fault}: {c:#}"
        );
        let writes: Vec<_> = writes_recorded(&sim)
            .into_iter()
            .filter(|w| w.1.contains("/groups/"))
            .collect();
        assert_eq!(
            writes.len(),
            1,
            "{fault}: one write, not repeated: {writes:?}"
        );
        assert_eq!(deploys(&sim).len(), 1, "{fault}");
        // And the text says it read the group back.
        let sim = self::sim(&["--pe-version", "2021.7.1"]);
        sim.sim_post("faults", serde_json::json!({"group_write": fault}));
        let out = run(
            &sim,
            &with(&["opt-out", "--classifier", "--no-run"], &conn(&sim)),
        );
        assert_eq!(out.code, 0, "{fault}: {out:?}");
        assert!(out.stderr.contains("no clean answer"), "{fault}: {out:?}");
        assert!(
            out.stdout
                .contains("opted out (puppet_enterprise::send_analytics_data was"),
            "{out:?}"
        );
    }
}

/// Someone else made the same change just before this run's write: the
/// write is refused with 409, the re-read shows the value, and this run
/// says it wrote nothing.
#[test]
fn a_change_made_by_someone_else_is_not_reported_as_written() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    sim.sim_post("faults", serde_json::json!({"preempt_write": true}));
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--format", "json"],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    let c = layer(&j, "classifier");
    assert_eq!(c["written"], false, "{c:#}");
    assert_eq!(c["conflicts"], 1, "{c:#}");
    assert_eq!(c["value_after"], false, "{c:#}");
    let statuses: Vec<u64> = all_requests(&sim)
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().contains("/groups/"))
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![409]);
    // The value still needs a run to take effect: it happened.
    assert_eq!(deploys(&sim).len(), 1);
    assert_eq!(j["outcome"], "unchanged");
}

/// Ten concurrent opt-outs on one host: one Puppet run per node, never two
/// at once (the host lock serialises them; the later ones find the run in
/// the job history).
#[test]
fn ten_concurrent_opt_outs_start_one_run_per_node() {
    let sim = Sim::start(&[
        "--pe-version",
        "2021.7.1",
        "--split",
        "--primary",
        PRIMARY,
        "--console",
        CONSOLE,
        "--job-duration-ms",
        "800",
    ]);
    let (bin, _) = stubs(sim.dir.path());
    let home = sim.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let lock = sim.dir.path().join("shared.lock");
    let children: Vec<_> = (0..10)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_pe-analytics"))
                .args(with(
                    &["opt-out", "--classifier", "--format", "json"],
                    &conn(&sim),
                ))
                .env("HOME", &home)
                .env(
                    "PATH",
                    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
                )
                .env("PE_ANALYTICS_LOCK_FILE", &lock)
                .env_remove("PE_RBAC_TOKEN")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut written = 0;
    for c in children {
        let o = c.wait_with_output().unwrap();
        let j: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        });
        assert_eq!(o.status.code(), Some(0), "{j:#}");
        if layer(&j, "classifier")["written"] == true {
            written += 1;
        }
    }
    assert_eq!(written, 1, "exactly one run wrote the classifier");
    let d = deploys(&sim);
    assert_eq!(d.len(), 1, "{d:?}");
    // Per node: one run, and no two runs of a node overlapped.
    let jobs = all_requests(&sim);
    assert!(
        jobs.iter()
            .filter(|r| r["path"].as_str().unwrap().ends_with("/command/deploy"))
            .count()
            == 1
    );
    let nodes = sim.sim_get("nodes");
    for n in [PRIMARY, CONSOLE] {
        assert_eq!(nodes[n]["job"], "1", "{nodes:#}");
    }
}

/// A job someone else started on the node is running: the opt-out waits
/// for it and counts it instead of starting another.
#[test]
fn a_running_job_on_the_nodes_is_waited_for_and_counted() {
    let sim = Sim::start(&[
        "--pe-version",
        "2021.7.1",
        "--initial-value",
        "false",
        "--job-duration-ms",
        "1500",
    ]);
    let job = sim.deploy(&[PRIMARY]);
    assert_eq!(job["job"]["name"], "1", "{job}");
    let out = run(
        &sim,
        &with(
            &["opt-out", "--classifier", "--format", "json"],
            &conn(&sim),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    let runs = layer(&j, "runs");
    assert_eq!(runs["waited_for"], serde_json::json!(["1"]), "{runs:#}");
    assert_eq!(runs["counted"][0]["node"], PRIMARY, "{runs:#}");
    assert!(runs["job"].is_null(), "no job of its own: {runs:#}");
    assert_eq!(deploys(&sim).len(), 1, "only the other one's deploy");
}

/// `status` claims only what is proven: after a failed run, a run that hit
/// the deadline, or with the orchestrator down, it does not exit 0.
#[test]
fn status_is_not_zero_after_a_failed_run_a_timeout_or_with_the_orchestrator_down() {
    let marker = |sim: &Sim| {
        let m = sim.dir.path().join("analytics-opt-out");
        std::fs::write(&m, "").unwrap();
        m.display().to_string()
    };
    // A failed run.
    let sim1 = sim(&["--pe-version", "2021.7.1", "--fail-node", PRIMARY]);
    assert_eq!(
        run(&sim1, &with(&["opt-out", "--classifier"], &conn(&sim1))).code,
        4
    );
    let m = marker(&sim1);
    let out = run(
        &sim1,
        &with(
            &["status", "--format", "json", "--marker-file", &m],
            &conn(&sim1),
        ),
    );
    assert_eq!(out.code, 2, "failed run: {out:?}");
    assert_eq!(layer(&out.json(), "applied")["verdict"], "not-compliant");
    // A timeout (the job was stopped).
    let sim2 = sim(&["--pe-version", "2021.7.1", "--hang-jobs"]);
    let out = run(
        &sim2,
        &with(
            &["opt-out", "--classifier", "--wait-timeout", "1s"],
            &conn(&sim2),
        ),
    );
    assert_eq!(out.code, 4, "{out:?}");
    let m = marker(&sim2);
    let out = run(
        &sim2,
        &with(
            &["status", "--format", "json", "--marker-file", &m],
            &conn(&sim2),
        ),
    );
    assert_eq!(out.code, 2, "timeout: {out:?}");
    // The orchestrator down: its history cannot be read, and no PuppetDB
    // answers: an error, not "unknown".
    let sim3 = sim(&["--pe-version", "2021.7.1"]);
    assert_eq!(
        run(&sim3, &with(&["opt-out", "--classifier"], &conn(&sim3))).code,
        0
    );
    let m = marker(&sim3);
    let mut args = with(
        &["status", "--format", "json", "--marker-file", &m],
        &conn(&sim3),
    );
    let i = args.iter().position(|a| a == "--orchestrator-url").unwrap();
    args[i + 1] = "https://localhost:1".into();
    let out = run(&sim3, &args);
    assert_eq!(out.code, 1, "orchestrator down: {out:?}");
    let j = out.json();
    assert_eq!(j["outcome"], "error");
    assert_eq!(layer(&j, "applied")["verdict"], "error", "{j:#}");
    // The same with the orchestrator up: proven by the job history.
    let out = run(
        &sim3,
        &with(
            &["status", "--format", "json", "--marker-file", &m],
            &conn(&sim3),
        ),
    );
    assert_eq!(out.code, 0, "{out:?}");
}

/// With PuppetDB: the latest catalog and report prove application, also
/// after an agent run that no orchestrator job started.
#[test]
fn status_proves_application_from_puppetdb() {
    let sim = sim(&["--pe-version", "2021.7.1"]);
    let m = sim.dir.path().join("analytics-opt-out");
    std::fs::write(&m, "").unwrap();
    let status = |sim: &Sim| {
        let out = run(
            sim,
            &with(
                &[
                    "status",
                    "--format",
                    "json",
                    "--marker-file",
                    m.to_str().unwrap(),
                    "--puppetdb-url",
                    &sim.s("puppetdb_url"),
                ],
                &conn(sim),
            ),
        );
        let j = out.json();
        (out.code, layer(&j, "applied").clone())
    };
    // --no-run: the classifier holds false, no run applied it.
    assert_eq!(
        run(
            &sim,
            &with(&["opt-out", "--classifier", "--no-run"], &conn(&sim))
        )
        .code,
        0
    );
    let (code, applied) = status(&sim);
    assert_eq!(code, 2, "{applied}");
    assert!(
        applied["detail"]
            .as_str()
            .unwrap()
            .contains("PuppetDB: the latest catalog"),
        "{applied}"
    );
    // A scheduled agent run (no orchestrator job) applies it.
    sim.sim_post("agent-run", serde_json::json!({"node": PRIMARY}));
    let (code, applied) = status(&sim);
    assert_eq!(code, 0, "{applied}");
    assert_eq!(applied["verdict"], "compliant");
    assert!(
        applied["detail"]
            .as_str()
            .unwrap()
            .contains("Class[Puppet_enterprise"),
        "{applied}"
    );
    assert!(deploys(&sim).is_empty());
    // PuppetDB answering an error is an error, not a fallback.
    let sim2 = self::sim(&["--pe-version", "2021.7.1", "--puppetdb-status", "503"]);
    let out = run(
        &sim2,
        &with(
            &[
                "status",
                "--format",
                "json",
                "--puppetdb-url",
                &sim2.s("puppetdb_url"),
            ],
            &conn(&sim2),
        ),
    );
    assert_eq!(out.code, 1, "{out:?}");
}

/// Results on stdout, diagnostics on stderr, in every mode of opt-out,
/// opt-in, check and status; `--check` prints the verdict only.
#[test]
fn verdicts_go_to_stdout_in_every_mode() {
    let sim = sim(&["--pe-version", "2021.7.1", "--initial-value", "true"]);
    let c = conn(&sim);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            with(&["opt-out", "--classifier", "--dry-run"], &c),
            "would opt out",
        ),
        (
            with(&["opt-out", "--classifier", "--check", "--diff"], &c),
            "would opt out",
        ),
        (
            with(&["check", "--classifier"], &sim.token_args()),
            "not opted out",
        ),
        (with(&["status"], &c), "verdict: NOT opted out"),
        (
            with(&["opt-out", "--classifier", "--no-run"], &c),
            "opted out (puppet_enterprise",
        ),
        (
            with(&["opt-out", "--classifier", "--no-run", "--dry-run"], &c),
            "already opted out",
        ),
        (
            with(&["opt-out", "--classifier"], &c),
            "runs: job 1 ended finished",
        ),
        (
            with(&["opt-out", "--classifier"], &c),
            "runs: no Puppet run needed",
        ),
        (
            with(&["check", "--classifier"], &sim.token_args()),
            "opted out",
        ),
        (
            with(&["opt-in", "--classifier", "--dry-run"], &c),
            "would opt in",
        ),
        (
            with(&["opt-in", "--classifier", "--check"], &c),
            "would opt in",
        ),
        (
            with(&["opt-in", "--classifier"], &c),
            "opted in (puppet_enterprise",
        ),
    ];
    for (args, verdict) in cases {
        let out = run(&sim, &args);
        assert!(
            out.stdout.contains(verdict),
            "{args:?}: {verdict:?} not on stdout: {out:?}"
        );
        assert!(
            !out.stderr.contains(verdict),
            "{args:?}: {verdict:?} on stderr: {out:?}"
        );
        if args.iter().any(|a| a == "--check") {
            // The verdict only: no diff, no request, no plan.
            assert_eq!(out.stdout.lines().count(), 2, "{args:?}: {out:?}");
            assert!(
                !out.stdout.contains("POST") && !out.stdout.contains("~ "),
                "{out:?}"
            );
        }
    }
}
