//! Enforcing the opt-out on an installed PE: which PE version this is and
//! what it needs (the 2016.5.1 reloads), and which host this is.

pub mod host;
pub mod reload;
pub mod version;
