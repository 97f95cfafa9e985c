//! What a command changes in a pe.conf: a list of key edits, applied one by
//! one to a working copy of the parsed document, then checked together: the
//! text they would write is parsed again from scratch and resolved, and must
//! mean the document before with exactly those keys changed
//! ([`crate::hocon::semantic::verify`]). Pure: documents in, documents out.

use super::lint::Analysis;
use super::{ANALYTICS_KEY, ANALYTICS_PATH, NESTED_ANALYTICS_PATH};
use crate::hocon::semantic::{self, Change, SemanticError};
use crate::hocon::{Document, EditRules, HoconError, Syntax, ValueKind};
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

/// The outcome of planning: the document before, and after (parsed from
/// the text that would be written, by the check).
#[derive(Clone, Debug)]
pub struct Planned {
    pub before: Document,
    pub after: Document,
    /// The edits that changed something, in order.
    pub edits: Vec<Edit>,
}

impl Planned {
    pub fn changed(&self) -> bool {
        !self.edits.is_empty()
    }
}

/// Edits applied to a working copy, and what the check will expect.
struct Session {
    before: Document,
    work: Document,
    /// The working copy's text after the last edit that changed it, as its
    /// length and a hash (a large file's text is not kept twice over).
    text: (usize, u64),
    /// Where the working copy is rendered, reused from edit to edit (a new
    /// buffer of a large file's size costs its pages).
    rendered: String,
    applied: Vec<Edit>,
    checks: Vec<(Vec<String>, String, bool)>,
}

/// A text's length and a hash of it, to tell whether an edit changed it.
fn fingerprint(text: &str) -> (usize, u64) {
    use std::hash::BuildHasher;
    (
        text.len(),
        foldhash::quality::FixedState::default().hash_one(text),
    )
}

