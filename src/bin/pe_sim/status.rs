//! Status API (`/status/v1/...`) as trapperkeeper-status serves it.
//!
//! `GET /status/v1/services/<name>` returns the service's status object itself (with a
//! `service_name` field), not wrapped in `{name: ...}`; `/services` returns the map.

use serde_json::{json, Map, Value};

use super::server::{error, json_reply, not_found, Body, Listener, Reply, Req};
use super::state::Sim;

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
    };
    let mut m = Map::new();
    for n in names {
        let status = match *n {
            "classifier-service" => {
                json!({"db_up": true, "db_pool": {"state": "ready"}, "rbac_up": true,
                "activity_up": true, "replication": {"mode": "none", "status": "none"}})
            }
            "rbac-service" => {
                json!({"db_up": true, "db_pool": {"state": "ready"}, "activity_up": true,
                "replication": {"mode": "none", "status": "none"}})
            }
            "activity-service" => json!({"db_up": true, "db_pool": {"state": "ready"},
                "replication": {"mode": "none", "status": "none"}}),
            "status-service" => json!({}),
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
