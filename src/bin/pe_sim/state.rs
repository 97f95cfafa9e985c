//! Simulator state: node groups, the NC class cache, jobs, node runs, recorded requests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::cli::Args;
use super::seed::{self, PeVersion};

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub environment: String,
    pub environment_trumps: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Value>,
    pub classes: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_data: Option<Map<String, Value>>,
    pub variables: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_edited: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<u64>,
}

/// One node's state in a job.
#[derive(Debug, Clone)]
pub struct JobNode {
    pub name: String,
    pub state: String,
    pub start: Option<SystemTime>,
    pub finish: Option<SystemTime>,
    pub details: Value,
    pub result: Option<Value>,
    pub transaction_uuid: String,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    /// `deploy`, `task`, `plan_task`, ... (the job's `type` and `command`).
    pub kind: String,
    /// The RBAC login that started it.
    pub owner: String,
    pub state: String,
    pub options: Value,
    pub created: SystemTime,
    pub started: Option<SystemTime>,
    pub finished: Option<SystemTime>,
    pub nodes: Vec<JobNode>,
    /// (state, enter, exit)
    pub status_log: Vec<(String, SystemTime, Option<SystemTime>)>,
    pub events: Vec<Value>,
}

impl Job {
    pub fn is_done(&self) -> bool {
        matches!(self.state.as_str(), "finished" | "failed" | "stopped")
    }
    pub fn set_state(&mut self, state: &str, now: SystemTime) {
        if let Some(last) = self.status_log.last_mut() {
            last.2 = Some(now);
        }
        self.status_log.push((state.to_string(), now, None));
        self.state = state.to_string();
    }
    pub fn push_event(&mut self, kind: &str, node: Option<&str>, message: &str, now: SystemTime) {
        let id = self.events.len() + 1;
        let mut details = json!({});
        if let Some(n) = node {
            details["node"] = json!(n);
        }
        self.events.push(json!({
            "id": id.to_string(),
            "type": kind,
            "timestamp": seed::timestamp(now),
            "details": details,
            "message": message,
        }));
    }
}

/// What the last successful Puppet run on a node applied.
#[derive(Debug, Clone, Serialize)]
pub struct NodeApplied {
    pub node: String,
    pub run_time: String,
    #[serde(skip)]
    pub run_at: SystemTime,
    pub job: Option<String>,
    pub environment: String,
    pub groups: Vec<String>,
    /// Effective `puppet_enterprise::send_analytics_data` (module default true).
    pub send_analytics_data: Value,
    /// Effective values per profile class present on the node.
    pub profiles: Map<String, Value>,
    /// Whether `/etc/puppetlabs/analytics-opt-out` exists on the node after the run.
    pub analytics_opt_out_file: bool,
    pub transaction_uuid: String,
}

/// Faults switched on at run time through `POST /_sim/faults`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Faults {
    /// After a group write is applied, answer it with: `"500"` (an error
    /// status), `"not-json"` (200 with a body that is not JSON) or `"drop"`
    /// (close the connection without an answer). For `group_write_count`
    /// writes (default 1), then back to normal.
    #[serde(default)]
    pub group_write: Option<String>,
    #[serde(default)]
    pub group_write_count: Option<u32>,
    /// Someone else makes the same change just before the next group write:
    /// the delta is applied as theirs (serial bumped), so that write gets 409.
    #[serde(default)]
    pub preempt_write: bool,
    /// The orchestrator refuses every token with 401 invalid-token.
    #[serde(default)]
    pub orchestrator_refuses_token: bool,
}

/// The latest report of a node, as PuppetDB would hold it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    pub time: String,
    /// `changed`, `unchanged` or `failed`.
    pub status: String,
    pub noop: bool,
}

