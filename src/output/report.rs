//! The JSON report every command prints with `--format json`: one stable,
//! documented object (README, "JSON output") for pipelines.

use crate::peconf::lint::{Finding, State};
use crate::peconf::plan::Edit;
use serde::Serialize;

/// Version of the report's shape; bumped only on incompatible changes.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    pub command: String,
    pub dry_run: bool,
    pub layers: Vec<Layer>,
    /// The overall verdict, one word: `done`, `unchanged`, `pending`,
    /// `compliant`, `not-compliant` or `error`.
    pub outcome: String,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `opt-out`, `opt-in`: the whole plan (pe.conf, classifier writes, runs,
    /// reloads), each step with its preconditions and what became of it, and
    /// the preflight's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::procedure::outcome::PlanSummary>,
}

/// What one layer (for now: one pe.conf) looked like and what changed.
#[derive(Clone, Debug, Serialize)]
pub struct LayerReport {
    pub layer: &'static str,
    pub path: String,
    /// The analytics setting before the command.
    pub state: State,
    /// The effective value as written, e.g. `false` or `"false"`.
    pub value: Option<String>,
    pub line: Option<usize>,
    /// The setting after the command (after the change, or as it would be).
    pub state_after: State,
    /// The key edits made (or that would be made).
    pub changes: Vec<Edit>,
    /// Unified diff of the change, secrets masked; empty when nothing changes.
    pub diff: String,
    pub written: bool,
    pub backup: Option<String>,
    pub findings: Vec<Finding>,
}

/// The report of `conf get|set|unset --format json`.
#[derive(Debug, Serialize)]
pub struct ConfReport {
    pub schema: u32,
    pub command: String,
    pub path: String,
    /// The KEY argument as given.
    pub key: String,
    /// `conf get`: whether the key is set, and its value (`"<redacted>"`
    /// for secrets without `--show-secrets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// `conf set|unset`: the edit (values of secret keys masked), the diff.
    pub changes: Vec<Edit>,
    pub diff: String,
    pub written: bool,
    pub backup: Option<String>,
    /// `found`, `not-set`, `done`, `unchanged`, `pending` or `error`.
    pub outcome: String,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ConfReport {
    pub fn new(command: &str, path: &std::path::Path, key: &str) -> ConfReport {
        ConfReport {
            schema: SCHEMA,
            command: command.to_string(),
            path: path.display().to_string(),
            key: key.to_string(),
            set: None,
            value: None,
            changes: Vec::new(),
            diff: String::new(),
            written: false,
            backup: None,
            outcome: String::new(),
            exit_code: 0,
            error: None,
        }
    }
}

/// One entry of `layers`: a pe.conf layer (as above) or the classifier
/// layer (`"layer": "classifier"`, see [`ClassifierLayerReport`]).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Layer {
    PeConf(LayerReport),
    Classifier(Box<ClassifierLayerReport>),
    /// `"layer": "runs"`: the Puppet runs after the classifier change.
    Runs(Box<crate::enforce::runs::RunsReport>),
    /// `"layer": "reloads"`: the PE version and the 2016.5.1 reloads.
    Reloads(Box<crate::enforce::plan::ReloadsReport>),
    /// `"layer": "plan"`: what a real run would still do (dry run), or
    /// what was skipped (`--no-run`).
    Plan(Box<PlanReport>),
    /// `"layer": "status"` rows of the `status` command.
    Status(Box<StatusRow>),
}

/// The enforcement steps (runs, reloads) of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanReport {
    pub layer: &'static str,
    pub steps: Vec<crate::procedure::plan::PlannedStep>,
    /// Why the steps are (or are not) needed.
    pub reason: String,
    pub executed: bool,
}

/// A status row's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Proven in the wanted state.
    Compliant,
    /// Not in the wanted state, or not proven to be.
    NotCompliant,
    /// The layer does not exist here.
    NotApplicable,
    /// The layer could not be read.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Compliant => "compliant",
            Verdict::NotCompliant => "not-compliant",
            Verdict::NotApplicable => "not-applicable",
            Verdict::Error => "error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `status`: a layer, whether it is compliant, and why.
#[derive(Clone, Debug, Serialize)]
pub struct StatusRow {
    pub layer: String,
    /// `compliant`, `not-compliant`, `not-applicable` or `error`.
    pub verdict: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

pub use super::classifier::ClassifierLayerReport;

impl From<LayerReport> for Layer {
    fn from(l: LayerReport) -> Layer {
        Layer::PeConf(l)
    }
}

impl From<ClassifierLayerReport> for Layer {
    fn from(l: ClassifierLayerReport) -> Layer {
        Layer::Classifier(Box::new(l))
    }
}
