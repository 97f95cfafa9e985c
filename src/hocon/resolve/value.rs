//! What a HOCON document means, before and after its substitutions are
//! resolved: one value type for both, so a document without substitutions
//! is resolved the moment it is built.
//!
//! The merge and concatenation rules are lightbend config's, as ruby-hocon
//! 1.3.1 (what PE reads pe.conf with) ports them: `with_fallback`,
//! `ConfigDelayedMerge`, `ConfigConcatenation.join`.

use super::super::path::string_value;
use super::super::plain::{self, Event, Scalar};
use std::borrow::Cow;
use std::rc::Rc;

/// An object's fields, in the order they were first defined.
pub type Map<'a> = indexmap::IndexMap<Cow<'a, str>, Value<'a>, foldhash::fast::RandomState>;

/// A value. Text is borrowed from the document wherever it needs no
/// decoding, so building the value of a large document copies little.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// A number, as written (a concatenation keeps its text).
    Number(Cow<'a, str>),
    /// A string; `unquoted` for unquoted text, which a concatenation drops
    /// between lists and objects.
    Str(Cow<'a, str>, bool),
    Array(Rc<List<'a>>),
    Object(Rc<Object<'a>>),
    /// A plain object or array (see `plain.rs`) kept as its text: it holds
    /// no substitution, so it is resolved as it stands, and two such values
    /// with the same text mean the same without being read.
    Lazy(Cow<'a, str>),
    /// `${path}` or `${?path}`.
    Ref(Rc<Ref>),
    /// Values side by side, at least one of them unresolved.
    Concat(Rc<Vec<Value<'a>>>),
    /// Definitions of one key that can only be merged once resolved, the
    /// latest first (lightbend's `ConfigDelayedMerge`).
    Merge(Rc<Vec<Value<'a>>>),
}

#[derive(Clone, Debug)]
pub struct List<'a> {
    pub items: Vec<Value<'a>>,
    pub resolved: bool,
}

#[derive(Clone, Debug)]
pub struct Object<'a> {
    pub map: Map<'a>,
    pub resolved: bool,
    /// Set when the object was merged over a value that is not an object:
    /// anything further below is hidden by that value.
    pub ignores_fallbacks: bool,
}

/// A substitution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// The path, from the root of the whole configuration.
    pub path: Vec<String>,
    pub optional: bool,
    /// How many leading elements were added because the substitution comes
    /// from a file included inside an object (they are dropped for the
    /// second lookup and for the environment).
    pub prefix_len: usize,
}

impl Ref {
    /// `${a.b}` / `${?a.b}`, for messages (key names, never values).
    pub fn shown(&self) -> String {
        let path: Vec<String> = self.path.iter().map(|k| quote_key(k)).collect();
        format!(
            "${{{}{}}}",
            if self.optional { "?" } else { "" },
            path.join(".")
        )
    }
}

/// A key as a path element: quoted when it is not a plain word.
pub fn quote_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        serde_json::to_string(key).expect("strings serialize")
    }
}

pub fn new_map<'a>(capacity: usize) -> Map<'a> {
    Map::with_capacity_and_hasher(capacity, Default::default())
}

impl<'a> Value<'a> {
    pub fn object(map: Map<'a>) -> Value<'a> {
        let resolved = map.values().all(Value::is_resolved);
        Value::Object(Rc::new(Object {
            map,
            resolved,
            ignores_fallbacks: false,
        }))
    }

    pub fn array(items: Vec<Value<'a>>) -> Value<'a> {
        let resolved = items.iter().all(Value::is_resolved);
        Value::Array(Rc::new(List { items, resolved }))
    }

    pub fn is_resolved(&self) -> bool {
        match self {
            Value::Array(l) => l.resolved,
            Value::Object(o) => o.resolved,
            Value::Ref(_) | Value::Concat(_) | Value::Merge(_) => false,
            _ => true,
        }
    }

    /// A substitution, concatenation or delayed merge: a value whose type
    /// is not known until it is resolved (lightbend's `Unmergeable`).
    pub fn is_unmergeable(&self) -> bool {
        matches!(self, Value::Ref(_) | Value::Concat(_) | Value::Merge(_))
    }

    pub fn is_object(&self) -> bool {
        match self {
            Value::Object(_) => true,
            Value::Lazy(text) => text.starts_with('{'),
            _ => false,
        }
    }

    fn ignores_fallbacks(&self) -> bool {
        match self {
            Value::Object(o) => o.ignores_fallbacks,
            Value::Lazy(text) => !text.starts_with('{'),
            Value::Merge(stack) => stack.last().is_some_and(Value::ignores_fallbacks),
            other => other.is_resolved(),
        }
    }

    fn unmerged_values(self) -> Vec<Value<'a>> {
        match self {
            Value::Merge(stack) => Rc::unwrap_or_clone(stack),
            other => vec![other],
        }
    }

    /// This value with `fallback` below it, as a later definition of a key
    /// over an earlier one (lightbend's `withFallback`).
    pub fn with_fallback(self, fallback: Value<'a>) -> Value<'a> {
        if self.ignores_fallbacks() {
            return self;
        }
        if fallback.is_unmergeable() {
            let mut stack = self.unmerged_values();
            stack.extend(fallback.unmerged_values());
            return Value::Merge(Rc::new(stack));
        }
        match (self.is_object(), fallback.is_object()) {
            (true, true) => {
                let top = self.into_object();
                let bottom = fallback.into_object();
                Value::Object(Rc::new(merge_objects(top, bottom)))
            }
            (true, false) if fallback.is_resolved() => {
                let mut top = self.into_object();
                top.ignores_fallbacks = true;
                Value::Object(Rc::new(top))
            }
            (false, _) if self.is_resolved() => self,
            _ => {
                let mut stack = self.unmerged_values();
                stack.push(fallback);
                Value::Merge(Rc::new(stack))
            }
        }
    }

    /// The object this value is (a lazy one read from its text).
    fn into_object(self) -> Object<'a> {
        match self {
            Value::Object(o) => Rc::unwrap_or_clone(o),
            Value::Lazy(text) => match expand(text) {
                Value::Object(o) => Rc::unwrap_or_clone(o),
                _ => unreachable!("a lazy value starting with '{{' is an object"),
            },
            _ => unreachable!("into_object on a value that is not an object"),
        }
    }

    /// A lazily kept value read into objects and arrays; anything else as it is.
    pub fn expanded(&self) -> Value<'a> {
        match self {
            Value::Lazy(text) => expand(text.clone()),
            other => other.clone(),
        }
    }

    /// Its text in a string concatenation; `None` for lists and objects.
    fn transform_to_string(&self) -> Option<Cow<'a, str>> {
        match self {
            Value::Null => Some(Cow::Borrowed("null")),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Number(t) | Value::Str(t, _) => Some(t.clone()),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(..) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
            Value::Lazy(t) if t.starts_with('{') => "an object",
            Value::Lazy(_) => "a list",
            _ => "an unresolved value",
        }
    }

    /// The same value with every substitution's path put below `prefix`
    /// (values from a file included inside an object).
    pub fn relativized(self, prefix: &[String]) -> Value<'a> {
        if self.is_resolved() {
            return self;
        }
        match self {
            Value::Ref(r) => {
                let mut path = prefix.to_vec();
                path.extend(r.path.iter().cloned());
                Value::Ref(Rc::new(Ref {
                    path,
                    optional: r.optional,
                    prefix_len: r.prefix_len + prefix.len(),
                }))
            }
            Value::Concat(pieces) => Value::Concat(Rc::new(
                Rc::unwrap_or_clone(pieces)
                    .into_iter()
                    .map(|p| p.relativized(prefix))
                    .collect(),
            )),
            Value::Merge(stack) => Value::Merge(Rc::new(
                Rc::unwrap_or_clone(stack)
                    .into_iter()
                    .map(|p| p.relativized(prefix))
                    .collect(),
            )),
            Value::Array(list) => Value::array(
                Rc::unwrap_or_clone(list)
                    .items
                    .into_iter()
                    .map(|p| p.relativized(prefix))
                    .collect(),
            ),
            Value::Object(o) => {
                let o = Rc::unwrap_or_clone(o);
                let map = o
                    .map
                    .into_iter()
                    .map(|(k, v)| (k, v.relativized(prefix)))
                    .collect();
                Value::Object(Rc::new(Object {
                    map,
                    resolved: false,
                    ignores_fallbacks: o.ignores_fallbacks,
                }))
            }
            other => other,
        }
    }

    /// A copy that borrows nothing (values of included files outlive the
    /// text they were read from).
    pub fn into_owned(self) -> Value<'static> {
        let owned = |c: Cow<'a, str>| Cow::Owned(c.into_owned());
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(t) => Value::Number(owned(t)),
            Value::Str(t, u) => Value::Str(owned(t), u),
            Value::Lazy(t) => Value::Lazy(owned(t)),
            Value::Ref(r) => Value::Ref(r),
            Value::Array(l) => {
                let l = Rc::unwrap_or_clone(l);
                Value::Array(Rc::new(List {
                    items: l.items.into_iter().map(Value::into_owned).collect(),
                    resolved: l.resolved,
                }))
            }
            Value::Object(o) => {
                let o = Rc::unwrap_or_clone(o);
                Value::Object(Rc::new(Object {
                    map: o
                        .map
                        .into_iter()
                        .map(|(k, v)| (owned(k), v.into_owned()))
                        .collect(),
                    resolved: o.resolved,
                    ignores_fallbacks: o.ignores_fallbacks,
                }))
            }
            Value::Concat(p) => Value::Concat(Rc::new(
                Rc::unwrap_or_clone(p)
                    .into_iter()
                    .map(Value::into_owned)
                    .collect(),
            )),
            Value::Merge(p) => Value::Merge(Rc::new(
                Rc::unwrap_or_clone(p)
                    .into_iter()
                    .map(Value::into_owned)
                    .collect(),
            )),
        }
    }

    /// The value as JSON (resolved values only; anything unresolved is null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(t) => number_json(t),
            Value::Str(t, _) => J::String(t.to_string()),
            Value::Array(l) => J::Array(l.items.iter().map(Value::to_json).collect()),
            Value::Object(o) => J::Object(
                o.map
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
            Value::Lazy(_) => self.expanded().to_json(),
            Value::Ref(_) | Value::Concat(_) | Value::Merge(_) => J::Null,
        }
    }

    /// The child at `key` of an object value.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        match self {
            Value::Object(o) => o.map.get(key).cloned(),
            Value::Lazy(t) if t.starts_with('{') => self.expanded().get(key),
            _ => None,
        }
    }
}