pub struct Inner {
    pub faults: Faults,
    /// Latest report per node (successful or failed runs, jobs or not).
    pub reports: BTreeMap<String, NodeReport>,
    pub groups: Vec<Group>,
    /// environment -> class -> parameter defaults
    pub class_cache: BTreeMap<String, BTreeMap<String, Value>>,
    pub code_classes: BTreeMap<String, Value>,
    pub force_422_pending: bool,
    pub stale_serial_pending: bool,
    pub jobs: BTreeMap<u64, Job>,
    pub next_job: u64,
    pub applied: BTreeMap<String, NodeApplied>,
    pub check_ins: BTreeMap<String, Vec<Value>>,
    pub requests: Vec<Value>,
    pub seq: u64,
    pub rng: fastrand::Rng,
}

pub struct Sim {
    pub args: Args,
    pub version: PeVersion,
    pub token: String,
    pub console_base: String,
    pub orch_base: String,
    pub inner: Mutex<Inner>,
    pub record: Mutex<Option<File>>,
    /// When the simulated services' JVMs started (their status-service's
    /// `start-time-ms`): an hour before pe-sim itself, so seeded jobs can
    /// fall before and after it.
    pub jvm_start: SystemTime,
    pub connections: std::sync::atomic::AtomicU64,
}

impl Sim {
    /// Where the simulated nodes' files live: `<state-dir>/nodes/<certname>/`.
    pub fn nodes_dir(&self) -> std::path::PathBuf {
        self.args.state_dir.join("nodes")
    }

    /// After a simulated run: the node's `analytics-opt-out` marker exists
    /// exactly when the run applied `send_analytics_data = false`, as PE's
    /// profiles (2018.1+) manage `/etc/puppetlabs/analytics-opt-out`. Real
    /// agent runs (`--agent-command`) manage their own.
    pub fn record_marker(&self, applied: &NodeApplied) {
        if self.args.agent_command.is_some() {
            return;
        }
        let dir = self.nodes_dir().join(&applied.node);
        let marker = dir.join("analytics-opt-out");
        let result = if applied.analytics_opt_out_file {
            std::fs::create_dir_all(&dir).and_then(|()| {
                std::fs::write(&marker, "analytics data collection is off (pe-sim)\n")
            })
        } else {
            match std::fs::remove_file(&marker) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        };
        if let Err(e) = result {
            eprintln!("pe-sim: {}: {e}", marker.display());
        }
    }

    pub fn primary(&self) -> &str {
        &self.args.primary
    }
    pub fn console_node(&self) -> &str {
        if self.args.split {
            &self.args.console
        } else {
            &self.args.primary
        }
    }
    pub fn allowlisted(&self, cn: &str) -> bool {
        cn == self.primary() || cn == self.console_node()
    }
    pub fn known_nodes(&self) -> Vec<String> {
        let mut v = vec![self.primary().to_string()];
        if self.console_node() != self.primary() {
            v.push(self.console_node().to_string());
        }
        for d in &self.args.disconnected {
            if !v.contains(d) {
                v.push(d.clone());
            }
        }
        v
    }
    pub fn connected(&self, node: &str) -> bool {
        !self.args.disconnected.iter().any(|d| d == node)
            && self.known_nodes().iter().any(|n| n == node)
    }
}

