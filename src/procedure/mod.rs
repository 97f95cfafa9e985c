//! The whole opt-out (or opt-in) procedure as one value: gather the facts,
//! make the plan, check that every step can run, execute exactly the
//! planned steps, and describe what happened in one outcome.
//!
//! * [`facts`]: everything the plan depends on, read once, up front (pe.conf,
//!   the classifier's groups, the PE version, the orchestrator's inventory
//!   and job history, the credentials);
//! * [`plan`]: `plan(facts, options)`, pure: the steps (pe.conf edit,
//!   classifier writes, the Puppet run, the 2016.5.1 reloads), each with its
//!   preconditions, and the preflight findings ([`preflight`]) that say
//!   whether they can all run. `--dry-run` renders this value;
//! * [`execute`]: runs the plan's steps in order, and nothing else, reporting
//!   each through [`Progress`] (the library never prints);
//! * [`outcome`]: per-layer results, the exit code, the messages: one model
//!   that `crate::output` renders as text or JSON;
//! * [`lock`]: one writing run at a time on a host;
//! * [`applied`] and [`status`]: whether a change has reached the nodes
//!   (PuppetDB's catalogs and reports, the orchestrator's job history);
//! * [`context`]: this host and the connection, built once per command.

pub mod applied;
pub mod context;
pub mod execute;
pub mod facts;
pub mod goal;
pub mod lock;
pub mod outcome;
pub mod plan;
pub mod preflight;
pub mod status;
pub mod timestamp;

pub use context::Context;
pub use execute::{execute, Progress, Silent};
pub use facts::{gather, Facts};
pub use goal::Goal;
pub use outcome::Outcome;
pub use plan::{plan, Plan};

use std::path::PathBuf;
use std::time::Duration;

/// What the command is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Make the change (opt-out, opt-in).
    Apply,
    /// Show the plan, write nothing (`--dry-run`, `--check` of opt-out/opt-in).
    DryRun,
    /// The `check` command: is each configured layer in the wanted state?
    Check,
}

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct Options {
    pub goal: Goal,
    pub mode: Mode,
    /// `--check` of opt-out/opt-in: show only the verdict.
    pub verdict_only: bool,
    /// pe.conf, when that layer applies.
    pub pe_conf: Option<PathBuf>,
    /// The classifier layer (and its runs and reloads).
    pub classifier: bool,
    pub fix_overrides: bool,
    /// `--nodes`: the run's targets instead of the ones the classifier names.
    pub nodes: Vec<String>,
    pub no_run: bool,
    pub no_reload: bool,
    pub backup: bool,
    pub wait_timeout: Duration,
    pub pe_version: Option<String>,
    pub pe_version_file: PathBuf,
    /// Where the host lock lives (`None`: [`lock::default_path`]).
    pub lock_file: Option<PathBuf>,
}
