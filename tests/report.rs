//! `pe-analytics report` end to end: the real binary against pe-sim's
//! PuppetDB-shaped query API, classifier, RBAC, orchestrator and Puppet
//! Server status (the tests against a real PuppetDB and Puppet Server are in
//! `.ci/e2e/report.sh`). Every expected figure is computed here from what
//! pe-sim serves, independently of the report's code; PE's per-version
//! lists come from tests/data/report/pe-*-items.txt, written from PE's pages.

mod support;

use serde_json::{json, Value};
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
    product: PathBuf,
    puppet_conf: PathBuf,
    server_conf: PathBuf,
}

fn files(dir: &Path, license: Option<&str>) -> Files {
    let f = Files {
        license: dir.join("license.key"),
        version: dir.join("pe_version"),
        marker: dir.join("analytics-opt-out"),
        product: dir.join("product.conf"),
        puppet_conf: dir.join("puppet.conf"),
        server_conf: dir.join("pe-puppet-server.conf"),
    };
    if let Some(l) = license {
        std::fs::write(&f.license, l).unwrap();
    }
    std::fs::write(&f.version, "2021.7.1\n").unwrap();
    f
}

/// `report` with certificate auth and the token, files under the sim's
/// state dir, this host = the primary.
fn report_args(sim: &Sim, f: &Files, more: &[&str]) -> Vec<String> {
    let mut a = with(&["report"], &sim.cert_args());
    a.extend(
        [
            "--token-file",
            &sim.s("token_file"),
            "--orchestrator-url",
            &sim.s("orchestrator_url"),
            "--puppetdb-url",
            &sim.s("puppetdb_url"),
            "--puppetserver-url",
            &sim.s("puppetserver_url"),
            "--primary",
            &sim.s("primary"),
            "--certname",
            &sim.s("primary"),
            "--license-file",
            f.license.to_str().unwrap(),
            "--pe-version-file",
            f.version.to_str().unwrap(),
            "--marker-file",
            f.marker.to_str().unwrap(),
            "--product-conf",
            f.product.to_str().unwrap(),
            "--puppet-conf",
            f.puppet_conf.to_str().unwrap(),
            "--puppetserver-conf",
            f.server_conf.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    a.extend(more.iter().map(|s| s.to_string()));
    a
}

fn set(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).unwrap();
    args[i + 1] = value.to_string();
}

fn drop_flag(args: &mut Vec<String>, flag: &str) {
    let i = args.iter().position(|a| a == flag).unwrap();
    args.drain(i..i + 2);
}

fn items(rep: &Value) -> Vec<&Value> {
    rep["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .collect()
}

fn item<'a>(rep: &'a Value, id: &str) -> &'a Value {
    items(rep)
        .into_iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} in {rep}"))
}

fn client(sim: &Sim) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(sim.s("ca")).unwrap();
    reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap()
}

/// GET on the sim with the token, the whole answer.
fn sim_api(sim: &Sim, url: &str) -> Value {
    client(sim)
        .get(url)
        .header("X-Authentication", sim.token())
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()
}

fn requests_to(sim: &Sim, prefix: &str) -> Vec<Value> {
    sim.sim_get("requests")
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").starts_with(prefix))
        .cloned()
        .collect()
}

/// A count table from the report (`{value|name,release, count}` rows);
/// `unknown` for the explicit unknown row.
fn table(v: &Value) -> BTreeMap<String, u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let k = if let Some(n) = r.get("name") {
                match n.as_str() {
                    Some(n) => format!("{n} {}", r["release"].as_str().unwrap()),
                    None => "unknown".into(),
                }
            } else {
                r["value"].as_str().unwrap_or("unknown").to_string()
            };
            (k, r["count"].as_u64().unwrap())
        })
        .collect()
}

