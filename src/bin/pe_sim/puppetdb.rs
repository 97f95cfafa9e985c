//! A PuppetDB-shaped query API (`/pdb/query/v4/{nodes,facts,inventory,resources}`) over
//! seeded synthetic nodes, for the sandbox and the tests of `pe-analytics
//! report`. Written from PuppetDB's query API v4 documentation, independently
//! of the client.
//!
//! Supported AST subset: `["extract", FIELDS, FILTER?, ["group_by", F...]?]`
//! or a bare FILTER; FIELDS may hold `["function","count"]`; FILTER is
//! `=`, `~` (only the match-anything pattern `.*`), `>`, `<`, `>=`, `<=`,
//! `and`, `or`, `not`, `null?`. `resources` holds each node's catalog
//! classes (type `Class`). Deactivated nodes are left out, as PuppetDB does by default.
//! Anything else is a 400 with a PuppetDB-like message.

use serde_json::{json, Map, Value};

use super::server::{error, json_reply, not_found, Body, Reply, Req};
use super::state::{Inner, Sim};

struct Node {
    certname: String,
    deactivated: bool,
    facts: Map<String, Value>,
    /// The classes of its last catalog (PuppetDB's capitalized titles).
    classes: Vec<String>,
}

/// (os name, family, release, puppet version) for the synthetic agents, in turn.
const MIX: &[(&str, &str, &str, &str)] = &[
    ("RedHat", "RedHat", "8.9", "7.28.0"),
    ("Ubuntu", "Debian", "22.04", "7.28.0"),
    ("RedHat", "RedHat", "9.3", "8.4.0"),
    ("windows", "windows", "2019", "7.27.0"),
    ("Debian", "Debian", "12.5", "8.4.0"),
];

/// Where agent `i` runs, in turn: Azure as Facter 4 says it (`cloud.provider`),
/// Google Cloud as Facter 3 says it (a `gce` fact only), a physical machine,
/// then KVM and VMware guests.
fn placement(i: usize, f: &mut Map<String, Value>) {
    match i % 6 {
        1 => {
            f.insert("virtual".into(), json!("hyperv"));
            f.insert("cloud".into(), json!({"provider": "azure"}));
            f.insert(
                "az_metadata".into(),
                json!({"compute": {"location": "westeurope"}}),
            );
        }
        2 => {
            f.insert("virtual".into(), json!("gce"));
            f.insert(
                "gce".into(),
                json!({"instance": {"zone": "europe-west1-b"}}),
            );
        }
        3 => {
            f.insert("virtual".into(), json!("physical"));
        }
        4 => {
            f.insert("virtual".into(), json!("kvm"));
        }
        _ => {
            f.insert("virtual".into(), json!("vmware"));
        }
    }
}

fn nodes(sim: &Sim) -> Vec<Node> {
    let n = sim.args.puppetdb_nodes;
    let old = !sim.version.at_least(2019, 0, 0);
    let mk = |certname: String, i: usize, os: (&str, &str, &str, &str)| {
        let (name, family, release, pv) = os;
        let major = release.split('.').next().unwrap_or(release);
        let mut f = Map::new();
        f.insert(
            "os".into(),
            json!({"name": name, "family": family, "release": {"full": release, "major": major}}),
        );
        f.insert(
            "networking".into(),
            json!({"ip": format!("10.0.{}.{}", i / 250, i % 250 + 2), "fqdn": certname}),
        );
        f.insert("puppetversion".into(), json!(pv));
        f.insert("aio_agent_version".into(), json!(pv));
        f.insert(
            "kernel".into(),
            json!(if name == "windows" {
                "windows"
            } else {
                "Linux"
            }),
        );
        placement(i, &mut f);
        let mut classes = vec![
            "Settings".to_string(),
            "Puppet_enterprise::Profile::Agent".to_string(),
        ];
        if old {
            classes.push("Puppet_enterprise::Profile::Mcollective::Agent".into());
        }
        if i.is_multiple_of(2) {
            classes.push("Ntp".into());
        }
        if i.is_multiple_of(3) {
            classes.push("Apache".into());
            classes.push("Apache::Mod::Ssl".into());
        }
        if i.is_multiple_of(4) {
            classes.push("Pe_patch".into());
            f.insert(
                "pe_patch".into(),
                json!({"package_update_count": i % 3, "security_package_update_count": 0, "blocked": false}),
            );
        }
        (f, classes)
    };
    let (mut pf, mut pc) = mk(
        sim.primary().to_string(),
        0,
        ("RedHat", "RedHat", "8.9", "7.28.0"),
    );
    pf.insert("virtual".into(), json!("kvm"));
    pc.push("Puppet_enterprise::Profile::Master".into());
    if let Some(Value::Object(extra)) = sim
        .args
        .primary_facts
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
    {
        for (k, v) in extra {
            pf.insert(k, v);
        }
    }
    let mut v = vec![Node {
        certname: sim.primary().to_string(),
        deactivated: false,
        facts: pf,
        classes: pc,
    }];
    for i in 1..n {
        let certname = format!("agent{i:05}.example.test");
        let (mut facts, classes) = mk(certname.clone(), i, MIX[i % MIX.len()]);
        if i % 9 == 7 {
            // A node whose Facter did not report: no os, versions or virtual.
            facts.retain(|k, _| k == "kernel" || k == "networking");
        }
        v.push(Node {
            facts,
            classes,
            certname,
            deactivated: false,
        });
    }
    // One deactivated node, which no answer may count.
    let (facts, classes) = mk(
        "retired.example.test".into(),
        n + 1,
        ("SLES", "Suse", "12.5", "5.5.0"),
    );
    v.push(Node {
        certname: "retired.example.test".into(),
        deactivated: true,
        facts,
        classes,
    });
    v
}

