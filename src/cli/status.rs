//! `pe-analytics status`: one table, one line per layer, each compliant or
//! not and why. Exit 0 when opted out everywhere, 2 when not, 1 on error;
//! layers that do not apply here, or that nothing can tell, do not count.

use super::args::{Format, StatusArgs};
use super::classifier::{self as cl, Mode};
use super::enforce::{applied_since, Ctx};
use super::{pe_conf, Failure};
use crate::enforce::version::PeVersion;
use crate::output::report::{Layer, Report, StatusRow, SCHEMA};
use crate::output::Exit;
use crate::pe::classifier::{Goal, CLASS, OVERRIDE_CLASSES, PARAM};
use crate::pe::config::{self, Host};
use crate::pe::orchestrator::{api_base, Orch};
use crate::peconf::DEFAULT_PE_CONF;
use serde_json::Value;
use std::path::PathBuf;

const COMPLIANT: &str = "compliant";
const NOT: &str = "not-compliant";
const NA: &str = "not-applicable";
const UNKNOWN: &str = "unknown";
const ERROR: &str = "error";

fn row(layer: &str, verdict: &str, detail: impl Into<String>, node: Option<&str>) -> StatusRow {
    StatusRow {
        layer: layer.to_string(),
        verdict: verdict.to_string(),
        detail: detail.into(),
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

/// Opted out only by the JSON boolean `false` (a string "false" fails PE's
/// Boolean parameter).
fn verdict_of(value: &Value) -> &'static str {
    if *value == Value::Bool(false) {
        COMPLIANT
    } else {
        NOT
    }
}

/// The rows of the table, the exit code and, when nothing applies, the
/// error (also used by `report` for its opt-out state).
pub fn collect(a: &StatusArgs) -> (Vec<StatusRow>, Exit, Option<String>) {
    let mut rows: Vec<StatusRow> = Vec::new();
    // pe.conf
    let path = a
        .layer
        .pe_conf
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PE_CONF));
    if path.exists() || a.layer.pe_conf.is_some() {
        match pe_conf::check_layer(&path) {
            Ok((e, r)) => rows.push(row(
                "pe.conf",
                if e == Exit::Ok { COMPLIANT } else { NOT },
                format!("{}: {}", path.display(), r.state.describe()),
                None,
            )),
            Err(f) => rows.push(row("pe.conf", ERROR, f.message, None)),
        }
    } else {
        rows.push(row(
            "pe.conf",
            NA,
            format!("no pe.conf at {} on this host", path.display()),
            None,
        ));
    }

    // The classifier and what follows from it.
    let host = Host::current_with_certname(a.classifier.connection.certname.as_deref());
    let applies = a.classifier.classifier
        || config::classifier_configured(&a.classifier.connection.requested(), &host).is_some();
    if !applies {
        rows.push(row(
            "classifier",
            NA,
            "no PE connection configured here (give --server or --classifier-url with credentials)",
            None,
        ));
    } else {
        classifier_rows(a, &mut rows);
    }

    let all_na = rows.iter().all(|r| r.verdict == NA);
    let exit = if rows.iter().any(|r| r.verdict == ERROR) || all_na {
        Exit::Error
    } else if rows.iter().any(|r| r.verdict == NOT) {
        Exit::Pending
    } else {
        Exit::Ok
    };
    let error = all_na.then(|| "no layer applies on this host: nothing to check".to_string());
    (rows, exit, error)
}

pub fn status(a: &StatusArgs) -> Result<Exit, Failure> {
    let json = a.output.format == Format::Json;
    let (rows, exit, error) = collect(a);
    if json {
        let report = Report {
            schema: SCHEMA,
            command: "status".into(),
            dry_run: true,
            layers: rows
                .into_iter()
                .map(|r| Layer::Status(Box::new(r)))
                .collect(),
            outcome: match exit {
                Exit::Ok => "compliant",
                Exit::Pending => "not-compliant",
                _ => "error",
            }
            .into(),
            exit_code: exit.code(),
            error,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        );
    } else {
        let name = |r: &StatusRow| match &r.node {
            Some(n) => format!("{} ({n})", r.layer),
            None => r.layer.clone(),
        };
        let w1 = rows.iter().map(|r| name(r).len()).max().unwrap_or(5).max(5);
        let w2 = rows
            .iter()
            .map(|r| r.verdict.len())
            .max()
            .unwrap_or(7)
            .max(7);
        println!("{:w1$}  {:w2$}  WHY", "LAYER", "VERDICT");
        for r in &rows {
            println!("{:w1$}  {:w2$}  {}", name(r), r.verdict, r.detail);
        }
        println!(
            "{}",
            match exit {
                Exit::Ok => "verdict: opted out everywhere it can be checked",
                Exit::Pending => "verdict: NOT opted out",
                _ => "verdict: error",
            }
        );
        if let Some(e) = error {
            eprintln!("error: {e}");
        }
    }
    Ok(exit)
}