/// PE's list for a version, as written from its page (tests/data/report).
fn documented_ids(version: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/data/report/pe-{version}-items.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_item_is_computed_where_pe_keeps_it() {
    let sim = Sim::start(&[
        "--puppetdb-nodes",
        "40",
        "--pe-version",
        "2021.7.1",
        "--job-history",
        "deploy:2,task:3,plan_task:1,plan_wait:1",
        "--rbac-custom-roles",
        "3",
        "--ha-replica",
        "replica1.example.test",
        "--ha-replica",
        "replica2.example.test",
    ]);
    let f = files(sim.dir.path(), Some(LICENSE));
    std::fs::write(
        &f.product,
        "product: {\n  name: {group-id: puppetlabs.packages, artifact-id: pe-master}\n  \
version-path: /opt/puppetlabs/server/pe_version\n}\n",
    )
    .unwrap();
    let exe = sim.dir.path().join("autosign-check");
    support::write_script(&exe, "#!/bin/sh\nexit 0\n");
    std::fs::write(
        &f.puppet_conf,
        format!(
            "[main]\nautosign = false\n[server]\nautosign = {}\n",
            exe.display()
        ),
    )
    .unwrap();
    std::fs::write(
        &f.server_conf,
        "jruby-puppet: {\n  max-active-instances: 4\n}\n",
    )
    .unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let rep = out.json();

    // Schema: the keys of schema 1, then the ones added.
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
            "exit_code",
            "list",
            "services"
        ]
    );
    assert_eq!(rep["schema"], 1);
    assert_eq!(rep["outcome"], "done");
    for i in items(&rep) {
        for k in [
            "id",
            "item",
            "sent_by_pe",
            "sent",
            "sent_when",
            "status",
            "value",
            "source",
        ] {
            assert!(i.get(k).is_some(), "{k} missing in {i}");
        }
    }
    let sections: Vec<&str> = rep["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        [
            "server",
            "features",
            "backup-restore",
            "performance",
            "installer",
            "aws-marketplace",
            "console",
            "not-collected"
        ]
    );
    assert_eq!(rep["list"]["page_from"], "2021.7");
    assert_eq!(rep["list"]["pages"], json!(["pe/2021/PE 2021.7.1.pdf"]));

    // Files.
    assert_eq!(
        item(&rep, "license_uuid")["value"],
        "f13f0fe69ad3bf67e842c8473afaf12913e14516"
    );
    assert_eq!(item(&rep, "licensed_nodes")["value"], 5000);
    assert_eq!(item(&rep, "product_name")["value"], "pe-master");
    assert_eq!(item(&rep, "pe_version")["value"], "2021.7.1");
    let a = item(&rep, "autosign_type")["value"].as_str().unwrap();
    assert!(
        a.starts_with("policy-based") && a.contains("autosign-check"),
        "{a}"
    );
    assert_eq!(item(&rep, "jruby_max_active")["value"], 4);
    assert_eq!(item(&rep, "jruby_max_requests")["value"], 0);

    // Aggregates only: each PuppetDB query counts; the primary's facts are the one exception.
    // (The opt-out state, as `status` sees it, asks PuppetDB too: the targets' node records
    // and their analytics resources, 2 queries that are the status's, issue 13.)
    let status_query = |r: &Value| {
        r["query"]["query"].as_str().is_some_and(|q| {
            q.starts_with("[\"in\",\"certname\"") || q.starts_with("[\"and\",[\"in\",\"certname\"")
        })
    };
    let all = requests_to(&sim, "/pdb/");
    assert_eq!(
        all.iter().filter(|r| status_query(r)).count(),
        2,
        "{all:#?}"
    );
    let pdb: Vec<Value> = all.into_iter().filter(|r| !status_query(r)).collect();
    assert_eq!(rep["puppetdb"]["queries"], pdb.len());
    assert_eq!(pdb.len(), 10, "{pdb:#?}");
    for q in &pdb {
        let text = q["query"]["query"].as_str().unwrap();
        let node_facts = text.contains("certname");
        assert!(
            text.starts_with("[\"extract\"") && (node_facts || text.contains("\"count\"")),
            "not an aggregate query: {text}"
        );
    }

    // PuppetDB: counts equal the test's own count over every node it holds.
    let base = sim.s("puppetdb_url");
    let inv = sim_api(&sim, &format!("{base}/pdb/query/v4/inventory"));
    let nodes = inv.as_array().unwrap();
    assert_eq!(nodes.len(), 40);
    assert_eq!(item(&rep, "nodes_in_deployment")["value"], 40);
    let mut os: BTreeMap<String, u64> = BTreeMap::new();
    let mut pv: BTreeMap<String, u64> = BTreeMap::new();
    let (mut azure, mut gcp, mut unknown_place, mut patch_needed) = (0, 0, 0, 0);
    for n in nodes {
        let f = &n["facts"];
        let k = match f["os"]["name"].as_str() {
            Some(name) => format!("{name} {}", f["os"]["release"]["full"].as_str().unwrap()),
            None => "unknown".into(),
        };
        *os.entry(k).or_default() += 1;
        *pv.entry(f["puppetversion"].as_str().unwrap_or("unknown").to_string())
            .or_default() += 1;
        if f["cloud"]["provider"] == "azure" || !f["az_metadata"].is_null() {
            azure += 1;
        } else if f["cloud"]["provider"] == "gce" || !f["gce"].is_null() {
            gcp += 1;
        } else if f["virtual"].is_null() {
            unknown_place += 1;
        }
        if f["pe_patch"]["package_update_count"].as_u64().unwrap_or(0) > 0 {
            patch_needed += 1;
        }
    }
    assert!(
        os.contains_key("unknown") && os.len() >= 6,
        "a mix with unknowns: {os:?}"
    );
    assert_eq!(table(&item(&rep, "agent_os")["value"]), os);
    assert_eq!(table(&item(&rep, "agent_versions")["value"]), pv);
    // Every count table adds up to the nodes in the deployment.
    for id in [
        "agent_os",
        "agent_versions",
        "aio_agent_versions",
        "agents_on_cloud",
    ] {
        let sum: u64 = table(&item(&rep, id)["value"]).values().sum();
        assert_eq!(sum, 40, "{id}");
    }
    let cloud = table(&item(&rep, "agents_on_cloud")["value"]);
    assert!(azure > 0 && gcp > 0 && unknown_place > 0);
    assert_eq!(cloud["Microsoft Azure"], azure);
    assert_eq!(cloud["Google Cloud Platform"], gcp);
    assert_eq!(cloud["unknown"], unknown_place);
    assert_eq!(item(&rep, "primary_os")["value"], "RedHat 8.9");
    assert_eq!(item(&rep, "primary_on_azure")["value"], false);
    assert_eq!(item(&rep, "primary_hypervisor")["value"], "kvm");

    // Classes from the nodes' catalogs, counted here from every resource.
    let res = sim_api(&sim, &format!("{base}/pdb/query/v4/resources"));
    let mut classes: BTreeMap<String, u64> = BTreeMap::new();
    for r in res.as_array().unwrap() {
        *classes
            .entry(r["title"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(item(&rep, "pe_patch_nodes")["value"], classes["Pe_patch"]);
    assert_eq!(
        item(&rep, "pe_patch_nodes_needing_patches")["value"],
        patch_needed
    );
    let public = table(&item(&rep, "public_module_classes")["value"]);
    assert_eq!(public["Ntp"], classes["Ntp"]);
    assert_eq!(public["Apache::Mod::Ssl"], classes["Apache::Mod::Ssl"]);
    assert!(!public
        .keys()
        .any(|k| k.starts_with("Pe_") || k.starts_with("Puppet_enterprise") || k == "Settings"));

    // The classifier: groups and replicas.
    let groups = sim.groups();
    assert_eq!(item(&rep, "node_groups")["value"], groups.len());
    assert_eq!(item(&rep, "ha_replicas")["value"], 2);
    // RBAC: the custom roles that have a user.
    assert_eq!(item(&rep, "non_default_roles")["value"], 3);

    // The orchestrator: jobs since its start (its status-service), counted here.
    let orch = sim.s("orchestrator_url");
    let status_url = orch.replace(
        "/orchestrator/v1",
        "/status/v1/services/status-service?level=debug",
    );
    let start_ms = sim_api(&sim, &status_url)["status"]["experimental"]["jvm-metrics"]
        ["start-time-ms"]
        .as_u64()
        .unwrap();
    let jobs = sim_api(&sim, &format!("{orch}/jobs"));
    let since: Vec<&Value> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            let t = humantime::parse_rfc3339_weak(
                j["timestamp"].as_str().unwrap().trim_end_matches('Z'),
            )
            .unwrap();
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64 >= start_ms
        })
        .collect();
    assert!(
        since.len() < jobs["items"].as_array().unwrap().len(),
        "a job before the start"
    );
    let counts: Vec<u64> = since
        .iter()
        .map(|j| j["node_count"].as_u64().unwrap())
        .collect();
    assert_eq!(item(&rep, "orchestrator_jobs")["value"], since.len());
    assert_eq!(
        item(&rep, "orchestrator_job_nodes")["value"],
        counts.iter().sum::<u64>()
    );
    assert_eq!(
        item(&rep, "orchestrator_job_nodes_max")["value"],
        *counts.iter().max().unwrap()
    );
    assert_eq!(
        item(&rep, "orchestrator_job_nodes_min")["value"],
        *counts.iter().min().unwrap()
    );
    let tasks: Vec<&Value> = since
        .iter()
        .filter(|j| j["type"] == "task")
        .copied()
        .collect();
    assert_eq!(
        item(&rep, "task_jobs")["value"].as_array().unwrap().len(),
        tasks.len()
    );
    assert_eq!(
        item(&rep, "plan_wait_jobs")["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let admin = item(&rep, "job_by_admin")["value"]
        .as_array()
        .unwrap()
        .clone();
    for j in &since {
        let got = admin.iter().find(|r| r["job"] == j["name"]).unwrap();
        assert_eq!(got["value"], j["owner"]["login"] == "admin");
    }

    // Puppet Server: the figures its status API gives, read here.
    let ps = sim_api(
        &sim,
        &format!(
            "{}/status/v1/services?level=debug",
            sim.s("puppetserver_url")
        ),
    );
    let m = &ps["pe-jruby-metrics"]["status"]["experimental"]["metrics"];
    assert_eq!(item(&rep, "jruby_instances")["value"], m["num-jrubies"]);
    assert_eq!(
        item(&rep, "jruby_average_free")["value"],
        m["average-free-jrubies"]
    );
    assert_eq!(
        item(&rep, "jruby_average_borrow")["value"],
        m["average-borrow-time"]
    );
    let heap = &ps["status-service"]["status"]["experimental"]["jvm-metrics"]["heap-memory"];
    assert_eq!(item(&rep, "jvm_heap_initial")["value"], heap["init"]);
    assert_eq!(item(&rep, "jvm_heap_max")["value"], heap["max"]);

    // What cannot be computed says why; nothing is left unexplained.
    for i in items(&rep) {
        if i["status"] != "ok" {
            assert!(i["detail"].as_str().is_some_and(|d| !d.is_empty()), "{i}");
        }
    }
    assert_eq!(item(&rep, "restore_scope")["status"], "not-computable");
    assert_eq!(item(&rep, "cm_dry_run")["status"], "not-computable");
    assert_eq!(
        item(&rep, "aws_marketplace_name")["status"],
        "not-applicable"
    );
    assert_eq!(item(&rep, "aws_marketplace_name")["sent"], "no");
    let services: Vec<&str> = rep["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(
        services,
        [
            "puppetdb",
            "classifier",
            "rbac",
            "orchestrator",
            "puppetserver"
        ]
    );
}

#[test]
fn each_version_lists_what_its_page_lists() {
    let sim = Sim::start(&["--pe-version", "2018.1.0"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let mut counts = BTreeMap::new();
    for (version, doc) in [
        ("2016.5.1", "2016.5"),
        ("2018.1.3", "2018.1"),
        ("2019.8.12", "2019.8"),
        ("2021.7.1", "2021.7"),
    ] {
        let out = sim.run(&report_args(
            &sim,
            &f,
            &["--format", "json", "--pe-version", version],
        ));
        let rep = out.json();
        let ids: Vec<String> = items(&rep)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, documented_ids(doc), "PE {version}");
        assert_eq!(rep["list"]["items"], ids.len());
        assert_eq!(rep["list"]["pe_version"], version);
        counts.insert(doc, ids.len());
    }
    assert_eq!(counts["2016.5"], 22);
    assert_eq!(counts["2018.1"], 109);
    assert_eq!(counts["2019.8"], 126);
    // 2019.8 and 2021.7 list the same items (2021.7 rewords them and lists the
    // job attributes once for all jobs); both differ from 2018.1's.
    assert_eq!(documented_ids("2019.8"), documented_ids("2021.7"));

    // 2016.5 asks only the files and PuppetDB: 4 queries, no other service.
    sim.reset_requests();
    let out = sim.run(&report_args(
        &sim,
        &f,
        &["--format", "json", "--pe-version", "2016.5.1"],
    ));
    let rep = out.json();
    assert_eq!(rep["puppetdb"]["queries"], 4, "{}", rep["services"]);
    assert_eq!(
        rep["services"].as_array().unwrap().len(),
        1,
        "{}",
        rep["services"]
    );
    // (The orchestrator is asked by the opt-out state's `applied` rows, not the list.)
    assert!(requests_to(&sim, "/rbac-api").is_empty());
    let server_status = sim.sim_get("requests");
    assert!(
        !server_status
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["listener"] == "puppetserver"),
        "Puppet Server was asked for PE 2016.5"
    );

    // 2018.1 (MCollective era): the sim's nodes have its agent class.
    let out = sim.run(&report_args(
        &sim,
        &f,
        &["--format", "json", "--pe-version", "2018.1.3"],
    ));
    let rep = out.json();
    assert_eq!(item(&rep, "mcollective_in_use")["value"], true);
    // An unknown version (no flag, no file, no console services to ask)
    // gets the latest list, and says so.
    std::fs::remove_file(&f.version).unwrap();
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    drop_flag(&mut args, "--classifier-url");
    drop_flag(&mut args, "--orchestrator-url");
    let out = sim.run(&args);
    let rep = out.json();
    assert_eq!(rep["list"]["page_from"], "2021.7");
    assert!(rep["list"]["note"].as_str().unwrap().contains("unknown"));
}

#[test]
fn sent_says_what_pe_would_send_now() {
    // Opted out (the classifier says false, the marker exists): nothing is sent.
    let sim = Sim::start(&["--initial-value", "false"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    std::fs::write(&f.marker, "").unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    let rep = out.json();
    assert_eq!(rep["opt_out"]["verdict"], "opted-out");
    assert!(items(&rep).iter().all(|i| i["sent"] == "no"), "{rep}");
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Opted out: PE sends none of the above"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("  yes ")),
        "{}",
        out.stdout
    );

    // Not opted out: what PE collects is sent; not-collected and
    // not-applicable items are not.
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    let rep = out.json();
    assert_eq!(rep["opt_out"]["verdict"], "not-opted-out");
    for i in items(&rep) {
        let want = if i["status"] == "not-collected" || i["status"] == "not-applicable" {
            "no"
        } else {
            "yes"
        };
        assert_eq!(i["sent"], want, "{i}");
    }

    // Unknown opt-out state (the classifier cannot be asked): unknown.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    set(
        &mut args,
        "--classifier-url",
        &format!("https://localhost:{port}/classifier-api"),
    );
    let rep = sim.run(&args).json();
    assert_eq!(rep["opt_out"]["verdict"], "unknown");
    assert_eq!(item(&rep, "license_uuid")["sent"], "unknown");
    assert_eq!(item(&rep, "user_names")["sent"], "no");
}

#[test]
fn the_public_ip_is_never_the_private_one() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let rep = sim
        .run(&report_args(&sim, &f, &["--format", "json"]))
        .json();
    let ip = item(&rep, "primary_public_ip");
    assert_eq!(ip["status"], "not-computable");
    assert_eq!(ip["value"], Value::Null);
    assert!(
        ip["detail"]
            .as_str()
            .unwrap()
            .contains("10.0.0.2, is private"),
        "{ip}"
    );
    let out = sim.run(&report_args(&sim, &f, &[]));
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("public IP address"))
        .unwrap();
    assert!(line.contains("(not computable here:"), "{line}");

    // A primary on Azure with a public address of its own.
    let sim = Sim::start(&[
        "--primary-facts",
        r#"{"cloud": {"provider": "azure"}, "virtual": "hyperv", "networking": {"ip": "203.0.113.7"}}"#,
    ]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let rep = sim
        .run(&report_args(&sim, &f, &["--format", "json"]))
        .json();
    let ip = item(&rep, "primary_public_ip");
    assert_eq!(ip["value"], Value::Null);
    assert!(
        ip["detail"].as_str().unwrap().contains("203.0.113.7"),
        "{ip}"
    );
    assert_eq!(item(&rep, "primary_on_azure")["value"], true);
    assert_eq!(item(&rep, "primary_hypervisor")["value"], "hyperv");

    // On AWS the Marketplace items apply (but cannot be read).
    let sim = Sim::start(&["--primary-facts", r#"{"cloud": {"provider": "aws"}}"#]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let rep = sim
        .run(&report_args(&sim, &f, &["--format", "json"]))
        .json();
    assert_eq!(item(&rep, "aws_billing_mode")["status"], "not-computable");
    assert_eq!(item(&rep, "aws_billing_mode")["sent"], "yes");
}

#[test]
fn the_primary_is_not_this_host() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), None);
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    set(&mut args, "--certname", "workstation.example.test");
    let rep = sim.run(&args).json();
    assert_eq!(rep["puppetdb"]["primary_certname"], sim.s("primary"));
    // The primary's facts, not this host's.
    assert_eq!(item(&rep, "primary_os")["value"], "RedHat 8.9");
    // Files that live on the primary say where to run.
    let d = item(&rep, "license_uuid")["detail"].as_str().unwrap();
    assert!(
        d.contains("on this host (workstation.example.test)") && d.contains(&sim.s("primary")),
        "{d}"
    );
    // The marker is the primary's, not checked here.
    let marker = rep["opt_out"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["layer"] == "marker")
        .unwrap()
        .clone();
    assert_eq!(marker["verdict"], "not-applicable", "{marker}");

    // Without --primary, the host of --server is the primary.
    drop_flag(&mut args, "--primary");
    args.extend([
        "--server".to_string(),
        "pe-primary.example.test".to_string(),
    ]);
    let rep = sim.run(&args).json();
    assert_eq!(
        rep["puppetdb"]["primary_certname"],
        "pe-primary.example.test"
    );
    assert_eq!(item(&rep, "primary_os")["status"], "absent");
    assert!(item(&rep, "primary_os")["detail"]
        .as_str()
        .unwrap()
        .contains("--primary"));
}

