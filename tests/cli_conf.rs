//! `pe-analytics conf get|set|unset`, end to end through the built binary on
//! real files.

use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const KEY: &str = "puppet_enterprise::send_analytics_data";

mod support;
use support::fixtures::{bin, copy_fixture, fixture, Untouched};

/// `pe-analytics conf set --file FILE ARGS...`.
fn conf_set(file: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .args(["conf", "set", "--file"])
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn write_temp(text: &str, file_name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    fs::write(&path, text).unwrap();
    (dir, path)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn readme_dry_run_example_shows_the_diff() {
    let path = fixture("2016.4-monolithic.conf");
    let before = fs::read(&path).unwrap();
    let out = conf_set(&path, &["--dry-run", KEY, "false"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let diff = stdout(&out);
    let shown = path.display().to_string();
    assert!(
        diff.starts_with(&format!("--- {shown}\n+++ {shown}\n@@ -33,4 +33,5 @@\n")),
        "{diff}"
    );
    assert!(diff.contains("   \"meep_schema_version\": \"1.0\"\n+  \"puppet_enterprise::send_analytics_data\": false\n }\n"), "{diff}");
    assert_eq!(fs::read(&path).unwrap(), before, "dry-run writes nothing");
}

/// ruby-hocon's own output for an edit of `file` (Puppet's library, run by
/// tests/data/tools/hocon-oracle.rb with parse_file, as Puppet reads pe.conf).
fn ruby_hocon(file: &Path, op: &str, path: &str, value: Option<&str>) -> String {
    let mut cmd = std::process::Command::new("ruby");
    cmd.arg(support::data::data("tools/hocon-oracle.rb"))
        .arg(file)
        .args([op, path]);
    if let Some(v) = value {
        cmd.arg(v);
    }
    let out = cmd
        .output()
        .expect("ruby is needed (apt-get install -y ruby-hocon)");
    assert!(
        out.status.success(),
        "ruby-hocon: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// ruby-hocon's recorded result for a fixture case (fixtures/pe.conf/oracle-expected.json).
fn recorded(name: &str) -> String {
    let cases: Value =
        serde_json::from_str(&fs::read_to_string(fixture("oracle-expected.json")).unwrap())
            .unwrap();
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no recorded case {name}"))["expected"]["text"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn set_writes_in_place_keeping_mode() {
    let (_dir, path) = copy_fixture("2021.7-standard.conf");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let out = conf_set(&path, &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Byte for byte what ruby-hocon writes (recorded from ruby-hocon 1.3.1).
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        recorded("2021.7-standard.conf:set")
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // The same edit again changes nothing and does not touch the file.
    let before = Untouched::of(&path);
    let out = conf_set(&path, &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("nothing to change"),
        "{}",
        stdout(&out)
    );
    assert_eq!(Untouched::of(&path), before, "not rewritten");
}

#[test]
fn set_stdout_prints_the_document_and_writes_nothing() {
    let (_dir, path) = copy_fixture("2016.5-split.conf");
    let before = Untouched::of(&path);
    let out = bin()
        .args(["conf", "set", "--stdout", "--file"])
        .arg(&path)
        .args([
            "puppet_enterprise::profile::master::java_args.Xmx",
            "\"4096m\"",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        ruby_hocon(
            &path,
            "set",
            "\"puppet_enterprise::profile::master::java_args\".Xmx",
            Some("\"4096m\""),
        )
    );
    assert_eq!(Untouched::of(&path), before);
}

#[test]
fn get_prints_hocon_text_and_exit_3_when_unset() {
    let (_dir, path) = copy_fixture("2019.8-split-compilers.conf");
    let get = |key: &str| {
        bin()
            .args(["conf", "get", "--file"])
            .arg(&path)
            .arg(key)
            .output()
            .unwrap()
    };
    let out = get(KEY);
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), "true\n")
    );
    let out = get("puppet_enterprise::puppet_master_host");
    assert_eq!(stdout(&out), "\"pe-primary.example.com\"\n");
    let out = get("\"puppet_enterprise::profile::master::java_args\".Xmx");
    assert_eq!(stdout(&out), "\"8192m\"\n", "{}", stderr(&out));
    let out = get("puppet_enterprise::no_such_key");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("puppet_enterprise::no_such_key is not set"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn get_masks_secrets_unless_asked() {
    let path = fixture("secrets.conf");
    let out = bin()
        .args(["conf", "get", "--file"])
        .arg(&path)
        .arg("console_admin_password")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "<redacted>\n");
    assert!(!stderr(&out).contains("S3CRET"));
    let out = bin()
        .args(["conf", "get", "--show-secrets", "--file"])
        .arg(&path)
        .arg("console_admin_password")
        .output()
        .unwrap();
    assert!(stdout(&out).contains("S3CRET-1"), "{}", stdout(&out));
}

#[test]
fn unset_removes_every_setting() {
    let (_dir, path) = copy_fixture("duplicates.conf");
    let out = bin()
        .args(["conf", "unset", "--file"])
        .arg(&path)
        .arg(KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("\"puppet_enterprise::send_analytics_data\""),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| !l.is_empty() && l.trim().is_empty()),
        "no whitespace-only line is left:\n{text}"
    );
    let out = bin()
        .args(["conf", "unset", "--file"])
        .arg(&path)
        .arg(KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing to change"));
}

#[test]
fn malformed_file_is_located_and_untouched() {
    let (_dir, path) = write_temp("{\n  \"a::b\": 1\n  \"c::d\" = [2\n}\n", "pe.conf");
    let out = conf_set(&path, &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4:1: found '}}', expected an element or ']'",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{\n  \"a::b\": 1\n  \"c::d\" = [2\n}\n"
    );
    let (_dir, path) = write_temp("a: 1\nb 2\n", "pe.conf");
    let out = bin()
        .args(["conf", "get", "--file"])
        .arg(&path)
        .arg("a")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains(":3:1: found end of input, expected ':', '=' or '+=' after the key `b`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_key_and_bad_value_are_errors() {
    let (_dir, path) = copy_fixture("2021.7-braceless.conf");
    for (key, value, needle) in [
        ("a..b", "1", "invalid key"),
        ("\"unterminated", "1", "invalid key"),
        (KEY, "false # comment", "invalid value"),
        (KEY, "", "invalid value"),
        (KEY, "{", "invalid value"),
    ] {
        let out = conf_set(&path, &[key, value]);
        assert_eq!(out.status.code(), Some(1), "{key} {value}");
        assert!(
            stderr(&out).contains(needle),
            "{key} {value}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn missing_file_and_directory_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["conf", "get", "--file"])
        .arg(dir.path().join("nope.conf"))
        .arg(KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));
    let out = conf_set(dir.path(), &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_1_not_2() {
    let out = bin()
        .args(["conf", "set", "--stdout", "--dry-run", KEY, "false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Every ConfigDocument conformance case that edits, run through the CLI:
/// the output is ruby-hocon's own (recorded in the corpus), byte for byte;
/// where ruby-hocon fails, the CLI fails too; and the two cases where
/// ruby-hocon writes text that no longer resolves (an object concatenated
/// with a non-object) are refused. Every case is counted: none is skipped.
#[test]
fn conformance_cases_through_the_cli() {
    const REFUSED: &[&str] = &[
        "replace-with-concatenation",
        "indent-insert-concatenation-multi-line-array",
    ];
    let cases: Value = serde_json::from_str(
        &fs::read_to_string(support::data::data(
            "hocon-conformance/configdocument-cases.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let (mut identical, mut refused, mut both_fail, mut edits) = (0, 0, 0, 0);
    for case in cases["cases"].as_array().unwrap() {
        let op = case["op"].as_str().unwrap();
        if op != "set" && op != "remove" {
            continue;
        }
        edits += 1;
        let json = case["syntax"] == "json";
        let input = case["input"].as_str().unwrap();
        let (_dir, file) = write_temp(input, if json { "pe.json" } else { "pe.conf" });
        let mut cmd = bin();
        cmd.args([
            "conf",
            if op == "set" { "set" } else { "unset" },
            "--stdout",
            "--file",
        ])
        .arg(&file)
        .arg(case["path"].as_str().unwrap());
        if op == "set" {
            cmd.arg(case["value"].as_str().unwrap());
        }
        let out = cmd.output().unwrap();
        let name = case["name"].as_str().unwrap();
        match case["expected"]["text"].as_str() {
            Some(_) if REFUSED.contains(&name) => {
                assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
                assert!(
                    stderr(&out).contains("refusing to write: the edited text does not resolve"),
                    "{name}: {}",
                    stderr(&out)
                );
                refused += 1;
            }
            Some(ruby) => {
                assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
                assert_eq!(stdout(&out), ruby, "{name}: differs from ruby-hocon");
                identical += 1;
            }
            None => {
                assert_eq!(
                    out.status.code(),
                    Some(1),
                    "{name}: ruby-hocon fails ({}), so must the CLI",
                    case["expected"]["error"]
                );
                both_fail += 1;
            }
        }
    }
    eprintln!(
        "{edits} edit cases: {identical} identical to ruby-hocon, {refused} refused, {both_fail} \
failing in both"
    );
    assert_eq!(identical + refused + both_fail, edits);
    assert_eq!(refused, REFUSED.len());
    assert!(identical >= 50 && both_fail >= 4, "{identical} {both_fail}");
}

#[test]
fn array_root_and_unwritable_directory_are_errors() {
    let (_dir, path) = write_temp("[1, 2]\n", "pe.conf");
    let out = conf_set(&path, &["a", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("root is an array"),
        "{}",
        stderr(&out)
    );

    // A directory the user may not write to: the temporary file cannot be
    // made, so nothing changes. Root ignores directory permissions, so as
    // root the command runs as `nobody` (through setpriv).
    let (dir, path) = copy_fixture("2016.5-split.conf");
    let original = fs::read(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    let is_root = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let binary = assert_cmd::cargo::cargo_bin("pe-analytics");
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        std::process::Command::new(&binary)
    };
    let out = support::fixtures::isolate(&mut cmd)
        .args(["conf", "set", "--file"])
        .arg(&path)
        .args([KEY, "false"])
        .output()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot create a temporary file beside it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read(&path).unwrap(), original);
}

#[test]
fn conf_commands_speak_json() {
    let (_dir, path) = copy_fixture("secrets.conf");
    let json = |args: &[&str]| -> (Option<i32>, Value) {
        let out = bin()
            .args(args)
            .arg("--format")
            .arg("json")
            .arg("--file")
            .arg(&path)
            .output()
            .unwrap();
        let text = stdout(&out);
        assert!(
            !text.contains("S3CRET") && !stderr(&out).contains("S3CRET"),
            "{text}"
        );
        (
            out.status.code(),
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        )
    };
    let (code, r) = json(&["conf", "get", KEY]);
    assert_eq!(
        (
            code,
            r["set"].as_bool(),
            r["value"].clone(),
            r["outcome"].as_str()
        ),
        (Some(0), Some(true), Value::Bool(true), Some("found"))
    );
    let (code, r) = json(&["conf", "get", "console_admin_password"]);
    assert_eq!((code, r["value"].as_str()), (Some(0), Some("<redacted>")));
    let (code, r) = json(&["conf", "get", "nope"]);
    assert_eq!(
        (
            code,
            r["set"].as_bool(),
            r["outcome"].as_str(),
            r["exit_code"].as_i64()
        ),
        (Some(3), Some(false), Some("not-set"), Some(3))
    );
    let (code, r) = json(&[
        "conf",
        "set",
        "--dry-run",
        "console_admin_password",
        "\"S3CRET-new\"",
    ]);
    assert_eq!((code, r["outcome"].as_str()), (Some(2), Some("pending")));
    assert_eq!(r["changes"][0]["value"], "<redacted>");
    let (code, r) = json(&["conf", "unset", KEY]);
    assert_eq!(
        (code, r["outcome"].as_str(), r["written"].as_bool()),
        (Some(0), Some("done"), Some(true))
    );
    assert_eq!(r["changes"][0]["op"], "remove");
    assert!(r["diff"]
        .as_str()
        .unwrap()
        .contains("-  \"puppet_enterprise::send_analytics_data\": true"));
    let (code, r) = json(&["conf", "unset", KEY]);
    assert_eq!((code, r["outcome"].as_str()), (Some(0), Some("unchanged")));
    let (code, r) = json(&["conf", "set", "a..b", "1"]);
    assert_eq!((code, r["outcome"].as_str()), (Some(1), Some("error")));
    assert!(r["error"].as_str().unwrap().contains("invalid key"));
}

/// Regression: with its reader gone (`... --stdout | head`), the tool used to
/// panic ("failed printing to stdout: Broken pipe"). It now ends the way Unix
/// filters do: killed by SIGPIPE, nothing on stderr.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    // Far more than a pipe's buffer (64 KiB), so a write must fail.
    let mut text = String::from("{\n");
    for i in 0..20_000 {
        text.push_str(&format!("  \"puppet_enterprise::profile::x{i}\": {i}\n"));
    }
    text.push_str("}\n");
    let (_dir, path) = write_temp(&text, "pe.conf");
    let mut child = support::fixtures::isolate(&mut std::process::Command::new(env!(
        "CARGO_BIN_EXE_pe-analytics"
    )))
    .args(["conf", "set", "--stdout", "--file"])
    .arg(&path)
    .args([KEY, "false"])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}

/// `conf set` of send_analytics_data to anything but a boolean would break
/// every catalog compilation: refused in every mode without --force, the
/// file untouched; with --force, written with a warning, and `check` then
/// reports what PE would see.
#[test]
fn a_non_boolean_send_analytics_data_needs_force() {
    let (_dir, path) = copy_fixture("2021.7-standard.conf");
    let before = Untouched::of(&path);
    for (args, needle) in [
        (vec![KEY, "fals"], "fals is not a boolean"),
        (
            vec![KEY, "\"false\""],
            "\"false\" is a quoted string, not a boolean",
        ),
        (vec!["--dry-run", KEY, "\"false\""], "quoted string"),
        (vec!["--stdout", KEY, "0"], "0 is not a boolean"),
        (
            vec![
                "\"puppet_enterprise::send_analytics_data\".enabled",
                "false",
            ],
            "an object, not a boolean",
        ),
    ] {
        let out = conf_set(&path, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("refusing to write") && err.contains(needle) && err.contains("--force"),
            "{args:?}: {err}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        assert_eq!(Untouched::of(&path), before, "{args:?}");
    }
    // JSON: the refusal is the report's error.
    let out = conf_set(&path, &["--format", "json", KEY, "fals"]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(r["outcome"], "error");
    assert!(
        r["error"].as_str().unwrap().contains("not a boolean"),
        "{r}"
    );
    assert_eq!(Untouched::of(&path), before);

    // Booleans need nothing; other keys are not guarded.
    let out = conf_set(&path, &["--dry-run", KEY, "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = conf_set(
        &path,
        &["--dry-run", "puppet_enterprise::other", "\"false\""],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = conf_set(&path, &["--force", KEY, "\"false\""]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("warning: \"false\" is a quoted string"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("set puppet_enterprise::send_analytics_data to \"false\""));
    let check = bin()
        .args(["check", "--pe-conf"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2), "{check:?}");
    assert!(
        stdout(&check).contains("not opted out: invalid")
            && stderr(&check).contains("the value is the string \"false\", not a boolean"),
        "{check:?}"
    );
}

/// Results on stdout, diagnostics on stderr, in every mode of the conf
/// commands (text): a script can redirect the one and read the other.
#[test]
fn conf_results_go_to_stdout_and_diagnostics_to_stderr() {
    let (_dir, path) = copy_fixture("secrets.conf");
    let run = |args: &[&str]| -> (Option<i32>, String, String) {
        let out = bin().args(args).arg("--file").arg(&path).output().unwrap();
        (out.status.code(), stdout(&out), stderr(&out))
    };
    let shown = path.display().to_string();

    // conf set --dry-run: the diff, then the verdict, both results.
    let (code, out, err) = run(&["conf", "set", "--dry-run", KEY, "false"]);
    assert_eq!(code, Some(2));
    assert!(
        out.starts_with(&format!("--- {shown}\n+++ {shown}\n")),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "{shown}: would have set {KEY} to false; nothing written\n"
        )),
        "{out}"
    );
    assert_eq!(err, "");

    // The real edit, with a backup: both lines are results.
    let (code, out, err) = run(&["conf", "set", "--backup", KEY, "false"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.len() == 2 && lines[0].starts_with("backup: "),
        "{out}"
    );
    assert_eq!(lines[1], format!("{shown}: set {KEY} to false"));
    assert_eq!(err, "");

    // Nothing to change, with and without --dry-run: the same verdict, same stream.
    for dry in [true, false] {
        let mut args = vec!["conf", "set", KEY, "false"];
        if dry {
            args.insert(2, "--dry-run");
        }
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0));
        assert_eq!(
            out,
            format!("{shown}: nothing to change; nothing written\n"),
            "{args:?}"
        );
        assert_eq!(err, "", "{args:?}");
    }

    // --stdout: the document alone.
    let (code, out, err) = run(&["conf", "unset", "--stdout", KEY]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("console_admin_password") && !out.contains(KEY),
        "{out}"
    );
    assert_eq!(err, "");

    // get: the value on stdout; the note about a masked secret on stderr.
    let (code, out, err) = run(&["conf", "get", KEY]);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "false\n", ""));
    let (code, out, err) = run(&["conf", "get", "console_admin_password"]);
    assert_eq!((code, out.as_str()), (Some(0), "<redacted>\n"));
    assert!(err.starts_with("note: "), "{err}");

    // Errors: stderr only, stdout empty.
    for args in [
        &["conf", "get", "nope"][..],
        &["conf", "set", "a..b", "1"],
        &["conf", "set", KEY, "fals"],
    ] {
        let (code, out, err) = run(args);
        assert!(matches!(code, Some(1) | Some(3)), "{args:?}");
        assert_eq!(out, "", "{args:?}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}
