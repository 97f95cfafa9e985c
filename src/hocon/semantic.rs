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

use super::include_probe::{Probe, Shape};
use super::path::{key_elements, simple_key, string_value};
use super::plain::{self, Event};
use super::resolve::{self, same, Value};
use super::token::TokenKind;
use super::tree::Node;
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
    verify_with(before, after, edits, true)
}

/// [`verify`] on a text the caller gives away (the document returned keeps
/// it, not a copy).
pub fn verify_owned(
    before: &Document,
    after: String,
    edits: &[(Vec<String>, Change)],
) -> Result<Document, SemanticError> {
    let parsed = Document::parse_owned(after, before.syntax(), EditRules::Improved)
        .map_err(|e| SemanticError::EditedUnresolvable(e.to_string()))?;
    check_parsed(before, parsed, edits, true)
}

/// [`verify`], comparing only the keys the change touches when `local` (and
/// that can be shown to suffice), else the whole documents.
fn verify_with(
    before: &Document,
    after: &str,
    edits: &[(Vec<String>, Change)],
    local: bool,
) -> Result<Document, SemanticError> {
    let parsed = Document::parse_with(after, before.syntax(), EditRules::Improved)
        .map_err(|e| SemanticError::EditedUnresolvable(e.to_string()))?;
    check_parsed(before, parsed, edits, local)
}

/// The check, on the text to be written, parsed.
fn check_parsed(
    before: &Document,
    parsed: Document,
    edits: &[(Vec<String>, Change)],
    local: bool,
) -> Result<Document, SemanticError> {
    let includes = may_include(before) || may_include(&parsed);
    // Only the keys the change touches, when the rest provably means the
    // same (see `changed_keys`); else the whole of both.
    let keys = match !local
        || includes
        || resolve::may_substitute(before)
        || resolve::may_substitute(&parsed)
    {
        true => None,
        false => changed_keys(before, &parsed, edits),
    };
    let keys: Option<Vec<&str>> = keys
        .as_ref()
        .map(|k| k.iter().map(String::as_str).collect());
    let resolve_one = |doc| match &keys {
        Some(keys) => resolve::document_keys(doc, keys),
        None => resolve::document(doc),
    };
    let old = resolve_one(before).map_err(SemanticError::Unresolvable)?;
    let new = resolve_one(&parsed).map_err(SemanticError::EditedUnresolvable)?;
    // What the include statements could define, from what both hold.
    let shape = includes.then(|| {
        let mut shape = Shape::default();
        shape.add(old.root());
        shape.add(new.root());
        shape
    });
    compare(old.into_root(), new.root(), edits, false)?;
    drop(new);
    if let Some(shape) = shape {
        let with_markers = |doc| resolve::resolve_with(doc, &mut Probe::new(&shape));
        let old = with_markers(before).map_err(|e| {
            SemanticError::Unresolvable(format!("with its includes standing for any keys: {e}"))
        })?;
        let new = with_markers(&parsed).map_err(|e| {
            SemanticError::EditedUnresolvable(format!(
                "with its includes standing for any keys: {e}"
            ))
        })?;
        compare(old.into_root(), new.root(), edits, true)?;
    }
    Ok(parsed)
}

/// Whether the document may hold an include statement (the word anywhere
/// in a HOCON text; JSON has none).
fn may_include(doc: &Document) -> bool {
    doc.syntax() == Syntax::Conf && memchr::memmem::find(doc.buf.as_bytes(), b"include").is_some()
}

