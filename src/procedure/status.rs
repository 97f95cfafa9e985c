//! `status`: one row per layer, each proven compliant, not, not applicable
//! here, or an error. A layer that cannot be read is an error, never
//! "unknown"; "applied" is compliant only when a run is shown to have
//! applied the value: PuppetDB's latest catalog and report of the node
//! (scheduled agent runs included), else the orchestrator's job history.
//! `report` calls [`collect`] for its opt-out state.

use super::applied::proven_runs;
use super::context::Context;
use super::facts::{self, relevant_jobs};
use super::{plan, timestamp, Goal, Mode, Options};
use crate::enforce::plan::DEFAULT_PE_VERSION_FILE;
use crate::enforce::version::PeVersion;
use crate::output::report::{StatusRow, Verdict};
use crate::output::Exit;
use crate::pe::classifier::{CLASS, OVERRIDE_CLASSES, PARAM};
use crate::pe::config::Connection;
use crate::pe::orchestrator::Orch;
use crate::pe::puppetdb::{check_url, PuppetDb, PUPPETDB_PORT};
use crate::pe::{PeError, PeHttp};
use crate::report::queries::Query;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// What `status` looks at.
#[derive(Clone, Debug)]
pub struct StatusOptions {
    /// pe.conf: `--pe-conf PATH` (explicit), else the default path when it exists.
    pub pe_conf: Option<PathBuf>,
    pub pe_conf_explicit: bool,
    /// The classifier layer applies (asked for, or configured on this host).
    pub classifier: bool,
    pub nodes: Vec<String>,
    pub marker_file: PathBuf,
    pub pe_version: Option<String>,
    pub pe_version_file: PathBuf,
    /// `--puppetdb-url`; else `https://<--server>:8081`, else this host's certname.
    pub puppetdb_url: Option<String>,
    pub server: Option<String>,
}

/// A row; its detail on one line (errors carry their hints on lines of their own).
fn row(layer: &str, verdict: Verdict, detail: impl Into<String>, node: Option<&str>) -> StatusRow {
    let detail: String = detail.into();
    StatusRow {
        layer: layer.to_string(),
        verdict,
        detail: detail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        node: node.map(str::to_string),
    }
}

/// The value a node gets: a profile class's own parameter (classes, then
/// configuration data) beats the inherited `puppet_enterprise` one; PE's
/// default is `true`.
pub fn effective(classification: &Value) -> (Value, String) {
    for section in ["classes", "config_data"] {
        for class in OVERRIDE_CLASSES {
            if let Some(v) = classification
                .get(section)
                .and_then(|c| c.get(class))
                .and_then(|c| c.get(PARAM))
            {
                return (v.clone(), format!("{section}.{class}"));
            }
        }
    }
    for section in ["classes", "config_data"] {
        if let Some(v) = classification
            .get(section)
            .and_then(|c| c.get(CLASS))
            .and_then(|c| c.get(PARAM))
        {
            return (v.clone(), format!("{section}.{CLASS}"));
        }
    }
    (Value::Bool(true), "PE's default".to_string())
}

/// Opted out only by the JSON boolean `false`.
fn verdict_of(value: &Value) -> Verdict {
    if *value == Value::Bool(false) {
        Verdict::Compliant
    } else {
        Verdict::NotCompliant
    }
}

