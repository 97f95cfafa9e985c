//! Issue 15: this host's identity comes from puppet.conf, not from Puppet's
//! slow Ruby start-up. A stub `puppet` first on PATH records every call; on
//! the fast paths it must never be called, and where the file cannot answer
//! it is called exactly once per command.

mod support;

use std::path::{Path, PathBuf};
use support::{run_env, with, write_script, Out, Sim};

const PRIMARY: &str = "primary.example.test";

/// A stub `puppet` that logs its arguments and answers like
/// `puppet config print certname ssldir`.
fn stub_puppet(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("puppet-calls.log");
    write_script(
        &bin.join("puppet"),
        &format!(
            "#!/bin/sh\necho \"puppet $*\" >> '{}'\necho 'certname = stub.example.test'\necho 'ssldir = /nonexistent/stub-ssl'\n",
            log.display()
        ),
    );
    (bin, log)
}

fn calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs the binary with the stub first on PATH and puppet.conf read from `confdir`.
fn run(sim: &Sim, confdir: &Path, args: &[String]) -> Out {
    let (bin, _) = stub_puppet(sim.dir.path());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run_env(
        sim.dir.path(),
        args,
        &[
            ("PATH", path),
            ("PE_ANALYTICS_PUPPET_CONFDIR", confdir.display().to_string()),
        ],
    )
}

fn confdir_with(sim: &Sim, name: &str, puppet_conf: Option<&str>) -> PathBuf {
    let dir = sim.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(text) = puppet_conf {
        std::fs::write(dir.join("puppet.conf"), text).unwrap();
    }
    dir
}

/// Every flag of a classifier command: both URLs, CA, token.
fn all_flags(sim: &Sim) -> Vec<String> {
    with(
        &[
            "--orchestrator-url",
            &sim.s("orchestrator_url"),
            "--pe-version-file",
            &sim.dir.path().join("no-pe_version").display().to_string(),
        ],
        &sim.token_args(),
    )
}

#[test]
fn the_fast_paths_never_start_puppet() {
    let sim = Sim::start(&["--job-duration-ms", "200", "--pe-version", "2021.7.1"]);
    let (_, log) = stub_puppet(sim.dir.path());
    let pe_conf = sim.dir.path().join("pe.conf");
    std::fs::write(&pe_conf, "{\n  \"a::b\": 1\n}\n").unwrap();
    let with_certname = confdir_with(
        &sim,
        "conf-certname",
        Some("[main]\nserver = primary.example.test\n[agent]\ncertname = primary.example.test\n"),
    );
    let without_file = confdir_with(&sim, "conf-none", None);
    // A certname only Puppet can expand: any look-up of this host's
    // identity would start it.
    let unknown = confdir_with(
        &sim,
        "conf-unknown",
        Some("[main]\ncertname = $certname_prefix.example.test\n"),
    );
    let pe_conf_arg = pe_conf.display().to_string();
    let cases: Vec<(&str, &Path, Vec<String>)> = vec![
        (
            "status, every flag",
            &with_certname,
            with(&["status", "--format", "json"], &all_flags(&sim)),
        ),
        (
            "status, every flag, no puppet.conf (the FQDN)",
            &without_file,
            with(&["status", "--format", "json"], &all_flags(&sim)),
        ),
        (
            "opt-out --no-run, every flag",
            &with_certname,
            with(
                &["opt-out", "--classifier", "--no-run", "--format", "json"],
                &all_flags(&sim),
            ),
        ),
        (
            "check --classifier",
            &with_certname,
            with(&["check", "--classifier"], &sim.token_args()),
        ),
        (
            "check --pe-conf",
            &with_certname,
            vec![
                "check".into(),
                "--pe-conf".into(),
                pe_conf.display().to_string(),
            ],
        ),
        // The pe.conf layer alone needs no identity at all: not even the
        // host's name (no DNS look-up, no puppet).
        (
            "check --pe-conf, a certname only Puppet can expand",
            &unknown,
            vec!["check".into(), "--pe-conf".into(), pe_conf_arg.clone()],
        ),
        (
            "opt-out --pe-conf --dry-run, a certname only Puppet can expand",
            &unknown,
            vec![
                "opt-out".into(),
                "--pe-conf".into(),
                pe_conf_arg.clone(),
                "--dry-run".into(),
            ],
        ),
        (
            "conf get, a certname only Puppet can expand",
            &unknown,
            vec![
                "conf".into(),
                "get".into(),
                "--file".into(),
                pe_conf_arg.clone(),
                "a::b".into(),
            ],
        ),
        // No layer flag: the classifier layer applies when this host has an
        // agent certificate; finding out needs the certname.
        ("check, no layer flag", &with_certname, vec!["check".into()]),
    ];
    for (what, confdir, args) in cases {
        let out = run(&sim, confdir, &args);
        assert!((0..=2).contains(&out.code), "{what}: {out:?}");
        assert_eq!(calls(&log), Vec::<String>::new(), "{what} started puppet");
    }
    // The certname in puppet.conf is the one status uses for this host.
    let out = run(
        &sim,
        &with_certname,
        &with(&["status", "--format", "json"], &all_flags(&sim)),
    );
    assert!(
        out.stdout
            .contains(&format!("this host ({PRIMARY}) is not one of"))
            || out.stdout.contains(&format!("\"node\": \"{PRIMARY}\"")),
        "{}",
        out.stdout
    );
}

#[test]
fn puppet_is_asked_once_where_the_file_cannot_answer() {
    let sim = Sim::start(&["--job-duration-ms", "200", "--pe-version", "2021.7.1"]);
    let (_, log) = stub_puppet(sim.dir.path());
    // A setting this tool does not know: only Puppet can expand it.
    let unknown = confdir_with(
        &sim,
        "conf-unknown",
        Some("[main]\ncertname = $certname_prefix.example.test\n"),
    );
    // status needs this host's certname in several places (the agent
    // certificate, the layer selection, the marker row).
    let out = run(
        &sim,
        &unknown,
        &with(&["status", "--format", "json"], &all_flags(&sim)),
    );
    assert!((0..=2).contains(&out.code), "{out:?}");
    assert_eq!(
        calls(&log),
        vec!["puppet config print certname ssldir --section agent"],
        "{out:?}"
    );
    // Puppet's answer is used.
    assert!(
        out.stdout
            .contains("this host (stub.example.test) is not one of"),
        "{out:?}"
    );
    // With --certname, never, not even for the ssldir.
    std::fs::remove_file(&log).unwrap();
    let args = with(
        &["status", "--format", "json", "--certname", PRIMARY],
        &sim.token_args(),
    );
    let out = run(&sim, &unknown, &args);
    assert!((0..=2).contains(&out.code), "{out:?}");
    assert_eq!(calls(&log), Vec::<String>::new(), "{out:?}");
}
