//! Integration tests of the pe-sim binary, driven over real HTTPS with reqwest + rustls,
//! trusting only the simulator's generated CA.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::{Certificate, Identity};
use serde_json::{json, Value};

struct Sim {
    child: Child,
    info: Value,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let mut s = Sim::start_in(&path, args);
        s._dir = Some(dir);
        s
    }

    fn start_in(dir: &std::path::Path, args: &[&str]) -> Sim {
        install_provider();
        let (child, info) = support::spawn_sim(dir, args);
        Sim {
            child,
            info,
            _dir: None,
        }
    }

    fn s(&self, key: &str) -> String {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", self.info))
            .to_string()
    }

    fn read(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.s(key)).expect("read file")
    }

    fn token(&self) -> String {
        String::from_utf8(self.read("token_file"))
            .expect("utf8")
            .trim()
            .to_string()
    }

    fn builder(&self) -> reqwest::blocking::ClientBuilder {
        let ca = Certificate::from_pem(&self.read("ca")).expect("ca");
        Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(20))
    }

    /// Client presenting the allowlisted certificate.
    fn cert_client(&self) -> Client {
        let mut pem = self.read("cert");
        pem.extend(self.read("key"));
        self.builder()
            .identity(Identity::from_pem(&pem).expect("identity"))
            .build()
            .expect("client")
    }

    /// Client without a certificate (token auth).
    fn plain_client(&self) -> Client {
        self.builder().build().expect("client")
    }

    fn nc(&self, path: &str) -> String {
        format!("{}/v1{path}", self.s("classifier_url"))
    }

    fn orch(&self, path: &str) -> String {
        format!("{}{path}", self.s("orchestrator_url"))
    }

    fn get(&self, url: &str) -> (u16, Value) {
        let r = self
            .plain_client()
            .get(url)
            .header("X-Authentication", self.token())
            .send()
            .expect("GET");
        parse(r)
    }

    fn post(&self, url: &str, body: &Value) -> (u16, Value) {
        let r = self
            .plain_client()
            .post(url)
            .header("X-Authentication", self.token())
            .json(body)
            .send()
            .expect("POST");
        parse(r)
    }

    fn groups(&self) -> Vec<Value> {
        let (st, v) = self.get(&self.nc("/groups"));
        assert_eq!(st, 200, "{v}");
        v.as_array().expect("array").clone()
    }

    fn group_named(&self, name: &str) -> Value {
        self.groups()
            .into_iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no group {name}"))
    }

    fn sim_get(&self, what: &str) -> Value {
        let r = self
            .plain_client()
            .get(format!("{}/{what}", self.s("sim_url")))
            .send()
            .expect("sim GET");
        parse(r).1
    }

    fn wait_job(&self, name: &str, done: &[&str]) -> (Value, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        loop {
            let (st, job) = self.get(&self.orch(&format!("/jobs/{name}")));
            assert_eq!(st, 200, "{job}");
            let state = job["state"].as_str().expect("state").to_string();
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if done.contains(&state.as_str()) {
                return (job, seen);
            }
            assert!(Instant::now() < deadline, "job {name} stuck in {state}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn deploy(&self, nodes: &[&str]) -> String {
        let (st, v) = self.post(
            &self.orch("/command/deploy"),
            &json!({"environment": "production", "scope": {"nodes": nodes}, "description": "test"}),
        );
        assert_eq!(st, 202, "{v}");
        assert!(v["job"]["id"].as_str().unwrap().ends_with(&format!(
            "/orchestrator/v1/jobs/{}",
            v["job"]["name"].as_str().unwrap()
        )));
        v["job"]["name"].as_str().expect("name").to_string()
    }
}

fn parse(r: Response) -> (u16, Value) {
    let st = r.status().as_u16();
    let text = r.text().expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (st, v)
}

fn write(sim: &Sim, group: &Value, delta: &Value) -> (u16, Value) {
    let id = group["id"].as_str().expect("id");
    sim.post(&sim.nc(&format!("/groups/{id}")), delta)
}

#[test]
fn json_line_and_generated_material() {
    let sim = Sim::start(&[]);
    for k in [
        "classifier_url",
        "orchestrator_url",
        "status_url",
        "ca",
        "cert",
        "key",
        "token_file",
        "pe_conf",
    ] {
        assert!(sim.info[k].is_string(), "{k} missing from {}", sim.info);
    }
    assert_eq!(sim.info["pid"].as_u64(), Some(u64::from(sim.child.id())));
    assert!(sim.s("classifier_url").ends_with("/classifier-api"));
    assert!(sim.s("orchestrator_url").ends_with("/orchestrator/v1"));
    assert_ne!(sim.info["console_port"], sim.info["orchestrator_port"]);
    let key = String::from_utf8(sim.read("key")).unwrap();
    assert!(key.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "{key}");
    let unlisted_key = std::fs::read_to_string(sim.s("unlisted_key")).unwrap();
    assert!(unlisted_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let pe_conf = std::fs::read_to_string(sim.s("pe_conf")).unwrap();
    assert!(pe_conf.contains("\"puppet_enterprise::puppet_master_host\": \"primary.example.test\""));
    assert!(!sim.token().is_empty());
}

#[test]
fn state_dir_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let (ca1, token1) = {
        let sim = Sim::start_in(dir.path(), &[]);
        (sim.read("ca"), sim.token())
    };
    let sim = Sim::start_in(dir.path(), &["--pe-version", "2021.7.1"]);
    assert_eq!(sim.read("ca"), ca1);
    assert_eq!(sim.token(), token1);
    // The old CA still verifies the server.
    let (st, _) = sim.get(&sim.nc("/groups"));
    assert_eq!(st, 200);
}

#[test]
fn tls_and_authentication() {
    let sim = Sim::start(&[]);
    let url = sim.nc("/groups");

    // Certificate of an allowlisted certname works without a token.
    let r = sim.cert_client().get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // A client that trusts another CA refuses the server.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let wrong = Client::builder()
        .tls_certs_only([Certificate::from_pem(other.cert.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let err = wrong.get(&url).send().expect_err("wrong CA must fail");
    assert!(
        err.is_connect() && chain(&err).contains("UnknownIssuer"),
        "the server's certificate must be what fails: {}",
        chain(&err)
    );

    // Unlisted certificate: 403 with a PE-shaped body.
    let mut pem = std::fs::read(sim.s("unlisted_cert")).unwrap();
    pem.extend(std::fs::read(sim.s("unlisted_key")).unwrap());
    let unlisted = sim
        .builder()
        .identity(Identity::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let (st, body) = parse(unlisted.get(&url).send().unwrap());
    assert_eq!(st, 403);
    assert!(body["kind"]
        .as_str()
        .unwrap()
        .starts_with("puppetlabs.rbac/"));
    assert!(body["msg"].is_string());
    assert!(body.get("details").is_some());

    // Nothing at all: 401.
    let (st, body) = parse(sim.plain_client().get(&url).send().unwrap());
    assert_eq!(st, 401, "{body}");

    // Token in the header, and in the query string.
    assert_eq!(sim.get(&url).0, 200);
    let (st, _) = parse(
        sim.plain_client()
            .get(format!("{url}?token={}", sim.token()))
            .send()
            .unwrap(),
    );
    assert_eq!(st, 200);

    // A wrong token: 401.
    let (st, body) = parse(
        sim.plain_client()
            .get(&url)
            .header("X-Authentication", "nope")
            .send()
            .unwrap(),
    );
    assert_eq!(st, 401, "{body}");

    // The orchestrator needs a token; the certificate alone is refused.
    let (st, _) = parse(
        sim.cert_client()
            .get(sim.orch("/inventory"))
            .send()
            .unwrap(),
    );
    assert_eq!(st, 401);
    assert_eq!(sim.get(&sim.orch("/inventory")).0, 200);

    // Status accepts the certificate.
    let (st, status) = parse(
        sim.cert_client()
            .get(format!("{}/services", sim.s("status_url")))
            .send()
            .unwrap(),
    );
    assert_eq!(st, 200);
    assert_eq!(
        status["classifier-service"]["service_version"],
        "2019.8.12.0"
    );

    // The token value is never recorded.
    let reqs = sim.sim_get("requests");
    let text = reqs.to_string();
    assert!(!text.contains(&sim.token()), "token leaked into the record");
    let auths: Vec<&str> = reqs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["auth"].as_str().unwrap())
        .collect();
    assert!(auths.contains(&"cert:primary.example.test"));
    assert!(auths.contains(&"token"));
    assert!(auths.contains(&"token-query"));
    assert!(auths.contains(&"unlisted-cert:unlisted.example.test"));
}

#[test]
fn expired_token_is_rejected() {
    let sim = Sim::start(&["--expired-token"]);
    let (st, body) = sim.get(&sim.nc("/groups"));
    assert_eq!(st, 401);
    assert_eq!(body["kind"], "puppetlabs.rbac/token-expired");
    let (st, _) = sim.get(&sim.orch("/inventory"));
    assert_eq!(st, 401);
}

#[test]
fn delta_merges_two_levels_and_null_removes() {
    let sim = Sim::start(&["--pe-version", "2019.8.12"]);
    let infra = sim.group_named("PE Infrastructure");
    let serial = infra["serial_number"].as_u64().expect("serial");
    let before = infra["classes"]["puppet_enterprise"].clone();
    assert!(before.get("send_analytics_data").is_none());
    sim.sim_post_reset();

    let delta = json!({"id": infra["id"], "serial_number": serial,
                       "classes": {"puppet_enterprise": {"send_analytics_data": false}}});
    let (st, body) = write(&sim, &infra, &delta);
    assert_eq!(st, 200, "{body}");
    let after = sim.group_named("PE Infrastructure");
    let p = &after["classes"]["puppet_enterprise"];
    assert_eq!(p["send_analytics_data"], json!(false));
    for (k, v) in before.as_object().unwrap() {
        assert_eq!(&p[k], v, "parameter {k} changed");
    }
    assert_eq!(after["serial_number"].as_u64(), Some(serial + 1));
    assert_ne!(after["last_edited"], infra["last_edited"]);

    // Recorded: exactly one write, a one-key delta.
    let writes: Vec<Value> = sim
        .sim_get("requests")
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST")
        .cloned()
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0]["body"]["classes"]["puppet_enterprise"],
        json!({"send_analytics_data": false})
    );

    // null removes the parameter, everything else stays.
    let (st, _) = write(
        &sim,
        &infra,
        &json!({"classes": {"puppet_enterprise": {"send_analytics_data": null}}}),
    );
    assert_eq!(st, 200);
    let again = sim.group_named("PE Infrastructure");
    assert_eq!(again["classes"]["puppet_enterprise"], before);
    assert_eq!(again["serial_number"].as_u64(), Some(serial + 2));

    // null on a class removes the class.
    let console = sim.group_named("PE Console");
    let (st, _) = write(
        &sim,
        &console,
        &json!({"classes": {"puppet_enterprise::license": null}}),
    );
    assert_eq!(st, 200);
    let console = sim.group_named("PE Console");
    assert!(console["classes"]
        .get("puppet_enterprise::license")
        .is_none());
    assert!(console["classes"]
        .get("puppet_enterprise::profile::console")
        .is_some());

    // An unknown parameter: 422 missing-referents.
    let (st, body) = write(
        &sim,
        &infra,
        &json!({"classes": {"puppet_enterprise": {"no_such_param": 1}}}),
    );
    assert_eq!(st, 422);
    assert_eq!(body["kind"], "missing-referents");
    assert_eq!(body["details"][0]["kind"], "missing-parameter");
    assert_eq!(body["details"][0]["missing"], "no_such_param");

    // An id that does not match the URL: 400 conflicting-ids.
    let (st, body) = write(&sim, &infra, &json!({"id": console["id"]}));
    assert_eq!(st, 400);
    assert_eq!(body["kind"], "conflicting-ids");
}

impl Sim {
    fn sim_post_reset(&self) {
        let r = self
            .plain_client()
            .post(format!("{}/reset-requests", self.s("sim_url")))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert_eq!(self.sim_get("requests"), json!([]));
    }
}

#[test]
fn stale_serial_gets_409() {
    let sim = Sim::start(&["--pe-version", "2018.1.0"]);
    let infra = sim.group_named("PE Infrastructure");
    let serial = infra["serial_number"].as_u64().unwrap();
    let (st, body) = write(
        &sim,
        &infra,
        &json!({"serial_number": serial + 7, "classes": {"puppet_enterprise": {"send_analytics_data": false}}}),
    );
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["kind"], "conflict");
    assert!(body["msg"].is_string());
    // Unchanged.
    let same = sim.group_named("PE Infrastructure");
    assert_eq!(same["serial_number"].as_u64(), Some(serial));
}

#[test]
fn stale_serial_once_then_retry_succeeds() {
    let sim = Sim::start(&["--pe-version", "2021.7.1", "--stale-serial-once"]);
    let infra = sim.group_named("PE Infrastructure");
    let delta = |serial: &Value| json!({"serial_number": serial, "classes": {"puppet_enterprise": {"send_analytics_data": false}}});
    let (st, _) = write(&sim, &infra, &delta(&infra["serial_number"]));
    assert_eq!(st, 409);
    let fresh = sim.group_named("PE Infrastructure");
    assert_ne!(fresh["serial_number"], infra["serial_number"]);
    let (st, body) = write(&sim, &fresh, &delta(&fresh["serial_number"]));
    assert_eq!(st, 200, "{body}");
}

#[test]
fn missing_referents_until_update_classes() {
    let sim = Sim::start(&["--fail-first-write-422"]);
    let infra = sim.group_named("PE Infrastructure");
    let delta = json!({"serial_number": infra["serial_number"],
                       "classes": {"puppet_enterprise": {"send_analytics_data": false}}});
    let (st, body) = write(&sim, &infra, &delta);
    assert_eq!(st, 422, "{body}");
    assert_eq!(body["kind"], "missing-referents");
    let d = &body["details"][0];
    assert_eq!(d["kind"], "missing-parameter");
    assert_eq!(d["missing"], "send_analytics_data");
    assert_eq!(d["environment"], "production");
    assert_eq!(d["group"], "PE Infrastructure");

    let r = sim
        .plain_client()
        .post(sim.nc("/update-classes?environment=production"))
        .header("X-Authentication", sim.token())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (st, body) = write(&sim, &infra, &delta);
    assert_eq!(st, 200, "{body}");

    // The class endpoint now knows the parameter.
    let (st, class) = sim.get(&sim.nc("/environments/production/classes/puppet_enterprise"));
    assert_eq!(st, 200);
    assert!(class["parameters"].get("send_analytics_data").is_some());
    let (st, _) = sim.get(&sim.nc("/environments/production/classes/no_such_class"));
    assert_eq!(st, 404);
}

#[test]
fn versions_seed_the_right_groups() {
    let dir = tempfile::tempdir().unwrap();
    for (v, infra_agent, serial, mco) in [
        ("2016.4.0", false, false, true),
        ("2016.5.1", true, false, true),
        ("2018.1.0", true, true, true),
        ("2019.8.12", true, true, false),
        ("2021.7.1", true, true, false),
    ] {
        let sim = Sim::start_in(dir.path(), &["--pe-version", v]);
        let groups = sim.groups();
        let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
        for n in [
            "All Nodes",
            "PE Infrastructure",
            "PE Master",
            "PE Console",
            "PE PuppetDB",
            "PE Orchestrator",
            "PE Certificate Authority",
            "PE Agent",
            "Production environment",
        ] {
            assert!(names.contains(&n), "{v}: {n} missing from {names:?}");
        }
        assert_eq!(
            names.contains(&"PE Infrastructure Agent"),
            infra_agent,
            "{v}"
        );
        assert_eq!(names.contains(&"PE MCollective"), mco, "{v}");
        let all = groups.iter().find(|g| g["name"] == "All Nodes").unwrap();
        assert_eq!(all["id"], "00000000-0000-4000-8000-000000000000");
        let infra = groups
            .iter()
            .find(|g| g["name"] == "PE Infrastructure")
            .unwrap();
        assert_eq!(infra["serial_number"].is_u64(), serial, "{v}");
        assert_eq!(infra["last_edited"].is_string(), serial, "{v}");
        let pe = &infra["classes"]["puppet_enterprise"];
        assert_eq!(pe["puppet_master_host"], "primary.example.test");
        assert_eq!(pe["console_host"], "primary.example.test");
        let (st, status) = sim.get(&format!(
            "{}/services/classifier-service",
            sim.s("status_url")
        ));
        assert_eq!(st, 200);
        let want = format!("{}.0", sim.s("pe_version"));
        assert_eq!(status["service_version"], json!(want));
        if !serial {
            // Before 2018.1 the NC does not know serial_number.
            let (st, body) = write(&sim, infra, &json!({"serial_number": 1}));
            assert_eq!(st, 400, "{v}: {body}");
            assert_eq!(body["kind"], "schema-violation");
        }
    }
}

#[test]
fn split_seed_and_options() {
    let sim = Sim::start(&[
        "--split",
        "--initial-value",
        "true",
        "--override",
        "PE Master:puppet_enterprise::profile::master:true",
        "--duplicate-pe-infrastructure",
        "--extra-groups",
        "25",
    ]);
    let groups = sim.groups();
    let infra: Vec<&Value> = groups
        .iter()
        .filter(|g| g["name"] == "PE Infrastructure")
        .collect();
    assert_eq!(infra.len(), 2);
    let prod_infra = infra
        .iter()
        .find(|g| g["environment"] == "production")
        .unwrap();
    let pe = &prod_infra["classes"]["puppet_enterprise"];
    assert_eq!(pe["console_host"], "console.example.test");
    assert_eq!(pe["puppet_master_host"], "primary.example.test");
    assert_eq!(pe["send_analytics_data"], json!(true));
    let master = groups.iter().find(|g| g["name"] == "PE Master").unwrap();
    assert_eq!(
        master["classes"]["puppet_enterprise::profile::master"]["send_analytics_data"],
        json!(true)
    );
    let console = groups.iter().find(|g| g["name"] == "PE Console").unwrap();
    assert_eq!(
        console["rule"],
        json!(["or", ["=", "name", "console.example.test"]])
    );
    assert_eq!(
        groups
            .iter()
            .filter(|g| g["name"].as_str().unwrap().starts_with("Extra group"))
            .count(),
        25
    );
    // The console node is classified with the console profile and the inherited
    // puppet_enterprise parameters.
    let (st, c) = sim.post(
        &sim.nc("/classified/nodes/console.example.test"),
        &json!({"fact": {"aio_agent_version": "7.20.0"}}),
    );
    assert_eq!(st, 200, "{c}");
    assert!(c["classes"]
        .get("puppet_enterprise::profile::console")
        .is_some());
    assert!(c["classes"]
        .get("puppet_enterprise::profile::master")
        .is_none());
    assert_eq!(
        c["classes"]["puppet_enterprise"]["console_host"],
        "console.example.test"
    );
    assert_eq!(c["environment"], "production");
    let inv = sim.get(&sim.orch("/inventory")).1;
    assert_eq!(inv["items"].as_array().unwrap().len(), 2);
}

#[test]
fn deploy_job_lifecycle_records_the_run() {
    let sim = Sim::start(&["--job-duration-ms", "400"]);
    let infra = sim.group_named("PE Infrastructure");
    let (st, _) = write(
        &sim,
        &infra,
        &json!({"serial_number": infra["serial_number"], "classes": {"puppet_enterprise": {"send_analytics_data": false}}}),
    );
    assert_eq!(st, 200);
    let edited = sim.group_named("PE Infrastructure")["last_edited"]
        .as_str()
        .unwrap()
        .to_string();
    let before = sim.sim_get("nodes");
    let primary = "primary.example.test";
    assert!(before[primary]["run_time"].as_str().unwrap() < edited.as_str());

    let name = sim.deploy(&[primary]);
    let (job, seen) = sim.wait_job(&name, &["finished", "failed", "stopped"]);
    assert_eq!(job["state"], "finished", "{job}");
    let order = ["new", "ready", "running", "finished"];
    let mut last = 0;
    for s in &seen {
        let i = order.iter().position(|o| o == s).expect("known state");
        assert!(i >= last, "states went backwards: {seen:?}");
        last = i;
    }
    assert_eq!(job["node_count"], 1);
    assert_eq!(job["options"]["scope"]["nodes"], json!([primary]));

    let (st, nodes) = sim.get(&sim.orch(&format!("/jobs/{name}/nodes")));
    assert_eq!(st, 200);
    let n = &nodes["items"][0];
    assert_eq!(n["name"], primary);
    assert_eq!(n["state"], "finished");
    assert_eq!(n["result"]["status"], "changed");
    assert!(n["details"]["message"].is_string());

    let after = sim.sim_get("nodes");
    assert!(after[primary]["run_time"].as_str().unwrap() > edited.as_str());
    assert_eq!(after[primary]["analytics_opt_out_file"], json!(true));
    assert_eq!(after[primary]["send_analytics_data"], json!(false));
    assert_eq!(after[primary]["job"], json!(name));

    let (st, list) = sim.get(&sim.orch("/jobs"));
    assert_eq!(st, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (st, body) = sim.get(&sim.orch("/jobs/999"));
    assert_eq!(st, 404);
    assert_eq!(body["kind"], "puppetlabs.orchestrator/unknown-job");

    // NC check-ins record the run.
    let (st, ci) = sim.get(&sim.nc(&format!("/nodes/{primary}")));
    assert_eq!(st, 200);
    assert_eq!(ci["check_ins"].as_array().unwrap().len(), 1);
}

#[test]
fn failing_and_disconnected_nodes_fail_the_job() {
    let sim = Sim::start(&[
        "--split",
        "--job-duration-ms",
        "300",
        "--fail-node",
        "console.example.test",
        "--disconnected",
        "gone.example.test",
    ]);
    let (st, inv) = sim.get(&sim.orch("/inventory/gone.example.test"));
    assert_eq!(st, 200);
    assert_eq!(inv["connected"], json!(false));
    let name = sim.deploy(&[
        "primary.example.test",
        "console.example.test",
        "gone.example.test",
    ]);
    let (job, _) = sim.wait_job(&name, &["finished", "failed", "stopped"]);
    assert_eq!(job["state"], "failed");
    let (_, nodes) = sim.get(&sim.orch(&format!("/jobs/{name}/nodes")));
    let state = |n: &str| {
        nodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state("primary.example.test"), "finished");
    assert_eq!(state("console.example.test"), "failed");
    assert_eq!(state("gone.example.test"), "errored");
}

#[test]
fn string_false_breaks_the_catalog() {
    let sim = Sim::start(&["--initial-value", "\"false\"", "--job-duration-ms", "200"]);
    let infra = sim.group_named("PE Infrastructure");
    assert_eq!(
        infra["classes"]["puppet_enterprise"]["send_analytics_data"],
        json!("false")
    );
    let name = sim.deploy(&["primary.example.test"]);
    let (job, _) = sim.wait_job(&name, &["finished", "failed", "stopped"]);
    assert_eq!(job["state"], "failed");
    let (_, nodes) = sim.get(&sim.orch(&format!("/jobs/{name}/nodes")));
    let msg = nodes["items"][0]["details"]["message"].as_str().unwrap();
    assert!(msg.contains("expects a Boolean value"), "{msg}");
}

#[test]
fn stop_a_hanging_job() {
    let sim = Sim::start(&["--hang-jobs", "--job-duration-ms", "200"]);
    let name = sim.deploy(&["primary.example.test"]);
    sim.wait_job(&name, &["running"]);
    let (st, body) = sim.post(&sim.orch("/command/stop"), &json!({"job": name}));
    assert_eq!(st, 202, "{body}");
    assert_eq!(body["job"]["name"], json!(name));
    assert!(body["job"]["nodes"].is_object());
    let (job, _) = sim.wait_job(&name, &["stopped"]);
    assert_eq!(job["state"], "stopped");
    // Idempotent.
    let (st, _) = sim.post(&sim.orch("/command/stop"), &json!({"job": name}));
    assert_eq!(st, 202);
    let (st, body) = sim.post(&sim.orch("/command/stop"), &json!({"job": "nope"}));
    assert_eq!(st, 400, "{body}");
}

#[test]
fn deploy_validation() {
    let sim = Sim::start(&["--pe-version", "2016.5.1"]);
    let (st, body) = sim.post(
        &sim.orch("/command/deploy"),
        &json!({"environment": "", "enforce_environment": false, "scope": {"nodes": ["primary.example.test"]}}),
    );
    assert_eq!(st, 400);
    assert_eq!(body["kind"], "puppetlabs.orchestrator/empty-environment");
    let (st, body) = sim.post(
        &sim.orch("/command/deploy"),
        &json!({"environment": "nowhere", "scope": {"nodes": ["primary.example.test"]}}),
    );
    assert_eq!(st, 404);
    assert_eq!(body["kind"], "puppetlabs.orchestrator/unknown-environment");
    let (st, body) = sim.post(
        &sim.orch("/command/deploy"),
        &json!({"environment": "production", "scope": {"nodes": []}}),
    );
    assert_eq!(st, 400);
    assert_eq!(body["kind"], "puppetlabs.orchestrator/empty-target");
}

#[test]
fn faults_drop_errors_and_record_file() {
    let dir = tempfile::tempdir().unwrap();
    let record: PathBuf = dir.path().join("requests.jsonl");
    let sim = Sim::start(&[
        "--drop-connections",
        "1",
        "--record",
        record.to_str().unwrap(),
    ]);
    let first = sim
        .plain_client()
        .get(sim.nc("/groups"))
        .header("X-Authentication", sim.token())
        .send();
    let err = first.expect_err("first connection must be dropped");
    // Closed after the handshake, before any answer: not a timeout, not TLS.
    assert!(
        !err.is_timeout() && !chain(&err).contains("certificate"),
        "{}",
        chain(&err)
    );
    // How the close shows depends on timing: the TLS reader's end of file,
    // or, when the client was still writing, a reset or a closed connection.
    let shown = chain(&err);
    assert!(
        ["UnexpectedEof", "reset", "closed", "Broken pipe"]
            .iter()
            .any(|w| shown.contains(w)),
        "the connection must close without an answer: {shown}"
    );
    assert_eq!(sim.get(&sim.nc("/groups")).0, 200);
    let lines = std::fs::read_to_string(&record).unwrap();
    let recs: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["method"], "GET");
    assert_eq!(recs[0]["path"], "/classifier-api/v1/groups");
    drop(sim);

    let sim = Sim::start(&["--error-rate", "1.0"]);
    let (st, _) = sim.get(&sim.nc("/groups"));
    assert!([502, 503, 504].contains(&st), "{st}");
}

/// The error and its sources, for assertions on what failed.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{e} [{e:?}]");
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!(" <- {s} [{s:?}]"));
        source = s.source();
    }
    out
}