/// The rows, the exit code and, when nothing applies, the error.
pub fn collect(ctx: &Context, o: &StatusOptions) -> (Vec<StatusRow>, Exit, Option<String>) {
    let mut rows: Vec<StatusRow> = Vec::new();
    let opts = Options {
        goal: Goal::OptOut,
        mode: Mode::Check,
        verdict_only: false,
        pe_conf: o.pe_conf.clone(),
        classifier: o.classifier,
        fix_overrides: false,
        nodes: o.nodes.clone(),
        no_run: true,
        no_reload: true,
        backup: false,
        wait_timeout: Duration::from_secs(1),
        pe_version: o.pe_version.clone(),
        pe_version_file: o.pe_version_file.clone(),
        lock_file: None,
    };
    let facts = facts::gather(ctx, &opts);
    let p = plan::plan(&facts, &opts);
    // pe.conf
    match (&o.pe_conf, &p.pe_conf) {
        (None, _) => rows.push(row(
            "pe.conf",
            Verdict::NotApplicable,
            format!(
                "no pe.conf at {} on this host",
                crate::peconf::DEFAULT_PE_CONF
            ),
            None,
        )),
        (Some(path), Some(pc)) => rows.push(row(
            "pe.conf",
            if pc.report.state == crate::peconf::lint::State::OptedOut {
                Verdict::Compliant
            } else {
                Verdict::NotCompliant
            },
            format!("{}: {}", path.display(), pc.report.state.describe()),
            None,
        )),
        (Some(_), None) => {
            let why = p
                .findings
                .iter()
                .find(|f| f.check == "pe.conf")
                .map(|f| f.message.clone())
                .unwrap_or_default();
            rows.push(row("pe.conf", Verdict::Error, why, None));
        }
    }
    if !o.classifier {
        rows.push(row(
            "classifier",
            Verdict::NotApplicable,
            "no PE connection configured here (give --server or --classifier-url with credentials)",
            None,
        ));
    } else {
        classifier_rows(ctx, o, &facts, &p, &mut rows);
    }
    let all_na = rows.iter().all(|r| r.verdict == Verdict::NotApplicable);
    let exit = if rows.iter().any(|r| r.verdict == Verdict::Error) || all_na {
        Exit::Error
    } else if rows.iter().any(|r| r.verdict == Verdict::NotCompliant) {
        Exit::Pending
    } else {
        Exit::Ok
    };
    let error = if all_na {
        Some("no layer applies on this host: nothing to check".to_string())
    } else {
        let errs: Vec<String> = rows
            .iter()
            .filter(|r| r.verdict == Verdict::Error)
            .map(|r| match &r.node {
                Some(n) => format!("{} ({n}): {}", r.layer, r.detail),
                None => format!("{}: {}", r.layer, r.detail),
            })
            .collect();
        (!errs.is_empty()).then(|| errs.join("; "))
    };
    (rows, exit, error)
}

fn classifier_rows(
    ctx: &Context,
    o: &StatusOptions,
    facts: &facts::Facts,
    p: &plan::Plan,
    rows: &mut Vec<StatusRow>,
) {
    let (Some(Ok(cf)), Some(rep)) = (&facts.classifier, &p.classifier) else {
        let why = match &facts.classifier {
            Some(Err(e)) => e.message.clone(),
            _ => "the classifier could not be read".to_string(),
        };
        rows.push(row("classifier", Verdict::Error, why, None));
        return;
    };
    let value = rep.value.clone().unwrap_or(Value::Null);
    rows.push(row(
        "classifier",
        verdict_of(&value),
        format!(
            "PE Infrastructure: {CLASS}::{PARAM} = {} ({})",
            value,
            rep.state.map(|s| s.describe()).unwrap_or_default()
        ),
        None,
    ));
    let defeating: Vec<String> = rep
        .overrides
        .iter()
        .filter(|o| o.defeats)
        .map(|o| format!("{}: {}.{} = {}", o.group, o.section, o.class, o.value))
        .collect();
    rows.push(row(
        "overrides",
        if defeating.is_empty() {
            Verdict::Compliant
        } else {
            Verdict::NotCompliant
        },
        if defeating.is_empty() {
            "no other group sets it on profile::master or profile::console".to_string()
        } else {
            format!(
                "{} (remove with opt-out --fix-overrides)",
                defeating.join("; ")
            )
        },
        None,
    ));
    let targets = &facts.targets;
    let http = ctx.http().expect("the classifier was read with it");
    // The value each node gets.
    let mut uncompilable: Vec<(String, Value)> = Vec::new();
    for t in targets {
        // PE documents classification as a POST (facts optional); it
        // changes nothing, so it is safe to repeat.
        let url = format!("{}/v1/classified/nodes/{t}", cf.url);
        match http.post(&url, Some(&json!({})), true) {
            Ok(ans) => {
                let (v, from) = effective(&ans.body);
                if !v.is_boolean() && !v.is_null() {
                    uncompilable.push((t.clone(), v.clone()));
                }
                rows.push(row(
                    "node value",
                    verdict_of(&v),
                    format!("effective {PARAM} = {v} (from {from})"),
                    Some(t),
                ));
            }
            Err(e) => rows.push(row("node value", Verdict::Error, e.to_string(), Some(t))),
        }
    }
    // Whether a run applied it.
    let last_edited = cf.last_edited();
    let applied = applied_rows(ctx, o, targets, last_edited.as_deref(), &uncompilable);
    rows.extend(applied);
    // The marker file, only on the node itself.
    let here = ctx.this_host().to_string();
    let version = facts::version(ctx, &options_for_version(o))
        .ok()
        .and_then(|v| v.version);
    if !targets.iter().any(|t| t == &here) {
        rows.push(row(
            "marker",
            Verdict::NotApplicable,
            format!(
                "this host ({here}) is not one of {}; check {} there",
                targets.join(", "),
                o.marker_file.display()
            ),
            None,
        ));
    } else if version.is_some_and(|v| v < PeVersion::new(2018, 1, 0)) {
        rows.push(row(
            "marker",
            Verdict::NotApplicable,
            "PE before 2018.1 does not manage the marker file on every node",
            Some(&here),
        ));
    } else if o.marker_file.exists() {
        rows.push(row(
            "marker",
            Verdict::Compliant,
            format!("{} exists", o.marker_file.display()),
            Some(&here),
        ));
    } else {
        rows.push(row(
            "marker",
            Verdict::NotCompliant,
            format!(
                "{} does not exist: no Puppet run has applied the opt-out here",
                o.marker_file.display()
            ),
            Some(&here),
        ));
    }
}

