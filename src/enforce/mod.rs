//! Enforcing the opt-out on an installed PE: which PE version this is and
//! what it needs (the 2016.5.1 reloads), Puppet runs through the
//! orchestrator, and the plan that both `--dry-run` and the real run follow.
//! This host's certname comes from [`crate::pe::identity`].

pub mod plan;
pub mod reload;
pub mod runs;
pub mod signal;
pub mod version;
