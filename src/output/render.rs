//! The one renderer of an [`Outcome`]: text for people (results on stdout,
//! diagnostics on stderr, the same in every mode) and the JSON report.
//! Layers can be rendered one by one as they finish ([`layer_text`]), so a
//! long run shows each result when it is known.

use super::report::{Layer, LayerReport, Report, StatusRow, SCHEMA};
use crate::enforce::runs;
use crate::pe::classifier::{CLASS, PARAM};
use crate::procedure::outcome::Outcome;
use crate::procedure::plan::Step;
use crate::procedure::preflight::Severity;
use crate::procedure::{Goal, Mode};
use serde_json::Value;

/// Text for stdout and stderr.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub out: String,
    pub err: String,
}

impl Rendered {
    fn out(&mut self, line: impl AsRef<str>) {
        self.out.push_str(line.as_ref());
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }
    fn err(&mut self, line: impl AsRef<str>) {
        self.err.push_str(line.as_ref());
        if !self.err.ends_with('\n') {
            self.err.push('\n');
        }
    }
    fn extend(&mut self, other: Rendered) {
        self.out.push_str(&other.out);
        self.err.push_str(&other.err);
    }
}

/// How text is shown.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub goal: Goal,
    pub mode: Mode,
    /// `--check`: each layer's verdict line only.
    pub verdict_only: bool,
    /// `--diff`: also the diff of what was changed.
    pub show_diff: bool,
}

impl Style {
    pub fn of(o: &Outcome, show_diff: bool) -> Style {
        Style {
            goal: o.goal,
            mode: o.mode,
            verdict_only: o.verdict_only,
            show_diff,
        }
    }
}

/// The JSON report.
pub fn json(o: &Outcome) -> String {
    let report = Report {
        schema: SCHEMA,
        command: o.command.to_string(),
        dry_run: o.dry_run(),
        layers: o.layers.clone(),
        outcome: serde_json::to_value(o.word())
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        exit_code: o.exit.code(),
        error: o.error.clone(),
        plan: o.plan.clone(),
    };
    serde_json::to_string_pretty(&report).expect("the report serializes")
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(absent)".to_string(),
        Some(v) => v.to_string(),
    }
}

fn pe_conf_text(r: &LayerReport, s: Style) -> Rendered {
    let mut t = Rendered::default();
    let changed = !r.changes.is_empty();
    let line = match s.mode {
        Mode::Check => {
            if r.state == crate::peconf::lint::State::OptedOut {
                format!("{}: opted out", r.path)
            } else {
                format!("{}: not opted out: {}", r.path, r.state.describe())
            }
        }
        Mode::DryRun if changed => format!(
            "{}: would {} (now {}); nothing written",
            r.path,
            s.goal.verb(),
            r.state.describe()
        ),
        _ if r.written => {
            let mut m = format!("{}: {} (was {})", r.path, s.goal.done(), r.state.describe());
            if let Some(b) = &r.backup {
                m.push_str(&format!("\nbackup: {b}"));
            }
            m
        }
        Mode::Apply if changed => format!("{}: not written", r.path),
        _ => format!("{}: already {}; nothing written", r.path, s.goal.done()),
    };
    let diff = (s.mode == Mode::DryRun || (s.show_diff && r.written)) && !s.verdict_only;
    if diff && !r.diff.is_empty() {
        t.out.push_str(&r.diff);
    }
    t.out(line);
    for f in &r.findings {
        t.err(format!(
            "warning: {}:{}:{}: {}{}",
            r.path,
            f.line,
            f.column,
            f.message,
            if f.fixed_by_opt_out {
                " (opt-out fixes this)"
            } else {
                ""
            }
        ));
    }
    t
}

