//! The PuppetDB queries the report makes (PuppetDB query API v4, AST
//! syntax), and the pure functions that read their answers.
//!
//! Every count is an aggregate computed by PuppetDB (`extract` with
//! `["function","count"]` and `group_by`), so the report costs the same
//! handful of requests for 10 nodes or 100,000: it never pulls every node.
//! PuppetDB leaves deactivated and expired nodes out of these endpoints by
//! default, which is the "active nodes" PE counts.

use serde::Serialize;
use serde_json::{json, Value};

/// One query: the endpoint below `/pdb/query/v4` and its AST.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `nodes`, `facts`, `inventory`, ...
    pub endpoint: &'static str,
    pub ast: Value,
}

impl Query {
    /// The path and query string, e.g. `/pdb/query/v4/nodes?query=...`
    /// (the caller URL-encodes the AST).
    pub fn path(&self) -> String {
        format!("/pdb/query/v4/{}", self.endpoint)
    }
}

/// Number of active nodes: `/nodes`, one count.
pub fn active_nodes() -> Query {
    Query {
        endpoint: "nodes",
        ast: json!(["extract", [["function", "count"]]]),
    }
}

/// Nodes by operating system name and release: `/inventory`, grouped by
/// `facts.os.name` and `facts.os.release.full`.
pub fn os_counts() -> Query {
    Query {
        endpoint: "inventory",
        ast: json!([
            "extract",
            [
                "facts.os.name",
                "facts.os.release.full",
                ["function", "count"]
            ],
            ["group_by", "facts.os.name", "facts.os.release.full"]
        ]),
    }
}

/// Nodes by the value of a top-level fact (e.g. `puppetversion`): `/facts`.
pub fn fact_value_counts(fact: &str) -> Query {
    Query {
        endpoint: "facts",
        ast: json!([
            "extract",
            [["function", "count"], "value"],
            ["=", "name", fact],
            ["group_by", "value"]
        ]),
    }
}

/// The facts of one node that the report shows (the primary's OS and
/// address): `/facts`.
pub fn node_facts(certname: &str, facts: &[&str]) -> Query {
    let mut names = vec![json!("or")];
    names.extend(facts.iter().map(|f| json!(["=", "name", f])));
    Query {
        endpoint: "facts",
        ast: json!([
            "extract",
            ["name", "value"],
            ["and", ["=", "certname", certname], names]
        ]),
    }
}

/// Number of active nodes matching an inventory filter: `/inventory`, one
/// count (`facts.<path>` fields, as PuppetDB's inventory takes them).
pub fn inventory_count(filter: Value) -> Query {
    Query {
        endpoint: "inventory",
        ast: json!(["extract", [["function", "count"]], filter]),
    }
}

/// Nodes on Microsoft Azure: Facter 4's `cloud.provider`, or Facter 3's
/// `az_metadata` fact.
pub fn on_azure() -> Query {
    inventory_count(json!([
        "or",
        ["=", "facts.cloud.provider", "azure"],
        ["null?", "facts.az_metadata", false]
    ]))
}

/// Nodes on Google Cloud: `cloud.provider` `gce`, or the `gce` fact.
pub fn on_gcp() -> Query {
    inventory_count(json!([
        "or",
        ["=", "facts.cloud.provider", "gce"],
        ["null?", "facts.gce", false]
    ]))
}

/// Nodes that have a fact at all (e.g. `virtual`, which Facter always
/// reports): `/facts`, one count.
pub fn nodes_with_fact(fact: &str) -> Query {
    Query {
        endpoint: "facts",
        ast: json!(["extract", [["function", "count"]], ["=", "name", fact]]),
    }
}

/// Classes by the number of nodes whose catalog has them: `/resources`
/// (each catalog holds a class once), grouped by title.
pub fn class_counts() -> Query {
    Query {
        endpoint: "resources",
        ast: json!([
            "extract",
            [["function", "count"], "title"],
            ["=", "type", "Class"],
            ["group_by", "title"]
        ]),
    }
}

/// Nodes whose `pe_patch` fact counts pending package updates.
pub fn nodes_needing_patches() -> Query {
    inventory_count(json!([">", "facts.pe_patch.package_update_count", 0]))
}

/// A count of nodes sharing one value (or one OS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The value, e.g. `7.23.0`, or `Debian 12.5`; `null` when the nodes do
    /// not have the fact.
    pub value: Option<String>,
    pub count: u64,
}

/// An operating system and how many nodes run it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OsCount {
    pub name: Option<String>,
    pub release: Option<String>,
    pub count: u64,
}

fn shape(what: &str) -> String {
    format!("PuppetDB's answer is not what {what} returns (not an array of objects with a whole-number `count`)")
}

