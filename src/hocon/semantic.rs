//! The check that stops a write whose meaning differs anywhere but the
//! edited keys: the document before the edit is resolved from the tree it
//! was parsed into; the text the edit would write is parsed again from
//! scratch and resolved; the two must be equal everywhere except at the
//! edited paths, and a set path must hold the value that was set.
//!
//! Why this catches the editor's mistakes although the project's own parser
//! and resolver do the reading (the README, "How pe.conf is edited", has
//! the argument in full): the editor works on the tree, in place; the check
//! reads only the bytes that would be written, with none of the editor's
//! state, so a key written in the wrong place, a value that reads
//! differently, a neighbour disturbed or text that no longer parses all show
//! up as a difference. The parser is checked byte for byte against
//! ruby-hocon and the resolver against ruby-hocon and `hocon-parser`
//! (tests/resolve_oracles.rs, fuzz target `resolve`).

use super::resolve::{self, same, Value};
use super::{Document, EditRules, Syntax};
use serde_json::Value as Json;
use std::rc::Rc;
use thiserror::Error;

/// What an edit was meant to do at its path.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// Set the path to this HOCON value text.
    Set(&'a str),
    Remove,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SemanticError {
    #[error("the file does not resolve as HOCON, so the edit cannot be verified: {0}")]
    Unresolvable(String),
    #[error("the edited text does not resolve as HOCON: {0}")]
    EditedUnresolvable(String),
    #[error("after the edit, {path} would {what}; only the edited key may change")]
    Mismatch { path: String, what: String },
}

/// Resolves a document's text to JSON. Includes are not followed (they stand
/// for files this text does not contain); substitutions resolve within the
/// document, then from the environment, as HOCON specifies.
pub fn resolve(text: &str, syntax: Syntax) -> Result<Json, String> {
    resolve::text(text, syntax)
}

/// Resolves a file as PE would read it: includes are followed, relative to
/// the file's directory (missing ones are skipped, as HOCON specifies).
pub fn resolve_file(path: &std::path::Path) -> Result<Json, String> {
    resolve::file(path)
}

/// The JSON value at `path`, if there is one.
pub fn value_at<'v>(value: &'v Json, path: &[String]) -> Option<&'v Json> {
    path.iter()
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// Checks that `after`, the text an edit of `before` would write, means
/// `before` with each of `edits` (paths as key elements, in the order they
/// were made) applied and nothing else changed. Returns `after` parsed (from
/// scratch), which is what will be written.
pub fn verify(
    before: &Document,
    after: &str,
    edits: &[(Vec<String>, Change)],
) -> Result<Document, SemanticError> {
    let old = resolve::document(before).map_err(SemanticError::Unresolvable)?;
    let parsed = Document::parse_with(after, before.syntax(), EditRules::Improved)
        .map_err(|e| SemanticError::EditedUnresolvable(e.to_string()))?;
    {
        let new = resolve::document(&parsed).map_err(SemanticError::EditedUnresolvable)?;
        let new = new.root();
        let mut expected = old.into_root();
        for (path, change) in edits {
            let shown = path.join(".");
            match change {
                Change::Set(text) => {
                    let target = value_at_path(new, path);
                    // The value on its own, where it does not refer to the document.
                    if let Ok(doc) = Document::parse(&format!("x: {text}")) {
                        if let Ok(alone) = resolve::document(&doc) {
                            let alone = alone.root().get("x");
                            let holds = match (&alone, &target) {
                                (Some(a), Some(t)) => same(a, t),
                                (None, None) => true,
                                _ => false,
                            };
                            if !holds {
                                return Err(SemanticError::Mismatch {
                                    path: shown,
                                    what: "not hold the value that was set".into(),
                                });
                            }
                        }
                    }
                    match target {
                        Some(v) => set_path(&mut expected, path, v),
                        None => remove_path(&mut expected, path),
                    }
                }
                Change::Remove => {
                    remove_path(&mut expected, path);
                    // A parent that only existed through dotted keys under the
                    // removed path (`a.b: 1`) goes with them.
                    prune_emptied_parents(&mut expected, new, path);
                }
            }
        }
        if let Some((at, what)) = first_difference(&expected, new, &mut Vec::new()) {
            return Err(SemanticError::Mismatch {
                path: if at.is_empty() {
                    "the document".into()
                } else {
                    at.join(".")
                },
                what,
            });
        }
    }
    Ok(parsed)
}

