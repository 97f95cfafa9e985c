//! Pure functions that turn what PE's services answered into the values PE
//! would send: counts with their "unknown" row, the primary's cloud and
//! hypervisor from its facts, the orchestrator's job figures, Puppet Server's
//! JRuby and JVM figures, the classifier's groups and replicas, RBAC's
//! roles, the autosigning type from `puppet.conf`.

use super::queries::{Count, OsCount};
use serde_json::{json, Map, Value};
use std::net::IpAddr;
use std::time::SystemTime;

/// Counts by value, with an explicit `unknown` row (`value: null`) for the
/// nodes of the deployment that have no such fact, so the rows always add
/// up to `total`.
pub fn with_unknown(rows: &[Count], total: u64) -> Value {
    let known: Vec<&Count> = rows.iter().filter(|r| r.value.is_some()).collect();
    let sum: u64 = known.iter().map(|r| r.count).sum();
    let mut out: Vec<Value> = known
        .iter()
        .map(|r| json!({"value": r.value, "count": r.count}))
        .collect();
    let unknown = total.saturating_sub(sum);
    if unknown > 0 {
        out.push(json!({"value": null, "count": unknown}));
    }
    Value::Array(out)
}

/// [`with_unknown`] for operating systems: a node without an `os.name` is
/// unknown whatever its release.
pub fn os_with_unknown(rows: &[OsCount], total: u64) -> Value {
    let known: Vec<&OsCount> = rows.iter().filter(|r| r.name.is_some()).collect();
    let sum: u64 = known.iter().map(|r| r.count).sum();
    let mut out: Vec<Value> = known
        .iter()
        .map(|r| json!({"name": r.name, "release": r.release, "count": r.count}))
        .collect();
    let unknown = total.saturating_sub(sum);
    if unknown > 0 {
        out.push(json!({"name": null, "release": null, "count": unknown}));
    }
    Value::Array(out)
}

/// Agents on Azure and on Google Cloud, the others, and those whose facts
/// cannot tell (no `virtual` fact: Facter did not report).
pub fn cloud_counts(azure: u64, gcp: u64, with_virtual: u64, total: u64) -> Value {
    let unknown = total.saturating_sub(with_virtual);
    let elsewhere = total.saturating_sub(unknown).saturating_sub(azure + gcp);
    json!([
        {"value": "Microsoft Azure", "count": azure},
        {"value": "Google Cloud Platform", "count": gcp},
        {"value": "neither", "count": elsewhere},
        {"value": null, "count": unknown},
    ])
}

fn fact<'a>(facts: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(facts.get(*first)?, |v, k| v.get(k))
        .filter(|v| !v.is_null())
}

/// Whether a node runs on Azure: Facter's `cloud.provider` (Facter 4), else
/// the `az_metadata` fact (Facter 3).
pub fn on_azure(facts: &Map<String, Value>) -> bool {
    fact(facts, &["cloud", "provider"]).and_then(Value::as_str) == Some("azure")
        || fact(facts, &["az_metadata"]).is_some()
}

/// Whether a node runs on AWS EC2: `cloud.provider`, else `ec2_metadata`.
pub fn on_aws(facts: &Map<String, Value>) -> bool {
    fact(facts, &["cloud", "provider"]).and_then(Value::as_str) == Some("aws")
        || fact(facts, &["ec2_metadata"]).is_some()
}

/// The hypervisor from Facter's `virtual` fact (`physical` when none).
pub fn hypervisor(facts: &Map<String, Value>) -> Option<String> {
    fact(facts, &["virtual"]).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A node's own address (`networking.ip`, else the legacy `ipaddress`).
pub fn own_ip(facts: &Map<String, Value>) -> Option<String> {
    fact(facts, &["networking", "ip"])
        .or_else(|| fact(facts, &["ipaddress"]))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Whether an address can be what the internet sees: private (RFC 1918,
/// unique local), loopback, link-local and carrier-grade NAT addresses are
/// not.
pub fn is_public(ip: &str) -> Option<bool> {
    Some(match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => {
            let [x, y, ..] = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || (x == 100 && (64..128).contains(&y)))
        }
        IpAddr::V6(a) => {
            let s = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || (s & 0xfe00) == 0xfc00
                || (s & 0xffc0) == 0xfe80)
        }
    })
}

