//! End-to-end tests of `--classifier` (opt-out, opt-in, check) against pe-sim,
//! driving the real pe-analytics binary over HTTPS.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{with, Sim};

const OPT_OUT_DELTA: &str = r#"{"classes":{"puppet_enterprise":{"send_analytics_data":false}}}"#;

fn infra_param(sim: &Sim) -> Option<Value> {
    sim.group("PE Infrastructure")["classes"]["puppet_enterprise"]
        .get("send_analytics_data")
        .cloned()
}

/// The group with the volatile keys and the analytics key removed.
fn rest_of(g: &Value) -> Value {
    let mut g = g.clone();
    let m = g.as_object_mut().unwrap();
    m.remove("serial_number");
    m.remove("last_edited");
    m["classes"]["puppet_enterprise"]
        .as_object_mut()
        .unwrap()
        .remove("send_analytics_data");
    g
}

fn expected_delta(serial: Option<u64>) -> Value {
    let d: Value = serde_json::from_str(OPT_OUT_DELTA).unwrap();
    match serial {
        Some(s) => json!({"serial_number": s, "classes": d["classes"]}),
        None => d,
    }
}

#[test]
fn opt_out_writes_one_key_delta_verifies_and_is_idempotent_on_each_version() {
    for version in ["2016.4.0", "2019.8.12", "2021.7.1"] {
        let sim = Sim::start(&["--pe-version", version]);
        let before = sim.group("PE Infrastructure");
        let before_groups = sim.groups();
        let out = sim.run(&with(
            &["opt-out", "--classifier", "--no-run"],
            &sim.token_args(),
        ));
        assert_eq!(out.code, 0, "{version}: {out:?}");
        assert!(out.stdout.contains("opted out"), "{out:?}");
        assert_eq!(infra_param(&sim), Some(json!(false)), "{version}");

        // Exactly: list groups, one one-key delta, read the group back.
        let reqs = sim.requests();
        let summary: Vec<(String, String)> = reqs
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap().into(),
                    r["path"].as_str().unwrap().into(),
                )
            })
            .collect();
        let id = before["id"].as_str().unwrap();
        let group_path = format!("/classifier-api/v1/groups/{id}");
        assert_eq!(
            summary,
            vec![
                ("GET".to_string(), "/classifier-api/v1/groups".to_string()),
                ("POST".to_string(), group_path.clone()),
                ("GET".to_string(), group_path.clone()),
            ],
            "{version}"
        );
        let serial = before["serial_number"].as_u64();
        assert_eq!(serial.is_some(), version != "2016.4.0");
        assert_eq!(reqs[1]["body"], expected_delta(serial), "{version}");
        assert!(reqs.iter().all(|r| r["auth"] == "token"));

        // Nothing else changed, in this group or any other.
        let after = sim.group("PE Infrastructure");
        assert_eq!(rest_of(&after), rest_of(&before), "{version}");
        for g in before_groups.iter().filter(|g| g["id"] != before["id"]) {
            assert!(sim.groups().contains(g), "{version}: {} changed", g["name"]);
        }

        // Second run: no write.
        sim.reset_requests();
        let out = sim.run(&with(
            &["opt-out", "--classifier", "--no-run"],
            &sim.token_args(),
        ));
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("already opted out"), "{out:?}");
        assert!(sim.writes().is_empty(), "{version}: {:?}", sim.writes());
        assert_eq!(sim.requests().len(), 1);
    }
}

#[test]
fn certificate_only_auth() {
    let sim = Sim::start(&["--pe-version", "2019.8.12"]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.cert_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(sim
        .requests()
        .iter()
        .all(|r| r["auth"] == "cert:primary.example.test"));
    assert_eq!(infra_param(&sim), Some(json!(false)));
}

#[test]
fn token_only_auth_and_token_from_environment() {
    let sim = Sim::start(&["--pe-version", "2021.7.1"]);
    let out = sim.run(&with(&["check", "--classifier"], &sim.token_args()));
    assert_eq!(out.code, 2, "{out:?}");
    // PE_RBAC_TOKEN instead of --token-file.
    let o = support::fixtures::isolate(&mut std::process::Command::new(env!(
        "CARGO_BIN_EXE_pe-analytics"
    )))
    .args([
        "opt-out",
        "--classifier",
        "--no-run",
        "--classifier-url",
        &sim.s("classifier_url"),
        "--cacert",
        &sim.s("ca"),
    ])
    .env("HOME", sim.dir.path())
    .env("PE_RBAC_TOKEN", sim.token())
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains(&sim.token()));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(&sim.token()));
    assert!(sim.requests().iter().all(|r| r["auth"] == "token"));
}

