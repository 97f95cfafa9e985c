//! Resolving substitutions, as lightbend config (and ruby-hocon, its port)
//! specifies it:
//!
//! * a substitution looks its path up in the whole configuration, resolving
//!   only what lies on the way; then, for a file included inside an object,
//!   without that object's prefix; then in the environment (a one-element
//!   path names an environment variable);
//! * a key defined several times where some definitions are unresolved (a
//!   delayed merge) resolves its definitions from the earliest up; while one
//!   that is a substitution or concatenation resolves, a lookup of that key
//!   sees only the definitions below it ("looking backward": `a += 1`,
//!   `path: ${path}":/usr/bin"`);
//! * any other lookup that comes back to a value being resolved is a cycle:
//!   an error, or nothing for an optional substitution;
//! * a value that resolves to nothing (an undefined `${?x}`) removes its
//!   field or list element.
//!
//! Values are tracked by where they sit in the (immutable) built tree, so
//! each is resolved once, and the recursion is bounded whatever the input.

use super::value::{consolidate, new_map, Object, Ref, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

/// Nested resolutions (a substitution whose value has a substitution ...)
/// allowed before giving up; keeps the recursion far from the end of the
/// stack.
pub const MAX_NESTING: usize = 400;

/// Looks an environment variable up.
pub type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// Resolves every substitution in `root` (the built root object).
pub fn resolve<'a>(root: &Value<'a>, env: Env) -> Result<Value<'a>, String> {
    if root.is_resolved() {
        return Ok(root.clone());
    }
    let mut r = Resolver {
        root,
        memo: HashMap::new(),
        env,
        depth: 0,
    };
    match r.resolve(root) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Ok(Value::object(new_map(0))),
        Err(Fail::Cycle) => Err("the substitutions form a cycle".into()),
        Err(Fail::Fatal(msg)) => Err(msg),
    }
}

enum Fail {
    /// A lookup came back to a value being resolved (lightbend's
    /// `NotPossibleToResolve`): the substitution that made it decides.
    Cycle,
    Fatal(String),
}

enum State<'a, 't> {
    /// Being resolved; for a delayed merge, the definition being resolved
    /// and the merge of those below it.
    InProgress(Option<Layers<'a, 't>>),
    Done(Option<Value<'a>>),
}

struct Layers<'a, 't> {
    current: &'t Value<'a>,
    below: Option<Value<'a>>,
}

struct Resolver<'a, 't, 'e> {
    root: &'t Value<'a>,
    /// By the address of the value in the built tree.
    memo: HashMap<usize, State<'a, 't>>,
    env: Env<'e>,
    depth: usize,
}

fn id(v: &Value) -> usize {
    v as *const Value as usize
}