/// [`verify`] on texts, for one edit (tests).
pub fn verify_edit(
    before: &str,
    after: &str,
    syntax: Syntax,
    path: &[String],
    change: Change,
) -> Result<(), SemanticError> {
    let doc = Document::parse_with(before, syntax, EditRules::Improved)
        .map_err(|e| SemanticError::Unresolvable(e.to_string()))?;
    verify(&doc, after, &[(path.to_vec(), change)]).map(|_| ())
}

fn value_at_path<'a>(value: &Value<'a>, path: &[String]) -> Option<Value<'a>> {
    let mut at = value.clone();
    for key in path {
        at = at.get(key)?;
    }
    Some(at)
}

/// The object `value` is, made editable (a lazily kept one read first; a
/// value that is not an object replaced by an empty one).
fn object_mut<'v, 'a>(value: &'v mut Value<'a>) -> &'v mut resolve::Object<'a> {
    if let Value::Lazy(_) = value {
        *value = value.expanded();
    }
    if !matches!(value, Value::Object(_)) {
        *value = Value::object(resolve::new_map(0));
    }
    match value {
        Value::Object(o) => Rc::make_mut(o),
        _ => unreachable!("just made an object"),
    }
}

fn set_path<'a>(value: &mut Value<'a>, path: &[String], new: Value<'a>) {
    let Some((first, rest)) = path.split_first() else {
        *value = new;
        return;
    };
    let map = &mut object_mut(value).map;
    if rest.is_empty() {
        map.insert(first.clone().into(), new);
    } else {
        let child = map
            .entry(first.clone().into())
            .or_insert_with(|| Value::object(resolve::new_map(0)));
        set_path(child, rest, new);
    }
}

fn remove_path(value: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if !value.is_object() {
        return;
    }
    let map = &mut object_mut(value).map;
    if rest.is_empty() {
        map.shift_remove(first.as_str());
    } else if let Some(child) = map.get_mut(first.as_str()) {
        remove_path(child, rest);
    }
}

fn prune_emptied_parents(expected: &mut Value, actual: &Value, path: &[String]) {
    for len in (1..path.len()).rev() {
        let parent = &path[..len];
        let emptied = value_at_path(expected, parent)
            .is_some_and(|v| matches!(v.expanded(), Value::Object(o) if o.map.is_empty()));
        if emptied && value_at_path(actual, parent).is_none() {
            remove_path(expected, parent);
        } else {
            return;
        }
    }
}