#[test]
fn dry_run_shows_diff_and_exact_request_and_sends_nothing() {
    let sim = Sim::start(&["--pe-version", "2021.7.1", "--initial-value", "true"]);
    let g = sim.group("PE Infrastructure");
    let id = g["id"].as_str().unwrap();
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--dry-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout
            .contains("~ classes.puppet_enterprise.send_analytics_data: true -> false"),
        "{}",
        out.stdout
    );
    let url = format!("POST {}/v1/groups/{id}", sim.s("classifier_url"));
    assert!(out.stdout.contains(&url), "{}", out.stdout);
    assert!(out.stdout.contains("X-Authentication: <redacted>"));
    let body = expected_delta(g["serial_number"].as_u64()).to_string();
    assert!(out.stdout.contains(&body), "{}\n{body}", out.stdout);
    assert!(sim.writes().is_empty());
    assert_eq!(infra_param(&sim), Some(json!(true)));

    // JSON form.
    let out = sim.run(&with(
        &[
            "opt-out",
            "--classifier",
            "--no-run",
            "--dry-run",
            "--format",
            "json",
        ],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 2);
    let j = out.json();
    assert_eq!(j["outcome"], "pending");
    let l = &j["layers"][0];
    assert_eq!(l["layer"], "classifier");
    assert_eq!(l["state"], "opted-in");
    assert_eq!(l["state_after"], "opted-out");
    assert_eq!(l["requests"][0]["method"], "POST");
    assert_eq!(l["requests"][0]["body"].to_string(), body);
    assert_eq!(l["written"], false);
    assert!(sim.writes().is_empty());

    // Already compliant: dry-run exits 0 and shows no request.
    sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.token_args(),
    ));
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--dry-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("POST"));
}