/// `top` merged over `bottom`: keys of both merge, `top`'s winning.
fn merge_objects<'a>(top: Object<'a>, bottom: Object<'a>) -> Object<'a> {
    let mut map = bottom.map;
    for (k, v) in top.map {
        match map.get_mut(&k) {
            Some(slot) => {
                let below = std::mem::replace(slot, Value::Null);
                *slot = v.with_fallback(below);
            }
            None => {
                map.insert(k, v);
            }
        }
    }
    let resolved = map.values().all(Value::is_resolved);
    Object {
        map,
        resolved,
        ignores_fallbacks: bottom.ignores_fallbacks,
    }
}

/// A number's meaning: Ruby's `Integer()` (a leading zero is octal, as
/// ruby-hocon reads it) or `Float()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

pub fn number(text: &str) -> Num {
    if text.contains(['.', 'e', 'E']) {
        return Num::Float(text.parse().unwrap_or(f64::NAN));
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let radix = if digits.len() > 1 && digits.starts_with('0') {
        8
    } else {
        10
    };
    match i128::from_str_radix(digits, radix) {
        Ok(n) => Num::Int(if negative { -n } else { n }),
        Err(_) => Num::Float(text.parse().unwrap_or(f64::NAN)),
    }
}

fn number_json(text: &str) -> serde_json::Value {
    match number(text) {
        Num::Int(n) => {
            if let Ok(i) = i64::try_from(n) {
                i.into()
            } else if let Ok(u) = u64::try_from(n) {
                u.into()
            } else {
                serde_json::Number::from_f64(n as f64).map_or(serde_json::Value::Null, Into::into)
            }
        }
        Num::Float(f) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
    }
}

/// Whether two numbers mean the same to PE: equal, and both integers or
/// both floating point. Stricter than lightbend's equality (where `1` equals
/// `1.0`): ruby-hocon hands Puppet an Integer for one and a Float for the
/// other, and a class parameter typed `Integer` refuses a Float.
pub fn same_number(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (number(a), number(b)) {
        (Num::Int(x), Num::Int(y)) => x == y,
        (Num::Float(x), Num::Float(y)) => x == y,
        _ => false,
    }
}

/// Values side by side, joined where they can be (lightbend's
/// `ConfigConcatenation.consolidate`): strings and scalars into one string,
/// lists into one list, objects merged; unresolved pieces stay apart.
pub fn consolidate<'a>(pieces: Vec<Value<'a>>) -> Result<Vec<Value<'a>>, String> {
    let mut out: Vec<Value<'a>> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let flattened = match piece {
            Value::Concat(inner) => Rc::unwrap_or_clone(inner),
            other => vec![other],
        };
        for right in flattened {
            match out.pop() {
                None => out.push(right),
                Some(left) => match join(left, right)? {
                    Joined::One(v) => out.push(v),
                    Joined::Two(l, r) => {
                        out.push(l);
                        out.push(r);
                    }
                },
            }
        }
    }
    Ok(out)
}