fn options_for_version(o: &StatusOptions) -> Options {
    Options {
        goal: Goal::OptOut,
        mode: Mode::Check,
        verdict_only: false,
        pe_conf: None,
        classifier: true,
        fix_overrides: false,
        nodes: Vec::new(),
        no_run: true,
        no_reload: true,
        backup: false,
        wait_timeout: Duration::from_secs(1),
        pe_version: o.pe_version.clone(),
        pe_version_file: if o.pe_version_file.as_os_str().is_empty() {
            PathBuf::from(DEFAULT_PE_VERSION_FILE)
        } else {
            o.pe_version_file.clone()
        },
        lock_file: None,
    }
}

/// Where PuppetDB is, and whether that was asked for explicitly.
pub fn puppetdb_url(o: &StatusOptions, ctx: &Context) -> (String, bool) {
    match (&o.puppetdb_url, &o.server) {
        (Some(u), _) => (u.clone(), true),
        (None, Some(s)) => (format!("https://{s}:{PUPPETDB_PORT}"), false),
        (None, None) => (
            format!("https://{}:{PUPPETDB_PORT}", ctx.this_host()),
            false,
        ),
    }
}

/// What PuppetDB holds about the targets: their node records and the
/// resources that carry the value (the profiles' and `puppet_enterprise`'s
/// class parameters, the marker file).
struct PdbView {
    url: String,
    nodes: Vec<Value>,
    resources: Vec<Value>,
}