fn count_of(row: &Value) -> Option<u64> {
    row.get("count")?.as_u64()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The one count of [`active_nodes`].
pub fn read_node_count(answer: &Value) -> Result<u64, String> {
    match answer.as_array().map(Vec::as_slice) {
        Some([row]) => count_of(row).ok_or_else(|| shape("a node count")),
        Some([]) => Ok(0),
        _ => Err(shape("a node count")),
    }
}

/// The rows of [`os_counts`], largest first (ties by name and release).
pub fn read_os_counts(answer: &Value) -> Result<Vec<OsCount>, String> {
    let rows = answer.as_array().ok_or_else(|| shape("an OS count"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let count = count_of(r).ok_or_else(|| shape("an OS count"))?;
        let name = r.get("facts.os.name").and_then(text);
        let release = r.get("facts.os.release.full").and_then(text);
        out.push(OsCount {
            name,
            release,
            count,
        });
    }
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.release.cmp(&b.release))
    });
    Ok(out)
}

/// The rows of [`fact_value_counts`], largest first.
pub fn read_value_counts(answer: &Value) -> Result<Vec<Count>, String> {
    let rows = answer.as_array().ok_or_else(|| shape("a fact count"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let count = count_of(r).ok_or_else(|| shape("a fact count"))?;
        let value = r.get("value").or_else(|| r.get("title")).and_then(text);
        out.push(Count { value, count });
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Ok(out)
}

/// The `name` → `value` pairs of [`node_facts`].
pub fn read_node_facts(answer: &Value) -> Result<serde_json::Map<String, Value>, String> {
    let rows = answer
        .as_array()
        .ok_or_else(|| "PuppetDB's answer to a facts query is not an array".to_string())?;
    let mut m = serde_json::Map::new();
    for r in rows {
        let (Some(name), Some(value)) = (r.get("name").and_then(Value::as_str), r.get("value"))
        else {
            return Err("PuppetDB's answer to a facts query lacks `name` or `value`".to_string());
        };
        m.insert(name.to_string(), value.clone());
    }
    Ok(m)
}

/// A node's operating system from its `os` fact: `Debian 12.5`.
pub fn os_of(facts: &serde_json::Map<String, Value>) -> Option<String> {
    let os = facts.get("os")?;
    let name = os.get("name").and_then(Value::as_str)?;
    let release = os
        .pointer("/release/full")
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(format!("{name} {release}").trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_aggregates() {
        for q in [
            active_nodes(),
            os_counts(),
            fact_value_counts("puppetversion"),
            on_azure(),
            on_gcp(),
            nodes_with_fact("virtual"),
            class_counts(),
            nodes_needing_patches(),
        ] {
            let s = q.ast.to_string();
            assert!(s.starts_with("[\"extract\""), "{s}");
            assert!(s.contains("[\"function\",\"count\"]"), "{s}");
        }
        assert!(os_counts().ast.to_string().contains("group_by"));
        assert_eq!(active_nodes().path(), "/pdb/query/v4/nodes");
        assert_eq!(
            node_facts("p.test", &["os", "networking"]).ast,
            json!([
                "extract",
                ["name", "value"],
                [
                    "and",
                    ["=", "certname", "p.test"],
                    ["or", ["=", "name", "os"], ["=", "name", "networking"]]
                ]
            ])
        );
    }

    #[test]
    fn reads_counts_and_sorts_them() {
        assert_eq!(read_node_count(&json!([{"count": 7}])), Ok(7));
        assert_eq!(read_node_count(&json!([])), Ok(0));
        assert!(read_node_count(&json!({"count": 7})).is_err());
        assert!(read_node_count(&json!([{"count": "7"}])).is_err());
        assert!(read_node_count(&json!([{"count": 1}, {"count": 2}])).is_err());
        let os = read_os_counts(&json!([
            {"facts.os.name": "RedHat", "facts.os.release.full": "9.2", "count": 2},
            {"facts.os.name": "Debian", "facts.os.release.full": "12.5", "count": 3},
            {"facts.os.name": null, "facts.os.release.full": null, "count": 2}
        ]))
        .unwrap();
        assert_eq!(os[0].name.as_deref(), Some("Debian"));
        assert_eq!(os[1].name, None);
        assert_eq!(os[2].release.as_deref(), Some("9.2"));
        assert!(read_os_counts(&json!([{"facts.os.name": "x"}])).is_err());
        let v = read_value_counts(
            &json!([{"value": "7.23.0", "count": 1}, {"value": "8.1.0", "count": 4}]),
        )
        .unwrap();
        assert_eq!(
            v[0],
            Count {
                value: Some("8.1.0".into()),
                count: 4
            }
        );
        assert!(read_value_counts(&json!("nope")).is_err());
    }

    #[test]
    fn reads_node_facts() {
        let f = read_node_facts(&json!([
            {"name": "os", "value": {"name": "Debian", "release": {"full": "12.5", "major": "12"}}},
            {"name": "networking", "value": {"ip": "10.0.0.5"}}
        ]))
        .unwrap();
        assert_eq!(os_of(&f).as_deref(), Some("Debian 12.5"));
        assert!(read_node_facts(&json!([{"value": 1}])).is_err());
        assert!(read_node_facts(&json!({})).is_err());
    }
}