#[test]
fn check_and_opt_out_check_exit_codes_and_json() {
    let sim = Sim::start(&["--pe-version", "2021.7.1", "--initial-value", r#""false""#]);
    let out = sim.run(&with(&["check", "--classifier"], &sim.token_args()));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.contains("not opted out"), "{out:?}");
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--check"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    let out = sim.run(&with(
        &["check", "--classifier", "--format", "json"],
        &sim.token_args(),
    ));
    let j = out.json();
    assert_eq!(j["outcome"], "not-compliant");
    assert_eq!(j["layers"][0]["state"], "invalid");
    assert_eq!(j["layers"][0]["value"], json!("false"));
    assert!(sim.writes().is_empty());

    // The string "false" is replaced by the boolean.
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--format", "json"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["outcome"], "done");
    let l = &j["layers"][0];
    assert_eq!(
        (l["written"].clone(), l["verified"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(l["nc_requests"], 3);
    assert_eq!(infra_param(&sim), Some(json!(false)));
    let out = sim.run(&with(&["check", "--classifier"], &sim.token_args()));
    assert_eq!(out.code, 0, "{out:?}");
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--check"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn opt_in_removes_the_parameter_or_sets_true_with_explicit() {
    let sim = Sim::start(&["--pe-version", "2019.8.12", "--initial-value", "false"]);
    let out = sim.run(&with(
        &["opt-in", "--classifier", "--no-run"],
        &sim.cert_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(infra_param(&sim), None);
    let w = sim.writes();
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].3["classes"],
        json!({"puppet_enterprise": {"send_analytics_data": null}})
    );
    // Already opted in (absent): nothing to do.
    sim.reset_requests();
    let out = sim.run(&with(
        &["opt-in", "--classifier", "--no-run"],
        &sim.cert_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(sim.writes().is_empty());
    let out = sim.run(&with(
        &["opt-in", "--classifier", "--no-run", "--explicit"],
        &sim.cert_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(infra_param(&sim), Some(json!(true)));
    let out = sim.run(&with(&["check", "--classifier"], &sim.cert_args()));
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn wrong_ca_is_refused_with_advice() {
    let sim = Sim::start(&[]);
    let other = Sim::start(&[]);
    let mut args = sim.token_args();
    args[3] = other.s("ca");
    let out = sim.run(&with(&["opt-out", "--classifier", "--no-run"], &args));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("not signed by the CA"),
        "{}",
        out.stderr
    );
    assert!(sim.requests().is_empty());
}

#[test]
fn unlisted_certificate_names_the_allowlist() {
    let sim = Sim::start(&[]);
    let mut args = sim.cert_args();
    args[5] = sim.s("unlisted_cert");
    args[7] = sim.s("unlisted_key");
    let out = sim.run(&with(&["opt-out", "--classifier", "--no-run"], &args));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("HTTP 403"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/etc/puppetlabs/console-services/rbac-certificate-allowlist"),
        "{}",
        out.stderr
    );
    assert!(sim.writes().is_empty());
}

#[test]
fn expired_token_suggests_puppet_access_login() {
    let sim = Sim::start(&["--expired-token"]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--format", "json"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("HTTP 401 (puppetlabs.rbac/token-expired)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("puppet-access login"), "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["outcome"], "error");
    assert!(j["error"].as_str().unwrap().contains("token-expired"));
}

#[test]
fn conflict_409_is_reread_and_retried() {
    let sim = Sim::start(&["--pe-version", "2021.7.1", "--stale-serial-once"]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--format", "json"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["layers"][0]["conflicts"], 1);
    let w = sim.writes();
    assert_eq!(w.iter().map(|x| x.2).collect::<Vec<_>>(), vec![409, 200]);
    let (s1, s2) = (
        w[0].3["serial_number"].as_u64().unwrap(),
        w[1].3["serial_number"].as_u64().unwrap(),
    );
    assert_eq!(s2, s1 + 1, "the retry carries the re-read serial");
    for x in &w {
        let mut b = x.3.clone();
        b.as_object_mut().unwrap().remove("serial_number");
        assert_eq!(b.to_string(), OPT_OUT_DELTA);
    }
    assert_eq!(infra_param(&sim), Some(json!(false)));
}

#[test]
fn missing_referents_422_refreshes_classes_and_retries_once() {
    for version in ["2016.4.0", "2021.7.1"] {
        let sim = Sim::start(&["--pe-version", version, "--fail-first-write-422"]);
        let out = sim.run(&with(
            &["opt-out", "--classifier", "--no-run"],
            &sim.token_args(),
        ));
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stderr.contains("update-classes"), "{}", out.stderr);
        let w = sim.writes();
        let shape: Vec<(String, u64)> = w
            .iter()
            .map(|x| (x.1.rsplit('/').next().unwrap().to_string(), x.2))
            .collect();
        let id = sim.group("PE Infrastructure")["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            shape,
            vec![
                (id.clone(), 422),
                ("update-classes".to_string(), 201),
                (id, 200)
            ],
            "{version}"
        );
        let upd = sim
            .requests()
            .into_iter()
            .find(|r| r["path"].as_str().unwrap().ends_with("update-classes"))
            .unwrap();
        assert_eq!(upd["query"]["environment"], "production");
        assert_eq!(infra_param(&sim), Some(json!(false)));
    }
}

#[test]
fn injected_5xx_bursts_are_retried() {
    let sim = Sim::start(&[
        "--pe-version",
        "2021.7.1",
        "--error-rate",
        "0.4",
        "--seed",
        "7",
    ]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(infra_param(&sim), Some(json!(false)));
    let reqs = sim.requests();
    assert!(
        reqs.iter().any(|r| r["injected_fault"] == true),
        "the seed should inject at least one fault: {reqs:?}"
    );
    // Every successful write is the one-key delta.
    for (_, _, status, body) in sim.writes().into_iter().filter(|w| w.2 == 200) {
        let mut b = body.clone();
        b.as_object_mut().unwrap().remove("serial_number");
        assert_eq!(b.to_string(), OPT_OUT_DELTA, "{status}");
    }
    let ok_writes = sim.writes().iter().filter(|w| w.2 == 200).count();
    assert_eq!(ok_writes, 1);
}

#[test]
fn a_server_that_never_answers_times_out_clearly() {
    let sim = Sim::start(&["--never-answer"]);
    let start = Instant::now();
    let out = sim.run(&with(
        &["check", "--classifier", "--timeout", "1"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no answer within 1 s"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    // A hang detector, not a speed test (loose for loaded machines).
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn pe_infrastructure_missing_or_duplicated_is_an_error() {
    let sim = Sim::start(&["--no-pe-infrastructure"]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("no node group named \"PE Infrastructure\""),
        "{}",
        out.stderr
    );
    assert!(sim.writes().is_empty());

    let sim = Sim::start(&["--duplicate-pe-infrastructure"]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("2 node groups named"), "{}", out.stderr);
    assert!(out.stderr.contains("staging"), "{}", out.stderr);
    assert!(sim.writes().is_empty());
}

#[test]
fn overrides_are_reported_and_fixed_with_one_key_null_deltas() {
    let sim = Sim::start(&[
        "--pe-version",
        "2021.7.1",
        "--override",
        "PE Master:puppet_enterprise::profile::master:true",
        "--override",
        "PE Console:puppet_enterprise::profile::console:false",
    ]);
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 2, "opted out but overridden: {out:?}");
    assert!(out.stderr.contains("\"PE Master\""), "{}", out.stderr);
    assert!(out.stderr.contains("--fix-overrides"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("\"PE Console\""),
        "a false override is harmless"
    );
    assert_eq!(infra_param(&sim), Some(json!(false)));
    let out = sim.run(&with(
        &["check", "--classifier", "--format", "json"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 2);
    let ov = &out.json()["layers"][0]["overrides"];
    assert_eq!(ov.as_array().unwrap().len(), 2);

    let master = sim.group("PE Master");
    sim.reset_requests();
    let out = sim.run(&with(
        &["opt-out", "--classifier", "--no-run", "--fix-overrides"],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let w = sim.writes();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].1.ends_with(master["id"].as_str().unwrap()));
    assert_eq!(
        w[0].3,
        json!({"serial_number": master["serial_number"],
               "classes": {"puppet_enterprise::profile::master": {"send_analytics_data": null}}})
    );
    let after = sim.group("PE Master");
    assert!(after["classes"]["puppet_enterprise::profile::master"]
        .get("send_analytics_data")
        .is_none());
    let out = sim.run(&with(&["check", "--classifier"], &sim.token_args()));
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn pe_conf_and_classifier_together_in_one_json_report() {
    let sim = Sim::start(&["--pe-version", "2021.7.1"]);
    let pe_conf = sim.dir.path().join("copy.conf");
    std::fs::copy(sim.s("pe_conf"), &pe_conf).unwrap();
    let out = sim.run(&with(
        &[
            "opt-out",
            "--classifier",
            "--no-run",
            "--format",
            "json",
            "--pe-conf",
            pe_conf.to_str().unwrap(),
        ],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    let layers: Vec<&str> = j["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    // With --no-run, a "plan" entry says what remains (issue 5).
    assert_eq!(layers, vec!["pe.conf", "classifier", "plan"]);
    assert_eq!(j["outcome"], "done");
    let out = sim.run(&with(
        &[
            "check",
            "--classifier",
            "--pe-conf",
            pe_conf.to_str().unwrap(),
        ],
        &sim.token_args(),
    ));
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn no_credentials_is_a_clear_error() {
    let sim = Sim::start(&[]);
    let out = sim.run(&[
        "check",
        "--classifier",
        "--classifier-url",
        &sim.s("classifier_url"),
        "--cacert",
        &sim.s("ca"),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("no credentials"), "{}", out.stderr);
}