/// The first path where two resolved values differ, and how.
fn first_difference(
    expected: &Value,
    actual: &Value,
    at: &mut Vec<String>,
) -> Option<(Vec<String>, String)> {
    match (expected, actual) {
        (Value::Lazy(a), Value::Lazy(b)) if a == b => None,
        (Value::Lazy(_), _) | (_, Value::Lazy(_)) => {
            first_difference(&expected.expanded(), &actual.expanded(), at)
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in &e.map {
                at.push(k.to_string());
                match a.map.get(k) {
                    None => return Some((at.clone(), "be missing".into())),
                    Some(av) => {
                        if let Some(d) = first_difference(ev, av, at) {
                            return Some(d);
                        }
                    }
                }
                at.pop();
            }
            a.map.keys().find(|k| !e.map.contains_key(*k)).map(|k| {
                at.push(k.to_string());
                (at.clone(), "appear".into())
            })
        }
        (e, a) if same(e, a) => None,
        _ => Some((at.clone(), "change value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn resolves_with_includes_left_out() {
        let v = resolve(
            "include \"missing.conf\"\na: 1\nb { include \"x\", c: ${a} }\n",
            Syntax::Conf,
        )
        .unwrap();
        assert_eq!(v, json!({"a": 1, "b": {"c": 1}}));
    }

    #[test]
    fn accepts_the_edit_it_describes() {
        verify_edit(
            "a: 1\nb: 2\n",
            "a: 1\nb: 3\n",
            Syntax::Conf,
            &p("b"),
            Change::Set("3"),
        )
        .unwrap();
        verify_edit(
            "a: 1\nb: 2\n",
            "a: 1\n",
            Syntax::Conf,
            &p("b"),
            Change::Remove,
        )
        .unwrap();
        verify_edit(
            "a: 1\n",
            "a: 1\nx { y: [1] }\n",
            Syntax::Conf,
            &p("x.y"),
            Change::Set("[1]"),
        )
        .unwrap();
        // Lazily kept values on both sides, one of them edited.
        verify_edit(
            "a { b: [1, 2], c: {d: \"x\"} }\ne { f: 1 }\n",
            "a { b: [1, 2], c: {d: \"y\"} }\ne { f: 1 }\n",
            Syntax::Conf,
            &p("a.c.d"),
            Change::Set("\"y\""),
        )
        .unwrap();
        verify_edit(
            "a.b: 1\nc: 2\n",
            "c: 2\n",
            Syntax::Conf,
            &p("a.b"),
            Change::Remove,
        )
        .unwrap();
    }

    #[test]
    fn refuses_collateral_changes() {
        let err = verify_edit(
            "a: 1\nb: 2\n",
            "a: 5\nb: 3\n",
            Syntax::Conf,
            &p("b"),
            Change::Set("3"),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SemanticError::Mismatch {
                path: "a".into(),
                what: "change value".into()
            }
        );
        let err = verify_edit(
            "a: 1\n",
            "a: 1\nb: \"3\"\n",
            Syntax::Conf,
            &p("b"),
            Change::Set("3"),
        )
        .unwrap_err();
        assert!(matches!(err, SemanticError::Mismatch { .. }));
        let err = verify_edit(
            "a: 1\n",
            "a: 1\nc: 3\n",
            Syntax::Conf,
            &p("b"),
            Change::Set("3"),
        )
        .unwrap_err();
        assert!(matches!(err, SemanticError::Mismatch { .. }), "{err}");
        let err = verify_edit(
            "a: [1]\n",
            "a: [1]\na += 2\n",
            Syntax::Conf,
            &p("a"),
            Change::Set("2"),
        )
        .unwrap_err();
        assert!(matches!(err, SemanticError::Mismatch { .. }), "{err}");
        // A neighbour's nested value, kept lazily on both sides, changed.
        let err = verify_edit(
            "n { x: [1, 2] }\nb: 1\n",
            "n { x: [1, 3] }\nb: 2\n",
            Syntax::Conf,
            &p("b"),
            Change::Set("2"),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SemanticError::Mismatch {
                path: "n.x".into(),
                what: "change value".into()
            }
        );
        let err =
            verify_edit("a: 1\n", "a: 1\nb {", Syntax::Conf, &p("b"), Change::Remove).unwrap_err();
        assert!(matches!(err, SemanticError::EditedUnresolvable(_)), "{err}");
    }

    #[test]
    fn inputs_that_would_overflow_the_resolver_are_refused() {
        for text in [
            "d { y = ${d}, y { a : 0 } }\nd { b : 1 }\n",
            "d{b=${d.y}}\nd.y+=${a}\n",
            "\"a\"{a=${a.b}}\na.b=${a.b}\n",
        ] {
            assert!(resolve(text, Syntax::Conf).is_err(), "{text}");
        }
        let chain: String = (0..5000)
            .map(|i| format!("a{i}: ${{a{}}}\n", i + 1))
            .collect::<String>()
            + "a5000: 1\n";
        assert!(resolve(&chain, Syntax::Conf).is_err());
    }

    #[test]
    fn unresolvable_input_is_reported() {
        let err = verify_edit(
            "a: ${nope}\n",
            "a: 1\n",
            Syntax::Conf,
            &p("a"),
            Change::Set("1"),
        )
        .unwrap_err();
        assert!(matches!(err, SemanticError::Unresolvable(_)));
    }
}
