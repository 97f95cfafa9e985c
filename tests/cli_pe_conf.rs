//! `opt-out`, `opt-in` and `check` on pe.conf, end to end through the built
//! binary on copies of the bundled fixtures.

use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::fixtures::{bin, copy_fixture, fixture, Untouched};

fn run(args: &[&str], path: &Path) -> Output {
    bin()
        .args(args)
        .arg("--pe-conf")
        .arg(path)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// What PE would read, by an independent HOCON implementation.
fn analytics(path: &Path) -> Option<Value> {
    let v = support::independent::file_meaning(path).unwrap();
    v.get("puppet_enterprise::send_analytics_data").cloned()
}

const ALL_FIXTURES: &[&str] = &[
    "2016.4-monolithic.conf",
    "2016.5-split.conf",
    "2016.5-monolithic-opted-out.conf",
    "2019.8-monolithic.conf",
    "2019.8-split-compilers.conf",
    "2021.7-standard.conf",
    "2021.7-braceless.conf",
    "crlf-windows-edited.conf",
    "tabs-indented.conf",
    "no-trailing-newline.conf",
    "bom.conf",
    "string-false.conf",
    "nested-object.conf",
    "dotted-path.conf",
    "duplicates.conf",
    "substitution.conf",
    "secrets.conf",
];

#[test]
fn opt_out_every_fixture_then_nothing_more_to_do() {
    for name in ALL_FIXTURES {
        let (_dir, path) = copy_fixture(name);
        let original = fs::read_to_string(&path).unwrap();
        let out = run(&["opt-out"], &path);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(analytics(&path), Some(json!(false)), "{name}");
        let after = fs::read_to_string(&path).unwrap();
        // Only the key's lines change: every other line of the original is still there, in order.
        let mut rest = after.lines();
        for line in original
            .lines()
            .filter(|l| !l.contains("send_analytics_data"))
        {
            assert!(
                rest.any(|l| l == line),
                "{name}: line {line:?} was disturbed\n{after}"
            );
        }
        if original.contains("\r\n") {
            assert!(
                !after.replace("\r\n", "").contains('\n'),
                "{name}: CRLF stays CRLF"
            );
        }
        assert_eq!(
            original.starts_with('\u{feff}'),
            after.starts_with('\u{feff}'),
            "{name}: BOM kept"
        );

        let before = Untouched::of(&path);
        let out = run(&["opt-out"], &path);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(
            text(&out.stdout).contains("already opted out; nothing written"),
            "{name}: {}",
            text(&out.stdout)
        );
        assert_eq!(
            Untouched::of(&path),
            before,
            "{name}: second run writes nothing"
        );
        assert_eq!(run(&["check"], &path).status.code(), Some(0), "{name}");
    }
}

#[test]
fn dry_run_and_check_change_nothing_and_say_pending() {
    let (_dir, path) = copy_fixture("2021.7-standard.conf");
    let original = fs::read(&path).unwrap();
    let out = run(&["opt-out", "--dry-run"], &path);
    assert_eq!(out.status.code(), Some(2));
    let diff = text(&out.stdout);
    assert!(
        diff.contains("+  \"puppet_enterprise::send_analytics_data\": false\n"),
        "{diff}"
    );
    // The verdict is a result: stdout, as in every mode (issue 13).
    assert!(
        text(&out.stdout).contains("would opt out"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(run(&["opt-out", "--check"], &path).status.code(), Some(2));
    assert_eq!(run(&["check"], &path).status.code(), Some(2));
    assert_eq!(fs::read(&path).unwrap(), original);
}

#[test]
fn opt_in_removes_the_key_or_writes_true() {
    let (_dir, path) = copy_fixture("2016.5-monolithic-opted-out.conf");
    let out = run(&["opt-in", "--dry-run"], &path);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("-  \"puppet_enterprise::send_analytics_data\": false\n"));
    let out = run(&["opt-in"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(analytics(&path), None);
    assert_eq!(run(&["check"], &path).status.code(), Some(2));
    let out = run(&["opt-in"], &path);
    assert!(text(&out.stdout).contains("already opted in"));
    assert_eq!(run(&["opt-in", "--check"], &path).status.code(), Some(0));
    let out = run(&["opt-in", "--explicit"], &path);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(analytics(&path), Some(json!(true)));
}

#[test]
fn json_report_is_stable() {
    let (_dir, path) = copy_fixture("string-false.conf");
    let out = run(&["opt-out", "--dry-run", "--format", "json"], &path);
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["command"], "opt-out");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["outcome"], "pending");
    assert_eq!(report["exit_code"], 2);
    let layer = &report["layers"][0];
    assert_eq!(layer["layer"], "pe.conf");
    assert_eq!(layer["path"], path.display().to_string());
    assert_eq!(layer["state"], "invalid");
    assert_eq!(layer["value"], "\"false\"");
    assert_eq!(layer["line"], 6);
    assert_eq!(layer["state_after"], "opted-out");
    assert_eq!(layer["written"], false);
    assert_eq!(
        layer["changes"],
        json!([{"op": "set", "path": "\"puppet_enterprise::send_analytics_data\"", "value": "false"}])
    );
    assert!(layer["diff"].as_str().unwrap().contains("-  \"puppet_enterprise::send_analytics_data\": \"false\"\n+  \"puppet_enterprise::send_analytics_data\": false\n"));
    assert_eq!(layer["findings"][0]["code"], "string-boolean");
    assert_eq!(layer["findings"][0]["line"], 6);
    assert_eq!(layer["findings"][0]["fixed_by_opt_out"], true);

    let out = run(&["opt-out", "--format", "json"], &path);
    let report = json_of(&out);
    assert_eq!(
        (report["outcome"].as_str(), report["exit_code"].as_i64()),
        (Some("done"), Some(0))
    );
    assert_eq!(report["layers"][0]["written"], true);
    let out = run(&["check", "--format", "json"], &path);
    assert_eq!(json_of(&out)["outcome"], "compliant");

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &["check", "--format", "json"],
        &dir.path().join("missing.conf"),
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert_eq!(report["outcome"], "error");
    assert!(report["error"].as_str().unwrap().contains("no such file"));
}

#[test]
fn every_lint_is_reported_and_opt_out_fixes_what_it_can() {
    for (name, code, state) in [
        ("string-false.conf", "string-boolean", "invalid"),
        ("nested-object.conf", "nested-key", "default"),
        ("dotted-path.conf", "dotted-key", "default"),
        ("duplicates.conf", "duplicate", "opted-out"),
        ("substitution.conf", "substitution", "unknown"),
        ("include.conf", "include", "unknown"),
    ] {
        let (dir, path) = copy_fixture(name);
        if name == "include.conf" {
            fs::copy(fixture("extra.conf"), dir.path().join("extra.conf")).unwrap();
        }
        let report = json_of(&run(&["check", "--format", "json"], &path));
        let layer = &report["layers"][0];
        assert_eq!(layer["state"], state, "{name}");
        let codes: Vec<&str> = layer["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{name}: {codes:?}");
        let out = run(&["check"], &path);
        assert!(
            text(&out.stderr).contains("warning: "),
            "{name}: findings are printed"
        );

        let out = run(&["opt-out", "--format", "json"], &path);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let after = json_of(&run(&["check", "--format", "json"], &path));
        let left: Vec<&str> = after["layers"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        // For include.conf, the key now comes after the include, so the
        // file's own setting wins and the include no longer matters.
        assert!(left.is_empty(), "{name}: {left:?}");
        assert_eq!(after["outcome"], "compliant", "{name}");
    }
}

#[test]
fn nested_object_is_replaced_by_the_real_key() {
    let (_dir, path) = copy_fixture("nested-object.conf");
    run(&["opt-out"], &path);
    let after = fs::read_to_string(&path).unwrap();
    assert!(!after.contains("puppet_enterprise {"), "{after}");
    assert!(
        after.contains("\n  \"puppet_enterprise::send_analytics_data\": false\n}"),
        "{after}"
    );
}

#[test]
fn backup_keeps_the_original_with_its_mode() {
    let (dir, path) = copy_fixture("2016.5-split.conf");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let original = fs::read_to_string(&path).unwrap();
    let out = run(&["opt-out", "--backup"], &path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let backups: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pe.conf.bak.")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let stamp = backups[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("pe.conf.bak.")
        .to_string();
    assert!(
        stamp.len() == 16 && stamp.ends_with('Z') && stamp.contains('T'),
        "UTC timestamp: {stamp}"
    );
    assert_eq!(fs::read_to_string(&backups[0]).unwrap(), original);
    assert_eq!(
        fs::metadata(&backups[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(text(&out.stdout).contains(&format!("backup: {}", backups[0].display())));
}

#[test]
fn secrets_never_appear_in_any_output() {
    let path = fixture("secrets.conf");
    let (_dir, copy) = copy_fixture("secrets.conf");
    let mut outputs: Vec<Output> = vec![
        run(&["opt-out", "--dry-run"], &path),
        run(&["opt-out", "--dry-run", "--format", "json"], &path),
        run(&["opt-in", "--dry-run", "--explicit"], &path),
        run(&["opt-in", "--dry-run", "--format", "json"], &path),
        run(&["check"], &path),
        run(&["check", "--format", "json"], &path),
        run(&["opt-out", "--check"], &path),
        run(&["opt-out", "--backup", "--format", "json"], &copy),
    ];
    for args in [
        vec![
            "conf",
            "set",
            "--dry-run",
            "console_admin_password",
            "\"new-S3CRET-0\"",
        ],
        vec![
            "conf",
            "set",
            "--dry-run",
            "puppet_enterprise::profile::master::r10k_private_key",
            "\"x\"",
        ],
        vec![
            "conf",
            "unset",
            "--dry-run",
            "puppet_enterprise::puppetdb_database_password",
        ],
        vec!["conf", "get", "console_admin_password"],
        vec![
            "conf",
            "get",
            "puppet_enterprise::profile::master::r10k_private_key",
        ],
        vec!["conf", "set", "console_admin_password", "\"new-S3CRET-0\""],
    ] {
        outputs.push(bin().args(&args).arg("--file").arg(&copy).output().unwrap());
    }
    outputs.push(
        bin()
            .args(["conf", "set", "--file"])
            .arg(&copy)
            .args(["console_admin_password", "S3CRET-@"])
            .output()
            .unwrap(),
    );
    let broken = copy.with_file_name("broken.conf");
    fs::write(&broken, "{\n  \"console_admin_password\" \"S3CRET-X\"\n}\n").unwrap();
    outputs.push(run(&["opt-out"], &broken));
    for (n, out) in outputs.iter().enumerate() {
        for stream in [&out.stdout, &out.stderr] {
            let s = text(stream);
            assert!(
                !s.contains("S3CRET") && !s.contains("BEGIN RSA"),
                "output {n} leaks a secret:\n{s}"
            );
        }
    }
    assert!(
        text(&outputs[0].stdout).contains("<redacted>"),
        "the diff's context shows masked values"
    );
    assert!(
        text(&outputs[8].stdout).contains("only secret values change")
            || text(&outputs[8].stdout).contains("<redacted>")
    );
}

#[test]
fn file_problems_are_errors_and_nothing_is_written() {
    let (dir, path) = copy_fixture("2016.5-split.conf");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let original = fs::read(&path).unwrap();
    let out = run(&["opt-out"], &path);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("read-only"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read(&path).unwrap(), original);
    // A dry run runs the same preflight: the real run would be refused, so
    // the dry run says so (exit 1) instead of promising a change.
    let out = run(&["opt-out", "--dry-run"], &path);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("preflight: BLOCKED: pe.conf:")
            && text(&out.stderr).contains("read-only"),
        "{}",
        text(&out.stderr)
    );

    let out = run(&["opt-out"], &dir.path().join("missing.conf"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no such file"));

    let out = run(&["opt-out"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is a directory"));

    let broken = dir.path().join("broken.conf");
    fs::write(&broken, "{\n  \"a::b\": 1\n  \"c::d\": [1, 2\n").unwrap();
    let out = run(&["opt-out"], &broken);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("{}:4:1: found end of input", broken.display())),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(&broken).unwrap(),
        "{\n  \"a::b\": 1\n  \"c::d\": [1, 2\n"
    );
}

#[test]
fn symlinked_pe_conf_is_edited_through_the_link() {
    let (dir, real) = copy_fixture("2021.7-braceless.conf");
    let link = dir.path().join("link.conf");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = run(&["opt-out"], &link);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(analytics(&real), Some(json!(false)));
}

/// The layer flags are shared by every command; on those that only read,
/// their help must not promise edits or Puppet runs.
#[test]
fn read_only_commands_describe_the_layer_flags_as_reads() {
    for command in ["check", "status", "report"] {
        let out = bin().args([command, "--help"]).output().unwrap();
        assert!(out.status.success(), "{command}");
        let help = text(&out.stdout);
        assert!(help.contains("Read pe.conf"), "{command}: {help}");
        assert!(
            help.contains("no Puppet run is started"),
            "{command}: {help}"
        );
        assert!(!help.contains("then run Puppet"), "{command}: {help}");
    }
    let out = bin().args(["opt-out", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    assert!(
        help.contains("Work on pe.conf") && help.contains("then run Puppet"),
        "{help}"
    );
}