/// Checks that `new`, the document the edit would write, resolved, is the
/// document before it, `expected`, with `edits` made and nothing else
/// changed, and that each set path holds the value that was set. With
/// `markers` (includes standing for marker objects, see `include_probe.rs`)
/// the edited keys are taken as they are: whether an include after one may
/// override it, the text alone cannot tell (the pe.conf lint reports such
/// an include), and the pass without markers has checked what they hold.
fn compare<'a>(
    mut expected: Value<'a>,
    new: &Value<'a>,
    edits: &[(Vec<String>, Change)],
    markers: bool,
) -> Result<(), SemanticError> {
    for (path, change) in edits {
        let shown = path.join(".");
        match change {
            Change::Set(text) => {
                let target = value_at_path(new, path);
                if !markers && !holds(text, target.as_ref()) {
                    return Err(SemanticError::Mismatch {
                        path: shown,
                        what: "not hold the value that was set".into(),
                    });
                }
                match target {
                    Some(v) => set_path(&mut expected, path, v),
                    None => remove_path(&mut expected, path),
                }
            }
            Change::Remove => {
                remove_path(&mut expected, path);
                // An include before the removed key now shows through (the
                // pass without markers has checked that the key's own
                // definitions are gone).
                if markers {
                    if let Some(shown) = value_at_path(new, path) {
                        set_path(&mut expected, path, shown);
                    }
                }
                // A parent that only existed through dotted keys under the
                // removed path (`a.b: 1`) goes with them.
                prune_emptied_parents(&mut expected, new, path);
            }
        }
    }
    match first_difference(&expected, new) {
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

/// Whether `target` is the value `text` means on its own (where it does not
/// refer to the document).
fn holds(text: &str, target: Option<&Value>) -> bool {
    let Ok(doc) = Document::parse(&format!("x: {text}")) else {
        return true;
    };
    let Ok(alone) = resolve::document(&doc) else {
        return true;
    };
    match (alone.root().get("x"), target) {
        (Some(a), Some(t)) => same(&a, t),
        (None, None) => true,
        _ => false,
    }
}

/// One meaningful child of a root object, for lining two documents up: a
/// field, a member of a run kept as a span, a whole run (until it needs to
/// be read member by member), an include.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Unit {
    start: usize,
    end: usize,
    /// The first key element of a field or member.
    key: Option<String>,
    /// A run of members not read yet.
    run: bool,
}

/// Where a node's text lies in the buffer (for a document as parsed, where
/// tokens follow each other).
fn span_of(node: &Node) -> Option<(usize, usize)> {
    match node {
        Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
            Some((t.start as usize, t.end as usize))
        }
        Node::Path(tokens) => Some((tokens.first()?.start as usize, tokens.last()?.end as usize)),
        Node::Removed => None,
        other => {
            let children = other.children();
            let first = children.iter().find_map(span_of)?;
            let last = children.iter().rev().find_map(span_of)?;
            Some((first.0, last.1))
        }
    }
}

/// The root object's span, whether it has braces, and its units (runs of
/// members whole).
fn units(doc: &Document) -> Option<(usize, usize, bool, Vec<Unit>)> {
    let root = doc.root.iter().find(|n| !matches!(n, Node::Token(_)))?;
    let Node::Object(children) = root else {
        return None;
    };
    let (start, end) = span_of(root).unwrap_or((0, 0));
    let braced = children
        .first()
        .is_some_and(|c| c.is_token(TokenKind::OpenCurly));
    let mut out = Vec::with_capacity(64);
    for child in children {
        let key = match child {
            Node::Field(_) => {
                let tokens = child.field_path()?;
                Some(match simple_key(tokens, &doc.buf) {
                    Some(k) => k.to_string(),
                    None => key_elements(tokens, &doc.buf).into_iter().next()?,
                })
            }
            Node::Members(..) | Node::Include(_) => None,
            _ => continue,
        };
        let (s, e) = span_of(child)?;
        out.push(Unit {
            start: s,
            end: e,
            key,
            run: matches!(child, Node::Members(..)),
        });
    }
    Some((start, end, braced, out))
}

