//! The meaning of a document, from an independent HOCON implementation
//! (the `hocon-parser` crate), and the check that an edit changed that
//! meaning at the edited path and nowhere else.
//!
//! The editor and the resolver share no code, so a mistake in the editor
//! (a key written in the wrong place, a value that reads differently, a
//! neighbour disturbed) shows up as a difference here and stops the write.

use super::{Document, EditRules, Syntax};
use serde_json::{Map, Value};
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

/// The key of the placeholder fields that stand in for include statements
/// while resolving, and how it is written in HOCON.
const INCLUDE_MARK: &str = "\u{1}pe-analytics-include";
const INCLUDE_FIELD: &str = "\"\\u0001pe-analytics-include\": null";

/// Resolves a document's text to JSON. Includes are not followed (they stand
/// for files this text does not contain); substitutions resolve within the
/// document, then from the environment, as HOCON specifies.
pub fn resolve(text: &str, syntax: Syntax) -> Result<Value, String> {
    let doc = Document::parse_with(text, syntax, EditRules::Improved).map_err(|e| e.to_string())?;
    resolve_document(&doc)
}

/// [`resolve`] on a parsed document.
pub fn resolve_document(doc: &Document) -> Result<Value, String> {
    let text = doc.render_with_includes_replaced(INCLUDE_FIELD);
    let mut value = guarded(move || {
        let tokens = hocon::tokenize(&text).map_err(|e| sanitized(&e))?;
        super::resolve_guard::precheck_tokens(&tokens, false)?;
        let opts = hocon::ParseOptions::defaults().with_origin_description("pe.conf".into());
        let config = hocon::parse_string_with_options(&text, opts).map_err(|e| sanitized(&e))?;
        config.deserialize::<Value>().map_err(|e| sanitized(&e))
    })?;
    strip_include_marks(&mut value);
    Ok(value)
}

/// Runs the resolver on a thread with a large stack, turning a panic into
/// an error: whatever the input, resolving must not crash the tool.
fn guarded(work: impl FnOnce() -> Result<Value, String> + Send + 'static) -> Result<Value, String> {
    const STACK: usize = 256 * 1024 * 1024;
    let handle = std::thread::Builder::new()
        .name("hocon-resolve".into())
        .stack_size(STACK)
        .spawn(work)
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
    handle
        .join()
        .unwrap_or_else(|_| Err("the HOCON resolver failed on this document".into()))
}

fn strip_include_marks(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| k != INCLUDE_MARK);
            map.values_mut().for_each(strip_include_marks);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_include_marks),
        _ => {}
    }
}

/// Resolves a file as PE would read it: includes are followed, relative to
/// the file's directory (missing ones are skipped, as HOCON specifies).
pub fn resolve_file(path: &std::path::Path) -> Result<Value, String> {
    let path = path.to_path_buf();
    guarded(move || {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let tokens = hocon::tokenize(&text).map_err(|e| sanitized(&e))?;
        super::resolve_guard::precheck_tokens(&tokens, true)?;
        let opts = hocon::ParseOptions::defaults();
        let config = hocon::parse_file_with_options(&path, opts).map_err(|e| sanitized(&e))?;
        config.deserialize::<Value>().map_err(|e| sanitized(&e))
    })
}

/// The resolver's message with every quoted fragment masked: some of its
/// messages quote raw document text, which may be a secret.
fn sanitized(e: &dyn std::fmt::Display) -> String {
    let message = e.to_string();
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        if c == '"' {
            if !in_quotes {
                out.push_str("\"<redacted>");
            }
            in_quotes = !in_quotes;
            if !in_quotes {
                out.push('"');
            }
        } else if !in_quotes {
            out.push(c);
        }
    }
    out
}

/// The value at `path`, if there is one.
pub fn value_at<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// Checks that `after` means `before` with `path` changed as `change` says,
/// and nothing else changed.
pub fn verify_edit(
    before: &str,
    after: &str,
    syntax: Syntax,
    path: &[String],
    change: Change,
) -> Result<(), SemanticError> {
    // The two resolutions are independent and most of an edit's time on a
    // large file: run them side by side.
    let (old, new) = std::thread::scope(|scope| {
        let old = scope.spawn(|| resolve(before, syntax));
        let new = resolve(after, syntax);
        let old = old
            .join()
            .unwrap_or_else(|_| Err("the HOCON resolver failed on this document".into()));
        (old, new)
    });
    let old = old.map_err(SemanticError::Unresolvable)?;
    let new = new.map_err(SemanticError::EditedUnresolvable)?;
    let mut expected = old;
    let shown = path.join(".");
    match change {
        Change::Set(text) => {
            let target = value_at(&new, path).cloned();
            // The value on its own, where it does not refer to the document.
            if let Ok(alone) = resolve(&format!("x: {text}"), Syntax::Conf) {
                if alone.get("x") != target.as_ref() {
                    return Err(SemanticError::Mismatch {
                        path: shown,
                        what: "not hold the value that was set".into(),
                    });
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
            prune_emptied_parents(&mut expected, &new, path);
        }
    }
    match first_difference(&expected, &new, &mut Vec::new()) {
        None => Ok(()),
        Some((at, what)) => Err(SemanticError::Mismatch {
            path: if at.is_empty() {
                "the document".into()
            } else {
                at.join(".")
            },
            what,
        }),
    }
}

fn set_path(value: &mut Value, path: &[String], new: Value) {
    let Some((last, parents)) = path.split_last() else {
        *value = new;
        return;
    };
    let mut at = value;
    for key in parents {
        let map = ensure_object(at);
        at = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    ensure_object(at).insert(last.clone(), new);
}

fn ensure_object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("just made an object")
}

fn remove_path(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = value;
    for key in parents {
        match at.as_object_mut().and_then(|m| m.get_mut(key)) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Some(map) = at.as_object_mut() {
        map.remove(last);
    }
}

fn prune_emptied_parents(expected: &mut Value, actual: &Value, path: &[String]) {
    for len in (1..path.len()).rev() {
        let parent = &path[..len];
        let emptied =
            value_at(expected, parent).is_some_and(|v| v.as_object().is_some_and(Map::is_empty));
        if emptied && value_at(actual, parent).is_none() {
            remove_path(expected, parent);
        } else {
            return;
        }
    }
}

/// The first path where two values differ, and how.
fn first_difference(
    expected: &Value,
    actual: &Value,
    at: &mut Vec<String>,
) -> Option<(Vec<String>, String)> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                at.push(k.clone());
                match a.get(k) {
                    None => return Some((at.clone(), "be missing".into())),
                    Some(av) => {
                        if let Some(d) = first_difference(ev, av, at) {
                            return Some(d);
                        }
                    }
                }
                at.pop();
            }
            a.keys().find(|k| !e.contains_key(*k)).map(|k| {
                at.push(k.clone());
                (at.clone(), "appear".into())
            })
        }
        (e, a) if e == a => None,
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
    }

    #[test]
    fn resolver_messages_never_quote_document_text() {
        assert_eq!(
            sanitized(&"reserved character '+' in \"S3CRET+x\" (quote it)"),
            "reserved character '+' in \"<redacted>\" (quote it)"
        );
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