#[test]
fn flags_report_does_not_take_are_refused() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &["--nodes", "a.example.test"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("report does not take --nodes"),
        "{}",
        out.stderr
    );
    // Nothing was asked.
    assert!(requests_to(&sim, "/pdb/").is_empty());
    let out = sim.run(&["report", "--no-such-flag"]);
    assert_eq!(out.code, 1);
}

#[test]
fn missing_files_are_absent_not_errors() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), None);
    std::fs::remove_file(&f.version).unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    for id in [
        "license_uuid",
        "product_name",
        "autosign_type",
        "jruby_max_active",
    ] {
        assert_eq!(item(&rep, id)["status"], "absent", "{id}");
        assert!(
            item(&rep, id)["detail"]
                .as_str()
                .unwrap()
                .starts_with("no "),
            "{id}"
        );
    }
    // product_name is no longer claimed from a file never read.
    assert_eq!(item(&rep, "product_name")["value"], Value::Null);
    // No version file, but the console services say which PE they are (the
    // same status endpoint opt-out asks), and the list follows that version.
    let v = item(&rep, "pe_version");
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(v["value"], sim.s("pe_version").as_str(), "{v}");
    assert!(
        v["source"]
            .as_str()
            .unwrap()
            .ends_with("/status/v1/services/classifier-service"),
        "{v}"
    );
    assert_eq!(rep["list"]["pe_version"], sim.s("pe_version").as_str());
    assert!(!requests_to(&sim, "/status/v1/services/classifier-service").is_empty());
    // The primary is not in PuppetDB: absent, with the hint.
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    set(&mut args, "--primary", "nowhere.example.test");
    let out = sim.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    let d = &item(&rep, "primary_os")["detail"];
    assert!(d.as_str().unwrap().contains("--primary"), "{d}");
}

