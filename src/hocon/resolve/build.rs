//! From the lossless syntax tree to values: a port of lightbend's
//! `ConfigParser` as ruby-hocon 1.3.1 has it (keys and dotted paths, later
//! definitions merged over earlier ones, `+=`, concatenations, includes),
//! reading the same node shapes ruby-hocon's `ConfigDocumentParser` builds,
//! which `tree.rs` mirrors. Substitutions stay unresolved (`subst.rs`).

use super::super::lexer;
use super::super::path::{key_elements, parse_path_tokens, simple_key, string_value};
use super::super::plain::{self, Event, Scalar};
use super::super::token::{Syntax, TokenKind};
use super::super::tree::Node;
use super::super::Document;
use super::value::{concatenate, new_map, Map, Ref, Value};
use std::borrow::Cow;
use std::rc::Rc;

/// An error while building, at a byte offset of the document's text.
#[derive(Debug)]
pub struct BuildError {
    pub offset: usize,
    pub msg: String,
}

/// What an include statement asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub kind: IncludeKind,
    /// The quoted name, decoded.
    pub name: String,
    /// Inside `required(...)`: a missing file is an error.
    pub required: bool,
    /// The keys of the object the statement is in (empty at the root).
    pub at: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeKind {
    /// `include "name"`: a URL when it has a scheme, else a file next to
    /// the including one.
    Heuristic,
    File,
    Url,
    Classpath,
}

/// Reads what include statements stand for.
pub trait Includer {
    /// The object the statement includes (empty when what it names is
    /// missing and not required).
    fn include(&mut self, include: &Include) -> Result<Value<'static>, String>;
}

/// Includes nothing: every include statement stands for an empty object.
pub struct NoIncludes;

impl Includer for NoIncludes {
    fn include(&mut self, _: &Include) -> Result<Value<'static>, String> {
        Ok(Value::object(new_map(0)))
    }
}

/// The document's root object, built; substitutions unresolved.
pub fn document<'a>(
    doc: &'a Document,
    includer: &mut dyn Includer,
) -> Result<Value<'a>, BuildError> {
    document_only(doc, includer, None)
}

/// [`document`] with only the root keys in `only` (when given): the other
/// fields are passed over without being built, and runs of members kept as
/// spans that cannot hold one of the keys are not read.
pub fn document_only<'a>(
    doc: &'a Document,
    includer: &mut dyn Includer,
    only: Option<&[&str]>,
) -> Result<Value<'a>, BuildError> {
    let mut b = Builder {
        buf: &doc.buf,
        syntax: doc.syntax,
        includer,
        path: Vec::new(),
        in_array: 0,
        only,
        finders: only
            .unwrap_or_default()
            .iter()
            .map(|k| memchr::memmem::Finder::new(k.as_bytes()))
            .collect(),
    };
    for node in &doc.root {
        match node {
            Node::Object(children) => return b.object(children, offset_of(node)),
            Node::Array(_) => {
                return Err(BuildError {
                    offset: offset_of(node),
                    msg: "the document's root is a list; a configuration is an object".into(),
                })
            }
            _ => {}
        }
    }
    Ok(Value::object(new_map(0)))
}

/// Where a node starts in the document's text (for messages).
fn offset_of(node: &Node) -> usize {
    match node {
        Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
            t.start as usize
        }
        Node::Path(tokens) => tokens.first().map_or(0, |t| t.start as usize),
        other => other.children().first().map_or(0, offset_of),
    }
}

/// Puts `value` for `key` in `map`, over an earlier definition.
fn insert<'a>(map: &mut Map<'a>, key: Cow<'a, str>, value: Value<'a>) {
    match map.get_mut(&key) {
        Some(slot) => {
            let below = std::mem::replace(slot, Value::Null);
            *slot = value.with_fallback(below);
        }
        None => {
            map.insert(key, value);
        }
    }
}

/// Whether a run's text may hold one of the keys `finders` look for (as
/// written, or escaped).
fn could_hold(text: &str, finders: &[memchr::memmem::Finder]) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr(b'\\', bytes).is_some() || finders.iter().any(|f| f.find(bytes).is_some())
}

/// The members of a run kept as one span, read from its text: plain keys,
/// and values that are scalars or plain objects and arrays (kept as text);
/// only the keys in `only` when given.
fn members<'a>(text: &'a str, map: &mut Map<'a>, only: Option<&[&str]>) {
    let wanted = |k: &str| only.is_none_or(|only| only.contains(&k));
    let mut depth = 0usize;
    let mut key: Cow<'a, str> = Cow::Borrowed("");
    let mut open = 0;
    let read = plain::read_members(text, 0, text.len(), &mut |e| match e {
        Event::Key { start, end, .. } if depth == 0 => key = plain_key(&text[start..end]),
        Event::Scalar { kind, start, end } if depth == 0 => {
            let t = &text[start..end];
            let value = match kind {
                Scalar::String => Value::Str(plain_key(t), false),
                Scalar::Number => Value::Number(Cow::Borrowed(t)),
                Scalar::Bool => Value::Bool(t == "true"),
                Scalar::Null => Value::Null,
            };
            if wanted(&key) {
                insert(map, std::mem::take(&mut key), value);
            }
        }
        Event::Open { start, .. } => {
            if depth == 0 {
                open = start;
            }
            depth += 1;
        }
        Event::Close { end } => {
            depth -= 1;
            if depth == 0 && wanted(&key) {
                let value = Value::Lazy(Cow::Borrowed(&text[open..end]));
                insert(map, std::mem::take(&mut key), value);
            }
        }
        _ => {}
    });
    debug_assert!(read.is_some(), "a run of members did not read");
}

