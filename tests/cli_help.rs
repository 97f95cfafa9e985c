//! `--help` (grouped options, examples and exit codes per command), one set
//! of connection flags for every command that talks to PE, each also from a
//! `PE_ANALYTICS_*` variable, and service URLs with or without their path,
//! against pe-sim.

mod support;

use std::collections::BTreeMap;
use support::fixtures::bin;
use support::{run_env, Out, Sim};

/// The help of `words`, as sections: heading (a line at column 0 ending in
/// ':') to its lines.
fn help(words: &[&str]) -> (String, Vec<(String, Vec<String>)>) {
    let out = bin().args(words).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{words:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            sections.push((line.trim_end_matches(':').to_string(), Vec::new()));
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push(line.to_string());
        }
    }
    (text, sections)
}

/// The flags whose heading line is in `lines` (`      --dry-run`).
fn flags(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let t = l.trim_start();
            let indent = l.len() - t.len();
            let t = t.strip_prefix("-f, ").unwrap_or(t);
            ((1..=6).contains(&indent) && t.starts_with("--"))
                .then(|| t.split([' ', '[', '<']).next().unwrap().to_string())
        })
        .collect()
}

fn section<'a>(sections: &'a [(String, Vec<String>)], name: &str) -> &'a [String] {
    &sections
        .iter()
        .find(|(h, _)| h == name)
        .unwrap_or_else(|| panic!("no {name} section in {sections:?}"))
        .1
}

#[test]
fn options_are_grouped_by_what_they_are_for() {
    for cmd in ["opt-out", "opt-in"] {
        let (text, sections) = help(&[cmd]);
        let headings: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            headings,
            [
                "Options",
                "Layers",
                "Change options",
                "Output",
                "Puppet runs and reloads",
                "Connecting to PE",
                "Examples",
                "Exit codes"
            ],
            "{text}"
        );
        let change = flags(section(&sections, "Change options"));
        for f in [
            "--dry-run",
            "--check",
            "--backup",
            "--diff",
            "--fix-overrides",
        ] {
            assert!(change.contains(&f.to_string()), "{cmd}: {f} in {change:?}");
        }
        assert_eq!(flags(section(&sections, "Output")), ["--format"]);
        assert_eq!(
            flags(section(&sections, "Puppet runs and reloads")),
            [
                "--nodes",
                "--no-run",
                "--wait-timeout",
                "--pe-version",
                "--pe-version-file",
                "--no-reload",
                "--lock-file"
            ]
        );
        assert_eq!(
            flags(section(&sections, "Layers")),
            ["--pe-conf", "--classifier"]
        );
    }
    let (_, sections) = help(&["conf", "set"]);
    assert_eq!(
        flags(section(&sections, "Change options")),
        ["--stdout", "--dry-run", "--backup", "--force"]
    );
    assert!(section(&sections, "Arguments")
        .iter()
        .any(|l| l.trim_start().starts_with("<KEY>")));
}