/// The members of the run at `units[i]`, in its place.
fn read_run(doc: &Document, units: &mut Vec<Unit>, i: usize) -> Option<()> {
    let (base, end) = (units[i].start, units[i].end);
    let text = &doc.buf[base..end];
    let mut members = Vec::new();
    let mut depth = 0usize;
    let mut pending: Option<(usize, String)> = None;
    let mut done = |pending: &mut Option<(usize, String)>, end: usize| {
        if let Some((s, key)) = pending.take() {
            members.push(Unit {
                start: s,
                end: base + end,
                key: Some(key),
                run: false,
            });
        }
    };
    plain::read_members(text, 0, text.len(), &mut |e| match e {
        Event::Key { start, end, .. } if depth == 0 => {
            let raw = &text[start..end];
            let key = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(inner) if !raw.contains('\\') => inner.to_string(),
                Some(_) => string_value(raw),
                None => raw.to_string(),
            };
            pending = Some((base + start, key));
        }
        Event::Scalar { end, .. } if depth == 0 => done(&mut pending, end),
        Event::Open { .. } => depth += 1,
        Event::Close { end } => {
            depth -= 1;
            if depth == 0 {
                done(&mut pending, end);
            }
        }
        _ => {}
    })?;
    units.splice(i..=i, members);
    Some(())
}

#[doc(hidden)]
/// How many bytes two texts share at their start (compared a block at a
/// time: the texts of an edit are the same for all but a few bytes).
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

#[doc(hidden)]
/// How many bytes two texts share at their end.
pub fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let (la, lb) = (a.len(), b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[la - i - BLOCK..la - i] == b[lb - i - BLOCK..lb - i] {
        i += BLOCK;
    }
    i + a[..la - i]
        .iter()
        .rev()
        .zip(b[..lb - i].iter().rev())
        .take(n - i)
        .take_while(|(x, y)| x == y)
        .count()
}

