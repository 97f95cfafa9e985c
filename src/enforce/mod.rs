//! Enforcing the opt-out on an installed PE: which PE version this is and
//! what it needs (the 2016.5.1 reloads). This host's certname comes from
//! [`crate::pe::config::discover_certname`].

pub mod reload;
pub mod version;
