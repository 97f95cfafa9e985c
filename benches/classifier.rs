//! Benchmark (not a test): `opt-out --classifier` against pe-sim seeded with
//! 10000 extra groups. Prints the NC requests sent and the wall time of each
//! run. Target: at most 3 NC requests and under 300 ms.
//!
//! cargo bench --bench classifier [-- GROUPS RUNS]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let groups = args.first().cloned().unwrap_or_else(|| "10000".into());
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sim = Command::new(env!("CARGO_BIN_EXE_pe-sim"))
        .arg("--state-dir")
        .arg(dir.path())
        .args([
            "--port",
            "0",
            "--orchestrator-port",
            "0",
            "--pe-version",
            "2021.7.1",
        ])
        .args(["--extra-groups", &groups])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("pe-sim");
    let mut line = String::new();
    std::io::BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("sim line");
    let info: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    let s = |k: &str| info[k].as_str().unwrap().to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(s("ca")).unwrap();
    let http = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run = |cmd: &[&str]| {
        let t = Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_pe-analytics"))
            .args(cmd)
            .args(["--classifier", "--classifier-url", &s("classifier_url")])
            .args(["--cacert", &s("ca"), "--token-file", &s("token_file")])
            .env("HOME", &home)
            .env_remove("PE_RBAC_TOKEN")
            .output()
            .unwrap();
        let dt = t.elapsed();
        assert!(o.status.code() == Some(0), "{cmd:?}: {o:?}");
        dt
    };
    let nc_requests = || -> (usize, usize) {
        let reqs: serde_json::Value = http
            .get(format!("{}/requests", s("sim_url")))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let reqs = reqs.as_array().unwrap();
        let nc = reqs
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("/classifier-api"));
        let writes = nc.clone().filter(|r| r["method"] != "GET").count();
        (nc.count(), writes)
    };
    let reset = || {
        http.post(format!("{}/reset-requests", s("sim_url")))
            .send()
            .unwrap();
    };
    let total = http
        .get(format!("{}/groups", s("sim_url")))
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    println!("pe-sim 2021.7.1 with {total} groups; {runs} runs each");
    let mut write_times = Vec::new();
    let mut noop_times = Vec::new();
    for i in 0..runs {
        run(&["opt-in"]);
        reset();
        let dt = run(&["opt-out"]);
        let (n, w) = nc_requests();
        println!(
            "run {i}: opt-out (change)    {:>7.1} ms, {n} NC requests ({w} write)",
            dt.as_secs_f64() * 1e3
        );
        write_times.push(dt);
        reset();
        let dt = run(&["opt-out"]);
        let (n, w) = nc_requests();
        println!(
            "run {i}: opt-out (compliant) {:>7.1} ms, {n} NC requests ({w} write)",
            dt.as_secs_f64() * 1e3
        );
        noop_times.push(dt);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    println!(
        "median: change {:.1} ms, compliant {:.1} ms (target < 300 ms, <= 3 NC requests)",
        median(&mut write_times),
        median(&mut noop_times)
    );
    let _ = sim.kill();
    let _ = sim.wait();
}