/// Classes that are Puppet's or PE's own, not a module's anyone could
/// publish: `Settings`, `main`, and PE's private modules.
fn pe_or_puppet_class(title: &str) -> bool {
    let module = title
        .split("::")
        .next()
        .unwrap_or(title)
        .to_ascii_lowercase();
    module == "settings"
        || module == "main"
        || module == "puppet_enterprise"
        || module.starts_with("pe_")
}

/// Classes with the number of nodes whose catalog has them, without PE's
/// and Puppet's own.
pub fn module_classes(rows: &[Count]) -> Value {
    Value::Array(
        rows.iter()
            .filter_map(|r| {
                let t = r.value.as_deref()?;
                (!pe_or_puppet_class(t)).then(|| json!({"value": t, "count": r.count}))
            })
            .collect(),
    )
}

/// Nodes whose catalog has the class `title` (PuppetDB capitalizes each
/// segment: `Pe_patch`).
pub fn class_nodes(rows: &[Count], title: &str) -> u64 {
    rows.iter()
        .filter(|r| {
            r.value
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(title))
        })
        .map(|r| r.count)
        .sum()
}

/// The classifier's groups: how many, and the replicas pinned to PE's
/// replica group ("PE HA Replica").
pub fn group_count(groups: &Value) -> Result<u64, String> {
    groups
        .as_array()
        .map(|g| g.len() as u64)
        .ok_or_else(|| "the classifier's answer to /v1/groups is not a list".to_string())
}

pub const REPLICA_GROUP: &str = "PE HA Replica";

/// The certnames pinned in PE's replica group (none: no such group).
pub fn replicas(groups: &Value) -> Vec<String> {
    let Some(g) = groups
        .as_array()
        .and_then(|a| a.iter().find(|g| g["name"] == REPLICA_GROUP))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    fn pins(rule: &Value, out: &mut Vec<String>) {
        let Some(a) = rule.as_array() else { return };
        match a.first().and_then(Value::as_str) {
            Some("=") if a.len() == 3 && a[1] == "name" => {
                if let Some(n) = a[2].as_str() {
                    out.push(n.to_string());
                }
            }
            Some("or") => a[1..].iter().for_each(|r| pins(r, out)),
            _ => {}
        }
    }
    pins(&g["rule"], &mut out);
    out
}

/// PE's own roles, created at install (PE 2021.x adds Project Deployers).
pub const DEFAULT_ROLES: [&str; 5] = [
    "Administrators",
    "Operators",
    "Viewers",
    "Code Deployers",
    "Project Deployers",
];

/// Roles that are not PE's own and have a user or a group: "in use".
pub fn custom_roles_in_use(roles: &Value) -> Result<u64, String> {
    let a = roles
        .as_array()
        .ok_or("RBAC's answer to /v1/roles is not a list")?;
    Ok(a.iter()
        .filter(|r| {
            let name = r["display_name"].as_str().unwrap_or("");
            let used = |k: &str| r[k].as_array().is_some_and(|v| !v.is_empty());
            !DEFAULT_ROLES.contains(&name) && (used("user_ids") || used("group_ids"))
        })
        .count() as u64)
}

/// One orchestrator job, as the report needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub name: String,
    /// `deploy`, `task`, `plan_task`, `plan_upload`, `plan_script`,
    /// `plan_command`, `plan_wait` (the job's `type`, else its `command`).
    pub kind: String,
    pub node_count: u64,
    pub created: SystemTime,
    pub timestamp: String,
    pub description_len: u64,
    pub owner: Option<String>,
    /// `nodes`, `query`, `node_group`, `application`: the key of `scope`.
    pub selection: Option<String>,
    pub noop: Option<bool>,
    pub duration_secs: Option<f64>,
}