/// The connection and TLS handshake succeed, then nothing: the client's
/// own deadline must be what ends the request (not a refused or reset
/// connection), and not before it.
#[test]
fn never_answer_times_out() {
    let sim = Sim::start(&["--never-answer"]);
    let c = sim
        .builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = c
        .get(sim.nc("/groups"))
        .send()
        .expect_err("a server that never answers");
    let waited = started.elapsed();
    assert!(err.is_timeout(), "not a timeout: {}", chain(&err));
    assert!(
        waited >= Duration::from_millis(500),
        "gave up after {waited:?}"
    );
}

#[test]
fn help_documents_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_pe-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--state-dir",
        "--print-env",
        "--stop",
        "--pid-file",
        "--hostname",
        "--port",
        "--pe-version",
        "--split",
        "--extra-groups",
        "--duplicate-pe-infrastructure",
        "--no-pe-infrastructure",
        "--override",
        "--initial-value",
        "--disconnected",
        "--fail-node",
        "--job-duration-ms",
        "--hang-jobs",
        "--latency-ms",
        "--error-rate",
        "--drop-connections",
        "--expired-token",
        "--stale-serial-once",
        "--never-answer",
        "--fail-first-write-422",
        "--record",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn sigterm_exits_cleanly() {
    let mut sim = Sim::start(&["--latency-ms", "50"]);
    let t = Instant::now();
    assert_eq!(sim.get(&sim.nc("/groups")).0, 200);
    assert!(t.elapsed() >= Duration::from_millis(50));
    let pid = sim.child.id().to_string();
    let st = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = sim.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "pe-sim did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn agent_command_runs_a_program_per_node_and_maps_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for `puppet agent -t`: exit 2 (changes) on the primary; on the console,
    // container Facter noise, a real error in colour, and exit 1.
    let agent = dir.path().join("fake-agent");
    let calls = dir.path().join("calls");
    support::write_script(
        &agent,
        &format!(
            "#!/bin/sh\necho \"$1 job=$PE_SIM_JOB env=$PE_SIM_ENVIRONMENT noop=$PE_SIM_NOOP\" >> '{}'\n\
             case \"$1\" in\n\
             primary.example.test) echo 'Notice: Applied catalog'; exit 2;;\n\
             *) echo 'Error: Facter: Permission denied @ rb_sysopen - /proc/1/environ' >&2\n\
                printf '\\033[1;31mError: Could not retrieve catalog from remote server: boom\\033[0m\\n' >&2\n\
                exit 1;;\n\
             esac\n",
            calls.display()
        ),
    );
    let state = dir.path().join("state");
    let sim = Sim::start_in(
        &state,
        &[
            "--split",
            "--job-duration-ms",
            "100",
            "--agent-command",
            agent.to_str().unwrap(),
        ],
    );
    let name = sim.deploy(&["primary.example.test", "console.example.test"]);
    let (job, _) = sim.wait_job(&name, &["finished", "failed", "stopped"]);
    assert_eq!(job["state"], "failed", "{job}");
    let (_, nodes) = sim.get(&sim.orch(&format!("/jobs/{name}/nodes")));
    let node = |n: &str| {
        nodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()
            .clone()
    };
    let p = node("primary.example.test");
    assert_eq!(p["state"], "finished", "{p}");
    assert_eq!(p["result"]["status"], "changed", "{p}");
    let c = node("console.example.test");
    assert_eq!(c["state"], "failed", "{c}");
    assert_eq!(
        c["details"]["message"],
        "Error: Could not retrieve catalog from remote server: boom (puppet agent exited with status 1)",
        "{c}"
    );
    let log = std::fs::read_to_string(calls).unwrap();
    assert_eq!(
        log,
        format!(
            "primary.example.test job={name} env=production noop=0\n\
             console.example.test job={name} env=production noop=0\n"
        )
    );
    assert!(state
        .join("agent-runs")
        .join(format!("{name}-console.example.test.log"))
        .exists());
}

#[test]
fn sigterm_stops_an_agent_run_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("slow-agent");
    let pid_file = dir.path().join("agent.pid");
    support::write_script(
        &agent,
        &format!(
            "#!/bin/sh\necho $$ > '{}'\nexec sleep 120\n",
            pid_file.display()
        ),
    );
    let mut sim = Sim::start_in(
        &dir.path().join("state"),
        &[
            "--job-duration-ms",
            "100",
            "--agent-command",
            agent.to_str().unwrap(),
        ],
    );
    let name = sim.deploy(&["primary.example.test"]);
    sim.wait_job(&name, &["running"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&pid_file).map_or(true, |s| s.trim().is_empty()) {
        assert!(Instant::now() < deadline, "the agent command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let agent_pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    let st = Command::new("kill")
        .args(["-TERM", &sim.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "pe-sim did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The agent run is gone too (or a zombie waiting for init to reap it).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{agent_pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if stat.is_empty() || state == Some("Z") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "agent run {agent_pid} survived pe-sim: {stat}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