/// Each command's own examples (of that command) and only the exit codes
/// that apply to it.
#[test]
fn every_command_has_examples_and_its_own_exit_codes() {
    let expected: &[(&[&str], &[u8])] = &[
        (&[], &[0, 1, 2, 3, 4]),
        (&["opt-out"], &[0, 1, 2, 4]),
        (&["opt-in"], &[0, 1, 2, 4]),
        (&["check"], &[0, 1, 2]),
        (&["status"], &[0, 1, 2]),
        (&["report"], &[0, 1]),
        (&["conf"], &[0, 1, 2, 3]),
        (&["conf", "get"], &[0, 1, 3]),
        (&["conf", "set"], &[0, 1, 2]),
        (&["conf", "unset"], &[0, 1, 2]),
        (&["completions"], &[0, 1]),
        (&["man"], &[0, 1]),
    ];
    for (words, codes) in expected {
        let (text, sections) = help(words);
        let prefix = ["pe-analytics"]
            .iter()
            .chain(words.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let examples: Vec<&String> = section(&sections, "Examples")
            .iter()
            .filter(|l| l.starts_with(&format!("  {prefix}")))
            .collect();
        assert!(examples.len() >= 2, "{prefix}:\n{text}");
        let listed: Vec<u8> = section(&sections, "Exit codes")
            .iter()
            .filter_map(|l| l.strip_prefix("  ")?.split("  ").next()?.parse().ok())
            .collect();
        assert_eq!(listed, codes.to_vec(), "{prefix}:\n{text}");
    }
}

const CONNECTION: &[(&str, &str)] = &[
    ("--server", "PE_ANALYTICS_SERVER"),
    ("--classifier-url", "PE_ANALYTICS_CLASSIFIER_URL"),
    ("--orchestrator-url", "PE_ANALYTICS_ORCHESTRATOR_URL"),
    ("--cacert", "PE_ANALYTICS_CACERT"),
    ("--cert", "PE_ANALYTICS_CERT"),
    ("--key", "PE_ANALYTICS_KEY"),
    ("--token-file", "PE_ANALYTICS_TOKEN_FILE"),
    ("--timeout", "PE_ANALYTICS_TIMEOUT"),
    ("--certname", "PE_ANALYTICS_CERTNAME"),
];

#[test]
fn every_command_that_talks_to_pe_documents_the_same_connection_flags_and_variables() {
    for cmd in ["opt-out", "opt-in", "check", "status", "report"] {
        let (_, sections) = help(&[cmd]);
        let lines = section(&sections, "Connecting to PE");
        let listed = flags(lines);
        let text = lines.join("\n");
        for (flag, var) in CONNECTION {
            assert!(listed.contains(&flag.to_string()), "{cmd}: {flag}");
            assert!(
                text.contains(&format!("[env: {var}=]")),
                "{cmd}: {var}\n{text}"
            );
        }
    }
    let (_, sections) = help(&["report"]);
    assert!(section(&sections, "Connecting to PE")
        .join("\n")
        .contains("[env: PE_ANALYTICS_PUPPETDB_URL=]"));
}

/// The connection of `sim` as PE_ANALYTICS_* variables, certificate auth.
fn env_of(sim: &Sim) -> Vec<(&'static str, String)> {
    vec![
        ("PE_ANALYTICS_CLASSIFIER_URL", sim.s("classifier_url")),
        ("PE_ANALYTICS_CACERT", sim.s("ca")),
        ("PE_ANALYTICS_CERT", sim.s("cert")),
        ("PE_ANALYTICS_KEY", sim.s("key")),
        ("PE_ANALYTICS_CERTNAME", "workstation.example.test".into()),
    ]
}

fn run_with(sim: &Sim, args: &[&str], env: &[(&str, String)]) -> Out {
    let out = run_env(sim.dir.path(), args, env);
    assert!(!out.stderr.contains("panicked"), "{out:?}");
    out
}

/// The same command line for every command: `check` takes --certname now.
#[test]
fn one_set_of_connection_flags_works_for_every_command() {
    let sim = Sim::start(&["--initial-value", "false"]);
    let conn = [
        "--classifier-url".to_string(),
        sim.s("classifier_url"),
        "--orchestrator-url".into(),
        sim.s("orchestrator_url"),
        "--cacert".into(),
        sim.s("ca"),
        "--token-file".into(),
        sim.s("token_file"),
        "--timeout".into(),
        "20".into(),
        "--certname".into(),
        "workstation.example.test".into(),
    ];
    for cmd in [
        &["check", "--classifier"][..],
        &["status", "--classifier"],
        &["opt-out", "--classifier", "--dry-run"],
        &["opt-in", "--classifier", "--dry-run"],
        &[
            "report",
            "--puppetdb-url",
            &sim.s("puppetdb_url"),
            "--puppetserver-url",
            &sim.s("puppetserver_url"),
        ],
    ] {
        let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        args.extend(conn.iter().cloned());
        let out = sim.run(&args);
        // 0 or 2 (opt-in --dry-run: a change is pending); never a usage error.
        assert!(
            [0, 2].contains(&out.code) && !out.stderr.contains("unexpected argument"),
            "{cmd:?}: {out:?}"
        );
    }
}

#[test]
fn connection_flags_come_from_the_environment_and_flags_win() {
    let sim = Sim::start(&[]);
    // Variables only: the classifier is read (not opted out: exit 2).
    let out = run_with(&sim, &["check", "--classifier"], &env_of(&sim));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(sim
        .requests()
        .iter()
        .any(|r| r["auth"].as_str().unwrap().starts_with("cert:")));

    // A flag beats its variable: the variable names a port nobody listens on.
    let mut env = env_of(&sim);
    env[0].1 = "https://localhost:9".into();
    let out = run_with(&sim, &["check", "--classifier"], &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("localhost:9"), "{out:?}");
    let out = run_with(
        &sim,
        &[
            "check",
            "--classifier",
            "--classifier-url",
            &sim.s("classifier_url"),
        ],
        &env,
    );
    assert_eq!(out.code, 2, "{out:?}");

    // --timeout from its variable: a bad value is refused as the flag's would be.
    let mut env = env_of(&sim);
    env.push(("PE_ANALYTICS_TIMEOUT", "soon".into()));
    let out = run_with(&sim, &["check", "--classifier"], &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--timeout"), "{out:?}");

    // The certname names this host: not one of the sim's nodes, so the
    // marker row of status says so.
    let out = run_with(&sim, &["status", "--format", "json"], &env_of(&sim));
    let marker: Vec<_> = out.json()["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["layer"] == "marker")
        .cloned()
        .collect();
    assert_eq!(marker.len(), 1, "{out:?}");
    assert!(
        marker[0]["detail"]
            .as_str()
            .unwrap()
            .contains("this host (workstation.example.test)"),
        "{marker:?}"
    );
}

/// `https://HOST:PORT`, with or without the service path, means the same;
/// another service's path is refused with what to give instead.
#[test]
fn urls_work_with_or_without_their_service_path() {
    let sim = Sim::start(&["--initial-value", "false", "--job-duration-ms", "200"]);
    let root = sim.s("console_root");
    let orch_root = sim.s("orchestrator_root");
    // One orchestrator run, so that status's "applied" row depends on
    // reading the orchestrator's job list.
    let mut args = vec!["opt-out".to_string(), "--classifier".into()];
    args.extend(sim.token_args());
    args.extend(["--orchestrator-url".into(), orch_root.clone()]);
    args.extend(["--certname".into(), "primary.example.test".into()]);
    assert_eq!(sim.run(&args).code, 0);
    let mut answers = BTreeMap::new();
    for nc in [
        root.clone(),
        format!("{root}/"),
        format!("{root}/classifier-api"),
        format!("{root}/classifier-api/v1/"),
    ] {
        for orch in [orch_root.clone(), format!("{orch_root}/orchestrator/v1")] {
            let out = sim.run(&[
                "status",
                "--format",
                "json",
                "--classifier-url",
                &nc,
                "--orchestrator-url",
                &orch,
                "--cacert",
                &sim.s("ca"),
                "--token-file",
                &sim.s("token_file"),
                "--certname",
                "primary.example.test",
                "--marker-file",
                "/nonexistent/marker",
            ]);
            let rows: Vec<(String, String)> = out.json()["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["layer"].as_str().unwrap().to_string(),
                        l["verdict"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            answers.insert((nc.clone(), orch), (out.code, rows));
        }
    }
    let first = answers.values().next().unwrap().clone();
    assert!(
        first.1.contains(&("applied".into(), "compliant".into())),
        "the orchestrator was asked: {first:?}"
    );
    assert!(answers.values().all(|a| *a == first), "{answers:#?}");

    let out = sim.run(&[
        "check",
        "--classifier",
        "--classifier-url",
        &format!("{root}/rbac-api"),
        "--cacert",
        &sim.s("ca"),
        "--token-file",
        &sim.s("token_file"),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("/rbac-api is RBAC's API, not the node classifier's"),
        "{out:?}"
    );
}
