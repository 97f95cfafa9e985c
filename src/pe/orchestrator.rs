//! The orchestrator API (`/orchestrator/v1`, token auth): inventory, deploy
//! (a Puppet run), jobs and their nodes, stop.

use super::{PeError, PeHttp};
use serde::Serialize;
use serde_json::{json, Value};

/// The orchestrator API, on top of [`PeHttp`].
pub struct Orch<'a> {
    pub http: &'a PeHttp,
    /// Base URL ending in `/orchestrator/v1`.
    pub base: String,
}

/// Whether a node is connected to the PCP broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InventoryItem {
    pub name: String,
    pub connected: bool,
}

/// One node of a job, as `/jobs/<id>/nodes` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobNode {
    pub name: String,
    /// `new`, `ready`, `running`, `finished`, `failed`, `errored`, `skipped`, ...
    pub state: String,
    /// `result.status` of a Puppet run: `changed`, `unchanged`, `failed`, ...
    pub result: Option<String>,
    /// `details.message`, when PE gives one.
    pub message: Option<String>,
    /// When the node's run started (its catalog was compiled after this).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<String>,
    pub finish_timestamp: Option<String>,
}

impl JobNode {
    /// The node's run succeeded.
    pub fn ok(&self) -> bool {
        self.state == "finished" && self.result.as_deref() != Some("failed")
    }
    /// The node is done, one way or another.
    pub fn done(&self) -> bool {
        matches!(
            self.state.as_str(),
            "finished" | "failed" | "errored" | "skipped"
        )
    }
}

/// Job states after which nothing changes (orchestrator_client-ruby's DONE_STATES).
pub fn job_done(state: &str) -> bool {
    matches!(state, "finished" | "failed" | "stopped")
}

/// `https://host:8143` or `https://host:8143/orchestrator/v1` → the latter.
pub fn api_base(url: &str) -> String {
    let u = url.trim_end_matches('/');
    if u.ends_with("/orchestrator/v1") {
        u.to_string()
    } else if u.ends_with("/orchestrator") {
        format!("{u}/v1")
    } else {
        format!("{u}/orchestrator/v1")
    }
}

fn items(v: &Value) -> Vec<Value> {
    v.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

impl<'a> Orch<'a> {
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{rel}", self.base)
    }

    /// `POST /inventory {"nodes": [...]}` (a read: safe to retry).
    pub fn inventory(&self, nodes: &[String]) -> Result<Vec<InventoryItem>, PeError> {
        let body = json!({ "nodes": nodes });
        let a = self.http.post(&self.url("inventory"), Some(&body), true)?;
        Ok(items(&a.body)
            .iter()
            .map(|i| InventoryItem {
                name: s(i, &["name"]).unwrap_or_default(),
                connected: i.get("connected").and_then(Value::as_bool) == Some(true),
            })
            .collect())
    }

    /// `GET /inventory/<node>`: whether one node is connected (an
    /// authenticated read, so a refused token shows here).
    pub fn inventory_node(&self, node: &str) -> Result<InventoryItem, PeError> {
        let a = self.http.get(&self.url(&format!("inventory/{node}")))?;
        Ok(InventoryItem {
            name: s(&a.body, &["name"]).unwrap_or_else(|| node.to_string()),
            connected: a.body.get("connected").and_then(Value::as_bool) == Some(true),
        })
    }

    /// The body of the deploy request.
    pub fn deploy_body(environment: &str, nodes: &[String], description: &str) -> Value {
        json!({
            "environment": environment,
            "scope": {"nodes": nodes},
            "description": description,
        })
    }

    /// `POST /command/deploy` (never retried: it starts a job); the job's name.
    pub fn deploy(&self, body: &Value) -> Result<String, PeError> {
        let a = self
            .http
            .post(&self.url("command/deploy"), Some(body), false)?;
        s(&a.body, &["job", "name"])
            .or_else(|| {
                s(&a.body, &["job", "id"]).and_then(|id| id.rsplit('/').next().map(str::to_string))
            })
            .ok_or_else(|| {
                PeError::Config(format!(
                    "the orchestrator accepted the deploy but named no job: {}",
                    a.body
                ))
            })
    }

    /// `GET /jobs/<name>`: the job's state.
    pub fn job_state(&self, job: &str) -> Result<String, PeError> {
        let a = self.http.get(&self.url(&format!("jobs/{job}")))?;
        Ok(s(&a.body, &["state"]).unwrap_or_else(|| "unknown".to_string()))
    }

    /// `GET /jobs/<name>/nodes`.
    pub fn job_nodes(&self, job: &str) -> Result<Vec<JobNode>, PeError> {
        let a = self.http.get(&self.url(&format!("jobs/{job}/nodes")))?;
        Ok(items(&a.body)
            .iter()
            .map(|n| JobNode {
                name: s(n, &["name"]).unwrap_or_default(),
                state: s(n, &["state"]).unwrap_or_default(),
                result: s(n, &["result", "status"]),
                message: s(n, &["details", "message"]),
                start_timestamp: s(n, &["start_timestamp"]),
                finish_timestamp: s(n, &["finish_timestamp"]),
            })
            .collect())
    }

    /// `POST /command/stop {"job": name}` (idempotent).
    pub fn stop(&self, job: &str) -> Result<(), PeError> {
        let body = json!({ "job": job });
        self.http
            .post(&self.url("command/stop"), Some(&body), true)
            .map(|_| ())
    }

    /// `GET /jobs?limit=N`: the most recent jobs (newest first in PE and pe-sim).
    pub fn recent_jobs(&self, limit: u32) -> Result<Vec<Value>, PeError> {
        let a = self
            .http
            .get(&self.url(&format!("jobs?limit={limit}&order_by=timestamp&order=desc")))?;
        Ok(items(&a.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            api_base("https://pe:8143"),
            "https://pe:8143/orchestrator/v1"
        );
        assert_eq!(
            api_base("https://pe:8143/orchestrator/v1/"),
            "https://pe:8143/orchestrator/v1"
        );
    }

    #[test]
    fn node_verdicts() {
        let n = |state: &str, result: Option<&str>| JobNode {
            name: "a".into(),
            state: state.into(),
            result: result.map(str::to_string),
            message: None,
            start_timestamp: None,
            finish_timestamp: None,
        };
        assert!(n("finished", Some("changed")).ok());
        assert!(n("finished", Some("unchanged")).ok());
        assert!(!n("finished", Some("failed")).ok());
        assert!(!n("errored", None).ok() && n("errored", None).done());
        assert!(!n("running", None).done());
    }
}