impl Inner {
    pub fn new(args: &Args, v: PeVersion, now: SystemTime) -> Result<Self, String> {
        let groups = seed::seed_groups(args, v, now)?;
        let code = seed::code_classes(v);
        let mut cache_classes = code.clone();
        if args.fail_first_write_422 {
            // A stale cache: the class parameter the tool writes is not known yet.
            if let Some(Value::Object(p)) = cache_classes.get_mut("puppet_enterprise") {
                p.remove("send_analytics_data");
            }
        }
        let class_cache = seed::environments()
            .into_iter()
            .map(|e| (e, cache_classes.clone()))
            .collect();
        let rng = match args.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        let mut jobs = BTreeMap::new();
        if let Some(spec) = &args.job_history {
            for j in seed::job_history(spec, now)? {
                jobs.insert(j.id, j);
            }
        }
        let next_job = jobs.keys().max().map_or(1, |m| m + 1);
        Ok(Inner {
            faults: Faults::default(),
            reports: BTreeMap::new(),
            groups,
            class_cache,
            code_classes: code,
            force_422_pending: args.fail_first_write_422,
            stale_serial_pending: args.stale_serial_once,
            jobs,
            next_job,
            applied: BTreeMap::new(),
            check_ins: BTreeMap::new(),
            requests: Vec::new(),
            seq: 0,
            rng,
        })
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Ancestors from the root down to (and including) the group.
    pub fn lineage(&self, id: &str) -> Vec<&Group> {
        let mut out = Vec::new();
        let mut cur = self.group(id);
        let mut seen = BTreeSet::new();
        while let Some(g) = cur {
            if !seen.insert(g.id.clone()) {
                break;
            }
            out.push(g);
            if g.parent == g.id {
                break;
            }
            cur = self.group(&g.parent);
        }
        out.reverse();
        out
    }

    /// Group with classes, config data and variables inherited along the parent chain
    /// (a child's class parameters override its ancestors').
    pub fn inherited(&self, id: &str) -> Option<Group> {
        let chain = self.lineage(id);
        let mut g = chain.last()?.to_owned().clone();
        let mut classes = Map::new();
        let mut config = Map::new();
        let mut vars = Map::new();
        for a in &chain {
            merge2(&mut classes, &a.classes);
            if let Some(cd) = &a.config_data {
                merge2(&mut config, cd);
            }
            for (k, v) in &a.variables {
                vars.insert(k.clone(), v.clone());
            }
        }
        g.classes = classes;
        if g.config_data.is_some() {
            g.config_data = Some(config);
        }
        g.variables = vars;
        Some(g)
    }

    /// Classify a node. Returns (groups, environment, classes, config_data, variables)
    /// or a classification-conflict message.
    pub fn classify(&self, node: &str, facts: &Value, trusted: &Value) -> Result<Value, Value> {
        let matched: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| self.node_in_group(g, node, facts, trusted))
            .collect();
        let matched_ids: BTreeSet<&str> = matched.iter().map(|g| g.id.as_str()).collect();
        // Leaves: matched groups none of whose matched descendants exist.
        let leaves: Vec<&Group> = matched
            .iter()
            .copied()
            .filter(|g| {
                !matched
                    .iter()
                    .any(|o| o.id != g.id && self.lineage(&o.id).iter().any(|a| a.id == g.id))
            })
            .collect();
        let mut classes = Map::new();
        let mut config = Map::new();
        let mut vars = Map::new();
        let mut conflicts = Vec::new();
        for leaf in &leaves {
            let inh = self.inherited(&leaf.id).expect("group exists");
            merge_checked(&mut classes, &inh.classes, &mut conflicts);
            if let Some(cd) = &inh.config_data {
                merge_checked(&mut config, cd, &mut conflicts);
            }
            for (k, v) in &inh.variables {
                vars.insert(k.clone(), v.clone());
            }
        }
        let trumps: Vec<&str> = matched
            .iter()
            .filter(|g| g.environment_trumps)
            .map(|g| g.environment.as_str())
            .collect();
        let environment = if let Some(leaf_trump) = leaves
            .iter()
            .find(|g| g.environment_trumps)
            .map(|g| g.environment.as_str())
        {
            leaf_trump.to_string()
        } else if let Some(t) = trumps.first() {
            t.to_string()
        } else {
            "production".to_string()
        };
        if !conflicts.is_empty() {
            return Err(json!({
                "kind": "classification-conflict",
                "msg": format!("The node {node} was classified into groups with conflicting class parameters"),
                "details": conflicts,
            }));
        }
        let mut out = json!({
            "name": node,
            "groups": matched_ids.into_iter().collect::<Vec<_>>(),
            "environment": environment,
            "classes": classes,
            "parameters": vars,
        });
        if self.groups.iter().any(|g| g.config_data.is_some()) {
            out["config_data"] = Value::Object(config);
        }
        Ok(out)
    }

    /// A node is in a group if the group has a rule that matches and every ancestor that
    /// has a rule matches too (groups without a rule match no node).
    fn node_in_group(&self, g: &Group, node: &str, facts: &Value, trusted: &Value) -> bool {
        let Some(rule) = &g.rule else { return false };
        if !rule_matches(rule, node, facts, trusted) {
            return false;
        }
        self.lineage(&g.id).iter().all(|a| match &a.rule {
            Some(r) => rule_matches(r, node, facts, trusted),
            None => true,
        })
    }
}

