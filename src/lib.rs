//! pe-analytics: opt a Puppet Enterprise installation out of (or back into)
//! analytics data collection, safely and verifiably.
//!
//! The library is organised by concern:
//! * [`hocon`]: a lossless HOCON document model that edits like ruby-hocon;
//! * [`files`]: atomic, owner- and mode-preserving file writes;
//! * [`peconf`]: what pe.conf means for analytics (lint, plan, secrets);
//! * [`pe`]: the HTTPS client of PE's APIs (node classifier) and the
//!   classifier opt-out logic;
//! * [`report`]: what PE's analytics collect (license file, PuppetDB
//!   queries, the report model and its text/JSON forms);
//! * [`cli`]: the command line (`src/main.rs` only calls [`cli::run`]).

pub mod cli;
pub mod enforce;
pub mod files;
pub mod hocon;
pub mod output;
pub mod pe;
pub mod peconf;
pub mod procedure;
pub mod report;
