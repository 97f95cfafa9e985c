//! Talking to a running Puppet Enterprise: the HTTPS client of PE's APIs and
//! what the node classifier (NC) says about analytics.
//!
//! * [`http`]: one blocking HTTPS client that trusts only the PE CA, presents
//!   the agent certificate and/or an RBAC token, with timeouts and bounded
//!   retries of requests that are safe to repeat;
//! * [`error`]: PE's `{kind, msg, details}` errors turned into advice;
//! * [`identity`]: this host's certname and ssldir, from puppet.conf;
//! * [`config`]: where the URLs, CA, certificate, key and token come from
//!   (flags, environment, client-tools files, Puppet's own defaults);
//! * [`classifier`]: the PE Infrastructure group, its analytics parameter,
//!   overrides elsewhere, and the one-key deltas that change them.
//!
//! This module shares no code with `pe-sim`: the simulator's shapes are
//! written separately from the PE documentation so that it can catch ours.

pub mod classifier;
pub mod config;
pub mod error;
pub mod http;
pub mod identity;
pub mod orchestrator;
pub mod puppetdb;

pub use error::PeError;
pub use http::{PeHttp, Secret};
