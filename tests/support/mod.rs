//! Test helpers: start `pe-sim` (killed on drop), run the real `pe-analytics`
//! binary against it, and read what the simulator recorded.

#![allow(dead_code)]

pub mod data;
pub mod fixtures;
pub mod independent;
pub mod measured;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub struct Sim {
    child: Child,
    pub info: Value,
    pub dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes an executable stub (a `#!/bin/sh` script standing in for
/// `systemctl`, `puppet`, `puppet agent -t`, ...).
pub fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Starts `pe-sim` on free ports with its state in `state_dir` and reads the
/// JSON line it prints when ready (URLs, file paths); panics with its stderr
/// if it exits first. The caller kills the child.
pub fn spawn_sim(state_dir: &Path, args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pe-sim"))
        .arg("--state-dir")
        .arg(state_dir)
        .args(["--port", "0", "--orchestrator-port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pe-sim");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    if out.read_line(&mut line).expect("read JSON line") == 0 {
        let mut err = String::new();
        let _ = child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err);
        let _ = child.kill();
        panic!("pe-sim exited without its JSON line: {err}");
    }
    let info: Value = serde_json::from_str(&line).expect("JSON line");
    (child, info)
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let (child, info) = spawn_sim(dir.path(), args);
        Sim { child, info, dir }
    }

    pub fn s(&self, key: &str) -> String {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", self.info))
            .to_string()
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.s("token_file"))
            .expect("token")
            .trim()
            .to_string()
    }

    fn client(&self) -> reqwest::blocking::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = std::fs::read(self.s("ca")).expect("ca");
        reqwest::blocking::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("ca")])
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
    }

    pub fn sim_get(&self, what: &str) -> Value {
        self.client()
            .get(format!("{}/{what}", self.s("sim_url")))
            .send()
            .expect("sim GET")
            .json()
            .expect("JSON")
    }

    /// `POST /_sim/<what>` with a JSON body (faults, a scheduled agent run).
    pub fn sim_post(&self, what: &str, body: Value) -> Value {
        self.client()
            .post(format!("{}/{what}", self.s("sim_url")))
            .json(&body)
            .send()
            .expect("sim POST")
            .json()
            .expect("JSON")
    }

    /// A deploy started by someone else (token auth), as `puppet job run` would.
    pub fn deploy(&self, nodes: &[&str]) -> Value {
        self.client()
            .post(format!("{}/command/deploy", self.s("orchestrator_url")))
            .header("X-Authentication", self.token())
            .json(&serde_json::json!({"environment": "production", "scope": {"nodes": nodes}}))
            .send()
            .expect("deploy")
            .json()
            .expect("JSON")
    }

    pub fn reset_requests(&self) {
        self.client()
            .post(format!("{}/reset-requests", self.s("sim_url")))
            .send()
            .expect("reset");
    }

    /// Requests recorded on the console listener (classifier).
    pub fn requests(&self) -> Vec<Value> {
        self.sim_get("requests")
            .as_array()
            .expect("array")
            .iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("/classifier-api")
            })
            .cloned()
            .collect()
    }

    /// Requests other than GET, as (method, path, status, body).
    pub fn writes(&self) -> Vec<(String, String, u64, Value)> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] != "GET")
            .map(|r| {
                (
                    r["method"].as_str().unwrap().to_string(),
                    r["path"].as_str().unwrap().to_string(),
                    r["status"].as_u64().unwrap(),
                    r["body"].clone(),
                )
            })
            .collect()
    }

    pub fn groups(&self) -> Vec<Value> {
        self.sim_get("groups").as_array().expect("groups").clone()
    }

    pub fn group(&self, name: &str) -> Value {
        self.groups()
            .into_iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("no group {name}"))
    }

    /// Connection flags with token auth.
    pub fn token_args(&self) -> Vec<String> {
        vec![
            "--classifier-url".into(),
            self.s("classifier_url"),
            "--cacert".into(),
            self.s("ca"),
            "--token-file".into(),
            self.s("token_file"),
        ]
    }

    /// Connection flags with certificate auth (allowlisted cert).
    pub fn cert_args(&self) -> Vec<String> {
        vec![
            "--classifier-url".into(),
            self.s("classifier_url"),
            "--cacert".into(),
            self.s("ca"),
            "--cert".into(),
            self.s("cert"),
            "--key".into(),
            self.s("key"),
        ]
    }

    /// Runs pe-analytics with a clean HOME and no PE_RBAC_TOKEN, and checks
    /// that nothing it printed contains the token.
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Out {
        let out = run_clean(self.dir.path(), args);
        let token = self.token();
        assert!(
            !out.stdout.contains(&token) && !out.stderr.contains(&token),
            "the token leaked:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        out
    }
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs pe-analytics with HOME set to an empty directory under `scratch`.
pub fn run_clean<S: AsRef<str>>(scratch: &Path, args: &[S]) -> Out {
    let home: PathBuf = scratch.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let o = fixtures::isolate(&mut Command::new(env!("CARGO_BIN_EXE_pe-analytics")))
        .args(args.iter().map(|a| a.as_ref()))
        .env("HOME", &home)
        // One host lock per test (parallel tests are different "hosts").
        .env("PE_ANALYTICS_LOCK_FILE", scratch.join("pe-analytics.lock"))
        .output()
        .expect("run pe-analytics");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Like [`run_clean`], with extra environment variables (e.g. PATH).
pub fn run_env<S: AsRef<str>>(scratch: &Path, args: &[S], env: &[(&str, String)]) -> Out {
    let home: PathBuf = scratch.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut c = Command::new(env!("CARGO_BIN_EXE_pe-analytics"));
    fixtures::isolate(&mut c)
        .args(args.iter().map(|a| a.as_ref()))
        .env("HOME", &home)
        // One host lock per test (parallel tests are different "hosts").
        .env("PE_ANALYTICS_LOCK_FILE", scratch.join("pe-analytics.lock"));
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run pe-analytics");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `args` followed by `more`.
pub fn with<S: AsRef<str>>(args: &[&str], more: &[S]) -> Vec<String> {
    args.iter()
        .map(|s| s.to_string())
        .chain(more.iter().map(|s| s.as_ref().to_string()))
        .collect()
}