/// `Ok(None)`: PuppetDB is not reachable at its default address (not
/// configured here); an explicit URL that fails, or any answer that is an
/// error, is `Err`.
fn read_puppetdb(
    conn: &Connection,
    http: &PeHttp,
    url: &str,
    explicit: bool,
    targets: &[String],
    marker: &str,
) -> Result<Option<PdbView>, String> {
    let base = check_url(url).map_err(|e| e.to_string())?;
    // The default address is probed once, without retries: where no
    // PuppetDB listens, status should not wait for backoffs.
    let probe;
    let client = if explicit {
        http
    } else {
        let mut cfg = conn.client_config();
        cfg.retry.max_attempts = 1;
        probe = PeHttp::new(&cfg).map_err(|e| e.to_string())?;
        &probe
    };
    let pdb = PuppetDb {
        http: client,
        base: base.clone(),
    };
    let names = json!(["array", targets]);
    let nodes_q = Query {
        endpoint: "nodes",
        ast: json!(["in", "certname", names]),
    };
    let nodes = match pdb.query(&nodes_q) {
        Ok(v) => v,
        Err(e @ (PeError::Transport { hint: None, .. } | PeError::Timeout { .. })) if !explicit => {
            let _ = e;
            return Ok(None);
        }
        Err(e) => return Err(pdb_error(&e, &base)),
    };
    let mut titles = vec!["Puppet_enterprise".to_string()];
    titles.extend(OVERRIDE_CLASSES.iter().map(|c| title_case(c)));
    let res_q = Query {
        endpoint: "resources",
        ast: json!([
            "and",
            ["in", "certname", names],
            [
                "or",
                [
                    "and",
                    ["=", "type", "Class"],
                    ["in", "title", ["array", titles]]
                ],
                ["and", ["=", "type", "File"], ["=", "title", marker]]
            ]
        ]),
    };
    let resources = pdb.query(&res_q).map_err(|e| pdb_error(&e, &base))?;
    let arr = |v: Value, what: &str| -> Result<Vec<Value>, String> {
        match v {
            Value::Array(a) => Ok(a),
            other => Err(format!(
                "PuppetDB: {base}/pdb/query/v4/{what} answered {} instead of a list",
                kind_of(&other)
            )),
        }
    };
    Ok(Some(PdbView {
        url: base.clone(),
        nodes: arr(nodes, "nodes")?,
        resources: arr(resources, "resources")?,
    }))
}