impl<'a, 't> Resolver<'a, 't, '_> {
    /// The resolved value of `v`, a value of the built tree; `None` when it
    /// resolves to nothing.
    fn resolve(&mut self, v: &'t Value<'a>) -> Result<Option<Value<'a>>, Fail> {
        if v.is_resolved() {
            return Ok(Some(v.clone()));
        }
        match self.memo.get(&id(v)) {
            Some(State::Done(r)) => return Ok(r.clone()),
            Some(State::InProgress(_)) => return Err(Fail::Cycle),
            None => {}
        }
        if self.depth >= MAX_NESTING {
            return Err(Fail::Fatal(format!(
                "substitutions nest more than {MAX_NESTING} levels deep"
            )));
        }
        self.depth += 1;
        self.memo.insert(id(v), State::InProgress(None));
        let result = self.resolve_new(v);
        self.depth -= 1;
        match &result {
            Ok(r) => {
                self.memo.insert(id(v), State::Done(r.clone()));
            }
            Err(_) => {
                self.memo.remove(&id(v));
            }
        }
        result
    }

    fn resolve_new(&mut self, v: &'t Value<'a>) -> Result<Option<Value<'a>>, Fail> {
        match v {
            Value::Object(o) => {
                let mut map = new_map(o.map.len());
                for (k, child) in &o.map {
                    if let Some(r) = self.resolve(child)? {
                        map.insert(k.clone(), r);
                    }
                }
                Ok(Some(Value::Object(Rc::new(Object {
                    map,
                    resolved: true,
                    ignores_fallbacks: o.ignores_fallbacks,
                }))))
            }
            Value::Array(list) => {
                let mut items = Vec::with_capacity(list.items.len());
                for item in &list.items {
                    if let Some(r) = self.resolve(item)? {
                        items.push(r);
                    }
                }
                Ok(Some(Value::array(items)))
            }
            Value::Ref(r) => self.substitute(r),
            Value::Concat(pieces) => {
                let mut resolved = Vec::with_capacity(pieces.len());
                for p in pieces.iter() {
                    if let Some(r) = self.resolve(p)? {
                        resolved.push(r);
                    }
                }
                let mut joined = consolidate(resolved).map_err(Fail::Fatal)?;
                match joined.len() {
                    0 => Ok(None),
                    1 => Ok(joined.pop()),
                    _ => Err(Fail::Fatal(
                        "a concatenation did not resolve to one value".into(),
                    )),
                }
            }
            Value::Merge(stack) => {
                let mut below: Option<Value<'a>> = None;
                for layer in stack.iter().rev() {
                    self.memo.insert(
                        id(v),
                        State::InProgress(Some(Layers {
                            current: layer,
                            below: below.clone(),
                        })),
                    );
                    if let Some(r) = self.resolve(layer)? {
                        below = Some(match below {
                            Some(b) => r.with_fallback(b),
                            None => r,
                        });
                    }
                }
                Ok(below)
            }
            _ => Ok(Some(v.clone())),
        }
    }

    /// A substitution's value.
    fn substitute(&mut self, r: &Ref) -> Result<Option<Value<'a>>, Fail> {
        let cycle = |r: &Ref| {
            if r.optional {
                Ok(None)
            } else {
                Err(Fail::Fatal(format!(
                    "the substitution {} is part of a cycle of substitutions",
                    r.shown()
                )))
            }
        };
        let mut found = match self.lookup(&r.path) {
            Ok(v) => v,
            Err(Fail::Cycle) => return cycle(r),
            Err(e) => return Err(e),
        };
        let unprefixed = &r.path[r.prefix_len.min(r.path.len())..];
        if found.is_none() && r.prefix_len > 0 {
            found = match self.lookup(unprefixed) {
                Ok(v) => v,
                Err(Fail::Cycle) => return cycle(r),
                Err(e) => return Err(e),
            };
        }
        if found.is_none() {
            if let [name] = unprefixed {
                found = (self.env)(name).map(|v| Value::Str(Cow::Owned(v), false));
            }
        }
        match found {
            Some(v) => Ok(Some(v)),
            None if r.optional => Ok(None),
            None => Err(Fail::Fatal(format!(
                "the substitution {} is not set, in this file or in the environment",
                r.shown()
            ))),
        }
    }

    /// The resolved value at `path`, resolving only what lies on the way.
    fn lookup(&mut self, path: &[String]) -> Result<Option<Value<'a>>, Fail> {
        let mut at: &'t Value<'a> = self.root;
        let mut i = 0;
        while let Some(key) = path.get(i) {
            match at {
                // Objects as built are walked into without resolving them.
                Value::Object(o) => match o.map.get(key.as_str()) {
                    Some(child) => at = child,
                    None => return Ok(None),
                },
                Value::Lazy(_) => return Ok(owned_at(at, &path[i..])),
                other if !other.is_resolved() => match self.view_child(other, key)? {
                    // Carry on inside the definition being resolved.
                    View::Tree(child) => at = child,
                    View::Value(v) => return Ok(v.and_then(|v| owned_at(&v, &path[i..]))),
                },
                _ => return Ok(None),
            }
            i += 1;
        }
        self.view(at)
    }

    /// The value of `v` for a lookup that ends there: its resolution, or,
    /// for a key whose substitution or concatenation is being resolved, the
    /// definitions below it.
    fn view(&mut self, v: &'t Value<'a>) -> Result<Option<Value<'a>>, Fail> {
        if let Some(State::InProgress(Some(layers))) = self.memo.get(&id(v)) {
            if layers.current.is_unmergeable() {
                return Ok(layers.below.clone());
            }
        }
        self.resolve(v)
    }

    /// For a lookup going on through `key`: where it goes on from `v`, an
    /// unresolved value (not an object as built).
    fn view_child(&mut self, v: &'t Value<'a>, key: &str) -> Result<View<'a, 't>, Fail> {
        if let Some(State::InProgress(Some(layers))) = self.memo.get(&id(v)) {
            let current = layers.current;
            if current.is_unmergeable() {
                return Ok(View::Value(layers.below.clone()));
            }
            // An object being resolved as one definition of a key: its own
            // fields, else the definitions below it.
            if let Value::Object(o) = current {
                if let Some(child) = o.map.get(key) {
                    return Ok(View::Tree(child));
                }
                return Ok(View::Value(layers.below.clone()));
            }
        }
        Ok(View::Value(self.resolve(v)?))
    }
}

enum View<'a, 't> {
    /// Go on from this child of the tree.
    Tree(&'t Value<'a>),
    /// Go on in this resolved value (from the key asked for).
    Value(Option<Value<'a>>),
}

/// The value at `path` in an already resolved value.
fn owned_at<'a>(v: &Value<'a>, path: &[String]) -> Option<Value<'a>> {
    let mut at = v.clone();
    for key in path {
        at = at.get(key)?;
    }
    Some(at)
}
