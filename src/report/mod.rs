//! `pe-analytics report`: what PE's analytics would collect about this
//! installation, item by item, in PE's own words, and whether PE sends it now.
//!
//! The list is PE's own, per PE version ([`catalog`]: every item of PE's
//! "Analytics data collection" pages from 2016.4 to 2021.7, with the page
//! each version range comes from). Each item is read where PE keeps it
//! ([`gather`]: the license file, `product.conf`, `pe_version`, PuppetDB's
//! facts and aggregate queries, the classifier, RBAC, the orchestrator,
//! Puppet Server's status API and configuration); an item that cannot be
//! computed from outside (PE's analytics server sees the public IP; the
//! installer, puppet-backup and Code Manager send theirs as they run; the
//! console's are collected in the browser) is listed with why.
//!
//! This module is the model and its text and JSON forms; it never prints.

pub mod catalog;
pub mod compute;
pub mod gather;
pub mod license;
pub mod queries;

use crate::output::report::StatusRow;
use serde::Serialize;
use serde_json::Value;

/// Version of the report's JSON shape; fields are only ever added.
pub const SCHEMA: u32 = 1;

/// How an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// Gathered: `value` is what PE would send.
    Ok,
    /// Legitimately missing here (no license file, not on the primary, no
    /// facts for the primary in PuppetDB, no token for the orchestrator);
    /// `detail` says what.
    Absent,
    /// Could not be gathered because of an error (`detail` says which);
    /// the exit code is then 1.
    Error,
    /// PE sends it, but it cannot be computed from outside (`detail` says why).
    NotComputable,
    /// PE would not send it on this installation (an AWS Marketplace item on
    /// a primary that is not on AWS); `detail` says why.
    NotApplicable,
    /// PE does not collect it.
    NotCollected,
}

/// Whether PE would send an item now, given the opt-out state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sent {
    Yes,
    No,
    /// The opt-out state is unknown.
    Unknown,
}

impl Sent {
    fn cell(self) -> &'static str {
        match self {
            Sent::Yes => "yes",
            Sent::No => "no",
            Sent::Unknown => "?",
        }
    }
}

/// One line of PE's list.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// Stable key, e.g. `license_uuid`.
    pub id: &'static str,
    /// PE's wording, e.g. "License UUID".
    pub item: &'static str,
    /// Whether PE sends this item when analytics are on (false: PE's pages
    /// say it is not collected).
    pub sent_by_pe: bool,
    /// Whether PE would send it now, given the opt-out state (`opt_out`).
    pub sent: Sent,
    /// When PE sends it: `check-in` (Puppet Server's start and every 24
    /// hours), `per-job`, `per-deploy`, `per-patch-run`, `per-backup`,
    /// `install`, `browser`, `never`.
    pub sent_when: &'static str,
    pub status: ItemStatus,
    /// The value PE would send (a string, a number, a boolean, or a list of
    /// `{value|name,release, count}`); `null` unless `status` is `ok`.
    pub value: Value,
    /// Where it came from: a file, an API endpoint, or where PE keeps it.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A group of items as PE's pages group them.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub section: &'static str,
    pub title: &'static str,
    pub items: Vec<Item>,
}