fn bad(msg: impl Into<String>) -> Reply {
    Reply {
        status: 400,
        body: Body::Text(msg.into()),
        headers: vec![],
    }
}

/// A node's record: for nodes that ran Puppet in the simulation (the
/// infrastructure nodes), the latest catalog and report as PuppetDB keeps
/// them (`catalog_timestamp`, `report_timestamp`, `latest_report_status`, ...).
fn node_record(certname: &str, inner: &Inner) -> Value {
    let mut r = json!({"certname": certname, "deactivated": null, "expired": null});
    if let Some(a) = inner.applied.get(certname) {
        r["catalog_timestamp"] = json!(a.run_time);
    }
    if let Some(rep) = inner.reports.get(certname) {
        r["report_timestamp"] = json!(rep.time);
        r["latest_report_status"] = json!(rep.status);
        r["latest_report_noop"] = json!(rep.noop);
        r["cached_catalog_status"] = json!("not_used");
    }
    r
}

/// The resources of the latest catalogs: the classes that carry
/// `send_analytics_data` and the opt-out marker file, per node that ran.
fn resources(inner: &Inner) -> Vec<Value> {
    let mut out = Vec::new();
    for (node, a) in &inner.applied {
        out.push(
            json!({"certname": node, "type": "Class", "title": "Puppet_enterprise",
            "exported": false, "tags": ["class", "puppet_enterprise"],
            "parameters": {"send_analytics_data": a.send_analytics_data}}),
        );
        for (class, v) in &a.profiles {
            out.push(
                json!({"certname": node, "type": "Class", "title": title_case(class),
                "exported": false, "parameters": {"send_analytics_data": v}}),
            );
        }
        out.push(json!({"certname": node, "type": "File",
            "title": "/etc/puppetlabs/analytics-opt-out", "exported": false,
            "parameters": {"ensure": if a.analytics_opt_out_file { "file" } else { "absent" }}}));
    }
    out
}

/// A class's resource title, as Puppet writes it (`a::b` -> `A::B`).
pub(super) fn title_case(class: &str) -> String {
    class
        .split("::")
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("::")
}

/// The rows an endpoint holds (active nodes only).
fn rows(sim: &Sim, entity: &str) -> Option<Vec<Value>> {
    let ns = nodes(sim);
    let inner = sim.inner.lock().expect("lock");
    let active = ns.iter().filter(|n| !n.deactivated);
    Some(match entity {
        "nodes" => {
            let mut v: Vec<Value> = active.map(|n| node_record(&n.certname, &inner)).collect();
            // Infrastructure nodes that ran but have no synthetic facts (the
            // console node of a split install).
            for n in inner.reports.keys() {
                if !v.iter().any(|r| r["certname"] == *n) {
                    v.push(node_record(n, &inner));
                }
            }
            v
        }
        "facts" => active
            .flat_map(|n| {
                n.facts.iter().map(move |(k, v)| {
                    json!({"certname": n.certname, "name": k, "value": v, "environment": "production"})
                })
            })
            .collect(),
        "inventory" => active
            .map(|n| json!({"certname": n.certname, "environment": "production", "facts": n.facts}))
            .collect(),
        "resources" => {
            let mut v: Vec<Value> = active
                .flat_map(|n| {
                    n.classes.iter().map(move |c| {
                        json!({"certname": n.certname, "type": "Class", "title": c, "exported": false,
                               "tags": ["class"], "parameters": {}, "environment": "production"})
                    })
                })
                .collect();
            // What the simulated runs applied: the analytics classes' parameter
            // and the marker file, on the nodes that ran.
            for r in resources(&inner) {
                let same = |x: &Value| {
                    x["certname"] == r["certname"] && x["type"] == r["type"] && x["title"] == r["title"]
                };
                match v.iter_mut().find(|x| same(x)) {
                    Some(x) => x["parameters"] = r["parameters"].clone(),
                    None => v.push(r),
                }
            }
            v
        }
        _ => return None,
    })
}