fn classifier_text(r: &crate::output::classifier::ClassifierLayerReport, s: Style) -> Rendered {
    let mut t = Rendered::default();
    let id = r
        .group
        .as_ref()
        .and_then(|g| g.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let where_ = format!("classifier: group \"PE Infrastructure\" ({id})");
    let value = r.value.as_ref().filter(|v| !v.is_null());
    let needs = s.goal.needs_change(value);
    match s.mode {
        Mode::Check => {
            if r.compliant {
                t.out(format!("{where_}: {}", s.goal.done()));
            } else if needs {
                t.out(format!(
                    "{where_}: not {}: {CLASS}::{PARAM} is {} ({})",
                    s.goal.done(),
                    show(value),
                    r.state.map(|x| x.describe()).unwrap_or_default()
                ));
            } else {
                t.out(format!(
                    "{where_}: not {}: overridden in other groups",
                    s.goal.done()
                ));
            }
        }
        Mode::DryRun => {
            if !s.verdict_only {
                if !r.diff.is_empty() {
                    t.out(r.diff.trim_end());
                }
                for q in &r.requests {
                    t.out("");
                    t.out(q.render().trim_end());
                }
            }
            t.out(if needs {
                format!(
                    "{where_}: would {} ({CLASS}::{PARAM} is now {}); nothing sent",
                    s.goal.verb(),
                    show(value)
                )
            } else {
                format!("{where_}: already {}; nothing to send", s.goal.done())
            });
        }
        Mode::Apply => {
            let after = r.value_after.as_ref().filter(|v| !v.is_null());
            if needs && r.written {
                t.out(format!(
                    "{where_}: {} ({CLASS}::{PARAM} was {}, now {}; verified by reading the group back)",
                    s.goal.done(),
                    show(value),
                    show(after)
                ));
            } else if needs && r.verified {
                t.out(format!(
                    "{where_}: {} by someone else's change meanwhile ({CLASS}::{PARAM} was {}, now {}); nothing written by this run",
                    s.goal.done(),
                    show(value),
                    show(after)
                ));
            } else if needs {
                t.out(format!("{where_}: not changed"));
            } else {
                t.out(format!(
                    "{where_}: already {}; nothing written",
                    s.goal.done()
                ));
            }
            for o in r.overrides.iter().filter(|o| o.removed) {
                t.out(format!(
                    "classifier: group \"{}\": removed {}.{}.{PARAM} (was {})",
                    o.group, o.section, o.class, o.value
                ));
            }
        }
    }
    t
}

fn plan_text(p: &crate::output::report::PlanReport, s: Style) -> Rendered {
    let mut t = Rendered::default();
    let runs = p.steps.iter().find_map(|x| match &x.step {
        Step::Run { nodes, command, .. } => Some((nodes.clone(), command.clone())),
        _ => None,
    });
    if p.reason == "--no-run" {
        if let Some((nodes, command)) = &runs {
            t.out(format!(
                "next: run Puppet on {} for the change to take effect: `{command}`",
                nodes.join(" and ")
            ));
        }
        for x in &p.steps {
            if let Step::Reload(r) = &x.step {
                t.out(format!(
                    "next: then, on {}, reload {}: `{}`",
                    r.node, r.service, r.command
                ));
            }
        }
        return t;
    }
    if s.mode == Mode::DryRun && !s.verdict_only {
        for x in &p.steps {
            t.out(format!("plan: {}", x.step.describe()));
        }
    } else if s.verdict_only {
        if let Some((nodes, _)) = &runs {
            t.out(format!("runs: would run Puppet on {}", nodes.join(", ")));
        }
    }
    if p.steps.is_empty() {
        t.out(format!("runs: no Puppet run needed: {}", p.reason));
    } else if s.mode == Mode::Apply {
        // The runs could not be started (the real run's plan entry).
        t.out(format!("runs: not run: {}", p.reason));
        if let Some((_, command)) = &runs {
            t.out(format!("runs: still to do: `{command}`"));
        }
    }
    t
}

fn reloads_text(r: &crate::enforce::plan::ReloadsReport) -> Rendered {
    let mut t = Rendered::default();
    if let Some(why) = &r.not_done {
        if !r.reloads.is_empty() {
            t.out(format!(
                "reloads: not done because {why}; after them, run: {}",
                r.reloads
                    .iter()
                    .map(|x| format!("`{}` (on {})", x.command, x.node))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return t;
    }
    for x in &r.reloads {
        if x.local && x.done {
            t.out(format!(
                "reloads: reloaded {} here (`{}`)",
                x.service, x.command
            ));
        } else if x.local {
            t.out(format!(
                "reloads: reloading {} here failed: {}; still to do: `{}`",
                x.service,
                x.error.clone().unwrap_or_default(),
                x.command
            ));
        } else {
            t.out(format!(
                "reloads: PE 2016.5.1: reload {} on {} (not this host): `{}`",
                x.service, x.node, x.command
            ));
        }
    }
    t
}

/// The text of one layer.
pub fn layer_text(layer: &Layer, s: Style) -> Rendered {
    match layer {
        Layer::PeConf(r) => pe_conf_text(r, s),
        Layer::Classifier(r) => classifier_text(r, s),
        Layer::Runs(r) => {
            let mut t = Rendered::default();
            for l in runs::describe(r) {
                t.out(l);
            }
            t
        }
        Layer::Reloads(r) => reloads_text(r),
        Layer::Plan(p) => plan_text(p, s),
        Layer::Status(_) => Rendered::default(),
    }
}

/// What follows the layers: the preflight (dry run), the notes and the
/// error line.
pub fn closing_text(o: &Outcome, notes_shown: bool) -> Rendered {
    let mut t = Rendered::default();
    if let (Some(p), Mode::DryRun, false) = (&o.plan, o.mode, o.verdict_only) {
        for f in &p.preflight {
            let tag = match f.severity {
                Severity::Ok => "ok",
                Severity::Warning => "warning",
                Severity::Blocker => "BLOCKED",
            };
            t.out(format!("preflight: {tag}: {}: {}", f.check, f.message));
        }
    }
    if !notes_shown {
        for n in &o.notes {
            t.err(n);
        }
    }
    if let Some(e) = &o.error {
        t.err(format!("error: {e}"));
    }
    t
}

/// The whole text of an outcome.
pub fn text(o: &Outcome, show_diff: bool) -> Rendered {
    let s = Style::of(o, show_diff);
    let mut t = Rendered::default();
    let blocked = o.plan.as_ref().is_some_and(|p| p.blocked) && o.mode == Mode::Apply;
    if o.command == "status" {
        t.extend(status_table(o));
    } else if !blocked {
        for l in &o.layers {
            t.extend(layer_text(l, s));
        }
    }
    t.extend(closing_text(o, false));
    t
}

/// `status`: one table, then the verdict.
fn status_table(o: &Outcome) -> Rendered {
    let rows: Vec<&StatusRow> = o
        .layers
        .iter()
        .filter_map(|l| match l {
            Layer::Status(r) => Some(r.as_ref()),
            _ => None,
        })
        .collect();
    let mut t = Rendered::default();
    let name = |r: &StatusRow| match &r.node {
        Some(n) => format!("{} ({n})", r.layer),
        None => r.layer.clone(),
    };
    let w1 = rows.iter().map(|r| name(r).len()).max().unwrap_or(5).max(5);
    let w2 = rows
        .iter()
        .map(|r| r.verdict.as_str().len())
        .max()
        .unwrap_or(7)
        .max(7);
    t.out(format!("{:w1$}  {:w2$}  WHY", "LAYER", "VERDICT"));
    for r in &rows {
        t.out(format!(
            "{:w1$}  {:w2$}  {}",
            name(r),
            r.verdict.as_str(),
            r.detail
        ));
    }
    t.out(match o.exit {
        crate::output::Exit::Ok => {
            "verdict: opted out (every layer that applies is proven compliant)"
        }
        crate::output::Exit::Pending => "verdict: NOT opted out",
        _ => "verdict: error",
    });
    t
}
