//! What the user asked for: opted out, or opted back in. One type for every
//! layer (pe.conf, the classifier) and every message.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    OptOut,
    /// `explicit`: write `true` instead of removing the setting.
    OptIn {
        explicit: bool,
    },
}

impl Goal {
    /// The command's name (`opt-out`, `opt-in`).
    pub fn command(self) -> &'static str {
        match self {
            Goal::OptOut => "opt-out",
            Goal::OptIn { .. } => "opt-in",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Goal::OptOut => "opt out",
            Goal::OptIn { .. } => "opt in",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Goal::OptOut => "opted out",
            Goal::OptIn { .. } => "opted in",
        }
    }

    /// The classifier parameter's wanted value (`None`: absent).
    pub fn wanted(self) -> Option<Value> {
        match self {
            Goal::OptOut => Some(Value::Bool(false)),
            Goal::OptIn { explicit: true } => Some(Value::Bool(true)),
            Goal::OptIn { explicit: false } => None,
        }
    }

    /// Whether the classifier value `current` must change.
    pub fn needs_change(self, current: Option<&Value>) -> bool {
        match self {
            Goal::OptOut => current != Some(&Value::Bool(false)),
            Goal::OptIn { explicit: true } => current != Some(&Value::Bool(true)),
            // Absent or `true` is opted in; anything else is removed.
            Goal::OptIn { explicit: false } => {
                current.is_some() && current != Some(&Value::Bool(true))
            }
        }
    }

    /// Whether an override with this value defeats the goal.
    pub fn defeated_by(self, value: &Value) -> bool {
        match self {
            Goal::OptOut => value != &Value::Bool(false),
            Goal::OptIn { .. } => value != &Value::Bool(true),
        }
    }
}
