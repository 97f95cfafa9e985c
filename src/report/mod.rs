//! `pe-analytics report`: what PE's analytics would collect about this
//! installation, item by item, in PE's own words.
//!
//! PE's documentation ("Analytics data collection", e.g.
//! `pe/2017.3/analytics_overview.md` in github.com/puppetlabs/docs-archive;
//! the same list is in the PE 2019.8 and 2021.7 manuals) says PE collects,
//! "when Puppet Server starts or restarts, and again every 24 hours": the
//! license UUID, the number of licensed nodes, the product name, the PE
//! version, the primary's operating system and public IP address, the number
//! of nodes in the deployment, the agent operating systems and how many
//! agents run each, the agent versions and how many agents run each (and the
//! All-in-One `puppet-agent` package versions). While in use, the console
//! collects page views, link and button clicks, page load time, user
//! language, screen resolution, viewport size and an anonymized IP address,
//! and "does not collect user inputs such as node or group names, user
//! names, rules, parameters, or variables".
//!
//! This module is pure: the [`Report`] model and its text and JSON forms.
//! Gathering (files, PuppetDB, `status`) is in `src/cli/report.rs`.

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
    /// Legitimately missing here (no license file, not a PE primary, no
    /// facts for the primary in PuppetDB); `detail` says what.
    Absent,
    /// Could not be gathered because of an error (`detail` says which);
    /// the exit code is then 1.
    Error,
    /// PE sends it, but it cannot be computed from the server (the public
    /// IP address is what Puppet's server sees; the console's browser data).
    NotComputable,
    /// PE does not collect it.
    NotCollected,
}

/// One line of PE's list.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// Stable key, e.g. `license_uuid`.
    pub id: &'static str,
    /// PE's wording, e.g. "License UUID".
    pub item: &'static str,
    /// Whether PE sends this item when analytics are on.
    pub sent_by_pe: bool,
    pub status: ItemStatus,
    /// The value (a string, a number, or a list of `{value|name,release, count}`);
    /// `null` unless `status` is `ok` (the public IP item may carry a hint).
    pub value: Value,
    /// Where it came from: a file, a PuppetDB endpoint, or an explanation.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where the items come from: the server (sent by Puppet Server), the
/// console (collected in the browser), or nowhere (user inputs).
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub section: &'static str,
    pub title: &'static str,
    pub items: Vec<Item>,
}

