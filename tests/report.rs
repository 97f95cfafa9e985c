//! `pe-analytics report` end to end: the real binary against pe-sim's
//! PuppetDB-shaped query API (the tests against a real PuppetDB are in
//! `.ci/e2e/report.sh`).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{with, Sim};

const LICENSE: &str = "#######################\n#  Begin License File #\n#######################\n\
# PUPPET ENTERPRISE LICENSE - Puppet Labs\nuuid: f13f0fe69ad3bf67e842c8473afaf12913e14516\n\
to: \"Puppet Labs\"\nnodes: 5000\nend: 2030-08-04\n#####################\n#  End License File #\n\
#####################\n";

struct Files {
    license: PathBuf,
    version: PathBuf,
    marker: PathBuf,
}

fn files(dir: &Path, license: Option<&str>) -> Files {
    let f = Files {
        license: dir.join("license.key"),
        version: dir.join("pe_version"),
        marker: dir.join("analytics-opt-out"),
    };
    if let Some(l) = license {
        std::fs::write(&f.license, l).unwrap();
    }
    std::fs::write(&f.version, "2021.7.1\n").unwrap();
    f
}

/// `report` with certificate auth, files under the sim's state dir, and
/// the primary's certname.
fn report_args(sim: &Sim, f: &Files, more: &[&str]) -> Vec<String> {
    let mut a = with(&["report"], &sim.cert_args());
    a.extend(
        [
            "--orchestrator-url",
            &sim.s("orchestrator_url"),
            "--puppetdb-url",
            &sim.s("puppetdb_url"),
            "--certname",
            &sim.s("primary"),
            "--license-file",
            f.license.to_str().unwrap(),
            "--pe-version-file",
            f.version.to_str().unwrap(),
            "--marker-file",
            f.marker.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    a.extend(more.iter().map(|s| s.to_string()));
    a
}

fn item<'a>(rep: &'a Value, id: &str) -> &'a Value {
    rep["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {rep}"))
}

/// Every node of the sim, pulled whole (the test's own independent count).
fn all_nodes(sim: &Sim) -> Vec<Value> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(sim.s("ca")).unwrap();
    let c = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap();
    c.get(format!("{}/pdb/query/v4/inventory", sim.s("puppetdb_url")))
        .header("X-Authentication", sim.token())
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn pdb_requests(sim: &Sim) -> Vec<Value> {
    sim.sim_get("requests")
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").starts_with("/pdb/"))
        .cloned()
        .collect()
}

