//! The preflight: before the first write, every step of the plan is checked
//! against the facts. A blocker means nothing is written; its message says
//! what to fix (or which step to opt out of: `--no-run`, `--no-reload`).
//! `--dry-run` shows every finding, passed checks included.

use super::facts::Facts;
use super::plan::{Plan, Step};
use super::{Mode, Options};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The check passed.
    Ok,
    /// Worth knowing; does not stop the plan.
    Warning,
    /// A step cannot run: nothing is written.
    Blocker,
}

/// One check of the preflight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: `pe.conf`, `classifier`, `pe-version`, `orchestrator`,
    /// `targets`, `reloads`.
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Blocker
    }
}

fn f(check: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
    Finding {
        check,
        severity,
        message: message.into(),
    }
}

/// The findings for `plan`.
pub fn check(
    facts: &Facts,
    plan: &Plan,
    opts: &Options,
    pe_conf_error: Option<String>,
    classifier_error: Option<String>,
) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    if let Some(e) = pe_conf_error {
        out.push(f("pe.conf", Blocker, e));
    } else if let Some(pc) = &plan.pe_conf {
        if pc.after.is_some() && opts.mode != Mode::Check {
            match pc.file.ensure_writable() {
                Result::Ok(()) => out.push(f(
                    "pe.conf",
                    Ok,
                    format!("{}: readable, parsed, writable", pc.report.path),
                )),
                Err(e) => out.push(f("pe.conf", Blocker, e.to_string())),
            }
        } else {
            out.push(f(
                "pe.conf",
                Ok,
                format!("{}: readable and parsed", pc.report.path),
            ));
        }
    }
    if let Some(e) = classifier_error {
        out.push(f("classifier", Blocker, e));
    } else if let Some(c) = &plan.classifier {
        out.push(f(
            "classifier",
            Ok,
            format!(
                "{} answered ({} credentials accepted); PE Infrastructure found",
                c.url,
                c.auth.join(" and ")
            ),
        ));
    }
    if opts.mode == Mode::Check || plan.classifier.is_none() {
        return out;
    }
    let runs = plan
        .steps
        .iter()
        .any(|s| matches!(s.step, Step::Run { .. }));
    // The PE version: below 2016.4 there is nothing to change; unknown, the
    // 2016.5.1 reloads cannot be decided.
    match &facts.version {
        Some(Err(e)) => out.push(f("pe-version", Blocker, e.clone())),
        Some(Result::Ok(v)) => match v.version {
            Some(ver) if !ver.has_opt_out() => out.push(f(
                "pe-version",
                Blocker,
                format!(
                    "PE {ver} (from {}) has no analytics opt-out: the parameter \
puppet_enterprise::send_analytics_data was introduced in PE 2016.4.0. Upgrade PE first",
                    v.source
                ),
            )),
            Some(ver) => out.push(f("pe-version", Ok, format!("PE {ver} (from {})", v.source))),
            None if runs && !opts.no_reload => out.push(f(
                "pe-version",
                Blocker,
                format!(
                    "the PE version is unknown ({}), so whether the runs must be followed by the \
PE 2016.5.1 reloads cannot be decided: give --pe-version (or --pe-version-file), or --no-reload",
                    v.note.clone().unwrap_or_default()
                ),
            )),
            None => out.push(f(
                "pe-version",
                Warning,
                format!("unknown ({})", v.note.clone().unwrap_or_default()),
            )),
        },
        None => {}
    }
    let run_needed = plan.runs.as_ref().is_some_and(|r| r.needed);
    if run_needed && !opts.no_run && facts.targets.is_empty() {
        out.push(f(
            "targets",
            Blocker,
            "no node to run Puppet on: PE Infrastructure names no puppet_master_host or \
console_host; give --nodes, or --no-run",
        ));
    }
    if runs {
        match &facts.orchestrator {
            Some(Err(e)) => out.push(f(
                "orchestrator",
                Blocker,
                format!(
                    "{e}; the Puppet runs could not be started. Fix that, or give --no-run to \
change the configuration only"
                ),
            )),
            Some(Result::Ok(o)) => {
                let down: Vec<&str> = o
                    .inventory
                    .iter()
                    .filter(|i| !i.connected)
                    .map(|i| i.name.as_str())
                    .collect();
                if down.is_empty() {
                    out.push(f(
                        "orchestrator",
                        Ok,
                        format!(
                            "{} accepts the token; {} connected to the PCP broker",
                            o.base,
                            facts.targets.join(", ")
                        ),
                    ));
                } else {
                    out.push(f(
                        "targets",
                        Blocker,
                        format!(
                            "{} not connected to the orchestrator (PCP broker): check pxp-agent on \
{}; or give --nodes with the connected ones, or --no-run",
                            down.join(", "),
                            if down.len() == 1 { "it" } else { "them" }
                        ),
                    ));
                }
            }
            None => {}
        }
    } else if let (Some(Err(e)), false) = (&facts.orchestrator, opts.no_run) {
        if run_needed {
            out.push(f("orchestrator", Blocker, e.clone()));
        }
    }
    for s in &plan.steps {
        if let Step::Reload(r) = &s.step {
            if r.local && facts.service_manager.is_none() {
                out.push(f(
                    "reloads",
                    Blocker,
                    format!(
                        "{} must be reloaded here after the runs, but neither systemctl nor service \
is on PATH; fix PATH, or give --no-reload and reload it yourself",
                        r.service
                    ),
                ));
            }
        }
    }
    out
}
