//! How results are shown: exit codes, unified diffs with secrets masked, the
//! JSON report, and the one renderer of an outcome ([`render`]).

pub mod classifier;
pub mod diff;
pub mod render;
pub mod report;

/// The process exit codes (a contract; see `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Exit {
    /// Done, or already in the wanted state.
    Ok = 0,
    /// An error: nothing was written.
    Error = 1,
    /// Changes pending (dry run, check) or not opted out.
    Pending = 2,
    /// The key is not set (`conf get`).
    NotSet = 3,
    /// The change was made but enforcement failed (a run failed or timed
    /// out, a node was not connected, a reload failed).
    Enforce = 4,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}
