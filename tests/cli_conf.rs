//! `pe-analytics conf get|set|unset`, end to end through the built binary on
//! real files.

use pe_analytics::hocon::{Document, EditRules, Syntax};
use pe_analytics::peconf::plan::{self, Edit};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const KEY: &str = "puppet_enterprise::send_analytics_data";

mod support;
use support::fixtures::{bin, copy_fixture, fixture};

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

fn mtime(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
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

#[test]
fn set_writes_in_place_keeping_mode() {
    let (_dir, path) = copy_fixture("2021.7-standard.conf");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let original = fs::read_to_string(&path).unwrap();
    let out = conf_set(&path, &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut expected = Document::parse(&original).unwrap();
    expected
        .set("\"puppet_enterprise::send_analytics_data\"", "false")
        .unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), expected.render());
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // The same edit again changes nothing and does not touch the file.
    let before = mtime(&path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = conf_set(&path, &[KEY, "false"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("nothing to change"),
        "{}",
        stdout(&out)
    );
    assert_eq!(mtime(&path), before);
}

#[test]
fn set_stdout_prints_the_document_and_writes_nothing() {
    let (_dir, path) = copy_fixture("2016.5-split.conf");
    let original = fs::read_to_string(&path).unwrap();
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
    let mut expected = Document::parse(&original).unwrap();
    expected
        .set(
            "\"puppet_enterprise::profile::master::java_args\".Xmx",
            "\"4096m\"",
        )
        .unwrap();
    assert_eq!(stdout(&out), expected.render());
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
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
/// the output is ruby-hocon's where no documented improvement applies, the
/// library's improved output where one does, and a refusal where the edit
/// would not mean what it says.
#[test]
fn conformance_cases_through_the_cli() {
    let cases: Value = serde_json::from_str(
        &fs::read_to_string(support::data::data(
            "hocon-conformance/configdocument-cases.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let op = case["op"].as_str().unwrap();
        if op != "set" && op != "remove" {
            continue;
        }
        let json = case["syntax"] == "json";
        let syntax = if json { Syntax::Json } else { Syntax::Conf };
        let input = case["input"].as_str().unwrap();
        let path_expr = case["path"].as_str().unwrap();
        let (_dir, file) = write_temp(input, if json { "pe.json" } else { "pe.conf" });
        let mut cmd = bin();
        cmd.args([
            "conf",
            if op == "set" { "set" } else { "unset" },
            "--stdout",
            "--file",
        ])
        .arg(&file)
        .arg(path_expr);
        if op == "set" {
            cmd.arg(case["value"].as_str().unwrap());
        }
        let out = cmd.output().unwrap();
        let name = case["name"].as_str().unwrap();
        let edit = if op == "set" {
            Edit::Set {
                path: path_expr.into(),
                value: case["value"].as_str().unwrap().into(),
            }
        } else {
            Edit::Remove {
                path: path_expr.into(),
            }
        };
        if let Some(text) = case["expected"]["text"].as_str() {
            let ruby = Document::parse_with(input, syntax, EditRules::Ruby).and_then(|mut d| {
                match &edit {
                    Edit::Set { path, value } => d.set(path, value)?,
                    Edit::Remove { path } => d.remove(path)?,
                }
                Ok(d.render())
            });
            assert_eq!(
                ruby.as_deref(),
                Ok(text),
                "{name}: the library's ruby rules"
            );
            match plan::apply(input, syntax, std::slice::from_ref(&edit)) {
                Ok(planned) => {
                    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
                    let improved = planned.after.render();
                    assert_eq!(stdout(&out), improved, "{name}");
                    if improved != text {
                        assert!(
                            text.contains("\n  \n") || text.contains("\n\n") || text.ends_with('\n'),
                            "{name}: the CLI differs from ruby-hocon only by a documented improvement"
                        );
                    }
                }
                Err(e) => {
                    assert_eq!(out.status.code(), Some(1), "{name}: the CLI refuses: {e}");
                    assert!(
                        stderr(&out).contains("refusing to write")
                            || stderr(&out).contains("does not resolve"),
                        "{name}: {}",
                        stderr(&out)
                    );
                }
            }
        } else {
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name}: ruby-hocon fails, so must the CLI"
            );
        }
        checked += 1;
    }
    assert!(checked >= 50, "{checked}");
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
    let out = cmd
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
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pe-analytics"))
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
