//! The README's demo, `eval "$(pe-sim --print-env ...)"` then `pe-analytics`
//! with no flag, run as written in README.md by a real bash; and the
//! background simulator's life cycle (`--print-env`, `--stop`, pid file).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_pe-analytics"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Stops, by its pid file, a background pe-sim the test started, however
/// the test ends.
struct Background(PathBuf);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe.ends_with("pe-sim") {
                // SAFETY: a pe-sim process this test started.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

fn alive(pid: i32) -> bool {
    // Not a zombie of ours: the background copy is not our child.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// A command in `scratch` with HOME there, the built binaries first on
/// PATH, and no PE_ANALYTICS_* from the developer's shell.
fn command(program: &str, scratch: &Path) -> Command {
    let mut c = Command::new(program);
    support::fixtures::isolate(&mut c)
        .current_dir(scratch)
        .env("HOME", scratch.join("home"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    std::fs::create_dir_all(scratch.join("home")).unwrap();
    c
}

/// Waits for `child`, killing it after `limit` (a `$(...)` that never
/// returns would otherwise hang the test run).
fn wait_with_limit(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?} (does the background pe-sim hold the shell's \
stdout?)\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command lines of README.md's demo block (comments and the build
/// line left out).
fn readme_demo() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("<!-- demo:")
        .expect("README.md has a <!-- demo: ... --> block");
    let end = readme[start..].find("<!-- /demo -->").unwrap() + start;
    readme[start..end]
        .lines()
        .filter(|l| !l.starts_with("```") && !l.starts_with("<!--") && !l.trim().is_empty())
        .filter(|l| !l.starts_with("cargo build"))
        .map(|l| match l.find("  #") {
            Some(i) => l[..i].trim_end().to_string(),
            None => l.trim_end().to_string(),
        })
        .collect()
}

#[test]
fn the_readme_demo_runs_against_pe_sim_with_no_flag() {
    let scratch = tempfile::tempdir().unwrap();
    let state = scratch.path().join("pe-demo");
    let _guard = Background(state.join("pe-sim.pid"));
    let lines: Vec<String> = readme_demo()
        .into_iter()
        .map(|l| l.replace("/tmp/pe-demo", state.to_str().unwrap()))
        .collect();
    let commands: Vec<&str> = lines
        .iter()
        .map(|l| l.split(" --state-dir").next().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "eval \"$(pe-sim --print-env",
            "pe-analytics opt-out --dry-run",
            "pe-analytics opt-out",
            "pe-analytics status",
            "pe-analytics report",
            "pe-sim --stop",
        ],
        "the demo in README.md changed: update this test"
    );
    // Each line as written, its output and status kept apart; the eval's
    // variables stay in the shell for the lines after it.
    let mut script = String::from("set -u\n");
    for (n, line) in lines.iter().enumerate() {
        script.push_str(&format!(
            "{{ {line}\n}} >out.{n} 2>err.{n}; echo $? >rc.{n}\n"
        ));
        if n == 0 {
            script.push_str("env | grep '^PE_' | sort >env.txt\n");
        }
    }
    let started = Instant::now();
    let child = command("bash", scratch.path())
        .args(["--norc", "--noprofile", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_with_limit(child, Duration::from_secs(180));
    assert!(out.status.success(), "{out:?}");
    eprintln!("the demo took {:?}", started.elapsed());
    let read = |what: &str, n: usize| {
        std::fs::read_to_string(scratch.path().join(format!("{what}.{n}"))).unwrap()
    };
    let step = |n: usize| -> (i32, String, String) {
        (
            read("rc", n).trim().parse().unwrap(),
            read("out", n),
            read("err", n),
        )
    };

    // 0. eval "$(pe-sim --print-env ...)": the variables, set in the shell.
    let (rc, _, err) = step(0);
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains("serves in the background"), "{err}");
    let env = std::fs::read_to_string(scratch.path().join("env.txt")).unwrap();
    for var in [
        "PE_ANALYTICS_CLASSIFIER_URL=https://localhost:",
        "PE_ANALYTICS_ORCHESTRATOR_URL=https://localhost:",
        "PE_ANALYTICS_PUPPETDB_URL=https://localhost:",
        "PE_ANALYTICS_CACERT=",
        "PE_ANALYTICS_CERT=",
        "PE_ANALYTICS_KEY=",
        "PE_ANALYTICS_TOKEN_FILE=",
        "PE_ANALYTICS_CERTNAME=primary.example.test",
        "PE_ANALYTICS_MARKER_FILE=",
        "PE_SIM_PID=",
    ] {
        assert!(env.contains(var), "{var}:\n{env}");
    }
    let pid: i32 = env
        .lines()
        .find_map(|l| l.strip_prefix("PE_SIM_PID="))
        .unwrap()
        .parse()
        .unwrap();

    // 1. opt-out --dry-run: pending, the diff and the request, nothing sent.
    let (rc, out, err) = step(1);
    assert_eq!(rc, 2, "{out}{err}");
    assert!(
        out.contains("+ classes.puppet_enterprise.send_analytics_data: (absent) -> false"),
        "{out}"
    );
    assert!(out.contains("X-Authentication: <redacted>"), "{out}");
    // The verdict is a result: stdout (issue 13).
    assert!(
        out.contains("nothing sent") && !err.contains("nothing sent"),
        "{out}{err}"
    );

    // 2. opt-out: the classifier changed (it was still absent: the dry run
    //    sent nothing), verified, and Puppet ran on the primary.
    let (rc, out, err) = step(2);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(
        out.contains("send_analytics_data was (absent), now false; verified"),
        "{out}"
    );
    assert!(out.contains("runs: primary.example.test: ok"), "{out}");

    // 3. status: opted out on every row that applies, the marker file included.
    let (rc, out, err) = step(3);
    assert_eq!(rc, 0, "{out}{err}");
    for row in ["classifier", "node value", "applied", "marker"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(row) && l.contains(" compliant ")),
            "{row}:\n{out}"
        );
    }
    assert!(
        out.contains("verdict: opted out (every layer that applies is proven compliant)"),
        "{out}"
    );

    // 4. report: produced from the simulator's PuppetDB, with the opt-out state.
    let (rc, out, err) = step(4);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.contains("opted-out"), "{out}");
    assert!(
        out.contains("RedHat 8.9"),
        "the primary's OS from PuppetDB:\n{out}"
    );

    // 5. pe-sim --stop: gone, pid file removed.
    let (rc, _, err) = step(5);
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains(&format!("stopped (pid {pid})")), "{err}");
    assert!(!alive(pid), "pe-sim {pid} still runs");
    assert!(!state.join("pe-sim.pid").exists());
}

fn print_env(scratch: &Path, state: &Path, extra: &[&str]) -> std::process::Output {
    let child = command(env!("CARGO_BIN_EXE_pe-sim"), scratch)
        .args(["--print-env", "--state-dir"])
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_with_limit(child, Duration::from_secs(90))
}

fn stop(scratch: &Path, state: &Path) -> std::process::Output {
    command(env!("CARGO_BIN_EXE_pe-sim"), scratch)
        .args(["--stop", "--state-dir"])
        .arg(state)
        .output()
        .unwrap()
}

fn exports(out: &std::process::Output) -> Vec<(String, String)> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l
                .strip_prefix("export ")
                .and_then(|l| l.split_once('='))
                .unwrap_or_else(|| panic!("not an export line: {l}"));
            (k.to_string(), v.trim_matches('\'').to_string())
        })
        .collect()
}