/// [`consolidate`], then one value, none (every piece was an undefined
/// optional substitution), or a concatenation left to resolve.
pub fn concatenate<'a>(pieces: Vec<Value<'a>>) -> Result<Option<Value<'a>>, String> {
    let mut joined = consolidate(pieces)?;
    Ok(match joined.len() {
        0 => None,
        1 => joined.pop(),
        _ => Some(Value::Concat(Rc::new(joined))),
    })
}

enum Joined<'a> {
    One(Value<'a>),
    Two(Value<'a>, Value<'a>),
}

fn join<'a>(left: Value<'a>, right: Value<'a>) -> Result<Joined<'a>, String> {
    // An object with numeric keys next to a list is taken as a list.
    let (left, right) = if left.is_object() && is_list(&right) {
        (object_as_list(left), right)
    } else if is_list(&left) && right.is_object() {
        (left, object_as_list(right))
    } else {
        (left, right)
    };
    let list_or_object = |v: &Value| v.is_object() || is_list(v);
    if left.is_object() && right.is_object() {
        return Ok(Joined::One(right.with_fallback(left)));
    }
    if is_list(&left) && is_list(&right) {
        let mut items = list_items(&left);
        items.extend(list_items(&right));
        return Ok(Joined::One(Value::array(items)));
    }
    if list_or_object(&left) && matches!(right, Value::Str(_, true)) {
        return Ok(Joined::One(left));
    }
    if left.is_unmergeable() || right.is_unmergeable() {
        return Ok(Joined::Two(left, right));
    }
    match (left.transform_to_string(), right.transform_to_string()) {
        (Some(a), Some(b)) => Ok(Joined::One(Value::Str(
            Cow::Owned(format!("{a}{b}")),
            false,
        ))),
        _ => Err(format!(
            "cannot concatenate {} and {} (only strings and scalars, lists with lists, or objects with objects)",
            left.type_name(),
            right.type_name()
        )),
    }
}