#[test]
fn counts_match_the_nodes_and_the_schema_is_stable() {
    let sim = Sim::start(&["--puppetdb-nodes", "23"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let rep = out.json();

    // Schema: top-level keys, section ids, item ids in PE's order, item keys.
    let keys: Vec<&str> = rep
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schema",
            "command",
            "sections",
            "opt_out",
            "puppetdb",
            "outcome",
            "exit_code"
        ]
    );
    assert_eq!(rep["schema"], 1);
    assert_eq!(rep["command"], "report");
    assert_eq!(rep["outcome"], "done");
    let sections: Vec<&str> = rep["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["server", "console", "not-collected"]);
    let ids: Vec<&str> = rep["sections"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "license_uuid",
            "licensed_nodes",
            "product_name",
            "pe_version",
            "primary_os",
            "primary_public_ip",
            "nodes_in_deployment",
            "agent_os",
            "agent_versions",
            "aio_agent_versions"
        ]
    );
    for s in rep["sections"].as_array().unwrap() {
        for i in s["items"].as_array().unwrap() {
            for k in ["id", "item", "sent_by_pe", "status", "value", "source"] {
                assert!(i.get(k).is_some(), "{k} missing in {i}");
            }
        }
    }
    assert_eq!(rep["sections"][1]["items"].as_array().unwrap().len(), 7);
    assert!(rep["sections"][2]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["sent_by_pe"] == false && i["status"] == "not-collected"));

    // Values.
    assert_eq!(
        item(&rep, "license_uuid")["value"],
        "f13f0fe69ad3bf67e842c8473afaf12913e14516"
    );
    assert_eq!(item(&rep, "licensed_nodes")["value"], 5000);
    assert_eq!(item(&rep, "pe_version")["value"], "2021.7.1");
    assert_eq!(item(&rep, "primary_os")["value"], "RedHat 8.9");
    assert_eq!(item(&rep, "primary_public_ip")["status"], "not-computable");

    // Counts equal the test's own count over every active node.
    let nodes = all_nodes(&sim);
    assert_eq!(nodes.len(), 23);
    assert_eq!(item(&rep, "nodes_in_deployment")["value"], 23);
    let mut by_os: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_pv: BTreeMap<String, u64> = BTreeMap::new();
    for n in &nodes {
        let os = &n["facts"]["os"];
        *by_os
            .entry(format!(
                "{} {}",
                os["name"].as_str().unwrap(),
                os["release"]["full"].as_str().unwrap()
            ))
            .or_default() += 1;
        *by_pv
            .entry(n["facts"]["puppetversion"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let got_os: BTreeMap<String, u64> = item(&rep, "agent_os")["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["name"].as_str().unwrap(),
                    r["release"].as_str().unwrap()
                ),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_os, by_os);
    assert!(by_os.len() >= 5, "a non-trivial mix: {by_os:?}");
    let got_pv: BTreeMap<String, u64> = item(&rep, "agent_versions")["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_pv, by_pv);

    // Five aggregate queries, no more; the count is reported.
    let reqs = pdb_requests(&sim);
    let queries: Vec<&Value> = reqs.iter().filter(|r| r["auth"] != "token").collect();
    assert_eq!(queries.len(), 5, "{queries:#?}");
    assert_eq!(rep["puppetdb"]["queries"], 5);
    for q in &queries {
        let text = q["query"]["query"].as_str().unwrap();
        let node_facts = q["path"] == "/pdb/query/v4/facts" && text.contains("certname");
        assert!(
            text.starts_with("[\"extract\"") && (node_facts || text.contains("\"count\"")),
            "not an aggregate query: {text}"
        );
    }
}

#[test]
fn text_table_and_opt_out_state() {
    let sim = Sim::start(&["--initial-value", "false"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    std::fs::write(&f.marker, "").unwrap();
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for needle in [
        "License UUID",
        "f13f0fe69ad3bf67e842c8473afaf12913e14516",
        "Number of nodes in deployment",
        "Viewport size",
        "User names",
        "(not collected)",
        "5 queries",
        "Opt-out state (as `pe-analytics status`): opted-out",
        "PE sends none of the above while opted out.",
    ] {
        assert!(out.stdout.contains(needle), "{needle}:\n{}", out.stdout);
    }

    // Not opted out: the JSON says so, and the exit code does not change.
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["opt_out"]["verdict"], "not-opted-out");
}

#[test]
fn missing_files_are_absent_not_errors() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), None);
    std::fs::remove_file(&f.version).unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    assert_eq!(item(&rep, "license_uuid")["status"], "absent");
    assert!(item(&rep, "license_uuid")["detail"]
        .as_str()
        .unwrap()
        .contains("no license file"));
    assert_eq!(item(&rep, "pe_version")["status"], "absent");
    // The primary is not in PuppetDB: absent, with the hint.
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    let i = args.iter().position(|a| a == "--certname").unwrap();
    args[i + 1] = "nowhere.example.test".into();
    let out = sim.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    let d = &item(&rep, "primary_os")["detail"];
    assert!(d.as_str().unwrap().contains("--certname"), "{d}");
}

#[test]
fn a_malformed_license_file_is_an_error_with_file_and_line() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some("# PE license\nto: x\nnodes: many\n"));
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let want = format!("{}:3: `nodes` must be a whole number", f.license.display());
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    // The rest of the report is still there.
    assert!(out.stdout.contains("Number of nodes in deployment"));
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    let rep = out.json();
    assert_eq!(rep["outcome"], "error");
    assert_eq!(rep["exit_code"], 1);
    assert_eq!(item(&rep, "licensed_nodes")["status"], "error");
    assert_eq!(item(&rep, "nodes_in_deployment")["status"], "ok");

    // Not UTF-8.
    std::fs::write(&f.license, b"nodes: 1\n\xff\xfe\n").unwrap();
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.stderr);
}