#[test]
fn the_background_simulator_is_detached_single_and_stoppable() {
    let scratch = tempfile::tempdir().unwrap();
    let state = scratch.path().join("state");
    let _guard = Background(state.join("pe-sim.pid"));
    let out = print_env(scratch.path(), &state, &["--initial-value", "false"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let vars = exports(&out);
    let var = |k: &str| -> String {
        vars.iter()
            .find(|(name, _)| name == k)
            .unwrap_or_else(|| panic!("{k} in {vars:?}"))
            .1
            .clone()
    };
    let pid: i32 = var("PE_SIM_PID").parse().unwrap();
    assert_eq!(
        std::fs::read_to_string(state.join("pe-sim.pid"))
            .unwrap()
            .trim(),
        pid.to_string()
    );

    // Detached: a session of its own; stdin and stdout on /dev/null, stderr
    // in the log: none of the caller's descriptors.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], pid.to_string(), "session id: {stat}");
    let fd = |n: u32| std::fs::read_link(format!("/proc/{pid}/fd/{n}")).unwrap();
    assert_eq!(fd(0), Path::new("/dev/null"));
    assert_eq!(fd(1), Path::new("/dev/null"));
    assert_eq!(
        fd(2),
        std::fs::canonicalize(&state).unwrap().join("pe-sim.log")
    );

    // The seeded run applied false: the primary's marker exists; opting in
    // through the variables runs Puppet, which removes it.
    let marker = PathBuf::from(var("PE_ANALYTICS_MARKER_FILE"));
    assert!(marker.exists(), "{}", marker.display());
    let mut opt_in = command(env!("CARGO_BIN_EXE_pe-analytics"), scratch.path());
    for (k, v) in &vars {
        opt_in.env(k, v);
    }
    let o = opt_in.args(["opt-in", "--classifier"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        !marker.exists(),
        "the run that applied opt-in removes the marker"
    );

    // A second one for the same state directory is refused; the first serves on.
    let again = print_env(scratch.path(), &state, &[]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(again.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(&format!(
            "already runs for {}",
            std::fs::canonicalize(&state).unwrap().display()
        )),
        "{again:?}"
    );
    assert!(alive(pid));

    // --stop: stopped; then nothing to stop, which is not an error.
    let o = stop(scratch.path(), &state);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("stopped (pid {pid})")));
    assert!(!alive(pid));
    let o = stop(scratch.path(), &state);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not running"),
        "{o:?}"
    );

    // A pid file naming another program is never signalled.
    let own = std::process::id();
    std::fs::write(state.join("pe-sim.pid"), format!("{own}\n")).unwrap();
    let o = stop(scratch.path(), &state);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not a pe-sim process; not stopping it"),
        "{o:?}"
    );
}

#[test]
fn a_simulator_that_cannot_start_is_reported_with_its_log() {
    let scratch = tempfile::tempdir().unwrap();
    let state = scratch.path().join("state");
    let _guard = Background(state.join("pe-sim.pid"));
    let out = print_env(scratch.path(), &state, &["--pe-version", "not-a-version"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stdout.is_empty(),
        "no export line for a simulator that is not there"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the background pe-sim did not start") && err.contains("pe-sim.log"),
        "{err}"
    );
}