/// Two-level merge used for classes/config data: class → parameter; `null` removes.
pub fn merge2(dst: &mut Map<String, Value>, src: &Map<String, Value>) {
    for (class, params) in src {
        match params {
            Value::Null => {
                dst.remove(class);
            }
            Value::Object(p) => {
                let entry = dst.entry(class.clone()).or_insert_with(|| json!({}));
                if !entry.is_object() {
                    *entry = json!({});
                }
                let e = entry.as_object_mut().expect("object");
                for (k, v) in p {
                    if v.is_null() {
                        e.remove(k);
                    } else {
                        e.insert(k.clone(), v.clone());
                    }
                }
            }
            other => {
                dst.insert(class.clone(), other.clone());
            }
        }
    }
}

fn merge_checked(
    dst: &mut Map<String, Value>,
    src: &Map<String, Value>,
    conflicts: &mut Vec<Value>,
) {
    for (class, params) in src {
        let entry = dst.entry(class.clone()).or_insert_with(|| json!({}));
        if let (Some(e), Some(p)) = (entry.as_object_mut(), params.as_object()) {
            for (k, v) in p {
                match e.get(k) {
                    Some(old) if old != v => conflicts.push(json!({
                        "class": class, "parameter": k, "values": [old, v]
                    })),
                    _ => {
                        e.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
}

fn lookup_path<'a>(
    path: &Value,
    node: &'a str,
    facts: &'a Value,
    trusted: &'a Value,
) -> Option<Value> {
    match path {
        Value::String(s) if s == "name" => Some(json!(node)),
        Value::String(s) => facts.get(s).cloned(),
        Value::Array(parts) => {
            let root = parts.first()?.as_str()?;
            let mut cur = match root {
                "fact" => facts.clone(),
                "trusted" => {
                    let mut t = trusted.clone();
                    if t.get("certname").is_none() {
                        if let Value::Object(m) = &mut t {
                            m.insert("certname".into(), json!(node));
                        } else {
                            t = json!({"certname": node});
                        }
                    }
                    t
                }
                _ => return None,
            };
            for p in &parts[1..] {
                cur = cur.get(p.as_str()?)?.clone();
            }
            Some(cur)
        }
        _ => None,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluate an NC rule. Regexes support the forms PE seeds use: `.*`, `.+`, and
/// otherwise a substring match (pe-sim has no regex engine).
pub fn rule_matches(rule: &Value, node: &str, facts: &Value, trusted: &Value) -> bool {
    let Some(arr) = rule.as_array() else {
        return false;
    };
    let Some(op) = arr.first().and_then(Value::as_str) else {
        return false;
    };
    match op {
        "and" => arr[1..]
            .iter()
            .all(|r| rule_matches(r, node, facts, trusted)),
        "or" => arr[1..]
            .iter()
            .any(|r| rule_matches(r, node, facts, trusted)),
        "not" => arr
            .get(1)
            .map(|r| !rule_matches(r, node, facts, trusted))
            .unwrap_or(false),
        _ => {
            if arr.len() != 3 {
                return false;
            }
            let Some(actual) = lookup_path(&arr[1], node, facts, trusted) else {
                return false;
            };
            let want = &arr[2];
            let (a, w) = (as_text(&actual), as_text(want));
            match op {
                "=" => a == w,
                "~" => match w.as_str() {
                    ".*" => true,
                    ".+" => !a.is_empty(),
                    pat => a.contains(pat.trim_start_matches('^').trim_end_matches('$')),
                },
                ">" | ">=" | "<" | "<=" => {
                    let (Ok(x), Ok(y)) = (a.parse::<f64>(), w.parse::<f64>()) else {
                        return false;
                    };
                    match op {
                        ">" => x > y,
                        ">=" => x >= y,
                        "<" => x < y,
                        _ => x <= y,
                    }
                }
                _ => false,
            }
        }
    }
}