/// A field of a row: `certname`, `value`, or a dotted path `facts.os.name`.
fn field<'a>(row: &'a Value, name: &str) -> Option<&'a Value> {
    let mut cur = row;
    for part in name.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn matches(row: &Value, q: &Value) -> Result<bool, String> {
    let a = q.as_array().ok_or_else(|| format!("not a query: {q}"))?;
    let op = a.first().and_then(Value::as_str).unwrap_or("");
    match (op, a.len()) {
        ("=", 3) => {
            let f = a[1].as_str().ok_or("the field of = must be a string")?;
            Ok(field(row, f) == Some(&a[2]))
        }
        ("~", 3) if a[2] == json!(".*") => Ok(true),
        (op @ (">" | "<" | ">=" | "<="), 3) => {
            let f = a[1]
                .as_str()
                .ok_or("the field of a comparison must be a string")?;
            let (Some(x), Some(y)) = (field(row, f).and_then(Value::as_f64), a[2].as_f64()) else {
                return Ok(false);
            };
            Ok(match op {
                ">" => x > y,
                "<" => x < y,
                ">=" => x >= y,
                _ => x <= y,
            })
        }
        ("in", 3) => {
            let f = a[1].as_str().ok_or("the field of in must be a string")?;
            let list = a[2]
                .as_array()
                .filter(|x| x.first() == Some(&json!("array")) && x.len() == 2)
                .and_then(|x| x[1].as_array())
                .ok_or("pe-sim's PuppetDB supports in with [\"array\", [...]] only")?;
            Ok(field(row, f).is_some_and(|v| list.contains(v)))
        }
        ("null?", 3) => {
            let f = a[1].as_str().ok_or("the field of null? must be a string")?;
            let is_null = field(row, f).is_none_or(Value::is_null);
            Ok(is_null == (a[2] == json!(true)))
        }
        ("and", _) => {
            for c in &a[1..] {
                if !matches(row, c)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        ("or", _) => {
            for c in &a[1..] {
                if matches(row, c)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        ("not", 2) => Ok(!matches(row, &a[1])?),
        _ => Err(format!(
            "pe-sim's PuppetDB does not support the operator in {q}"
        )),
    }
}

fn eval(all: Vec<Value>, query: &Value) -> Result<Value, String> {
    let a = query.as_array().ok_or("the query must be a JSON array")?;
    if a.first() != Some(&json!("extract")) {
        let kept: Result<Vec<Value>, String> = all
            .into_iter()
            .filter_map(|r| match matches(&r, query) {
                Ok(true) => Some(Ok(r)),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            })
            .collect();
        return kept.map(Value::Array);
    }
    let fields = a
        .get(1)
        .and_then(Value::as_array)
        .ok_or("extract needs a field list")?;
    let mut filter = None;
    let mut group: Vec<String> = Vec::new();
    for extra in &a[2..] {
        let e = extra.as_array().ok_or("bad extract clause")?;
        if e.first() == Some(&json!("group_by")) {
            group = e[1..]
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
        } else {
            filter = Some(extra);
        }
    }
    let mut kept = Vec::new();
    for r in all {
        if filter.map(|f| matches(&r, f)).transpose()?.unwrap_or(true) {
            kept.push(r);
        }
    }
    let count = fields.iter().any(|f| *f == json!(["function", "count"]));
    let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
    if !count {
        if !group.is_empty() {
            return Err("group_by needs an aggregate function".into());
        }
        return Ok(Value::Array(
            kept.iter()
                .map(|r| {
                    let mut m = Map::new();
                    for n in &names {
                        m.insert(n.to_string(), field(r, n).cloned().unwrap_or(Value::Null));
                    }
                    Value::Object(m)
                })
                .collect(),
        ));
    }
    if names.iter().any(|n| !group.iter().any(|g| g == n)) {
        return Err("every extracted field must be in group_by when counting".into());
    }
    let mut groups: Vec<(Vec<Value>, u64)> = Vec::new();
    for r in &kept {
        let key: Vec<Value> = group
            .iter()
            .map(|g| field(r, g).cloned().unwrap_or(Value::Null))
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => *c += 1,
            None => groups.push((key, 1)),
        }
    }
    if group.is_empty() {
        return Ok(json!([{"count": kept.len()}]));
    }
    Ok(Value::Array(
        groups
            .into_iter()
            .map(|(key, c)| {
                let mut m = Map::new();
                for (g, v) in group.iter().zip(key) {
                    m.insert(g.clone(), v);
                }
                m.insert("count".into(), json!(c));
                Value::Object(m)
            })
            .collect(),
    ))
}

pub fn handle(sim: &Sim, r: &Req) -> Reply {
    if let Some(code) = sim.args.puppetdb_status {
        return error(
            code,
            "puppetlabs.pe-sim/puppetdb-error",
            format!("pe-sim's PuppetDB answers {code} (--puppetdb-status)"),
            Value::Null,
        );
    }
    if r.method != "GET" {
        return not_found(r);
    }
    let entity = r.path.trim_start_matches('/');
    let Some(all) = rows(sim, entity) else {
        return not_found(r);
    };
    if sim.args.puppetdb_malformed {
        return json_reply(200, json!({"unexpected": "shape"}));
    }
    let query: Value = match r.q("query") {
        None | Some("") => return json_reply(200, Value::Array(all)),
        Some(q) => match serde_json::from_str(q) {
            Ok(v) => v,
            Err(e) => return bad(format!("Malformed JSON for query: {e}")),
        },
    };
    match eval(all, &query) {
        Ok(v) => json_reply(200, v),
        Err(e) => bad(e),
    }
}