/// The PuppetDB part: where, and how many requests it took.
#[derive(Clone, Debug, Serialize)]
pub struct PuppetDbInfo {
    pub url: String,
    pub url_source: String,
    /// HTTP requests sent to PuppetDB (every attempt counts).
    pub queries: u32,
    pub primary_certname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The opt-out state, as `pe-analytics status` computes it.
#[derive(Debug, Serialize)]
pub struct OptOut {
    /// `opted-out`, `not-opted-out`, or `unknown` (nothing could be checked
    /// or a check failed; see `layers`).
    pub verdict: &'static str,
    pub layers: Vec<StatusRow>,
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
    /// The errors, one line each (also in the items' `detail`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The console's items: collected in the browser, never seen by the server.
pub fn console_section() -> Section {
    let items = [
        (
            "console_page_views",
            "Page views",
            "which console pages are opened",
        ),
        (
            "console_clicks",
            "Link and button clicks",
            "which links and buttons are clicked",
        ),
        (
            "console_page_load_time",
            "Page load time",
            "how long console pages take to load in the browser",
        ),
        (
            "console_user_language",
            "User language",
            "the browser's language setting",
        ),
        (
            "console_screen_resolution",
            "Screen resolution",
            "the size of the user's screen",
        ),
        (
            "console_viewport_size",
            "Viewport size",
            "the size of the browser window",
        ),
        (
            "console_anonymized_ip",
            "Anonymized IP address",
            "the browser's IP address, anonymized",
        ),
    ];
    Section {
        section: "console",
        title: "Collected by the console while in use (in the browser; cannot be computed from the server)",
        items: items
            .into_iter()
            .map(|(id, item, what)| Item {
                id,
                item,
                sent_by_pe: true,
                status: ItemStatus::NotComputable,
                value: Value::Null,
                source: "PE console (browser)".into(),
                detail: Some(what.into()),
            })
            .collect(),
    }
}

/// What PE documents it does not collect.
pub fn not_collected_section() -> Section {
    let items = [
        ("node_names", "Node names"),
        ("group_names", "Node group names"),
        ("user_names", "User names"),
        ("rules", "Classification rules"),
        ("parameters", "Class parameters"),
        ("variables", "Variables"),
    ];
    Section {
        section: "not-collected",
        title: "Not collected (user inputs)",
        items: items
            .into_iter()
            .map(|(id, item)| Item {
                id,
                item,
                sent_by_pe: false,
                status: ItemStatus::NotCollected,
                value: Value::Null,
                source: "PE documentation".into(),
                detail: Some("PE's documentation: the console does not collect user inputs".into()),
            })
            .collect(),
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(rows) => {
            if rows.is_empty() {
                return "(none)".into();
            }
            rows.iter()
                .map(|r| {
                    let label = if r.get("name").is_some() || r.get("release").is_some() {
                        let n = r
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("(no os fact)");
                        let rel = r.get("release").and_then(Value::as_str).unwrap_or("");
                        format!("{n} {rel}").trim().to_string()
                    } else {
                        r.get("value")
                            .and_then(Value::as_str)
                            .unwrap_or("(fact not set)")
                            .to_string()
                    };
                    format!("{label}: {}", r.get("count").unwrap_or(&Value::Null))
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => other.to_string(),
    }
}

/// The readable table.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    out.push_str("What Puppet Enterprise's analytics collect about this installation\n");
    for s in &r.sections {
        out.push('\n');
        out.push_str(s.title);
        out.push('\n');
        let w = s
            .items
            .iter()
            .map(|i| i.item.len())
            .max()
            .unwrap_or(4)
            .max(4);
        out.push_str(&format!("  {:w$}  {:4}  VALUE\n", "ITEM", "SENT"));
        for i in &s.items {
            let sent = if i.sent_by_pe { "yes" } else { "no" };
            let value = match i.status {
                ItemStatus::Ok => cell(&i.value),
                ItemStatus::Absent => format!("({})", i.detail.as_deref().unwrap_or("absent")),
                ItemStatus::Error => {
                    format!("(error: {})", i.detail.as_deref().unwrap_or("unknown"))
                }
                ItemStatus::NotComputable => {
                    let hint = cell(&i.value);
                    let d = i.detail.as_deref().unwrap_or("");
                    if hint.is_empty() {
                        format!("({d})")
                    } else {
                        format!("{hint} ({d})")
                    }
                }
                ItemStatus::NotCollected => "(not collected)".into(),
            };
            out.push_str(&format!("  {:w$}  {:4}  {}\n", i.item, sent, value));
        }
    }
    out.push_str(&format!(
        "\nSources: PuppetDB {} ({}; {} queries), primary {}\n",
        r.puppetdb.url, r.puppetdb.url_source, r.puppetdb.queries, r.puppetdb.primary_certname
    ));
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
        "opted-out" => "PE sends none of the above while opted out.\n",
        "not-opted-out" => {
            "PE sends the items marked `yes` (run `pe-analytics opt-out` to stop it).\n"
        }
        _ => "Whether PE sends the items marked `yes` depends on the opt-out state above.\n",
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report() -> Report {
        Report {
            schema: SCHEMA,
            command: "report",
            sections: vec![
                Section {
                    section: "server",
                    title: "Sent by Puppet Server",
                    items: vec![
                        Item {
                            id: "agent_os",
                            item: "Agent operating systems",
                            sent_by_pe: true,
                            status: ItemStatus::Ok,
                            value: json!([{"name": "Debian", "release": "12.5", "count": 3}]),
                            source: "PuppetDB".into(),
                            detail: None,
                        },
                        Item {
                            id: "license_uuid",
                            item: "License UUID",
                            sent_by_pe: true,
                            status: ItemStatus::Absent,
                            value: Value::Null,
                            source: "/etc/puppetlabs/license.key".into(),
                            detail: Some("no license file".into()),
                        },
                    ],
                },
                console_section(),
                not_collected_section(),
            ],
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
        }
    }

    #[test]
    fn text_lists_every_item_with_its_verdict() {
        let t = render_text(&report());
        assert!(t.contains("Debian 12.5: 3"), "{t}");
        assert!(t.contains("(no license file)"), "{t}");
        assert!(t.contains("Viewport size"), "{t}");
        assert!(t.contains("User names"), "{t}");
        assert!(t.contains("5 queries"), "{t}");
        assert!(t.contains("run `pe-analytics opt-out`"), "{t}");
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
                "exit_code"
            ]
        );
        let item = &v["sections"][0]["items"][1];
        assert_eq!(item["status"], "absent");
        assert_eq!(v["sections"][1]["items"][0]["status"], "not-computable");
        assert_eq!(v["sections"][2]["items"][0]["sent_by_pe"], false);
    }
}