/// The PuppetDB part: where, and how many requests it took.
#[derive(Clone, Debug, Serialize)]
pub struct PuppetDbInfo {
    #[serde(serialize_with = "crate::peconf::secrets::serialize_masked_url")]
    pub url: String,
    pub url_source: String,
    /// HTTP requests sent to PuppetDB (every attempt counts).
    pub queries: u32,
    /// The primary server whose facts are reported (`--primary`).
    pub primary_certname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One of PE's services the report asked.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceInfo {
    /// `puppetdb`, `classifier`, `rbac`, `orchestrator`, `puppetserver`.
    pub service: &'static str,
    #[serde(serialize_with = "crate::peconf::secrets::serialize_masked_url")]
    pub url: String,
    pub url_source: String,
    /// HTTP requests sent (every attempt counts).
    pub requests: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which of PE's lists the report follows.
#[derive(Clone, Debug, Serialize)]
pub struct ListInfo {
    /// The PE version the list was chosen for (`null`: unknown).
    pub pe_version: Option<String>,
    /// The first release of the page's range, e.g. `2019.8`.
    pub page_from: String,
    /// The page(s) in github.com/puppetlabs/docs-archive.
    pub pages: Vec<&'static str>,
    /// Items listed (all sections).
    pub items: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The opt-out state, as `pe-analytics status` computes it.
#[derive(Debug, Serialize)]
pub struct OptOut {
    /// `opted-out`, `not-opted-out`, or `unknown` (nothing could be checked
    /// or a check failed; see `layers`).
    pub verdict: &'static str,
    pub layers: Vec<StatusRow>,
}

impl OptOut {
    /// What PE would do now with an item it sends when analytics are on.
    pub fn sent(&self) -> Sent {
        match self.verdict {
            "opted-out" => Sent::No,
            "not-opted-out" => Sent::Yes,
            _ => Sent::Unknown,
        }
    }
}

/// The whole report (`--format json`; schema in README, "pe-analytics report").
#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    pub command: &'static str,
    pub sections: Vec<Section>,
    pub opt_out: OptOut,
    pub puppetdb: PuppetDbInfo,
    /// `done` (every item that applies was gathered) or `error`.
    pub outcome: &'static str,
    pub exit_code: i32,
    /// The errors, one per cause (the items' `detail` say which they hit).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub list: ListInfo,
    pub services: Vec<ServiceInfo>,
}

fn label(r: &Value) -> String {
    if r.get("name").is_some() || r.get("release").is_some() {
        match r.get("name").and_then(Value::as_str) {
            None => "unknown".to_string(),
            Some(n) => {
                let rel = r.get("release").and_then(Value::as_str).unwrap_or("");
                format!("{n} {rel}").trim().to_string()
            }
        }
    } else if let Some(j) = r.get("job") {
        format!("job {}", j.as_str().unwrap_or(""))
    } else {
        match r.get("value") {
            None | Some(Value::Null) => "unknown".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        }
    }
}

/// A value as one table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(rows) if rows.is_empty() => "(none)".into(),
        Value::Array(rows) => {
            let shown: Vec<String> = rows
                .iter()
                .take(12)
                .map(|r| match r.get("count") {
                    Some(c) => format!("{}: {c}", label(r)),
                    None if r.get("job").is_some() => {
                        format!(
                            "{}: {}",
                            label(r),
                            cell(r.get("value").unwrap_or(&Value::Null))
                        )
                    }
                    None => cell(r),
                })
                .collect();
            let more = rows.len().saturating_sub(shown.len());
            let mut s = shown.join(", ");
            if more > 0 {
                s.push_str(&format!(", … ({more} more)"));
            }
            s
        }
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn when_title(when: &str) -> &'static str {
    match when {
        "check-in" => "sent at Puppet Server's start and every 24 hours",
        "per-job" => "sent as each orchestrator job runs",
        "per-deploy" => "sent as each Code Manager deploy runs",
        "per-patch-run" => "sent as each patching task runs",
        "per-backup" => "sent as puppet-backup runs",
        "install" => "sent as the installer runs",
        "browser" => "sent from the browser",
        _ => "never sent",
    }
}