impl Session {
    fn new(before: Document) -> Session {
        let work = before.clone();
        let text = fingerprint(&before.text());
        Session {
            before,
            work,
            text,
            rendered: String::new(),
            applied: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Applies one edit if it changes the text; returns whether it did.
    fn apply(&mut self, edit: &Edit) -> Result<bool, PlanError> {
        let (path, value) = match edit {
            Edit::Set { path, value } => {
                self.work.set(path, value)?;
                (path, Some(value))
            }
            Edit::Remove { path } => {
                self.work.remove(path)?;
                (path, None)
            }
        };
        self.rendered.clear();
        self.work.render_into(&mut self.rendered);
        let text = fingerprint(&self.rendered);
        if text == self.text {
            return Ok(false);
        }
        self.text = text;
        let elements = self.work.parse_path(path, self.work.syntax())?.elements;
        self.checks.push((
            elements,
            value.cloned().unwrap_or_default(),
            value.is_some(),
        ));
        self.applied.push(edit.clone());
        Ok(true)
    }

    /// Checks the edits together and hands the documents over.
    fn finish(self) -> Result<Planned, PlanError> {
        if self.applied.is_empty() {
            return Ok(Planned {
                before: self.before,
                after: self.work,
                edits: Vec::new(),
            });
        }
        let checks: Vec<(Vec<String>, Change)> = self
            .checks
            .iter()
            .map(|(path, value, set)| {
                let change = if *set {
                    Change::Set(value.as_str())
                } else {
                    Change::Remove
                };
                (path.clone(), change)
            })
            .collect();
        // The text to write: the working copy's last rendering (an edit that
        // changed nothing left it as it was). The copy is not needed then.
        drop(self.work);
        let after = semantic::verify_owned(&self.before, self.rendered, &checks)?;
        Ok(Planned {
            before: self.before,
            after,
            edits: self.applied,
        })
    }
}

/// Applies `edits` to a parsed document, checking them.
pub fn apply_to(before: Document, edits: &[Edit]) -> Result<Planned, PlanError> {
    let mut session = Session::new(before);
    for edit in edits {
        session.apply(edit)?;
    }
    session.finish()
}

/// Applies `edits` to `text`, checking them.
pub fn apply(text: &str, syntax: Syntax, edits: &[Edit]) -> Result<Planned, PlanError> {
    apply_to(
        Document::parse_with(text, syntax, EditRules::Improved)?,
        edits,
    )
}

/// The edits that opt a pe.conf out: misleading nested or dotted spellings
/// of the key go (and a `puppet_enterprise { }` left empty by that), and the
/// real key becomes the boolean `false` (duplicates and string values are
/// replaced by the set itself).
pub fn opt_out_document(before: Document) -> Result<Planned, PlanError> {
    let analysis = super::lint::analyze(&before);
    opt_out_analysed(before, &analysis)
}

/// [`opt_out_document`], with the document's analysis at hand (it tells
/// whether there is a nested or dotted spelling to remove at all).
pub fn opt_out_analysed(before: Document, analysis: &Analysis) -> Result<Planned, PlanError> {
    // `key += x` would stay `+=` under a set (ruby-hocon keeps separators),
    // which appends instead of setting: such fields go first. They are root
    // fields (values kept lazily hold no `+=`).
    let mut appends = false;
    before.walk_fields(&|_| false, &mut |f| {
        appends |= f.path.len() == 1 && f.path[0] == ANALYTICS_KEY && f.separator == Some("+=");
    });
    let mut session = Session::new(before);
    let nested = analysis.nested_setting
        && session.apply(&Edit::Remove {
            path: NESTED_ANALYTICS_PATH.into(),
        })?;
    if appends {
        session.apply(&Edit::Remove {
            path: ANALYTICS_PATH.into(),
        })?;
    }
    if nested && puppet_enterprise_is_empty(&session.work, &session.rendered) {
        session.apply(&Edit::Remove {
            path: "puppet_enterprise".into(),
        })?;
    }
    session.apply(&Edit::Set {
        path: ANALYTICS_PATH.into(),
        value: "false".into(),
    })?;
    session.finish()
}

/// [`opt_out_document`] on text.
pub fn opt_out(text: &str, syntax: Syntax) -> Result<Planned, PlanError> {
    opt_out_document(Document::parse_with(text, syntax, EditRules::Improved)?)
}

/// The edit that opts a pe.conf back in: the key is removed, so PE's default
/// (true) applies; with `explicit`, it is set to `true` instead.
pub fn opt_in_edit(explicit: bool) -> Edit {
    if explicit {
        Edit::Set {
            path: ANALYTICS_PATH.into(),
            value: "true".into(),
        }
    } else {
        Edit::Remove {
            path: ANALYTICS_PATH.into(),
        }
    }
}

/// [`opt_in_edit`] applied to `text`.
pub fn opt_in(text: &str, syntax: Syntax, explicit: bool) -> Result<Planned, PlanError> {
    apply(text, syntax, &[opt_in_edit(explicit)])
}

/// Whether the document (whose text is `text`) has `puppet_enterprise`
/// objects and nothing in any of them: no field, no include.
fn puppet_enterprise_is_empty(doc: &Document, text: &str) -> bool {
    let mut found = false;
    let mut empty = true;
    let could_hold = |t: &str| t.contains("puppet_enterprise") || t.contains('\\');
    doc.walk_fields(&could_hold, &mut |f| {
        if f.path.first().is_none_or(|k| k != "puppet_enterprise") {
            return;
        }
        found = true;
        if f.path.len() > 1 || f.value_kind != ValueKind::Object {
            empty = false;
            return;
        }
        // Its value on its own (a value kept lazily was not walked into).
        let inner = &text[f.value_span.0..f.value_span.1];
        let has_content = Document::parse(inner).map_or(true, |d| {
            let mut any = !d.includes().is_empty();
            d.walk_fields(&|_| true, &mut |_| any = true);
            any
        });
        if has_content {
            empty = false;
        }
    });
    found && empty
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
    fn a_puppet_enterprise_object_with_anything_left_stays() {
        for text in [
            "puppet_enterprise { send_analytics_data = false, x: 1 }\n",
            "puppet_enterprise { send_analytics_data = false }\npuppet_enterprise { y: [1] }\n",
            "puppet_enterprise { send_analytics_data = false, include \"x.conf\" }\n",
        ] {
            let planned = opt_out(text, Syntax::Conf).unwrap();
            assert!(
                planned.after.render().contains("puppet_enterprise {"),
                "{text}: {}",
                planned.after.render()
            );
            assert_eq!(planned.edits.len(), 2, "{text}");
        }
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