#[test]
fn unreadable_license_and_version_files_are_errors() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), None);
    // Directories where the files should be: they exist but cannot be read as files.
    std::fs::create_dir(&f.license).unwrap();
    std::fs::remove_file(&f.version).unwrap();
    std::fs::create_dir(&f.version).unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let rep = out.json();
    assert_eq!(item(&rep, "license_uuid")["status"], "error");
    assert!(item(&rep, "license_uuid")["detail"]
        .as_str()
        .unwrap()
        .contains("cannot read the license file"));
    assert_eq!(item(&rep, "pe_version")["status"], "error");
    assert_eq!(rep["errors"].as_array().unwrap().len(), 2, "{rep}");
    // --pe-version wins over the file.
    let out = sim.run(&report_args(
        &sim,
        &f,
        &["--format", "json", "--pe-version", "2023.8.0"],
    ));
    assert_eq!(item(&out.json(), "pe_version")["value"], "2023.8.0");
}

#[test]
fn puppetdb_error_statuses_are_reported() {
    for code in ["500", "503", "403"] {
        let sim = Sim::start(&["--puppetdb-status", code]);
        let f = files(sim.dir.path(), Some(LICENSE));
        let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
        assert_eq!(out.code, 1, "{code}: {}", out.stdout);
        let rep = out.json();
        let d = item(&rep, "nodes_in_deployment");
        assert_eq!(d["status"], "error");
        assert!(d["detail"].as_str().unwrap().contains(code), "{d}");
        // The license items are still there.
        assert_eq!(item(&rep, "licensed_nodes")["value"], 5000);
    }
}

#[test]
fn a_malformed_puppetdb_answer_is_an_error() {
    let sim = Sim::start(&["--puppetdb-malformed"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("not what a node count returns"),
        "{}",
        out.stderr
    );
}

#[test]
fn unreachable_puppetdb_fails_fast_and_says_so() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    let i = args.iter().position(|a| a == "--puppetdb-url").unwrap();
    args[i + 1] = format!("https://localhost:{port}");
    let t = Instant::now();
    let out = sim.run(&args);
    assert_eq!(out.code, 1);
    let rep = out.json();
    assert!(
        item(&rep, "agent_os")["detail"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{rep}"
    );
    // Only the first query is tried (with its retries), not all five.
    assert!(rep["puppetdb"]["queries"].as_u64().unwrap() <= 5, "{rep}");
    // A hang detector, not a speed test: loose enough for a loaded machine.
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    assert_eq!(item(&rep, "license_uuid")["status"], "ok");

    // Not https.
    args[i + 1] = format!("http://localhost:{port}");
    let out = sim.run(&args);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("only https://"), "{}", out.stdout);
}

#[test]
fn token_auth_works_and_never_shows() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let mut args = with(&["report"], &sim.token_args());
    args.extend(
        [
            "--puppetdb-url",
            &sim.s("puppetdb_url"),
            "--certname",
            &sim.s("primary"),
            "--license-file",
            f.license.to_str().unwrap(),
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    // `sim.run` fails the test if the token appears anywhere in the output.
    let out = sim.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(item(&out.json(), "nodes_in_deployment")["value"], 10);
    assert!(pdb_requests(&sim).iter().all(|r| r["auth"] == "token"));

    // A wrong token: 401 with PE's advice, and still no token in the output.
    let bad = sim.dir.path().join("bad-token");
    std::fs::write(&bad, "not-the-token-0123456789\n").unwrap();
    let i = args.iter().position(|a| a == "--token-file").unwrap();
    args[i + 1] = bad.display().to_string();
    let out = sim.run(&args);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("401"), "{}", out.stdout);
    assert!(!out.stdout.contains("not-the-token"), "{}", out.stdout);
}
