//! The classifier layer's entry in the JSON report (`"layer": "classifier"`).

use crate::pe::classifier::{Override, PlannedRequest};
use crate::peconf::lint::State;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, Serialize)]
pub struct ClassifierLayerReport {
    pub layer: &'static str,
    /// The classifier API base URL and how it was found.
    #[serde(serialize_with = "crate::peconf::secrets::serialize_masked_url")]
    pub url: String,
    pub url_source: String,
    /// Credentials sent: `token`, `certificate`.
    pub auth: Vec<&'static str>,
    /// The PE Infrastructure group: `{id, name, environment, serial_number}`.
    pub group: Option<Value>,
    /// `send_analytics_data` of `puppet_enterprise` before the command.
    pub state: Option<State>,
    /// Its raw JSON value (`null` when absent).
    pub value: Option<Value>,
    /// After the command (after the change, or as it would be).
    pub state_after: Option<State>,
    pub value_after: Option<Value>,
    /// The write sent (or, with --dry-run/--check, that would be sent).
    pub requests: Vec<PlannedRequest>,
    /// Key-level diff of the group(s), before -> after; empty when nothing changes.
    pub diff: String,
    pub written: bool,
    /// The group was read back after the write and holds the wanted value.
    pub verified: bool,
    /// `send_analytics_data` on profile::master / profile::console in any group.
    pub overrides: Vec<Override>,
    /// Whether PE is opted out (for `check`) or in the wanted state, overrides included.
    pub compliant: bool,
    /// HTTP requests sent to the classifier (retries included).
    pub nc_requests: u32,
    pub retries: u32,
    pub conflicts: u32,
    pub updated_classes: bool,
    /// Nodes that need a Puppet run for the change to take effect.
    pub run_puppet_on: Vec<String>,
}

impl ClassifierLayerReport {
    pub fn new(url: String, url_source: String) -> ClassifierLayerReport {
        ClassifierLayerReport {
            layer: "classifier",
            url,
            url_source,
            auth: Vec::new(),
            group: None,
            state: None,
            value: None,
            state_after: None,
            value_after: None,
            requests: Vec::new(),
            diff: String::new(),
            written: false,
            verified: false,
            overrides: Vec::new(),
            compliant: false,
            nc_requests: 0,
            retries: 0,
            conflicts: 0,
            updated_classes: false,
            run_puppet_on: Vec::new(),
        }
    }
}
