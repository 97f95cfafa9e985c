//! Status API (`/status/v1/...`) as trapperkeeper-status serves it.
//!
//! `GET /status/v1/services/<name>` returns the service's status object itself (with a
//! `service_name` field), not wrapped in `{name: ...}`; `/services` returns the map.

use serde_json::{json, Map, Value};

use super::server::{error, json_reply, not_found, Body, Listener, Reply, Req};
use super::state::Sim;

/// The JVM figures of trapperkeeper's status-service at level debug.
fn jvm_metrics(sim: &Sim) -> Value {
    let ms = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    };
    let now = std::time::SystemTime::now();
    json!({"jvm-metrics": {
        "start-time-ms": ms(sim.jvm_start),
        "up-time-ms": ms(now).saturating_sub(ms(sim.jvm_start)),
        "heap-memory": {"init": 268435456u64, "max": 805306368u64, "used": 201326592u64, "committed": 402653184u64},
        "non-heap-memory": {"init": 7667712u64, "max": -1, "used": 98566144u64, "committed": 104857600u64},
        "cpu-usage": 0.4, "gc-cpu-usage": 0.0
    }})
}

/// Puppet Server's JRuby pool figures (`pe-jruby-metrics` at level debug).
pub const JRUBY_METRICS: &[(&str, f64)] = &[
    ("num-jrubies", 3.0),
    ("num-free-jrubies", 2.0),
    ("average-free-jrubies", 1.75),
    ("average-requested-jrubies", 0.5),
    ("average-lock-wait-time", 0.0),
    ("average-lock-held-time", 12.0),
    ("average-borrow-time", 241.0),
    ("average-wait-time", 3.0),
    ("borrow-timeout-count", 0.0),
    ("borrow-count", 1200.0),
];

fn services(sim: &Sim, kind: Listener, level: &str) -> Map<String, Value> {
    let sv = sim.version.service_version();
    let names: &[&str] = match kind {
        Listener::Console => &[
            "activity-service",
            "classifier-service",
            "rbac-service",
            "status-service",
        ],
        Listener::Orchestrator => &["orchestrator-service", "broker-service", "status-service"],
        Listener::PuppetServer => &["pe-master", "pe-jruby-metrics", "status-service"],
    };
    let replication = if sim.args.ha_replica.is_empty() {
        json!({"mode": "none", "status": "none"})
    } else {
        json!({"mode": "source", "status": "running"})
    };
    let mut m = Map::new();
    for n in names {
        let status = match *n {
            "classifier-service" => {
                json!({"db_up": true, "db_pool": {"state": "ready"}, "rbac_up": true,
                "activity_up": true, "replication": replication})
            }
            "rbac-service" => {
                json!({"db_up": true, "db_pool": {"state": "ready"}, "activity_up": true,
                "replication": replication})
            }
            "activity-service" => json!({"db_up": true, "db_pool": {"state": "ready"},
                "replication": replication}),
            "status-service" if level == "debug" => json!({"experimental": jvm_metrics(sim)}),
            "status-service" => json!({}),
            "pe-jruby-metrics" => {
                let m: Map<String, Value> = JRUBY_METRICS
                    .iter()
                    .map(|(k, v)| {
                        let v = if v.fract() == 0.0 {
                            json!(*v as u64)
                        } else {
                            json!(v)
                        };
                        (k.to_string(), v)
                    })
                    .collect();
                if level == "debug" {
                    json!({"experimental": {"metrics": m,
                        "jruby-pool-lock-status": {"current-state": ":not-in-use"}}})
                } else {
                    json!({})
                }
            }
            _ => json!({"db_up": true}),
        };
        let version = if *n == "status-service" {
            "1.1.0".to_string()
        } else {
            sv.clone()
        };
        m.insert(
            n.to_string(),
            json!({
                "service_version": version,
                "service_status_version": 1,
                "detail_level": level,
                "state": "running",
                "status": if level == "critical" { Value::Null } else { status },
                "active_alerts": [],
                "service_name": n,
            }),
        );
    }
    m
}

pub fn handle(sim: &Sim, kind: Listener, r: &Req) -> Reply {
    let level = r.q("level").unwrap_or("info");
    if !matches!(level, "critical" | "info" | "debug") {
        return error(
            400,
            "invalid-level",
            format!("Invalid level: {level}"),
            json!({"level": level}),
        );
    }
    let seg = r.segments();
    if r.method != "GET" {
        return not_found(r);
    }
    let all = services(sim, kind, level);
    match seg.as_slice() {
        ["v1", "services"] => json_reply(200, Value::Object(all)),
        ["v1", "services", name] => match all.get(*name) {
            Some(s) => json_reply(200, s.clone()),
            None => error(
                404,
                "service-not-found",
                format!("No status information found for service {name}"),
                json!({"service_name": name}),
            ),
        },
        ["v1", "simple"] => Reply {
            status: 200,
            body: Body::Text("running".into()),
            headers: vec![],
        },
        ["v1", "simple", name] if all.contains_key(*name) => Reply {
            status: 200,
            body: Body::Text("running".into()),
            headers: vec![],
        },
        ["v1", "simple", _] => Reply {
            status: 404,
            body: Body::Text("not found".into()),
            headers: vec![],
        },
        _ => not_found(r),
    }
}