/// The root keys whose meaning a change from `before` to `after` may touch
/// (with the edited ones), or `None` when that cannot be shown and the whole
/// documents are to be compared.
///
/// The two texts are the same up to byte `p` and from `s` bytes before
/// their ends. When both parse to a root object holding that change, with
/// the same fields (and members of runs) at the same places before `p`, and
/// the same ones at the same distances from the end after it, every other
/// key is defined by the same bytes read the same way in both; without
/// substitutions (the caller's condition) it means the same. Only keys with
/// a definition in the changed part can differ. Runs of members are read
/// member by member only where the two documents' runs do not line up
/// whole: in the changed part, and until their ends meet again after it.
fn changed_keys(
    before: &Document,
    after: &Document,
    edits: &[(Vec<String>, Change)],
) -> Option<Vec<String>> {
    if before.bom != after.bom || before.syntax() != after.syntax() {
        return None;
    }
    let edited = edits.iter().filter_map(|(path, _)| path.first().cloned());
    let (a, b) = (before.buf.as_bytes(), after.buf.as_bytes());
    if a == b {
        return Some(edited.collect());
    }
    let p = common_prefix(a, b);
    let limit = a.len().min(b.len()) - p;
    let s = common_suffix(&a[p..], &b[p..]).min(limit);
    let (a_start, a_end, a_braced, mut ua) = units(before)?;
    let (b_start, b_end, b_braced, mut ub) = units(after)?;
    let inside = |start: usize, end: usize, len: usize| start <= p && end >= len - s;
    if a_braced != b_braced || !inside(a_start, a_end, a.len()) || !inside(b_start, b_end, b.len())
    {
        return None;
    }
    // The units before the change: the same in both.
    let mut head = 0;
    while head < ua.len() && head < ub.len() {
        let (x, y) = (&ua[head], &ub[head]);
        if x.start >= p && y.start >= p {
            break;
        }
        if x.run && (x.end > p || x != y) {
            read_run(before, &mut ua, head)?;
            continue;
        }
        if y.run && (y.end > p || x != y) {
            read_run(after, &mut ub, head)?;
            continue;
        }
        if x != y || x.end > p {
            break;
        }
        head += 1;
    }
    // The units after it: the same at the same distances from the end.
    let (la, lb) = (a.len(), b.len());
    let mut tail = 0;
    while tail < ua.len() - head && tail < ub.len() - head {
        let (i, j) = (ua.len() - 1 - tail, ub.len() - 1 - tail);
        let (x, y) = (&ua[i], &ub[j]);
        if x.end <= la - s && y.end <= lb - s {
            break;
        }
        let same = la - x.start == lb - y.start && la - x.end == lb - y.end && x.key == y.key;
        let in_change = x.start < la - s || y.start < lb - s;
        if x.run && (in_change || !same) {
            read_run(before, &mut ua, i)?;
            continue;
        }
        if y.run && (in_change || !same) {
            read_run(after, &mut ub, j)?;
            continue;
        }
        if !same || in_change {
            break;
        }
        tail += 1;
    }
    // The changed part: every key defined there, runs read.
    let mut keys: Vec<String> = edited.collect();
    for (doc, units) in [(before, &mut ua), (after, &mut ub)] {
        let mut i = head;
        while i < units.len() - tail {
            if units[i].run {
                read_run(doc, units, i)?;
                continue;
            }
            keys.extend(units[i].key.clone());
            i += 1;
        }
    }
    keys.sort();
    keys.dedup();
    Some(keys)
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

/// The first path where two resolved values differ, and how. Nothing is
/// allocated unless they differ (an edit check compares every key of the
/// document).
fn first_difference(expected: &Value, actual: &Value) -> Option<(Vec<String>, String)> {
    difference(expected, actual).map(|(mut reversed, what)| {
        reversed.reverse();
        (reversed, what)
    })
}

/// [`first_difference`], the path innermost first.
fn difference(expected: &Value, actual: &Value) -> Option<(Vec<String>, String)> {
    match (expected, actual) {
        (Value::Lazy(a), Value::Lazy(b)) if a == b => None,
        (Value::Lazy(_), _) | (_, Value::Lazy(_)) => {
            difference(&expected.expanded(), &actual.expanded())
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in &e.map {
                match a.map.get(k) {
                    None => return Some((vec![k.to_string()], "be missing".into())),
                    Some(av) => {
                        if let Some((mut path, what)) = difference(ev, av) {
                            path.push(k.to_string());
                            return Some((path, what));
                        }
                    }
                }
            }
            a.map
                .keys()
                .find(|k| !e.map.contains_key(*k))
                .map(|k| (vec![k.to_string()], "appear".to_string()))
        }
        (e, a) if same(e, a) => None,
        _ => Some((Vec::new(), "change value".into())),
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

    /// A document long enough for several runs of members, with
    /// duplicates, dotted keys and nested objects.
    fn big_document() -> String {
        let mut t = String::from("{\n");
        for i in 0..400 {
            match i % 6 {
                0 => t.push_str(&format!("  \"k{i}\": {{ \"a\": {i}, \"b\": [1, 2] }}\n")),
                1 => t.push_str(&format!("  k{i} = \"v{i}\"\n")),
                2 => t.push_str(&format!("  dup: {{ x{i}: {i} }}\n")),
                3 => t.push_str(&format!("  d.e{i}: true\n")),
                4 => t.push_str("  # comment\n"),
                _ => t.push_str(&format!("  \"x::y{i}\": null\n")),
            }
        }
        t.push_str("}\n");
        t
    }

    fn verdict(r: Result<Document, SemanticError>) -> Result<(), SemanticError> {
        r.map(|_| ())
    }

    #[test]
    fn the_local_check_judges_like_the_whole_one() {
        let text = big_document();
        let before = Document::parse(&text).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        type Edits<'c> = Vec<(Vec<String>, Change<'c>)>;
        let mut cases: Vec<(String, Edits)> = Vec::new();
        // Real edits.
        for (path, value) in [
            ("k1", Some("\"new\"")),
            ("\"k0\".a", Some("5")),
            ("dup.x2", Some("0")),
            ("d.e3", None),
            ("added", Some("true")),
            ("k397", None),
        ] {
            let mut doc = before.clone();
            let change = match value {
                Some(v) => {
                    doc.set(path, v).unwrap();
                    Change::Set(v)
                }
                None => {
                    doc.remove(path).unwrap();
                    Change::Remove
                }
            };
            let elements = doc.parse_path(path, Syntax::Conf).unwrap().elements;
            cases.push((doc.render(), vec![(elements.clone(), change)]));
            // The same text checked as an edit of another key.
            cases.push((doc.render(), vec![(p("k7"), Change::Remove)]));
            cases.push((doc.render(), Vec::new()));
        }
        // Collateral changes near and far, to duplicates, to whitespace.
        for (at, new_line) in [
            (1, "  \"k0\": { \"a\": 0, \"b\": [1, 2] }\n"),
            (3, "  dup: { x2: 3 }\n"),
            (200, "  k199 = \"changed\"\n"),
            (201, "  \"k200\":   { \"a\": 200, \"b\": [1, 2] }\n"),
            (399, "  \"x::y398\": 1\n"),
            (250, ""),
            (300, "  dup: 7\n"),
        ] {
            let mut changed: Vec<&str> = lines.clone();
            changed[at] = new_line;
            let changed = changed.concat();
            cases.push((changed.clone(), vec![(p("k1"), Change::Set("\"v1\""))]));
            cases.push((changed, Vec::new()));
        }
        // Two changes far apart.
        let mut two: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        two[2] = "  k1 = \"x\"\n".into();
        two[390] = "  dup: 0\n".into();
        cases.push((two.concat(), vec![(p("k1"), Change::Set("\"x\""))]));
        let mut local_used = 0;
        for (after, edits) in &cases {
            let parsed = Document::parse(after).unwrap();
            if changed_keys(&before, &parsed, edits).is_some_and(|k| k.len() < 10) {
                local_used += 1;
            }
            let local = verdict(verify_with(&before, after, edits, true));
            let whole = verdict(verify_with(&before, after, edits, false));
            assert_eq!(local, whole, "{edits:?}");
        }
        // The local check is the one that runs for nearly all of them.
        assert!(
            local_used * 10 >= cases.len() * 8,
            "{local_used} of {}",
            cases.len()
        );
    }

    #[test]
    fn random_changes_are_judged_alike_locally_and_whole() {
        let text = big_document();
        let before = Document::parse(&text).unwrap();
        let lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut compared = 0;
        for _ in 0..300 {
            let mut changed = lines.clone();
            for _ in 0..1 + next(2) {
                let i = 1 + next(changed.len() - 2);
                match next(6) {
                    0 => {
                        changed.remove(i);
                    }
                    1 => {
                        let l = changed[i].clone();
                        changed.insert(i, l);
                    }
                    2 => {
                        let j = 1 + next(changed.len() - 2);
                        changed[i] = changed[j].clone();
                    }
                    3 => changed.swap(i, i + 1),
                    4 => changed[i] = changed[i].replacen(char::is_numeric, "9", 1),
                    _ => changed.insert(i, format!("  new{}: {}\n", next(50), next(3))),
                }
            }
            let after = changed.concat();
            if Document::parse(&after).is_err() {
                continue;
            }
            let edits = vec![(p(&format!("k{}", next(400))), Change::Remove)];
            let local = verdict(verify_with(&before, &after, &edits, true));
            let whole = verdict(verify_with(&before, &after, &edits, false));
            assert_eq!(local, whole, "{after}");
            compared += 1;
        }
        assert!(compared > 200, "{compared}");
    }

    #[test]
    fn shared_starts_and_ends_are_counted() {
        let base: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        for at in [0, 1, 63, 64, 65, 150, 299] {
            let mut other = base.clone();
            other[at] ^= 1;
            assert_eq!(common_prefix(&base, &other), at);
            assert_eq!(common_suffix(&base, &other), 299 - at);
        }
        assert_eq!(common_prefix(&base, &base[..100]), 100);
        assert_eq!(common_suffix(&base, &base[200..]), 100);
        assert_eq!(common_suffix(b"xab", b"ab"), 2);
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
