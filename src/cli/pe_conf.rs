//! `opt-out`, `opt-in` and `check` on pe.conf.

use super::args::{ChangeArgs, CheckArgs, Format, OptInArgs, OptOutArgs, OutputArgs, PeConfLayer};
use super::Failure;
use crate::files::TextFile;
use crate::hocon::{Document, EditRules, HoconError};
use crate::output::report::{LayerReport, Report, SCHEMA};
use crate::output::{diff, Exit};
use crate::peconf::lint::{self, Analysis, Finding};
use crate::peconf::plan::{self, PlanError, Planned};
use crate::peconf::{syntax_for, DEFAULT_PE_CONF};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
    OptOut,
    OptIn { explicit: bool },
}

impl Goal {
    pub(super) fn command(self) -> &'static str {
        match self {
            Goal::OptOut => "opt-out",
            Goal::OptIn { .. } => "opt-in",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Goal::OptOut => "opt out",
            Goal::OptIn { .. } => "opt in",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Goal::OptOut => "opted out",
            Goal::OptIn { .. } => "opted in",
        }
    }
}

pub fn opt_out(args: &OptOutArgs) -> Result<Exit, Failure> {
    change(Goal::OptOut, &args.layer, &args.change, &args.output)
}

pub fn opt_in(args: &OptInArgs) -> Result<Exit, Failure> {
    change(
        Goal::OptIn {
            explicit: args.explicit,
        },
        &args.layer,
        &args.change,
        &args.output,
    )
}

pub(super) fn pe_conf_path(layer: &PeConfLayer) -> PathBuf {
    layer
        .pe_conf
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PE_CONF))
}

/// Reads and parses pe.conf; errors carry `FILE:LINE:COL`. `for_edit`: the
/// command is going to write it, so its edit lock is taken first (another
/// pe-analytics editing it is waited for, see [`TextFile::read_for_edit`]).
fn load(path: &Path, for_edit: bool) -> Result<(TextFile, Document), Failure> {
    let file = if for_edit {
        TextFile::read_for_edit(path)
    } else {
        TextFile::read(path)
    }
    .map_err(Failure::error)?;
    let doc = Document::parse_with(&file.text, syntax_for(path), EditRules::Improved)
        .map_err(|e| Failure::error(located(path, &e)))?;
    Ok((file, doc))
}

/// An engine error with the file's name in front (`pe.conf:3:7: ...`).
pub(super) fn located(path: &Path, e: &HoconError) -> String {
    format!("{}:{e}", path.display())
}

fn plan_failure(path: &Path, e: PlanError) -> Failure {
    match e {
        PlanError::Hocon(h) if h.is_syntax() => Failure::error(located(path, &h)),
        other => Failure::error(format!("{}: {other}", path.display())),
    }
}

fn change(
    goal: Goal,
    layer: &PeConfLayer,
    change: &ChangeArgs,
    output: &OutputArgs,
) -> Result<Exit, Failure> {
    let path = pe_conf_path(layer);
    let dry_run = change.dry_run || change.check;
    let run = || change_layer(goal, &path, change);
    match run() {
        Ok((exit, report, message)) => {
            match output.format {
                Format::Json => print_json(goal.command(), dry_run, vec![report], exit, None),
                Format::Text => print_layer_text(&path, change, &report, &message),
            }
            Ok(exit)
        }
        Err(failure) => fail(output.format, goal.command(), dry_run, failure),
    }
}

/// The text output of one pe.conf change: the diff (on a dry run, or with
/// `--diff`), the summary, then the findings on stderr.
pub(super) fn print_layer_text(
    path: &Path,
    change: &ChangeArgs,
    report: &LayerReport,
    message: &str,
) {
    if change.dry_run {
        print!("{}", report.diff);
        eprintln!("{message}");
    } else {
        if change.diff {
            print!("{}", report.diff);
        }
        println!("{message}");
    }
    print_findings(path, &report.findings);
}

