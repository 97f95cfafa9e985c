//! Node classifier API v1 (`/classifier-api/v1/...`).

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde_json::{json, Map, Value};

use super::seed::{self, ALL_NODES_ID};
use super::server::{empty, error, json_reply, not_found, Reply, Req};
use super::state::{merge2, Group, Inner, Sim};

pub fn handle(sim: &Sim, r: &Req) -> Reply {
    let seg = r.segments();
    match (r.method.as_str(), seg.as_slice()) {
        ("GET", ["v1", "groups"]) => list_groups(sim, r),
        ("GET", ["v1", "groups", id]) => get_group(sim, r, id),
        ("POST", ["v1", "groups", id]) => update_group(sim, r, id),
        ("POST", ["v1", "update-classes"]) => update_classes(sim, r),
        ("GET", ["v1", "environments"]) => {
            let inner = sim.inner.lock().expect("lock");
            let envs: Vec<Value> = inner
                .class_cache
                .keys()
                .map(|e| json!({"name": e, "sync_succeeded": true}))
                .collect();
            json_reply(200, Value::Array(envs))
        }
        ("GET", ["v1", "classes"]) => {
            let inner = sim.inner.lock().expect("lock");
            let mut out = Vec::new();
            for env in inner.class_cache.keys() {
                out.extend(classes_in(&inner, env));
            }
            json_reply(200, Value::Array(out))
        }
        ("GET", ["v1", "environments", env, "classes"]) => {
            let inner = sim.inner.lock().expect("lock");
            json_reply(200, Value::Array(classes_in(&inner, env)))
        }
        ("GET", ["v1", "environments", env, "classes", name]) => {
            let inner = sim.inner.lock().expect("lock");
            match inner.class_cache.get(*env).and_then(|c| c.get(*name)) {
                Some(p) => json_reply(
                    200,
                    json!({"name": name, "environment": env, "parameters": p}),
                ),
                None => empty(404),
            }
        }
        ("GET" | "POST", ["v1", "classified", "nodes", name]) => classify(sim, r, name),
        ("GET", ["v1", "nodes", name]) => {
            let inner = sim.inner.lock().expect("lock");
            match inner.check_ins.get(*name) {
                Some(c) => json_reply(200, json!({"name": name, "check_ins": c})),
                None => not_found(r),
            }
        }
        (_, ["v1", "groups"]) | (_, ["v1", "groups", _]) => error(
            405,
            "method-not-allowed",
            format!("pe-sim does not implement {} {}", r.method, r.full_path),
            Value::Null,
        ),
        _ => not_found(r),
    }
}

fn classes_in(inner: &Inner, env: &str) -> Vec<Value> {
    inner
        .class_cache
        .get(env)
        .map(|c| {
            c.iter()
                .map(|(n, p)| json!({"name": n, "environment": env, "parameters": p}))
                .collect()
        })
        .unwrap_or_default()
}

fn valid_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn truthy_param(v: Option<&str>) -> bool {
    matches!(v, Some(x) if x != "0" && x != "false")
}

fn list_groups(sim: &Sim, r: &Req) -> Reply {
    let inner = sim.inner.lock().expect("lock");
    let inherited = truthy_param(r.q("inherited"));
    let groups: Vec<Value> = inner
        .groups
        .iter()
        .map(|g| {
            if inherited {
                json!(inner.inherited(&g.id).unwrap_or_else(|| g.clone()))
            } else {
                json!(g)
            }
        })
        .collect();
    json_reply(200, Value::Array(groups))
}

fn get_group(sim: &Sim, r: &Req, id: &str) -> Reply {
    if !valid_uuid(id) {
        return error(
            400,
            "malformed-uuid",
            format!("The string {id} is not a valid UUID."),
            json!(id),
        );
    }
    let inner = sim.inner.lock().expect("lock");
    let g = if truthy_param(r.q("inherited")) {
        inner.inherited(id)
    } else {
        inner.group(id).cloned()
    };
    match g {
        Some(g) => json_reply(200, json!(g)),
        None => not_found(r),
    }
}

fn schema_violation(body: &Value, error_text: String) -> Reply {
    error(
        400,
        "schema-violation",
        format!("The object you submitted does not conform to the schema: {error_text}"),
        json!({"submitted": body, "schema": "group delta (pe-sim)", "error": error_text}),
    )
}

/// Validation errors of a group's classes against the NC class cache of its environment.
fn referent_errors(inner: &Inner, g: &Group) -> Vec<Value> {
    let mut out = Vec::new();
    let cache = inner.class_cache.get(&g.environment);
    for (class, params) in &g.classes {
        match cache.and_then(|c| c.get(class)) {
            None => out.push(json!({
                "kind": "missing-class", "missing": class,
                "environment": g.environment, "group": g.name, "defined_by": g.name,
            })),
            Some(known) => {
                if let Some(p) = params.as_object() {
                    for k in p.keys() {
                        if known.get(k).is_none() {
                            out.push(json!({
                                "kind": "missing-parameter", "missing": k,
                                "environment": g.environment, "group": g.name, "defined_by": g.name,
                            }));
                        }
                    }
                }
            }
        }
    }
    out
}