/// A plain key or string: a quoted string decoded (borrowed when it has no
/// escape), or a word as it is.
fn plain_key(t: &str) -> Cow<'_, str> {
    match t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !t.contains('\\') => Cow::Borrowed(inner),
        Some(_) => Cow::Owned(string_value(t)),
        None => Cow::Borrowed(t),
    }
}

struct Builder<'a, 'i> {
    buf: &'a str,
    syntax: Syntax,
    includer: &'i mut dyn Includer,
    /// The keys of the fields the current value is inside.
    path: Vec<Cow<'a, str>>,
    /// How many lists the current value is inside.
    in_array: usize,
    /// The only root keys to build, when given, and searchers for them.
    only: Option<&'i [&'i str]>,
    finders: Vec<memchr::memmem::Finder<'i>>,
}

impl<'a> Builder<'a, '_> {
    /// Whether the root key `key` is one to build (inside the root, all are).
    fn wanted(&self, key: &str) -> bool {
        !self.path.is_empty() || self.only.is_none_or(|only| only.contains(&key))
    }

    fn error<T>(&self, node: &Node, msg: impl Into<String>) -> Result<T, BuildError> {
        Err(BuildError {
            offset: offset_of(node),
            msg: msg.into(),
        })
    }

    fn owned_path(&self) -> Vec<String> {
        self.path.iter().map(|k| k.to_string()).collect()
    }

    fn object(&mut self, children: &[Node], _at: usize) -> Result<Value<'a>, BuildError> {
        let mut map = new_map(children.len() / 2 + 1);
        for child in children {
            match child {
                Node::Field(_) => self.field(child, &mut map)?,
                Node::Members(t, ..) => {
                    let text = t.text(self.buf);
                    match self.only.filter(|_| self.path.is_empty()) {
                        // A run that cannot hold one of the keys is not read.
                        Some(_) if !could_hold(text, &self.finders) => {}
                        Some(only) => members(text, &mut map, Some(only)),
                        None => members(text, &mut map, None),
                    }
                }
                Node::Include(_) if self.syntax == Syntax::Conf => self.include(child, &mut map)?,
                _ => {}
            }
        }
        Ok(Value::object(map))
    }

    fn field(&mut self, field: &Node, map: &mut Map<'a>) -> Result<(), BuildError> {
        let tokens = field.field_path().unwrap_or(&[]);
        let keys: Vec<Cow<'a, str>> = match simple_key(tokens, self.buf) {
            Some(k) => vec![Cow::Borrowed(k)],
            None => key_elements(tokens, self.buf)
                .into_iter()
                .map(Cow::Owned)
                .collect(),
        };
        if !self.wanted(&keys[0]) {
            return Ok(());
        }
        let Some(value_node) = field.field_value() else {
            return self.error(field, "a field without a value");
        };
        let append = field
            .field_separator()
            .is_some_and(|t| t.kind == TokenKind::PlusEquals);
        let depth = self.path.len();
        self.path.extend(keys.iter().cloned());
        if append {
            if self.in_array > 0 {
                self.path.truncate(depth);
                return self.error(
                    field,
                    "`+=` inside a list is not supported (it stands for a substitution, which cannot refer to list elements)",
                );
            }
            // Counted as inside a list: the value goes into one.
            self.in_array += 1;
        }
        let value = self.value(value_node);
        if append {
            self.in_array -= 1;
        }
        let value = match value {
            Ok(v) if append => {
                // `a += x` is `a = ${?a} [x]`.
                let previous = Value::Ref(Rc::new(Ref {
                    path: self.owned_path(),
                    optional: true,
                    prefix_len: 0,
                }));
                concatenate(vec![previous, Value::array(vec![v])])
                    .map(|v| v.unwrap_or(Value::Null))
                    .or_else(|msg| self.error(field, msg))
            }
            other => other,
        };
        self.path.truncate(depth);
        let value = value?;
        let (first, rest) = keys.split_first().expect("a key has at least one element");
        // `a.b.c: v` is `a { b { c: v } }`.
        let value = rest.iter().rev().fold(value, |v, key| {
            let mut inner = new_map(1);
            inner.insert(key.clone(), v);
            Value::object(inner)
        });
        match map.get_mut(first) {
            Some(_) if self.syntax == Syntax::Json => self.error(
                field,
                format!("JSON does not allow duplicate fields: \"{first}\" is set twice"),
            ),
            Some(slot) => {
                let below = std::mem::replace(slot, Value::Null);
                *slot = value.with_fallback(below);
                Ok(())
            }
            None => {
                map.insert(first.clone(), value);
                Ok(())
            }
        }
    }

    fn include(&mut self, node: &Node, map: &mut Map<'a>) -> Result<(), BuildError> {
        let mut include = Include {
            kind: IncludeKind::Heuristic,
            name: String::new(),
            required: false,
            at: self.owned_path(),
        };
        for child in node.children() {
            match child {
                Node::Token(t) if t.kind == TokenKind::Unquoted => match t.text(self.buf) {
                    "required(" => include.required = true,
                    "url(" => include.kind = IncludeKind::Url,
                    "file(" => include.kind = IncludeKind::File,
                    "classpath(" => include.kind = IncludeKind::Classpath,
                    _ => {}
                },
                Node::Simple(t) if t.kind == TokenKind::QuotedString => {
                    include.name = string_value(t.text(self.buf))
                }
                _ => {}
            }
        }
        let included = match self.includer.include(&include) {
            Ok(v) => v,
            Err(msg) => return self.error(node, msg),
        };
        if self.in_array > 0 && !included.is_resolved() {
            return self.error(
                node,
                "an include inside a list cannot hold substitutions (they could not be resolved correctly)",
            );
        }
        let included = if self.path.is_empty() {
            included
        } else {
            included.relativized(&self.owned_path())
        };
        let Value::Object(object) = included.expanded() else {
            return self.error(node, "an included file must hold an object");
        };
        for (key, value) in Rc::unwrap_or_clone(object).map {
            if !self.wanted(&key) {
                continue;
            }
            match map.get_mut(key.as_ref()) {
                Some(slot) => {
                    let below = std::mem::replace(slot, Value::Null);
                    *slot = value.with_fallback(below);
                }
                None => {
                    map.insert(key, value);
                }
            }
        }
        Ok(())
    }

    fn value(&mut self, node: &Node) -> Result<Value<'a>, BuildError> {
        match node {
            Node::Simple(t) => {
                let text = t.text(self.buf);
                Ok(match t.kind {
                    TokenKind::QuotedString => {
                        let simple = !text.starts_with("\"\"\"") && !text.contains('\\');
                        if simple {
                            Value::Str(Cow::Borrowed(&text[1..text.len() - 1]), false)
                        } else {
                            Value::Str(Cow::Owned(string_value(text)), false)
                        }
                    }
                    TokenKind::Number => Value::Number(Cow::Borrowed(text)),
                    TokenKind::Bool => Value::Bool(text == "true"),
                    TokenKind::Null => Value::Null,
                    TokenKind::Unquoted => Value::Str(Cow::Borrowed(text), true),
                    TokenKind::Substitution => self.substitution(node, text)?,
                    _ => return self.error(node, "not a value"),
                })
            }
            Node::Lazy(t, _) => Ok(Value::Lazy(Cow::Borrowed(t.text(self.buf)))),
            Node::Object(children) => self.object(children, offset_of(node)),
            Node::Array(children) => {
                self.in_array += 1;
                let items: Result<Vec<_>, _> = children
                    .iter()
                    .filter(|c| c.is_value())
                    .map(|c| self.value(c))
                    .collect();
                self.in_array -= 1;
                Ok(Value::array(items?))
            }
            Node::Concat(children) => {
                let pieces: Result<Vec<_>, _> = children
                    .iter()
                    .filter(|c| c.is_value())
                    .map(|c| self.value(c))
                    .collect();
                match concatenate(pieces?) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Ok(Value::Null),
                    Err(msg) => self.error(node, msg),
                }
            }
            _ => self.error(node, "not a value"),
        }
    }

    /// `${path}` or `${?path}`: the path parsed as a path expression.
    fn substitution(&self, node: &Node, text: &str) -> Result<Value<'a>, BuildError> {
        let (optional, inner) = match text.strip_prefix("${?") {
            Some(rest) => (true, rest),
            None => (false, &text[2..]),
        };
        let inner = inner.strip_suffix('}').unwrap_or(inner).to_string();
        let bad = |why: &str| {
            self.error(
                node,
                format!("the substitution {text} does not name a path: {why}"),
            )
        };
        let (tokens, problem) = lexer::tokenize(&inner, 0, Syntax::Conf);
        if let Some(p) = problem {
            return bad(&p.msg);
        }
        let mut buf = inner.clone();
        match parse_path_tokens(&tokens, &mut buf, Syntax::Conf) {
            Ok(expr) => Ok(Value::Ref(Rc::new(Ref {
                path: expr.elements,
                optional,
                prefix_len: 0,
            }))),
            Err(e) => bad(&e.msg),
        }
    }
}
