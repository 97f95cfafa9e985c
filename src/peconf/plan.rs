//! What a command changes in a pe.conf: a list of key edits, applied to the
//! document one by one, each verified by resolving the text before and after
//! (an independent HOCON implementation) so that nothing but the edited key
//! changes meaning. Pure: text in, text out.

use super::{ANALYTICS_PATH, NESTED_ANALYTICS_PATH};
use crate::hocon::semantic::{self, Change, SemanticError};
use crate::hocon::{Document, EditRules, HoconError, Syntax};
use serde::Serialize;
use thiserror::Error;

/// One key edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// Set the path expression `path` to the HOCON value text `value`.
    Set { path: String, value: String },
    /// Remove every field for `path`.
    Remove { path: String },
}

#[derive(Debug, Error)]
pub enum PlanError {
    #[error(transparent)]
    Hocon(#[from] HoconError),
    #[error("refusing to write: {0}")]
    Semantic(#[from] SemanticError),
}

/// The outcome of planning: the text before and after.
#[derive(Clone, Debug)]
pub struct Planned {
    pub before: Document,
    pub after: Document,
    /// The edits that changed something, in order.
    pub edits: Vec<Edit>,
}

impl Planned {
    pub fn changed(&self) -> bool {
        self.before.render() != self.after.render()
    }
}

/// Applies `edits` to `text`, verifying each.
pub fn apply(text: &str, syntax: Syntax, edits: &[Edit]) -> Result<Planned, PlanError> {
    let before = Document::parse_with(text, syntax, EditRules::Improved)?;
    let mut doc = before.clone();
    let mut applied = Vec::new();
    for edit in edits {
        if apply_one(&mut doc, edit)? {
            applied.push(edit.clone());
        }
    }
    Ok(Planned {
        before,
        after: doc,
        edits: applied,
    })
}

/// Applies one edit if it changes the text; returns whether it did.
fn apply_one(doc: &mut Document, edit: &Edit) -> Result<bool, PlanError> {
    let old = doc.render();
    let mut next = doc.clone();
    let (path, change) = match edit {
        Edit::Set { path, value } => {
            next.set(path, value)?;
            (path, Change::Set(value))
        }
        Edit::Remove { path } => {
            next.remove(path)?;
            (path, Change::Remove)
        }
    };
    let new = next.render();
    if new == old {
        return Ok(false);
    }
    let elements = doc.parse_path(path, doc.syntax())?.elements;
    semantic::verify_edit(&old, &new, doc.syntax(), &elements, change)?;
    *doc = next;
    Ok(true)
}

/// The edits that opt a pe.conf out: misleading nested or dotted spellings
/// of the key go (and a `puppet_enterprise { }` left empty by that), and the
/// real key becomes the boolean `false` (duplicates and string values are
/// replaced by the set itself).
pub fn opt_out(text: &str, syntax: Syntax) -> Result<Planned, PlanError> {
    let mut first = vec![Edit::Remove {
        path: NESTED_ANALYTICS_PATH.into(),
    }];
    // `key += x` would stay `+=` under a set (ruby-hocon keeps separators),
    // which appends instead of setting: take such fields out first.
    let doc = Document::parse_with(text, syntax, EditRules::Improved)?;
    let appends = doc
        .fields()
        .iter()
        .any(|f| f.path == [super::ANALYTICS_KEY] && f.separator.as_deref() == Some("+="));
    if appends {
        first.push(Edit::Remove {
            path: ANALYTICS_PATH.into(),
        });
    }
    let mut planned = apply(text, syntax, &first)?;
    if !planned.edits.is_empty() && puppet_enterprise_is_empty(&planned.after) {
        let remove_parent = Edit::Remove {
            path: "puppet_enterprise".into(),
        };
        if apply_one(&mut planned.after, &remove_parent)? {
            planned.edits.push(remove_parent);
        }
    }
    let set = Edit::Set {
        path: ANALYTICS_PATH.into(),
        value: "false".into(),
    };
    if apply_one(&mut planned.after, &set)? {
        planned.edits.push(set);
    }
    Ok(planned)
}

/// The edits that opt a pe.conf back in: the key is removed, so PE's default
/// (true) applies; with `explicit`, it is set to `true` instead.
pub fn opt_in(text: &str, syntax: Syntax, explicit: bool) -> Result<Planned, PlanError> {
    let edit = if explicit {
        Edit::Set {
            path: ANALYTICS_PATH.into(),
            value: "true".into(),
        }
    } else {
        Edit::Remove {
            path: ANALYTICS_PATH.into(),
        }
    };
    apply(text, syntax, &[edit])
}

/// Whether the document has a `puppet_enterprise` object with nothing in it.
fn puppet_enterprise_is_empty(doc: &Document) -> bool {
    let fields = doc.fields();
    let own: Vec<_> = fields
        .iter()
        .filter(|f| f.path.first().is_some_and(|k| k == "puppet_enterprise"))
        .collect();
    !own.is_empty()
        && own
            .iter()
            .all(|f| f.path.len() == 1 && f.value_kind == crate::hocon::ValueKind::Object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_replaces_strings_and_duplicates_and_nested_keys() {
        let text = "{\n  \"puppet_enterprise::send_analytics_data\": true\n  puppet_enterprise { send_analytics_data = false }\n  \"a::b\": 1\n  \"puppet_enterprise::send_analytics_data\": \"false\"\n}\n";
        let planned = opt_out(text, Syntax::Conf).unwrap();
        assert_eq!(
            planned.after.render(),
            "{\n  \"a::b\": 1\n  \"puppet_enterprise::send_analytics_data\": false\n}\n"
        );
        assert_eq!(planned.edits.len(), 3);
    }

    #[test]
    fn opt_out_replaces_an_append() {
        let planned = opt_out(
            "a: 1\n\"puppet_enterprise::send_analytics_data\" += true\n",
            Syntax::Conf,
        )
        .unwrap();
        assert_eq!(
            planned.after.render(),
            "a: 1\n\"puppet_enterprise::send_analytics_data\": false\n"
        );
    }

    #[test]
    fn opt_out_is_a_fixed_point() {
        let text = "\"puppet_enterprise::send_analytics_data\": false\n";
        let planned = opt_out(text, Syntax::Conf).unwrap();
        assert!(!planned.changed());
        assert!(planned.edits.is_empty());
    }

    #[test]
    fn opt_in_removes_or_sets_true() {
        let text = "a: 1\n\"puppet_enterprise::send_analytics_data\": false\n";
        assert_eq!(
            opt_in(text, Syntax::Conf, false).unwrap().after.render(),
            "a: 1\n"
        );
        assert_eq!(
            opt_in(text, Syntax::Conf, true).unwrap().after.render(),
            "a: 1\n\"puppet_enterprise::send_analytics_data\": true\n"
        );
    }
}