fn is_list(v: &Value) -> bool {
    match v {
        Value::Array(_) => true,
        Value::Lazy(t) => t.starts_with('['),
        _ => false,
    }
}

fn list_items<'a>(v: &Value<'a>) -> Vec<Value<'a>> {
    match v.expanded() {
        Value::Array(l) => l.items.clone(),
        _ => Vec::new(),
    }
}

/// lightbend's `DefaultTransformer` from object to list: the values of the
/// keys that are whole numbers, in numeric order; the object itself when
/// there are none.
fn object_as_list(v: Value) -> Value {
    let Value::Object(o) = v.expanded() else {
        return v;
    };
    let mut numbered: Vec<(u32, Value)> = o
        .map
        .iter()
        .filter_map(|(k, v)| k.parse::<u32>().ok().map(|n| (n, v.clone())))
        .collect();
    if numbered.is_empty() {
        return v;
    }
    numbered.sort_by_key(|(n, _)| *n);
    Value::array(numbered.into_iter().map(|(_, v)| v).collect())
}

/// The value of a lazily kept object or array, read from its text.
pub fn expand(text: Cow<'_, str>) -> Value<'_> {
    match text {
        Cow::Borrowed(t) => expand_str(t),
        Cow::Owned(t) => expand_str(&t).into_owned(),
    }
}

fn expand_str(text: &str) -> Value<'_> {
    enum Frame<'t> {
        Object(Map<'t>, Option<Cow<'t, str>>),
        Array(Vec<Value<'t>>),
    }
    fn put<'t>(stack: &mut [Frame<'t>], value: Value<'t>, done: &mut Option<Value<'t>>) {
        match stack.last_mut() {
            Some(Frame::Object(map, key)) => {
                let key = key.take().unwrap_or_default();
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
            Some(Frame::Array(items)) => items.push(value),
            None => *done = Some(value),
        }
    }
    let decoded = |start: usize, end: usize| -> Cow<'_, str> {
        let t = &text[start..end];
        if t.starts_with('"') {
            if t.contains('\\') {
                Cow::Owned(string_value(t))
            } else {
                Cow::Borrowed(&t[1..t.len() - 1])
            }
        } else {
            Cow::Borrowed(t)
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut done = None;
    let read = plain::read(text, 0, &mut |event| match event {
        Event::Open { object: true, .. } => stack.push(Frame::Object(new_map(8), None)),
        Event::Open { object: false, .. } => stack.push(Frame::Array(Vec::new())),
        Event::Close { .. } => {
            let value = match stack.pop() {
                Some(Frame::Object(map, _)) => Value::Object(Rc::new(Object {
                    map,
                    resolved: true,
                    ignores_fallbacks: false,
                })),
                Some(Frame::Array(items)) => Value::Array(Rc::new(List {
                    items,
                    resolved: true,
                })),
                None => return,
            };
            put(&mut stack, value, &mut done);
        }
        Event::Key { start, end, .. } => {
            if let Some(Frame::Object(_, key)) = stack.last_mut() {
                *key = Some(decoded(start, end));
            }
        }
        Event::Scalar { kind, start, end } => {
            let t = &text[start..end];
            let value = match kind {
                Scalar::String => Value::Str(decoded(start, end), false),
                Scalar::Number => Value::Number(Cow::Borrowed(t)),
                Scalar::Bool => Value::Bool(t == "true"),
                Scalar::Null => Value::Null,
            };
            put(&mut stack, value, &mut done);
        }
    });
    debug_assert!(read.is_some(), "a lazily kept value did not read: {text:?}");
    done.unwrap_or(Value::Null)
}

/// Whether two resolved values mean the same.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Lazy(x), Value::Lazy(y)) if x == y => true,
        (Value::Lazy(_), _) | (_, Value::Lazy(_)) => same(&a.expanded(), &b.expanded()),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Str(x, _), Value::Str(y, _)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.items.len() == y.items.len() && x.items.iter().zip(&y.items).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.map.len() == y.map.len()
                && x.map
                    .iter()
                    .all(|(k, v)| y.map.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lazy(t: &str) -> Value<'_> {
        Value::Lazy(Cow::Borrowed(t))
    }

    #[test]
    fn lazy_values_read_as_objects_and_lists() {
        let v = expand(Cow::Borrowed(
            "{ a: 1, \"b.c\": [true, null, \"x\\ty\"], a: 2, d { e: -1.5 }, d { f: 010 } }",
        ));
        assert_eq!(
            v.to_json(),
            json!({"a": 2, "b.c": [true, null, "x\ty"], "d": {"e": -1.5, "f": 8}})
        );
    }

    #[test]
    fn merges_follow_with_fallback() {
        let top = lazy("{ a: { x: 1 }, b: 2 }");
        let bottom = lazy("{ a: { y: 2 }, b: { z: 3 }, c: 4 }");
        assert_eq!(
            top.with_fallback(bottom).to_json(),
            json!({"a": {"y": 2, "x": 1}, "b": 2, "c": 4})
        );
        // A non-object hides everything below it.
        let v = lazy("{ y: 2 }").with_fallback(Value::Number("5".into()));
        assert!(matches!(&v, Value::Object(o) if o.ignores_fallbacks));
        assert_eq!(v.with_fallback(lazy("{ z: 1 }")).to_json(), json!({"y": 2}));
    }

    #[test]
    fn concatenations_join_like_lightbend() {
        let s = |t: &'static str, unquoted| Value::Str(Cow::Borrowed(t), unquoted);
        let joined = concatenate(vec![
            s("foo", true),
            s(" ", true),
            Value::Number("10".into()),
            Value::Bool(true),
            Value::Null,
        ])
        .unwrap()
        .unwrap();
        assert_eq!(joined.to_json(), json!("foo 10truenull"));
        let lists = concatenate(vec![lazy("[1]"), s(" ", true), lazy("[2]")])
            .unwrap()
            .unwrap();
        assert_eq!(lists.to_json(), json!([1, 2]));
        let numbered = concatenate(vec![lazy("{\"1\": \"b\", \"0\": \"a\"}"), lazy("[\"c\"]")])
            .unwrap()
            .unwrap();
        assert_eq!(numbered.to_json(), json!(["a", "b", "c"]));
        assert!(concatenate(vec![lazy("[1]"), s("x", false)]).is_err());
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(!same_number("1", "1.0"));
        assert!(same_number("1.0", "1.00"));
        assert!(same_number("010", "8"));
        assert!(!same_number("1", "1.5"));
        assert_eq!(number_json("1e3"), json!(1000.0));
        assert_eq!(number_json("-7"), json!(-7));
    }
}