fn missing_referents(group: &str, details: Vec<Value>) -> Reply {
    let first = details
        .first()
        .and_then(|d| d.get("missing"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let what = if details
        .first()
        .and_then(|d| d.get("kind"))
        .and_then(Value::as_str)
        == Some("missing-class")
    {
        "a class"
    } else {
        "a parameter"
    };
    error(
        422,
        "missing-referents",
        format!(
            "The group {group} refers to {what} that does not exist in the classifier's class cache ({first}); \
             if it exists in code, refresh the cache with POST /v1/update-classes."
        ),
        Value::Array(details),
    )
}

fn update_group(sim: &Sim, r: &Req, id: &str) -> Reply {
    if !valid_uuid(id) {
        return error(
            400,
            "malformed-uuid",
            format!("The string {id} is not a valid UUID."),
            json!(id),
        );
    }
    let body = match r.json() {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(delta) = body.as_object() else {
        return schema_violation(&body, "the delta must be a JSON object".into());
    };
    let v = sim.version;
    for (k, val) in delta {
        let allowed = match k.as_str() {
            "id" | "name" | "parent" | "environment" | "environment_trumps" | "description"
            | "rule" | "classes" | "variables" => true,
            "config_data" => v.has_config_data(),
            "serial_number" | "last_edited" => v.has_serial(),
            _ => false,
        };
        if !allowed {
            return schema_violation(&body, format!("{{{k} disallowed-key}}"));
        }
        let type_ok = match k.as_str() {
            "id" | "name" | "parent" | "environment" => val.is_string(),
            "description" => val.is_string() || val.is_null(),
            "environment_trumps" => val.is_boolean(),
            "rule" => val.is_array() || val.is_null(),
            "classes" | "config_data" => val
                .as_object()
                .is_some_and(|m| m.values().all(|c| c.is_object() || c.is_null())),
            "variables" => val.is_object(),
            "serial_number" => val.is_u64(),
            _ => true,
        };
        if !type_ok {
            return schema_violation(&body, format!("{{{k} has the wrong type}}"));
        }
    }

    let mut inner = sim.inner.lock().expect("lock");
    let Some(idx) = inner.groups.iter().position(|g| g.id == id) else {
        return not_found(r);
    };
    if let Some(sub) = delta.get("id").and_then(Value::as_str) {
        if sub != id {
            return error(
                400,
                "conflicting-ids",
                format!(
                    "The id in the request body ({sub}) does not match the id in the URL ({id})."
                ),
                json!({"submitted": sub, "fromUrl": id}),
            );
        }
    }
    let now = SystemTime::now();
    if v.has_serial() && inner.stale_serial_pending {
        // Someone else commits a change to this group just before our write.
        inner.stale_serial_pending = false;
        let g = &mut inner.groups[idx];
        g.serial_number = Some(g.serial_number.unwrap_or(0) + 1);
        g.last_edited = Some(seed::timestamp(now));
    }
    if v.has_serial() && inner.faults.preempt_write {
        // Another user commits this very delta first.
        inner.faults.preempt_write = false;
        let g = &mut inner.groups[idx];
        if let Some(c) = delta.get("classes").and_then(Value::as_object) {
            merge2(&mut g.classes, c);
        }
        g.serial_number = Some(g.serial_number.unwrap_or(0) + 1);
        g.last_edited = Some(seed::timestamp(now));
    }
    let current = inner.groups[idx].clone();
    if let (Some(sent), Some(cur)) = (
        delta.get("serial_number").and_then(Value::as_u64),
        current.serial_number,
    ) {
        if sent != cur {
            return error(
                409,
                "conflict",
                format!(
                    "The serial number in the request ({sent}) does not match the current serial number of group {} ({cur}); \
                     the group was changed by someone else. Re-read the group and retry.",
                    current.name
                ),
                json!({"submitted": sent, "current": cur, "group": current.id, "last_edited": current.last_edited}),
            );
        }
    }

    // Apply the delta.
    let mut g = current.clone();
    for (k, val) in delta {
        match k.as_str() {
            "name" => g.name = val.as_str().unwrap_or_default().to_string(),
            "parent" => g.parent = val.as_str().unwrap_or_default().to_string(),
            "environment" => g.environment = val.as_str().unwrap_or_default().to_string(),
            "environment_trumps" => g.environment_trumps = val.as_bool().unwrap_or(false),
            "description" => g.description = val.as_str().map(str::to_string),
            "rule" => {
                if id == ALL_NODES_ID {
                    return error(
                        422,
                        "uneditable-root-rule",
                        "The rule of the All Nodes group cannot be edited.",
                        json!({"submitted": val}),
                    );
                }
                g.rule = if val.is_null() {
                    None
                } else {
                    Some(val.clone())
                };
            }
            "classes" => merge2(&mut g.classes, val.as_object().expect("checked")),
            "config_data" => {
                let cd = g.config_data.get_or_insert_with(Map::new);
                merge2(cd, val.as_object().expect("checked"));
            }
            "variables" => {
                for (vk, vv) in val.as_object().expect("checked") {
                    if vv.is_null() {
                        g.variables.remove(vk);
                    } else {
                        g.variables.insert(vk.clone(), vv.clone());
                    }
                }
            }
            _ => {}
        }
    }
    if id != ALL_NODES_ID {
        if inner.group(&g.parent).is_none() {
            return error(
                422,
                "missing-parent",
                format!("The parent group {} does not exist.", g.parent),
                json!({"group": g.name, "parent": g.parent}),
            );
        }
        // Cycle check: walk up from the new parent.
        let mut cur = g.parent.clone();
        let mut seen = BTreeSet::new();
        while cur != ALL_NODES_ID && seen.insert(cur.clone()) {
            if cur == id {
                return error(
                    422,
                    "inheritance-cycle",
                    format!(
                        "Setting the parent of {} would create an inheritance cycle.",
                        g.name
                    ),
                    json!([g.name]),
                );
            }
            cur = inner
                .group(&cur)
                .map(|p| p.parent.clone())
                .unwrap_or_default();
        }
    } else {
        g.parent = ALL_NODES_ID.to_string();
    }
    if let Some(other) = inner
        .groups
        .iter()
        .find(|o| o.id != id && o.name == g.name && o.environment == g.environment)
    {
        return error(
            422,
            "uniqueness-violation",
            format!(
                "A group named {} already exists in environment {}.",
                g.name, g.environment
            ),
            json!({"conflict": {"name": g.name, "environment": g.environment, "id": other.id},
                   "constraintName": "groups_name_environment_key"}),
        );
    }

    let old_errors = referent_errors(&inner, &current);
    let new_errors: Vec<Value> = referent_errors(&inner, &g)
        .into_iter()
        .filter(|e| !old_errors.contains(e))
        .collect();
    if inner.force_422_pending {
        let details = if new_errors.is_empty() {
            // The stale cache rejects whatever class parameter the delta touches.
            let (class, param) = delta
                .get("classes")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().next())
                .map(|(c, p)| {
                    let param = p
                        .as_object()
                        .and_then(|m| m.keys().next().cloned())
                        .unwrap_or_else(|| "send_analytics_data".into());
                    (c.clone(), param)
                })
                .unwrap_or_else(|| ("puppet_enterprise".into(), "send_analytics_data".into()));
            let _ = class;
            vec![json!({
                "kind": "missing-parameter", "missing": param,
                "environment": g.environment, "group": g.name, "defined_by": g.name,
            })]
        } else {
            new_errors
        };
        return missing_referents(&g.name, details);
    }
    if !new_errors.is_empty() {
        return missing_referents(&g.name, new_errors);
    }

    if v.has_serial() {
        g.serial_number = Some(current.serial_number.unwrap_or(0) + 1);
        g.last_edited = Some(seed::timestamp(now));
    }
    inner.groups[idx] = g.clone();
    // A fault after the write took effect: the client must re-read to know.
    if let Some(kind) = inner.faults.group_write.clone() {
        let left = inner.faults.group_write_count.unwrap_or(1);
        if left <= 1 {
            inner.faults.group_write = None;
            inner.faults.group_write_count = None;
        } else {
            inner.faults.group_write_count = Some(left - 1);
        }
        return match kind.as_str() {
            "500" => error(
                500,
                "application-error",
                "pe-sim fault: the write was applied, then this error was answered",
                Value::Null,
            ),
            "not-json" => Reply {
                status: 200,
                body: super::server::Body::Text("<html>proxy says OK</html>".into()),
                headers: vec![],
            },
            _ => Reply {
                status: super::server::DROP_STATUS,
                body: super::server::Body::Empty,
                headers: vec![],
            },
        };
    }
    json_reply(200, json!(g))
}

fn update_classes(sim: &Sim, r: &Req) -> Reply {
    let mut inner = sim.inner.lock().expect("lock");
    let code = inner.code_classes.clone();
    match r.q("environment") {
        Some(env) if !env.is_empty() => {
            inner.class_cache.insert(env.to_string(), code);
        }
        _ => {
            for c in inner.class_cache.values_mut() {
                *c = code.clone();
            }
        }
    }
    inner.force_422_pending = false;
    empty(201)
}

fn classify(sim: &Sim, r: &Req, node: &str) -> Reply {
    let body = if r.method == "POST" {
        match r.json() {
            Ok(b) => b,
            Err(e) => return e,
        }
    } else {
        json!({})
    };
    let facts = body.get("fact").cloned().unwrap_or_else(|| json!({}));
    let trusted = body.get("trusted").cloned().unwrap_or_else(|| json!({}));
    let inner = sim.inner.lock().expect("lock");
    match inner.classify(node, &facts, &trusted) {
        Ok(v) => json_reply(200, v),
        Err(e) => json_reply(500, e),
    }
}
