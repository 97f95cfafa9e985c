//! Issue 14: secrets held where their key does not say so (inside an
//! object, an array of objects, a `${console_admin_password}` substitution),
//! secret names the old predicate missed, values echoed back by `conf set`,
//! and what a closed standard output does. The real binary on real files.

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_pe-analytics");

const CONF: &str = r#""console_admin_password": "S0-admin"
db { password: "S1-db", user: "pe-user" }
dbs = [ { name: a, token: "S2-token" }, { name: b } ]
admin = ${console_admin_password}
chained = ${admin}
url = "pg://u:"${console_admin_password}"@h"
settings { nested { ssl_key_passphrase: "S3-pass", port: 5432 } }
"puppet_enterprise::profile::console::ldap_pw" = "S4-pw"
"puppet_enterprise::api_key" = "S5-api"
credentials = "S6-cred"
"pgpass" = "S7-pgpass"
"private-key" = "S8-pk"
plain = "visible"
"#;

const SECRETS: [&str; 9] = [
    "S0-admin",
    "S1-db",
    "S2-token",
    "S3-pass",
    "S4-pw",
    "S5-api",
    "S6-cred",
    "S7-pgpass",
    "S8-pk",
];

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn conf() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pe.conf");
    fs::write(&p, CONF).unwrap();
    let s = p.to_str().unwrap().to_string();
    (dir, s)
}

fn no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{s} leaked:\n{text}");
    }
}

#[test]
fn conf_get_masks_secrets_inside_values_and_substitutions() {
    let (_d, f) = conf();
    let cases: [(&str, &str); 8] = [
        ("db", r#"{"password":"<redacted>","user":"pe-user"}"#),
        ("dbs", r#"[{"name":"a","token":"<redacted>"},{"name":"b"}]"#),
        ("admin", "<redacted>"),
        ("chained", "<redacted>"),
        ("url", "<redacted>"),
        (
            "settings",
            r#"{"nested":{"ssl_key_passphrase":"<redacted>","port":5432}}"#,
        ),
        ("settings.nested.port", "5432"),
        ("plain", r#""visible""#),
    ];
    for (key, want) in cases {
        for format in ["text", "json"] {
            let (code, out, err) = run(&["conf", "get", "--file", &f, "--format", format, key]);
            assert_eq!(code, 0, "{key}: {err}");
            no_secret(&out);
            no_secret(&err);
            if format == "text" {
                assert_eq!(out.trim_end(), want, "{key}");
                assert_eq!(
                    err.contains("holds a secret"),
                    want.contains("<redacted>"),
                    "{key}: {err}"
                );
            } else {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                let shown = match &v["value"] {
                    serde_json::Value::String(s) if s == "<redacted>" => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(shown, want, "{key}");
            }
        }
    }
    // Secret names the old predicate missed, asked for directly.
    for key in [
        "puppet_enterprise::profile::console::ldap_pw",
        "puppet_enterprise::api_key",
        "credentials",
        "pgpass",
        "\"private-key\"",
    ] {
        let (code, out, err) = run(&["conf", "get", "--file", &f, key]);
        assert_eq!((code, out.as_str()), (0, "<redacted>\n"), "{key}: {err}");
    }
    // --show-secrets shows them.
    let (code, out, _) = run(&["conf", "get", "--file", &f, "--show-secrets", "db"]);
    assert_eq!(code, 0);
    assert!(out.contains("S1-db"), "{out}");
}

#[test]
fn conf_set_never_echoes_a_secret_value() {
    let (_d, f) = conf();
    for (key, value) in [
        ("db2", r#"{password: "X1-secret"}"#),
        ("list", r#"[{user: u, api_key: "X1-secret"}]"#),
        ("copy", "${console_admin_password}"),
        ("ldap_pw", r#""X1-secret""#),
    ] {
        for extra in [&["--dry-run"][..], &["--format", "json"][..], &[][..]] {
            let mut a = vec!["conf", "set", "--file", &f];
            a.extend(extra);
            a.extend([key, value]);
            let (code, out, err) = run(&a);
            assert!(code == 0 || code == 2, "{a:?}: {err}");
            let all = format!("{out}{err}");
            assert!(
                !all.contains("X1-secret"),
                "{a:?} echoed the secret:\n{all}"
            );
            no_secret(&all);
        }
    }
    // The value really was written.
    assert!(fs::read_to_string(&f).unwrap().contains("X1-secret"));
}

#[test]
fn diffs_mask_every_secret_name() {
    let (_d, f) = conf();
    let (code, out, err) = run(&["opt-out", "--pe-conf", &f, "--dry-run"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        out.contains("+\"puppet_enterprise::send_analytics_data\""),
        "{out}"
    );
    no_secret(&out);
    no_secret(&err);
    let (code, out, _) = run(&["opt-out", "--pe-conf", &f, "--dry-run", "--format", "json"]);
    assert_eq!(code, 2);
    no_secret(&out);
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_like_a_filter() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pe.conf");
    // Large enough that the document is still being written when the reader is gone.
    let mut text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pe.conf/2021.7-braceless.conf"),
    )
    .unwrap();
    for i in 0..20_000 {
        text.push_str(&format!("# {i} {}\n", "c".repeat(70)));
    }
    fs::write(&p, &text).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "conf",
            "set",
            "--stdout",
            "--file",
            p.to_str().unwrap(),
            "a",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then close the pipe, as `| head -c 100` would.
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {err}");
    assert_eq!(err, "", "quietly: no panic message");
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        text,
        "--stdout writes nothing"
    );
}