/// The readable table. Consecutive items that cannot be computed for the
/// same reason share one line of explanation.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    out.push_str("What Puppet Enterprise's analytics collect about this installation\n");
    let version = r.list.pe_version.as_deref().unwrap_or("unknown");
    out.push_str(&format!(
        "PE version {version}: PE's list for {} and later ({} items; {})\n",
        r.list.page_from,
        r.list.items,
        r.list.pages.join(", ")
    ));
    if let Some(n) = &r.list.note {
        out.push_str(&format!("  note: {n}\n"));
    }
    for s in &r.sections {
        out.push('\n');
        out.push_str(s.title);
        out.push('\n');
        let w = s
            .items
            .iter()
            .map(|i| i.item.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 64);
        out.push_str(&format!("  {:4}  {:w$}  VALUE\n", "SENT", "ITEM"));
        // A line says when PE sends the items below it, at each change.
        let mut last_when = "";
        let items = &s.items;
        for (n, i) in items.iter().enumerate() {
            if i.sent_when != last_when && i.sent_when != "never" {
                out.push_str(&format!("  ({})\n", when_title(i.sent_when)));
            }
            last_when = i.sent_when;
            let shared = |j: &Item| {
                j.status == i.status
                    && j.detail == i.detail
                    && matches!(
                        i.status,
                        ItemStatus::NotComputable | ItemStatus::NotCollected
                    )
            };
            let next_shares = items.get(n + 1).is_some_and(shared);
            let value = match i.status {
                _ if next_shares => String::new(),
                ItemStatus::Ok => cell(&i.value),
                ItemStatus::Absent => format!("({})", i.detail.as_deref().unwrap_or("absent")),
                ItemStatus::Error => {
                    format!("(error: {})", i.detail.as_deref().unwrap_or("unknown"))
                }
                ItemStatus::NotComputable => {
                    let prev_shares = n > 0 && shared(&items[n - 1]);
                    let d = i.detail.as_deref().unwrap_or("");
                    if prev_shares {
                        format!("(these: not computable here: {d})")
                    } else {
                        format!("(not computable here: {d})")
                    }
                }
                ItemStatus::NotApplicable => {
                    format!("(not applicable: {})", i.detail.as_deref().unwrap_or(""))
                }
                ItemStatus::NotCollected => "(not collected)".into(),
            };
            let value = match (&i.status, &i.detail) {
                (ItemStatus::Ok, Some(d)) if !next_shares => format!("{value} ({d})"),
                _ => value,
            };
            out.push_str(&format!(
                "  {:4}  {:w$}  {}\n",
                i.sent.cell(),
                i.item,
                value
            ));
        }
    }
    out.push_str("\nSources:\n");
    out.push_str(&format!(
        "  primary server: {}\n",
        r.puppetdb.primary_certname
    ));
    for s in &r.services {
        let err = s
            .error
            .as_deref()
            .map(|e| format!("; not used: {e}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}: {} ({}; {} requests{err})\n",
            s.service,
            crate::peconf::secrets::mask_url(&s.url),
            s.url_source,
            s.requests
        ));
    }
    out.push_str(&format!(
        "Opt-out state (as `pe-analytics status`): {}\n",
        r.opt_out.verdict
    ));
    for l in &r.opt_out.layers {
        let node = l
            .node
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}{}: {}: {}\n",
            l.layer, node, l.verdict, l.detail
        ));
    }
    out.push_str(match r.opt_out.verdict {
        "opted-out" => "Opted out: PE sends none of the above (SENT no).\n",
        "not-opted-out" => {
            "Not opted out: PE sends the items marked SENT yes, each when its section says \
(run `pe-analytics opt-out` to stop it).\n"
        }
        _ => "The opt-out state is unknown, so whether PE sends the items (SENT ?) is too.\n",
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(id: &'static str, status: ItemStatus, value: Value, detail: Option<&str>) -> Item {
        Item {
            id,
            item: id,
            sent_by_pe: true,
            sent: Sent::Yes,
            sent_when: "check-in",
            status,
            value,
            source: "s".into(),
            detail: detail.map(str::to_string),
        }
    }

    fn report() -> Report {
        Report {
            schema: SCHEMA,
            command: "report",
            sections: vec![Section {
                section: "server",
                title: "Server",
                items: vec![
                    item(
                        "agent_os",
                        ItemStatus::Ok,
                        json!([{"name": "Debian", "release": "12.5", "count": 3},
                               {"name": null, "release": null, "count": 2}]),
                        None,
                    ),
                    item(
                        "license_uuid",
                        ItemStatus::Absent,
                        Value::Null,
                        Some("no license file"),
                    ),
                    item("b1", ItemStatus::NotComputable, Value::Null, Some("why")),
                    item("b2", ItemStatus::NotComputable, Value::Null, Some("why")),
                ],
            }],
            opt_out: OptOut {
                verdict: "not-opted-out",
                layers: vec![],
            },
            puppetdb: PuppetDbInfo {
                url: "https://p:8081".into(),
                url_source: "--puppetdb-url".into(),
                queries: 5,
                primary_certname: "p".into(),
                error: None,
            },
            outcome: "done",
            exit_code: 0,
            errors: vec![],
            list: ListInfo {
                pe_version: Some("2021.7.1".into()),
                page_from: "2021.7".into(),
                pages: vec!["pe/2021/PE 2021.7.1.pdf"],
                items: 4,
                note: None,
            },
            services: vec![ServiceInfo {
                service: "puppetdb",
                url: "https://p:8081".into(),
                url_source: "--puppetdb-url".into(),
                requests: 5,
                error: None,
            }],
        }
    }

    #[test]
    fn text_lists_every_item_with_its_verdict() {
        let t = render_text(&report());
        assert!(t.contains("Debian 12.5: 3, unknown: 2"), "{t}");
        assert!(t.contains("(no license file)"), "{t}");
        assert!(t.contains("5 requests"), "{t}");
        assert!(t.contains("run `pe-analytics opt-out`"), "{t}");
        // One explanation for two items with the same reason.
        assert_eq!(t.matches("why").count(), 1, "{t}");
        assert!(t.contains("these: not computable here: why"), "{t}");
    }

    #[test]
    fn sent_follows_the_opt_out_state() {
        let mut o = OptOut {
            verdict: "opted-out",
            layers: vec![],
        };
        assert_eq!(o.sent(), Sent::No);
        o.verdict = "not-opted-out";
        assert_eq!(o.sent(), Sent::Yes);
        o.verdict = "unknown";
        assert_eq!(o.sent(), Sent::Unknown);
    }

    #[test]
    fn json_shape_is_stable() {
        let v = serde_json::to_value(report()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "schema",
                "command",
                "sections",
                "opt_out",
                "puppetdb",
                "outcome",
                "exit_code",
                "list",
                "services"
            ]
        );
        let item = &v["sections"][0]["items"][1];
        assert_eq!(item["status"], "absent");
        assert_eq!(item["sent"], "yes");
        assert_eq!(item["sent_when"], "check-in");
    }
}
