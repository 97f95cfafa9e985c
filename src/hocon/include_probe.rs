//! What include statements could mean, for the edit check.
//!
//! The check (`semantic.rs`) reads only the text to be written, and an
//! include statement names a file that text does not hold: resolved on its
//! own, every include stands for nothing, so an edit that loses, renames,
//! duplicates or moves one would pass unseen. Yet where an include sits
//! decides what it overrides and what overrides it.
//!
//! So, when a document has include statements, both texts are resolved a
//! second time with each statement standing for an object that defines
//! every key the two documents hold at that place (and one key neither
//! holds), each value a marker naming the statement (its order among the
//! statements, its kind and name) and the key's place inside it. If any
//! statement is lost, added, renamed, reordered, made `required(...)` or
//! `file(...)`, or moved before or after a key it could define, some key
//! resolves to another marker (or to a value instead of one) and the two
//! documents differ. The edited keys are taken as the edit leaves them:
//! whether an include after one may override it, the text alone cannot tell
//! (the pe.conf lint reports such an include).

use super::resolve::{new_map, Include, Includer, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A key no document is expected to hold: every object an include stands
/// for defines it, so that statements defining only keys the documents do
/// not hold still leave a trace.
const UNSEEN_KEY: &str = "\u{0}pe-analytics include probe";

/// The keys the documents' objects hold (`None`: a value that is not an
/// object), and whether a value there is a list (its marker is then a list,
/// so that `+=` and concatenations with lists still resolve).
#[derive(Debug, Default)]
pub struct Shape(Option<BTreeMap<String, Shape>>, bool);

impl Shape {
    /// Adds the keys of `value`, a resolved value.
    pub fn add(&mut self, value: &Value) {
        let value = match value {
            Value::Lazy(_) => value.expanded(),
            other => other.clone(),
        };
        let Value::Object(object) = value else {
            self.1 |= matches!(value, Value::Array(_));
            return;
        };
        let children = self.0.get_or_insert_with(BTreeMap::new);
        for (key, child) in &object.map {
            children.entry(key.to_string()).or_default().add(child);
        }
    }

    fn at(&self, path: &[String]) -> Option<&Shape> {
        path.iter()
            .try_fold(self, |shape, key| shape.0.as_ref()?.get(key))
    }
}

/// Stands each include statement for an object of markers (see the module's
/// documentation).
pub struct Probe<'s> {
    shape: &'s Shape,
    /// How many statements have been read (the documents are read in order).
    seen: usize,
}

impl<'s> Probe<'s> {
    pub fn new(shape: &'s Shape) -> Self {
        Probe { shape, seen: 0 }
    }
}

impl Includer for Probe<'_> {
    fn include(&mut self, include: &Include) -> Result<Value<'static>, String> {
        self.seen += 1;
        let tag = format!(
            "include #{} {:?}{} {:?}",
            self.seen,
            include.kind,
            if include.required { " required" } else { "" },
            include.name
        );
        let mut inside = Vec::new();
        Ok(markers(self.shape.at(&include.at), &tag, &mut inside))
    }
}

/// The object standing for an include whose surroundings hold `shape`.
fn markers(shape: Option<&Shape>, tag: &str, inside: &mut Vec<String>) -> Value<'static> {
    let marker = |inside: &[String]| Value::Str(Cow::Owned(format!("{tag} .{inside:?}")), false);
    let children = shape.and_then(|s| s.0.as_ref());
    let mut map = new_map(children.map_or(0, BTreeMap::len) + 1);
    inside.push(UNSEEN_KEY.to_string());
    map.insert(Cow::Borrowed(UNSEEN_KEY), marker(inside));
    inside.pop();
    for (key, child) in children.into_iter().flatten() {
        inside.push(key.clone());
        let value = match (&child.0, child.1) {
            (Some(_), _) => markers(Some(child), tag, inside),
            (None, true) => Value::array(vec![marker(inside)]),
            (None, false) => marker(inside),
        };
        inside.pop();
        map.insert(Cow::Owned(key.clone()), value);
    }
    Value::object(map)
}