#[test]
fn malformed_files_are_errors_with_file_and_line() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some("# PE license\nto: x\nnodes: many\n"));
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let want = format!("{}:3: `nodes` must be a whole number", f.license.display());
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    // The rest of the report is still there.
    assert!(out.stdout.contains("Number of nodes in deployment"));
    let rep = sim
        .run(&report_args(&sim, &f, &["--format", "json"]))
        .json();
    assert_eq!(rep["outcome"], "error");
    assert_eq!(rep["exit_code"], 1);
    assert_eq!(item(&rep, "licensed_nodes")["status"], "error");
    assert_eq!(item(&rep, "nodes_in_deployment")["status"], "ok");

    // Not UTF-8.
    std::fs::write(&f.license, b"nodes: 1\n\xff\xfe\n").unwrap();
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not UTF-8"), "{}", out.stderr);

    // A product.conf that is not HOCON.
    std::fs::write(&f.license, LICENSE).unwrap();
    std::fs::write(&f.product, "product: {\n").unwrap();
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 1);
    let rep = out.json();
    assert_eq!(item(&rep, "product_name")["status"], "error");
    assert!(
        rep["errors"][0].as_str().unwrap().contains("product.conf"),
        "{rep}"
    );
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
fn puppetdb_errors_carry_its_hints_once_per_cause() {
    // Refused: one request, one error line with PuppetDB's allowlist.
    let sim = Sim::start(&["--puppetdb-status", "403"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let out = sim.run(&report_args(&sim, &f, &["--format", "json"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let rep = out.json();
    assert_eq!(rep["puppetdb"]["queries"], 1);
    let errors: Vec<&str> = rep["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let pdb: Vec<&&str> = errors
        .iter()
        .filter(|e| e.starts_with("PuppetDB"))
        .collect();
    assert_eq!(pdb.len(), 1, "{errors:#?}");
    assert!(
        pdb[0].contains("HTTP 403")
            && pdb[0].contains("/etc/puppetlabs/puppetdb/certificate-allowlist"),
        "{}",
        pdb[0]
    );
    let d = item(&rep, "agent_os")["detail"].as_str().unwrap();
    assert!(d.contains("refused the credentials"), "{d}");
    // The license items are still there.
    assert_eq!(item(&rep, "licensed_nodes")["value"], 5000);
    // Text: the hint once, on stderr; the table on stdout.
    let out = sim.run(&report_args(&sim, &f, &[]));
    assert_eq!(
        out.stderr
            .matches("PuppetDB refused the client certificate")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("hint:"), "{}", out.stdout);

    // A failing PuppetDB: every query is asked, one line says which.
    for code in ["500", "503"] {
        let sim = Sim::start(&["--puppetdb-status", code]);
        let f = files(sim.dir.path(), Some(LICENSE));
        let rep = sim
            .run(&report_args(&sim, &f, &["--format", "json"]))
            .json();
        let pdb: Vec<&str> = rep["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|e| e.starts_with("PuppetDB"))
            .collect();
        assert_eq!(pdb.len(), 1, "{code}: {pdb:#?}");
        assert!(
            pdb[0].contains(&format!("HTTP {code}")) && pdb[0].contains("more requests"),
            "{}",
            pdb[0]
        );
        assert!(pdb[0].contains("puppetdb.log"), "{}", pdb[0]);
        assert_eq!(item(&rep, "nodes_in_deployment")["status"], "error");
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
    set(
        &mut args,
        "--puppetdb-url",
        &format!("https://localhost:{port}"),
    );
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
    let e = rep["errors"][0].as_str().unwrap();
    assert!(
        e.contains("pe-puppetdb") && e.contains(&format!("localhost:{port}")),
        "{e}"
    );
    // Only the first query is tried (with its retries).
    assert!(rep["puppetdb"]["queries"].as_u64().unwrap() <= 5, "{rep}");
    // A hang detector, not a speed test: loose enough for a loaded machine.
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
    assert_eq!(item(&rep, "license_uuid")["status"], "ok");

    // Not https.
    set(
        &mut args,
        "--puppetdb-url",
        &format!("http://localhost:{port}"),
    );
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
            "--orchestrator-url",
            &sim.s("orchestrator_url"),
            "--puppetserver-url",
            &sim.s("puppetserver_url"),
            "--primary",
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
    assert!(requests_to(&sim, "/pdb/")
        .iter()
        .all(|r| r["auth"] == "token"));

    // A wrong token: 401 with PuppetDB's advice, and still no token in the output.
    let bad = sim.dir.path().join("bad-token");
    std::fs::write(&bad, "not-the-token-0123456789\n").unwrap();
    set(&mut args, "--token-file", bad.to_str().unwrap());
    let out = sim.run(&args);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("401"), "{}", out.stdout);
    assert!(!out.stdout.contains("not-the-token"), "{}", out.stdout);
    assert!(out.stdout.contains("puppet-access login"), "{}", out.stdout);
}

#[test]
fn without_a_console_connection_its_items_are_absent() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    drop_flag(&mut args, "--classifier-url");
    drop_flag(&mut args, "--orchestrator-url");
    let out = sim.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    for id in [
        "node_groups",
        "ha_replicas",
        "non_default_roles",
        "orchestrator_jobs",
    ] {
        let i = item(&rep, id);
        assert_eq!(i["status"], "absent", "{i}");
        assert!(
            i["detail"].as_str().unwrap().contains("--classifier-url"),
            "{i}"
        );
    }
    assert_eq!(item(&rep, "nodes_in_deployment")["value"], 10);
    assert!(requests_to(&sim, "/classifier-api").is_empty());
    // Nor is the console's status asked for the version: the file says it.
    assert!(requests_to(&sim, "/status/v1/services/classifier-service").is_empty());
    assert_eq!(item(&rep, "pe_version")["value"], "2021.7.1");
}

#[test]
fn without_a_token_the_orchestrator_items_say_so() {
    let sim = Sim::start(&["--job-history", "task:1"]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    drop_flag(&mut args, "--token-file");
    let out = sim.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rep = out.json();
    let i = item(&rep, "orchestrator_jobs");
    assert_eq!(i["status"], "absent");
    assert!(i["detail"].as_str().unwrap().contains("RBAC token"), "{i}");
    assert!(requests_to(&sim, "/orchestrator").is_empty());
}

#[test]
fn no_credentials_is_one_error_not_one_per_service() {
    let sim = Sim::start(&[]);
    let f = files(sim.dir.path(), Some(LICENSE));
    let mut args = report_args(&sim, &f, &["--format", "json"]);
    drop_flag(&mut args, "--token-file");
    drop_flag(&mut args, "--cert");
    drop_flag(&mut args, "--key");
    let out = sim.run(&args);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let rep = out.json();
    let errors = rep["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].as_str().unwrap().contains("no credentials"),
        "{errors:#?}"
    );
    assert!(rep["puppetdb"]["error"]
        .as_str()
        .unwrap()
        .contains("no credentials"));
    assert_eq!(item(&rep, "nodes_in_deployment")["status"], "error");
    assert_eq!(item(&rep, "license_uuid")["status"], "ok");
    assert!(requests_to(&sim, "/pdb/").is_empty());
}