/// The jobs of one page of `GET /orchestrator/v1/jobs`, and the total.
pub fn read_jobs(page: &Value) -> Result<(Vec<Job>, Option<u64>), String> {
    let bad = || {
        "the orchestrator's answer to /jobs is not {items: [...]} with each job's name and timestamp".to_string()
    };
    let items = page["items"].as_array().ok_or_else(bad)?;
    let mut jobs = Vec::with_capacity(items.len());
    for j in items {
        let timestamp = j["timestamp"].as_str().ok_or_else(bad)?.to_string();
        let created = humantime::parse_rfc3339_weak(timestamp.trim_end_matches('Z'))
            .map_err(|e| format!("job timestamp {timestamp:?}: {e}"))?;
        let name = match &j["name"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(bad()),
        };
        let desc = j["description"]
            .as_str()
            .or_else(|| j["options"]["description"].as_str())
            .unwrap_or("");
        let scope = &j["options"]["scope"];
        let ts = |k: &str| {
            j[k].as_str()
                .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
        };
        let duration = j["duration"].as_f64().or_else(|| {
            let (s, f) = (ts("started_timestamp")?, ts("finished_timestamp")?);
            f.duration_since(s).ok().map(|d| d.as_secs_f64())
        });
        jobs.push(Job {
            name,
            kind: j["type"]
                .as_str()
                .or_else(|| j["command"].as_str())
                .unwrap_or("unknown")
                .to_string(),
            node_count: j["node_count"].as_u64().unwrap_or(0),
            created,
            timestamp,
            description_len: desc.chars().count() as u64,
            owner: j["owner"]["login"].as_str().map(str::to_string),
            selection: scope.as_object().and_then(|m| m.keys().next().cloned()),
            noop: j["options"]["noop"].as_bool(),
            duration_secs: duration,
        });
    }
    Ok((jobs, page["pagination"]["total"].as_u64()))
}

/// The orchestrator's figures over the jobs since its start: nodes used
/// (summed over jobs), mean, maximum and minimum nodes per job, and jobs.
pub fn job_figures(jobs: &[Job]) -> [Value; 5] {
    let n = jobs.len() as u64;
    let nodes: u64 = jobs.iter().map(|j| j.node_count).sum();
    let max = jobs.iter().map(|j| j.node_count).max();
    let min = jobs.iter().map(|j| j.node_count).min();
    let mean = (n > 0).then(|| ((nodes as f64 / n as f64) * 100.0).round() / 100.0);
    [json!(nodes), json!(mean), json!(max), json!(min), json!(n)]
}

/// The value of a per-job item over the jobs since the orchestrator's start
/// (`None`: not a per-job item this computes).
pub fn per_job(id: &str, jobs: &[Job]) -> Option<Value> {
    let list = |kind: &str| {
        Value::Array(
            jobs.iter()
                .filter(|j| j.kind == kind)
                .map(|j| json!({"job": j.name, "value": j.timestamp}))
                .collect(),
        )
    };
    let each = |f: &dyn Fn(&Job) -> Option<Value>| {
        Value::Array(
            jobs.iter()
                .filter_map(|j| f(j).map(|v| json!({"job": j.name, "value": v})))
                .collect(),
        )
    };
    Some(match id {
        "task_jobs" => list("task"),
        "deploy_jobs" => list("deploy"),
        "plan_task_jobs" => list("plan_task"),
        "plan_upload_jobs" => list("plan_upload"),
        "plan_script_jobs" => list("plan_script"),
        "plan_command_jobs" => list("plan_command"),
        "plan_wait_jobs" => list("plan_wait"),
        "job_node_selection" => each(&|j| Some(json!(j.selection))),
        "job_by_admin" => each(&|j| Some(json!(j.owner.as_deref() == Some("admin")))),
        "job_node_count" => each(&|j| Some(json!(j.node_count))),
        "job_description_length" => each(&|j| Some(json!(j.description_len))),
        "job_duration" => each(&|j| j.duration_secs.map(|d| json!(d))),
        "job_noop_override" => each(&|j| (j.kind == "deploy").then(|| json!(j.noop == Some(true)))),
        "task_job_time" => each(&|j| (j.kind == "task").then(|| json!(j.timestamp))),
        "deploy_job_time" => each(&|j| (j.kind == "deploy").then(|| json!(j.timestamp))),
        _ => return None,
    })
}

