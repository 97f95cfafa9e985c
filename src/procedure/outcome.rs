//! One model of what a command found and did: per-layer results, the plan's
//! steps with what became of each, the preflight, the messages and the exit
//! code. `crate::output` renders it as text or JSON; nothing else decides
//! an exit code or an outcome word.

use super::plan::{Plan, PlannedStep};
use super::preflight::Finding;
use super::{Goal, Mode, Options};
use crate::output::report::Layer;
use crate::output::Exit;
use crate::peconf::lint::State;
use serde::Serialize;

/// The overall outcome, one word (a contract: `outcome` in the JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Word {
    /// A change was made.
    Done,
    /// Already in the wanted state; nothing written.
    Unchanged,
    /// Changes pending (dry run), or not in the wanted state after the run.
    Pending,
    /// `check`, `status`: in the wanted state.
    Compliant,
    NotCompliant,
    /// The change was made, the Puppet runs or reloads failed.
    EnforcementFailed,
    Error,
}

/// What became of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    /// Not executed: a dry run, `--check`, or a blocked preflight.
    Planned,
    Done,
    Failed,
    /// Not run because an earlier step failed.
    Skipped,
}

/// A step of the plan and its fate.
#[derive(Clone, Debug, Serialize)]
pub struct StepOutcome {
    #[serde(flatten)]
    pub planned: PlannedStep,
    pub state: StepState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The plan in the report: every step with its preconditions and state, and
/// the preflight's findings.
#[derive(Clone, Debug, Serialize)]
pub struct PlanSummary {
    pub steps: Vec<StepOutcome>,
    /// Left for later (`--no-run`).
    pub deferred: Vec<PlannedStep>,
    /// Why Puppet runs are (or are not) part of the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_reason: Option<String>,
    pub preflight: Vec<Finding>,
    pub blocked: bool,
    pub executed: bool,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub command: &'static str,
    pub goal: Goal,
    pub mode: Mode,
    pub verdict_only: bool,
    pub layers: Vec<Layer>,
    /// The plan (opt-out, opt-in), absent for `check` and `status`.
    pub plan: Option<PlanSummary>,
    /// Diagnostics (warnings, notes): shown on stderr.
    pub notes: Vec<String>,
    pub error: Option<String>,
    pub exit: Exit,
}

/// The more serious of two exit codes: error, enforcement failed, pending, ok.
pub fn worst(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Ok => 0,
        Exit::NotSet => 1,
        Exit::Pending => 2,
        Exit::Enforce => 3,
        Exit::Error => 4,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl Outcome {
    pub fn new(opts: &Options, plan: &Plan) -> Outcome {
        let command = match opts.mode {
            Mode::Check => "check",
            _ => opts.goal.command(),
        };
        let summary = (opts.mode != Mode::Check).then(|| PlanSummary {
            steps: plan
                .steps
                .iter()
                .map(|s| StepOutcome {
                    planned: s.clone(),
                    state: StepState::Planned,
                    detail: None,
                })
                .collect(),
            deferred: plan.deferred.clone(),
            runs_reason: plan.runs.as_ref().map(|r| r.reason.clone()),
            preflight: plan.findings.clone(),
            blocked: plan.blocked(),
            executed: false,
        });
        Outcome {
            command,
            goal: opts.goal,
            mode: opts.mode,
            verdict_only: opts.verdict_only,
            layers: Vec::new(),
            plan: summary,
            notes: Vec::new(),
            error: None,
            exit: Exit::Ok,
        }
    }

    /// An outcome that is only an error (no layer could be worked on).
    pub fn failed(command: &'static str, goal: Goal, mode: Mode, message: String) -> Outcome {
        Outcome {
            command,
            goal,
            mode,
            verdict_only: false,
            layers: Vec::new(),
            plan: None,
            notes: Vec::new(),
            error: Some(message),
            exit: Exit::Error,
        }
    }

    /// `status`: its rows, exit code and error.
    pub fn status(
        rows: Vec<crate::output::report::StatusRow>,
        exit: Exit,
        error: Option<String>,
    ) -> Outcome {
        Outcome {
            command: "status",
            goal: Goal::OptOut,
            mode: Mode::Check,
            verdict_only: false,
            layers: rows
                .into_iter()
                .map(|r| Layer::Status(Box::new(r)))
                .collect(),
            plan: None,
            notes: Vec::new(),
            error,
            exit,
        }
    }

    pub fn dry_run(&self) -> bool {
        self.mode != Mode::Apply
    }

    /// Step `i` ended in `state`.
    pub fn step(&mut self, i: usize, state: StepState, detail: Option<String>) {
        if let Some(p) = self.plan.as_mut() {
            p.executed = true;
            if let Some(s) = p.steps.get_mut(i) {
                s.state = state;
                s.detail = detail;
            }
        }
    }

    pub fn raise(&mut self, exit: Exit) {
        self.exit = worst(self.exit, exit);
    }

    /// The first error message stays (it names the cause).
    pub fn error_once(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    /// A step failed: the ones from `from` on are skipped.
    pub fn fail(mut self, exit: Exit, message: String, from: usize) -> Outcome {
        if let Some(p) = self.plan.as_mut() {
            for s in p.steps.iter_mut().skip(from) {
                if s.state == StepState::Planned {
                    s.state = StepState::Skipped;
                }
            }
        }
        self.raise(exit);
        self.error_once(message);
        self
    }

    pub fn wrote_pe_conf(&self) -> bool {
        self.layers
            .iter()
            .any(|l| matches!(l, Layer::PeConf(r) if r.written))
    }

    /// After a real run.
    pub fn finish(&mut self) {}

    /// The exit code of a plan that was not executed: blocked 1; `check`:
    /// not compliant 2; a dry run: something would change 2.
    pub fn finish_not_executed(&mut self, plan: &Plan) {
        if let Some(b) = plan.blockers() {
            self.raise(Exit::Error);
            self.error_once(b);
            return;
        }
        if self.mode == Mode::Check {
            let pe_ok = plan
                .pe_conf
                .as_ref()
                .is_none_or(|p| p.report.state == State::OptedOut);
            let cl_ok = plan.classifier.as_ref().is_none_or(|c| c.compliant);
            if !(pe_ok && cl_ok) {
                self.raise(Exit::Pending);
            }
        } else if plan.pending() || plan.defeating_overrides() > 0 {
            self.raise(Exit::Pending);
        }
        if let Some(c) = &plan.classifier {
            for o in c.overrides.iter().filter(|o| o.defeats) {
                let fixing = self.mode == Mode::DryRun
                    && plan.writes.iter().any(|w| {
                        w.override_index
                            .is_some_and(|i| c.overrides.get(i) == Some(o))
                    });
                self.notes
                    .push(super::execute::override_warning(o, self.goal, fixing));
            }
        }
    }

    /// The outcome word.
    pub fn word(&self) -> Word {
        let written = self.layers.iter().any(|l| match l {
            Layer::PeConf(r) => r.written,
            Layer::Classifier(r) => r.written,
            _ => false,
        });
        let check = matches!(self.command, "check" | "status");
        match (self.exit, check) {
            (Exit::Error, _) => Word::Error,
            (Exit::Ok, true) => Word::Compliant,
            (Exit::Pending, true) => Word::NotCompliant,
            (Exit::Pending, false) => Word::Pending,
            (Exit::Enforce, _) => Word::EnforcementFailed,
            (Exit::Ok, false) if written => Word::Done,
            _ => Word::Unchanged,
        }
    }
}