/// A PuppetDB error on one line (a status row), with PuppetDB's own advice.
fn pdb_error(e: &PeError, base: &str) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    match crate::pe::puppetdb::hint(e, base) {
        Some(h) => format!("PuppetDB: {first} ({h})"),
        None => format!("PuppetDB: {first}"),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `puppet_enterprise::profile::master` → `Puppet_enterprise::Profile::Master`.
fn title_case(class: &str) -> String {
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

/// The verdict PuppetDB gives for `node`: the latest catalog carries the
/// opt-out (a profile's own parameter, else `puppet_enterprise`'s, or the
/// marker file present) and the latest report, after the group's last
/// edit, applied a catalog successfully (not failed, not noop, not a cached
/// catalog).
pub fn puppetdb_verdict(
    node: &str,
    nodes: &[Value],
    resources: &[Value],
    marker: &str,
    last_edited: Option<&str>,
) -> (Verdict, String) {
    let Some(rec) = nodes.iter().find(|n| n["certname"] == node) else {
        return (
            Verdict::NotCompliant,
            "PuppetDB has no record of this node: no run has reported".into(),
        );
    };
    let mine: Vec<&Value> = resources.iter().filter(|r| r["certname"] == node).collect();
    let class_param = |title: &str| {
        mine.iter()
            .find(|r| r["type"] == "Class" && r["title"] == title)
            .map(|r| r["parameters"].get(PARAM).cloned())
    };
    let mut value: Option<(Value, String)> = None;
    for c in OVERRIDE_CLASSES {
        let t = title_case(c);
        if let Some(Some(v)) = class_param(&t) {
            value = Some((v, format!("Class[{t}]")));
            break;
        }
    }
    if value.is_none() {
        match class_param("Puppet_enterprise") {
            Some(Some(v)) => value = Some((v, "Class[Puppet_enterprise]".into())),
            Some(None) => {
                value = Some((
                    Value::Bool(true),
                    "Class[Puppet_enterprise] (not set: PE's default)".into(),
                ))
            }
            None => {}
        }
    }
    let marker_present = mine.iter().any(|r| {
        r["type"] == "File"
            && r["title"] == marker
            && matches!(r["parameters"]["ensure"].as_str(), Some("file" | "present"))
    });
    let catalog_at = rec["catalog_timestamp"].as_str().unwrap_or("?");
    let carries = match &value {
        Some((v, _)) => *v == Value::Bool(false),
        None => marker_present,
    };
    if !carries {
        let what = match &value {
            Some((v, from)) => format!("{PARAM} = {v} ({from})"),
            None => "no Class[Puppet_enterprise] and no opt-out marker file".to_string(),
        };
        return (
            Verdict::NotCompliant,
            format!("PuppetDB: the latest catalog ({catalog_at}) has {what}: not opted out"),
        );
    }
    let Some(report_at) = rec["report_timestamp"].as_str() else {
        return (
            Verdict::NotCompliant,
            format!("PuppetDB: the catalog of {catalog_at} carries the opt-out, but no run has reported"),
        );
    };
    let status = rec["latest_report_status"].as_str().unwrap_or("?");
    if status == "failed" {
        return (
            Verdict::NotCompliant,
            format!("PuppetDB: the latest run ({report_at}) failed"),
        );
    }
    if rec["latest_report_noop"] == true {
        return (
            Verdict::NotCompliant,
            format!("PuppetDB: the latest run ({report_at}) was a noop run: it applied nothing"),
        );
    }
    if rec["cached_catalog_status"] == "used" {
        return (
            Verdict::NotCompliant,
            format!("PuppetDB: the latest run ({report_at}) used a cached catalog"),
        );
    }
    if let Some(le) = last_edited {
        match timestamp::later(report_at, le) {
            Some(true) => {}
            Some(false) => {
                return (
                    Verdict::NotCompliant,
                    format!(
                        "PuppetDB: the latest run ({report_at}) is older than the group's last edit ({le}): not applied yet"
                    ),
                )
            }
            None => {
                return (
                    Verdict::Error,
                    format!("cannot compare the report time {report_at:?} with the group's last edit {le:?}"),
                )
            }
        }
    }
    let from = value
        .map(|(v, from)| format!("{PARAM} = {v} ({from})"))
        .unwrap_or_else(|| format!("File[{marker}] present"));
    (
        Verdict::Compliant,
        format!(
            "PuppetDB: the catalog of {catalog_at} has {from}, and the run reported at {report_at} ({status}) applied it{}",
            last_edited
                .map(|le| format!(" after the group's last edit ({le})"))
                .unwrap_or_default()
        ),
    )
}

fn applied_rows(
    ctx: &Context,
    o: &StatusOptions,
    targets: &[String],
    last_edited: Option<&str>,
    uncompilable: &[(String, Value)],
) -> Vec<StatusRow> {
    let mut rows = Vec::new();
    let (url, explicit) = puppetdb_url(o, ctx);
    let marker = o.marker_file.display().to_string();
    let conn = ctx.connection().expect("read the classifier with it");
    let http = ctx.http().expect("read the classifier with it");
    let pdb = read_puppetdb(conn, http, &url, explicit, targets, &marker);
    // Only when PuppetDB cannot tell: the orchestrator's job history.
    let jobs = match &pdb {
        Ok(Some(_)) => None,
        _ => Some(job_history(ctx, targets, last_edited)),
    };
    for t in targets {
        if let Some((_, v)) = uncompilable.iter().find(|(n, _)| n == t) {
            rows.push(row(
                "applied",
                Verdict::NotCompliant,
                format!(
                    "no: {PARAM} is {v}, not a boolean; the class parameter is Boolean, so \
Puppet cannot compile this node's catalog and no run applies anything until the value is a \
boolean (`pe-analytics opt-out` writes false)"
                ),
                Some(t),
            ));
            continue;
        }
        let (verdict, detail) = match (&pdb, &jobs) {
            (Err(e), _) => (Verdict::Error, e.clone()),
            (Ok(Some(view)), _) => {
                let (v, d) = puppetdb_verdict(t, &view.nodes, &view.resources, &marker, last_edited);
                (v, format!("{d} ({})", view.url))
            }
            (Ok(None), Some(Err(e))) => (
                Verdict::Error,
                format!("{e} (and no PuppetDB answers at {url}, so nothing else can tell)"),
            ),
            (Ok(None), Some(Ok(proven))) => match proven.iter().find(|p| &p.node == t) {
                Some(p) => (
                    Verdict::Compliant,
                    format!(
                        "orchestrator job {} ran Puppet here successfully at {}, after the group's last edit ({})",
                        p.job,
                        p.at,
                        last_edited.unwrap_or_default()
                    ),
                ),
                None => (
                    Verdict::NotCompliant,
                    match last_edited {
                        Some(le) => format!(
                            "not proven: no successful orchestrator run since the group's last edit ({le}) \
in the job history, and no PuppetDB answers at {url} (give --puppetdb-url to see scheduled runs)"
                        ),
                        None => format!(
                            "not proven: the classifier records no edit time (PE < 2018.1) and no PuppetDB \
answers at {url} (give --puppetdb-url)"
                        ),
                    },
                ),
            },
            (Ok(None), None) => unreachable!("job history read when PuppetDB is not there"),
        };
        rows.push(row("applied", verdict, detail, Some(t)));
    }
    rows
}

fn job_history(
    ctx: &Context,
    targets: &[String],
    last_edited: Option<&str>,
) -> Result<Vec<super::applied::RunProof>, String> {
    if !ctx.has_token() {
        return Err(
            "the orchestrator's job history needs an RBAC token (--token-file, \
PE_RBAC_TOKEN or `puppet-access login`)"
                .to_string(),
        );
    }
    let http = ctx.http()?;
    let orch = Orch {
        http,
        base: ctx.orchestrator_base()?,
    };
    let jobs =
        relevant_jobs(&orch, targets, last_edited).map_err(|e| format!("orchestrator: {e}"))?;
    Ok(proven_runs(&jobs, targets, last_edited))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(report: &str, status: &str) -> Value {
        json!({"certname": "p", "catalog_timestamp": report, "report_timestamp": report,
               "latest_report_status": status, "latest_report_noop": false,
               "cached_catalog_status": "not_used"})
    }

    fn class(title: &str, v: Value) -> Value {
        json!({"certname": "p", "type": "Class", "title": title,
               "parameters": {"send_analytics_data": v}})
    }

    #[test]
    fn puppetdb_proves_only_an_applied_opt_out_after_the_edit() {
        let m = "/etc/puppetlabs/analytics-opt-out";
        let edit = Some("2026-01-01T10:00:00Z");
        let pe = vec![class("Puppet_enterprise", json!(false))];
        let ok = puppetdb_verdict(
            "p",
            &[node("2026-01-01T11:00:00+01:00", "changed")],
            &pe,
            m,
            Some("2026-01-01T09:59:59Z"),
        );
        assert_eq!(ok.0, Verdict::Compliant, "{ok:?}");
        // 11:00+01:00 is 10:00Z: not after a 10:00Z edit.
        let old = puppetdb_verdict(
            "p",
            &[node("2026-01-01T11:00:00+01:00", "changed")],
            &pe,
            m,
            edit,
        );
        assert_eq!(old.0, Verdict::NotCompliant, "{old:?}");
        let failed = puppetdb_verdict("p", &[node("2026-01-01T12:00:00Z", "failed")], &pe, m, edit);
        assert!(failed.1.contains("failed"), "{failed:?}");
        // A profile's own value wins over puppet_enterprise's.
        let mut ov = pe.clone();
        ov.push(class("Puppet_enterprise::Profile::Master", json!(true)));
        let o = puppetdb_verdict(
            "p",
            &[node("2026-01-01T12:00:00Z", "unchanged")],
            &ov,
            m,
            edit,
        );
        assert_eq!(o.0, Verdict::NotCompliant, "{o:?}");
        let none = puppetdb_verdict(
            "q",
            &[node("2026-01-01T12:00:00Z", "unchanged")],
            &pe,
            m,
            edit,
        );
        assert!(none.1.contains("no record"), "{none:?}");
        // The marker file stands in when the class is not in the catalog.
        let file = vec![
            json!({"certname": "p", "type": "File", "title": m, "parameters": {"ensure": "file"}}),
        ];
        let f = puppetdb_verdict(
            "p",
            &[node("2026-01-01T12:00:00Z", "unchanged")],
            &file,
            m,
            edit,
        );
        assert_eq!(f.0, Verdict::Compliant, "{f:?}");
    }
}