/// The orchestrator's (or any trapperkeeper service's) start, from its
/// status-service at level debug: `experimental.jvm-metrics.start-time-ms`.
pub fn start_time(status_service: &Value) -> Option<SystemTime> {
    let ms = status_service
        .pointer("/status/experimental/jvm-metrics/start-time-ms")?
        .as_u64()?;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

/// Puppet Server's JRuby and JVM figures from `/status/v1/services?level=debug`
/// (`pe-jruby-metrics` in PE, `jruby-metrics` in open-source Puppet Server),
/// by item id.
pub fn server_figures(services: &Value) -> Result<Vec<(&'static str, Value)>, String> {
    let jruby = ["pe-jruby-metrics", "jruby-metrics"]
        .iter()
        .find_map(|n| services.get(*n))
        .and_then(|s| s.pointer("/status/experimental/metrics"))
        .ok_or("Puppet Server's status has no JRuby metrics (pe-jruby-metrics or jruby-metrics at level debug)")?;
    let jvm = services
        .pointer("/status-service/status/experimental/jvm-metrics/heap-memory")
        .ok_or("Puppet Server's status has no JVM metrics (status-service at level debug)")?;
    let m = |k: &str| jruby.get(k).cloned().unwrap_or(Value::Null);
    Ok(vec![
        ("jruby_instances", m("num-jrubies")),
        ("jruby_average_free", m("average-free-jrubies")),
        ("jruby_average_lock_wait", m("average-lock-wait-time")),
        ("jruby_average_lock_held", m("average-lock-held-time")),
        ("jruby_average_borrow", m("average-borrow-time")),
        ("jruby_average_wait", m("average-wait-time")),
        ("jruby_timeouts", m("borrow-timeout-count")),
        (
            "jvm_heap_initial",
            jvm.get("init").cloned().unwrap_or(Value::Null),
        ),
        (
            "jvm_heap_max",
            jvm.get("max").cloned().unwrap_or(Value::Null),
        ),
    ])
}

/// The autosigning type from the CA's `autosign` setting (`puppet.conf`,
/// sections server, master, main; default `$confdir/autosign.conf`):
/// `true` signs everything, an executable is policy-based, a file is a
/// list of names or globs, a missing file or `false` signs nothing.
pub fn autosign_type(
    puppet_conf: &str,
    confdir: &std::path::Path,
    is_executable: impl Fn(&std::path::Path) -> Option<bool>,
) -> String {
    let mut section = String::from("main");
    let mut found: Vec<(String, String)> = Vec::new();
    for line in puppet_conf.lines() {
        let l = line.trim();
        if l.starts_with('#') || l.starts_with(';') || l.is_empty() {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.trim().to_string();
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            if k.trim() == "autosign" {
                found.push((section.clone(), v.trim().to_string()));
            }
        }
    }
    let value = ["server", "master", "main"]
        .iter()
        .find_map(|s| found.iter().rev().find(|(sec, _)| sec == s))
        .map(|(_, v)| v.clone());
    let (setting, path) = match value.as_deref() {
        Some("true") => return "naive: every request is signed (autosign = true)".into(),
        Some("false") => return "none (autosign = false)".into(),
        Some(p) => (
            format!("autosign = {p}"),
            std::path::PathBuf::from(p.replace("$confdir", &confdir.display().to_string())),
        ),
        None => {
            let p = confdir.join("autosign.conf");
            (format!("default autosign = {}", p.display()), p)
        }
    };
    match is_executable(&path) {
        Some(true) => format!("policy-based: executable {} ({setting})", path.display()),
        Some(false) => format!("basic: names and globs in {} ({setting})", path.display()),
        None => format!("none: {} does not exist ({setting})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn c(v: Option<&str>, n: u64) -> Count {
        Count {
            value: v.map(str::to_string),
            count: n,
        }
    }

    #[test]
    fn unknown_rows_make_the_counts_add_up() {
        let v = with_unknown(&[c(Some("7.28.0"), 30), c(Some("8.4.0"), 8)], 40);
        assert_eq!(
            v,
            json!([{"value": "7.28.0", "count": 30}, {"value": "8.4.0", "count": 8}, {"value": null, "count": 2}])
        );
        let v = with_unknown(&[c(Some("7.28.0"), 40)], 40);
        assert_eq!(v.as_array().unwrap().len(), 1);
        let os = os_with_unknown(
            &[
                OsCount {
                    name: Some("Debian".into()),
                    release: Some("12".into()),
                    count: 3,
                },
                OsCount {
                    name: None,
                    release: None,
                    count: 1,
                },
            ],
            5,
        );
        assert_eq!(os[1], json!({"name": null, "release": null, "count": 2}));
        assert_eq!(
            cloud_counts(2, 1, 9, 10),
            json!([{"value": "Microsoft Azure", "count": 2}, {"value": "Google Cloud Platform", "count": 1},
                   {"value": "neither", "count": 6}, {"value": null, "count": 1}])
        );
    }

    #[test]
    fn primary_facts() {
        let f: Map<String, Value> = serde_json::from_value(json!({
            "cloud": {"provider": "azure"}, "virtual": "hyperv", "networking": {"ip": "10.1.2.3"}
        }))
        .unwrap();
        assert!(on_azure(&f) && !on_aws(&f));
        assert_eq!(hypervisor(&f).as_deref(), Some("hyperv"));
        assert_eq!(own_ip(&f).as_deref(), Some("10.1.2.3"));
        let f: Map<String, Value> =
            serde_json::from_value(json!({"az_metadata": {"compute": {}}})).unwrap();
        assert!(on_azure(&f));
        assert_eq!(is_public("10.1.2.3"), Some(false));
        assert_eq!(is_public("100.64.0.1"), Some(false));
        assert_eq!(is_public("fd00::1"), Some(false));
        assert_eq!(is_public("203.0.113.9"), Some(true));
        assert_eq!(is_public("nope"), None);
    }

    #[test]
    fn classes_groups_roles() {
        let rows = [
            c(Some("Settings"), 5),
            c(Some("Ntp"), 4),
            c(Some("Pe_patch"), 2),
            c(Some("Puppet_enterprise::Profile::Agent"), 5),
        ];
        assert_eq!(module_classes(&rows), json!([{"value": "Ntp", "count": 4}]));
        assert_eq!(class_nodes(&rows, "pe_patch"), 2);
        let groups = json!([{"name": "All Nodes"}, {"name": REPLICA_GROUP, "rule": ["or", ["=", "name", "r1"], ["=", "name", "r2"]]}]);
        assert_eq!(group_count(&groups), Ok(2));
        assert_eq!(replicas(&groups), ["r1", "r2"]);
        assert!(group_count(&json!({})).is_err());
        let roles = json!([
            {"display_name": "Administrators", "user_ids": ["a"], "group_ids": []},
            {"display_name": "Auditors", "user_ids": ["b"], "group_ids": []},
            {"display_name": "Unused", "user_ids": [], "group_ids": []}
        ]);
        assert_eq!(custom_roles_in_use(&roles), Ok(1));
    }

    #[test]
    fn job_figures_and_details() {
        let page = json!({"items": [
            {"name": "2", "type": "task", "node_count": 3, "timestamp": "2024-05-01T10:00:00Z",
             "owner": {"login": "admin"}, "options": {"scope": {"query": "x"}, "description": "abc"}},
            {"name": "1", "command": "deploy", "node_count": 1, "timestamp": "2024-05-01T09:00:00.123Z",
             "owner": {"login": "ops"}, "options": {"scope": {"nodes": ["a"]}, "noop": true},
             "started_timestamp": "2024-05-01T09:00:00Z", "finished_timestamp": "2024-05-01T09:00:05Z"}
        ], "pagination": {"total": 2}});
        let (jobs, total) = read_jobs(&page).unwrap();
        assert_eq!(total, Some(2));
        assert_eq!(jobs[1].kind, "deploy");
        assert_eq!(jobs[1].duration_secs, Some(5.0));
        assert_eq!(
            job_figures(&jobs),
            [json!(4), json!(2.0), json!(3), json!(1), json!(2)]
        );
        assert_eq!(job_figures(&[])[1], Value::Null);
        assert_eq!(
            per_job("task_jobs", &jobs).unwrap(),
            json!([{"job": "2", "value": "2024-05-01T10:00:00Z"}])
        );
        assert_eq!(per_job("job_by_admin", &jobs).unwrap()[1]["value"], false);
        assert_eq!(
            per_job("job_node_selection", &jobs).unwrap()[0]["value"],
            "query"
        );
        assert_eq!(
            per_job("job_description_length", &jobs).unwrap()[0]["value"],
            3
        );
        assert_eq!(
            per_job("job_noop_override", &jobs).unwrap(),
            json!([{"job": "1", "value": true}])
        );
        assert!(per_job("cm_dry_run", &jobs).is_none());
        assert!(read_jobs(&json!({"items": [{"name": "1"}]})).is_err());
    }

    #[test]
    fn server_figures_and_start() {
        let s = json!({
            "jruby-metrics": {"status": {"experimental": {"metrics": {"num-jrubies": 2, "borrow-timeout-count": 0, "average-free-jrubies": 1.5}}}},
            "status-service": {"status": {"experimental": {"jvm-metrics": {"start-time-ms": 1000, "heap-memory": {"init": 268435456, "max": 805306368}}}}}
        });
        let f = server_figures(&s).unwrap();
        assert_eq!(f[0], ("jruby_instances", json!(2)));
        assert_eq!(f[7], ("jvm_heap_initial", json!(268435456)));
        assert!(server_figures(&json!({})).is_err());
        assert_eq!(
            start_time(&s["status-service"]),
            Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
        );
    }

    #[test]
    fn autosign_types() {
        let d = Path::new("/etc/puppetlabs/puppet");
        let none = |_: &Path| None;
        assert!(autosign_type("[server]\nautosign = true\n", d, none).starts_with("naive"));
        assert!(autosign_type("[main]\nautosign=false\n", d, none).starts_with("none"));
        let exe = |p: &Path| (p == Path::new("/usr/local/bin/check")).then_some(true);
        assert!(
            autosign_type("[master]\nautosign = /usr/local/bin/check\n", d, exe)
                .starts_with("policy-based")
        );
        let list = |_: &Path| Some(false);
        let t = autosign_type("[agent]\nautosign = true\n", d, list);
        assert!(
            t.starts_with("basic") && t.contains("/etc/puppetlabs/puppet/autosign.conf"),
            "{t}"
        );
        // [server] beats [main].
        assert!(autosign_type(
            "[main]\nautosign = false\n[server]\nautosign = true\n",
            d,
            none
        )
        .starts_with("naive"));
    }
}