/// Plans (and unless dry-running, makes) the change of one pe.conf; prints nothing.
pub(super) fn change_layer(
    goal: Goal,
    path: &Path,
    change: &ChangeArgs,
) -> Result<(Exit, LayerReport, String), Failure> {
    let path = path.to_path_buf();
    let dry_run = change.dry_run || change.check;
    {
        let (file, doc) = load(&path, !dry_run)?;
        let before = lint::analyze(&doc);
        let planned = match goal {
            Goal::OptOut => plan::opt_out(&file.text, doc.syntax()),
            Goal::OptIn { explicit } => plan::opt_in(&file.text, doc.syntax(), explicit),
        }
        .map_err(|e| plan_failure(&path, e))?;
        let diff = diff::unified(&path.display().to_string(), &planned.before, &planned.after);
        let changed = planned.changed();
        let mut report = layer_report(&path, &before, &planned, diff.clone());
        let (exit, message) = if !changed {
            (
                Exit::Ok,
                format!(
                    "{}: already {}; nothing written",
                    path.display(),
                    goal.done()
                ),
            )
        } else if dry_run {
            (
                Exit::Pending,
                format!(
                    "{}: would {} (now {}); nothing written",
                    path.display(),
                    goal.verb(),
                    before.state.describe()
                ),
            )
        } else {
            file.ensure_writable().map_err(Failure::error)?;
            if change.backup {
                let backup = file.backup(SystemTime::now()).map_err(Failure::error)?;
                report.backup = Some(backup.display().to_string());
            }
            let written = file
                .write(&planned.after.render())
                .map_err(Failure::error)?;
            report.written = true;
            let mut message = format!(
                "{}: {} (was {})",
                path.display(),
                goal.done(),
                before.state.describe()
            );
            for p in &written.removed_leftovers {
                message.push_str(&format!(
                    "\nremoved {}, left by an earlier run that was killed while writing",
                    p.display()
                ));
            }
            if let Some(b) = &report.backup {
                message.push_str(&format!("\nbackup: {b}"));
            }
            (Exit::Ok, message)
        };
        Ok((exit, report, message))
    }
}

pub fn check(args: &CheckArgs) -> Result<Exit, Failure> {
    let path = pe_conf_path(&args.layer);
    let run = || check_layer(&path);
    match run() {
        Ok((exit, report)) => {
            match args.output.format {
                Format::Json => print_json("check", true, vec![report], exit, None),
                Format::Text => {
                    if exit == Exit::Ok {
                        println!("{}: opted out", path.display());
                    } else {
                        println!(
                            "{}: not opted out: {}",
                            path.display(),
                            report.state.describe()
                        );
                    }
                    print_findings(&path, &report.findings);
                }
            }
            Ok(exit)
        }
        Err(failure) => fail(args.output.format, "check", true, failure),
    }
}

/// Checks one pe.conf; prints nothing.
pub(super) fn check_layer(path: &Path) -> Result<(Exit, LayerReport), Failure> {
    let path = path.to_path_buf();
    {
        let (_, doc) = load(&path, false)?;
        let analysis = lint::analyze(&doc);
        let unchanged = Planned {
            before: doc.clone(),
            after: doc,
            edits: Vec::new(),
        };
        let report = layer_report(&path, &analysis, &unchanged, String::new());
        let exit = if analysis.opted_out() {
            Exit::Ok
        } else {
            Exit::Pending
        };
        Ok((exit, report))
    }
}

fn layer_report(path: &Path, before: &Analysis, planned: &Planned, diff: String) -> LayerReport {
    let after = lint::analyze(&planned.after);
    LayerReport {
        layer: "pe.conf",
        path: path.display().to_string(),
        state: before.state,
        value: before.value.clone(),
        line: before.line,
        state_after: after.state,
        changes: planned.edits.clone(),
        diff,
        written: false,
        backup: None,
        findings: before.findings.clone(),
    }
}

pub(super) fn print_findings(path: &Path, findings: &[Finding]) {
    for f in findings {
        eprintln!(
            "warning: {}:{}:{}: {}{}",
            path.display(),
            f.line,
            f.column,
            f.message,
            if f.fixed_by_opt_out {
                " (opt-out fixes this)"
            } else {
                ""
            }
        );
    }
}

fn print_json(
    command: &str,
    dry_run: bool,
    layers: Vec<LayerReport>,
    exit: Exit,
    error: Option<String>,
) {
    let outcome = match (exit, command) {
        (Exit::Error, _) => "error",
        (Exit::Ok, "check") => "compliant",
        (Exit::Pending, "check") => "not-compliant",
        (Exit::Pending, _) => "pending",
        (Exit::Ok, _) if layers.iter().any(|l| l.written) => "done",
        _ => "unchanged",
    };
    let report = Report {
        schema: SCHEMA,
        command: command.to_string(),
        dry_run,
        layers: layers.into_iter().map(Into::into).collect(),
        outcome: outcome.to_string(),
        exit_code: exit.code(),
        error,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("the report serializes")
    );
}

/// Reports a failure; in JSON mode the report carries it too.
fn fail(format: Format, command: &str, dry_run: bool, failure: Failure) -> Result<Exit, Failure> {
    if format == Format::Json {
        print_json(
            command,
            dry_run,
            Vec::new(),
            failure.exit,
            Some(failure.message.clone()),
        );
    }
    Err(failure)
}