fn classifier_rows(a: &StatusArgs, rows: &mut Vec<StatusRow>) {
    let rep = match cl::run(
        Goal::OptOut,
        Mode::Check,
        &a.classifier,
        false,
        a.classifier.connection.certname.as_deref(),
    ) {
        Ok((_, rep, _)) => rep,
        Err(b) => {
            let (_, f) = *b;
            rows.push(row("classifier", ERROR, f.message, None));
            return;
        }
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
        if defeating.is_empty() { COMPLIANT } else { NOT },
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

    let ctx = Ctx::new(&a.classifier, a.classifier.connection.certname.as_deref());
    let targets: Vec<String> = if a.nodes.is_empty() {
        rep.run_puppet_on.clone()
    } else {
        a.nodes.clone()
    };
    let Some(http) = ctx.http.as_ref() else {
        return;
    };
    // Nodes whose effective value is not a boolean: no run can apply it.
    let mut uncompilable: Vec<(String, Value)> = Vec::new();
    for t in &targets {
        // PE documents classification as a POST (facts optional); it
        // changes nothing, so it is safe to repeat.
        let url = format!("{}/v1/classified/nodes/{t}", rep.url);
        match http.post(&url, Some(&serde_json::json!({})), true) {
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
            Err(e) => rows.push(row("node value", ERROR, e.to_string(), Some(t))),
        }
    }
    let last_edited = rep
        .group
        .as_ref()
        .and_then(|g| g.get("last_edited"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let conn = ctx.conn.as_ref();
    let applied: Vec<(String, Option<bool>)> = match conn {
        Some(c) if http.auth().token => applied_since(
            &Orch {
                http,
                base: api_base(&c.orchestrator_url.value),
            },
            &targets,
            last_edited.as_deref(),
        ),
        _ => targets.iter().map(|t| (t.clone(), None)).collect(),
    };
    for (t, a) in applied {
        if let Some((_, v)) = uncompilable.iter().find(|(n, _)| *n == t) {
            rows.push(row(
                "applied",
                NOT,
                format!(
                    "no: {PARAM} is {v}, not a boolean; the class parameter is Boolean, so \
Puppet cannot compile this node's catalog and no run applies anything until the value is a \
boolean (`pe-analytics opt-out` writes false)"
                ),
                Some(&t),
            ));
            continue;
        }
        let detail = match (a, &last_edited) {
            (Some(true), Some(le)) => {
                format!("a successful orchestrator run since the group's last edit ({le})")
            }
            (_, None) => "unknown: the classifier records no edit time (PE < 2018.1)".to_string(),
            (_, Some(le)) => format!(
                "unknown: no successful orchestrator run since the group's last edit ({le}) in the \
job history (a scheduled agent run may have applied it)"
            ),
        };
        rows.push(row(
            "applied",
            if a == Some(true) { COMPLIANT } else { UNKNOWN },
            detail,
            Some(&t),
        ));
    }

    // The marker file, only on the node itself.
    let here = ctx.this_host.clone();
    let version = ctx
        .version_from(a.pe_version.as_deref(), &a.pe_version_file)
        .ok()
        .and_then(|v| v.version);
    if !targets.iter().any(|t| t == &here) {
        rows.push(row(
            "marker",
            NA,
            format!(
                "this host ({here}) is not one of {}; check {} there",
                targets.join(", "),
                a.marker_file.display()
            ),
            None,
        ));
    } else if version.is_some_and(|v| v < PeVersion::new(2018, 1, 0)) {
        rows.push(row(
            "marker",
            NA,
            "PE before 2018.1 does not manage the marker file on every node",
            Some(&here),
        ));
    } else if a.marker_file.exists() {
        rows.push(row(
            "marker",
            COMPLIANT,
            format!("{} exists", a.marker_file.display()),
            Some(&here),
        ));
    } else {
        rows.push(row(
            "marker",
            NOT,
            format!(
                "{} does not exist: no Puppet run has applied the opt-out here",
                a.marker_file.display()
            ),
            Some(&here),
        ));
    }
}
