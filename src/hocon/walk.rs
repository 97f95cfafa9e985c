//! A read-only view of where things are in a document: every field with its
//! full key path and the byte span of its value in the rendered text, and
//! every include. Linting and secret masking are built on it.

use super::path::{key_elements, simple_key, string_value};
use super::plain::{self, Event, Scalar};
use super::token::TokenKind;
use super::tree::Node;
use super::Document;
use std::borrow::Cow;

/// What kind of value a field holds, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    String,
    Number,
    Boolean,
    Null,
    Unquoted,
    Substitution,
    Object,
    Array,
    Concatenation,
}

/// One field of the document, wherever it is nested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldInfo {
    /// The keys from the root to this field (an enclosing object's key, then
    /// this field's key elements; a dotted key gives several).
    pub path: Vec<String>,
    /// How many of `path`'s elements this field's own key spells.
    pub key_len: usize,
    /// The key as written.
    pub key_text: String,
    /// The separator as written (`:`, `=`, `+=`), if any.
    pub separator: Option<String>,
    pub value_kind: ValueKind,
    /// Byte span of the value in [`Document::render`]'s output.
    pub value_span: (usize, usize),
    /// Byte offset of the key in the rendered output.
    pub key_offset: usize,
    /// Whether the field sits inside an array (so it is not reachable by path).
    pub in_array: bool,
}

/// An `include` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludeInfo {
    pub text: String,
    pub offset: usize,
}

/// One field as a walk meets it, borrowed for the time of the callback (see
/// [`Document::walk_fields`]); [`FieldRef::to_info`] keeps it.
#[derive(Clone, Copy, Debug)]
pub struct FieldRef<'r> {
    pub path: &'r [Cow<'r, str>],
    pub key_len: usize,
    pub key_text: &'r str,
    pub separator: Option<&'r str>,
    pub value_kind: ValueKind,
    pub value_span: (usize, usize),
    pub key_offset: usize,
    pub in_array: bool,
}

impl FieldRef<'_> {
    pub fn to_info(&self) -> FieldInfo {
        FieldInfo {
            path: self.path.iter().map(|k| k.to_string()).collect(),
            key_len: self.key_len,
            key_text: self.key_text.to_string(),
            separator: self.separator.map(str::to_string),
            value_kind: self.value_kind,
            value_span: self.value_span,
            key_offset: self.key_offset,
            in_array: self.in_array,
        }
    }
}

impl Document {
    /// Every field, in document order, with nested fields after their parent.
    pub fn fields(&self) -> Vec<FieldInfo> {
        let mut fields = Vec::new();
        self.walk_fields(&|_| true, &mut |f| fields.push(f.to_info()));
        fields
    }

    /// Calls `f` for every field, in document order, with nested fields
    /// after their parent, without building or copying the tree: values and
    /// runs of root members kept lazily are read from their text
    /// (`plain.rs`), and only those whose text `descend` accepts (a filter: a
    /// caller that looks for one key skips the text that cannot hold it).
    pub fn walk_fields(&self, descend: &dyn Fn(&str) -> bool, f: &mut dyn FnMut(FieldRef)) {
        let mut walker = Walker {
            buf: &self.buf,
            offset: if self.bom { '\u{FEFF}'.len_utf8() } else { 0 },
            path: Vec::new(),
            descend,
            on_field: f,
            on_include: None,
            events: Vec::new(),
        };
        for node in &self.root {
            walker.node(node, false);
        }
    }

    /// Every include statement, in document order.
    pub fn includes(&self) -> Vec<IncludeInfo> {
        let mut includes = Vec::new();
        let mut on_include = |i: IncludeInfo| includes.push(i);
        let mut walker = Walker {
            buf: &self.buf,
            offset: if self.bom { '\u{FEFF}'.len_utf8() } else { 0 },
            path: Vec::new(),
            // Includes are never inside values kept lazily.
            descend: &|_| false,
            on_field: &mut |_| {},
            on_include: Some(&mut on_include),
            events: Vec::new(),
        };
        for node in &self.root {
            walker.node(node, false);
        }
        includes
    }
}

struct Walker<'d, 'c> {
    buf: &'d str,
    /// Where the current node starts in the rendered text.
    offset: usize,
    /// The keys of the fields around the current node.
    path: Vec<Cow<'d, str>>,
    descend: &'c dyn Fn(&str) -> bool,
    on_field: &'c mut dyn FnMut(FieldRef),
    on_include: Option<&'c mut dyn FnMut(IncludeInfo)>,
    /// Reused for the events of each lazily kept value.
    events: Vec<Event>,
}

impl<'d> Walker<'d, '_> {
    fn len_of(&self, node: &Node) -> usize {
        match node {
            Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
                (t.end - t.start) as usize
            }
            Node::Path(tokens) => tokens.iter().map(|t| (t.end - t.start) as usize).sum(),
            Node::Removed => 0,
            _ => node.children().iter().map(|c| self.len_of(c)).sum(),
        }
    }

    fn node(&mut self, node: &Node, in_array: bool) {
        match node {
            Node::Field(children) => self.field(children, in_array),
            Node::Include(_) => {
                let len = self.len_of(node);
                if let Some(on_include) = self.on_include.as_mut() {
                    on_include(IncludeInfo {
                        text: node.render(self.buf),
                        offset: self.offset,
                    });
                }
                self.offset += len;
            }
            Node::Object(children) | Node::Concat(children) => self.children(children, in_array),
            Node::Array(children) => self.children(children, true),
            Node::Lazy(t, _) => {
                let text = t.text(self.buf);
                if (self.descend)(text) {
                    self.lazy(text, in_array, false);
                }
                self.offset += text.len();
            }
            Node::Members(t, ..) => {
                let text = t.text(self.buf);
                if (self.descend)(text) {
                    self.lazy(text, in_array, true);
                }
                self.offset += text.len();
            }
            other => self.offset += self.len_of(other),
        }
    }

    fn children(&mut self, children: &[Node], in_array: bool) {
        for c in children {
            // Most children of an object are lone tokens (blanks, line
            // breaks, commas): counted here rather than through a call.
            match c {
                Node::Token(t) => self.offset += (t.end - t.start) as usize,
                other => self.node(other, in_array),
            }
        }
    }

    fn field(&mut self, children: &[Node], in_array: bool) {
        let depth = self.path.len();
        let mut key_len = 0;
        let mut key_text: Cow<'d, str> = Cow::Borrowed("");
        let mut key_offset = self.offset;
        let mut separator = None;
        for child in children {
            match child {
                Node::Path(tokens) => {
                    key_offset = self.offset;
                    match simple_key(tokens, self.buf) {
                        Some(k) => {
                            key_len = 1;
                            self.path.push(Cow::Borrowed(k));
                        }
                        None => {
                            let elements = key_elements(tokens, self.buf);
                            key_len = elements.len();
                            self.path.extend(elements.into_iter().map(Cow::Owned));
                        }
                    }
                    let contiguous = tokens.windows(2).all(|w| w[0].end == w[1].start);
                    key_text = match (tokens.first(), tokens.last()) {
                        (Some(a), Some(b)) if contiguous => {
                            Cow::Borrowed(&self.buf[a.start as usize..b.end as usize])
                        }
                        _ => Cow::Owned(child.render(self.buf)),
                    };
                    self.offset += self.len_of(child);
                }
                Node::Token(t)
                    if matches!(
                        t.kind,
                        TokenKind::Colon | TokenKind::Equals | TokenKind::PlusEquals
                    ) =>
                {
                    separator = Some(t.text(self.buf));
                    self.offset += self.len_of(child);
                }
                value if value.is_value() => {
                    let start = self.offset;
                    let len = self.len_of(value);
                    (self.on_field)(FieldRef {
                        path: &self.path,
                        key_len,
                        key_text: &key_text,
                        separator,
                        value_kind: kind_of(value),
                        value_span: (start, start + len),
                        key_offset,
                        in_array,
                    });
                    // Nested fields come after their parent.
                    self.node(value, in_array);
                    debug_assert_eq!(self.offset, start + len);
                    self.offset = start + len;
                }
                other => self.offset += self.len_of(other),
            }
        }
        self.path.truncate(depth);
    }

    /// The fields of a value kept lazily (or of a run of members), read
    /// from its text, which starts at `self.offset` in the rendered text.
    fn lazy(&mut self, text: &'d str, in_array: bool, members: bool) {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        let read = if members {
            // A member's value is read only when the filter lets it.
            let descend = self.descend;
            let mut depth = 0usize;
            // Where the current member's value opens in `events`.
            let mut value_open = 0;
            plain::read_members(text, 0, text.len(), &mut |e| {
                match e {
                    Event::Open { .. } => {
                        if depth == 0 {
                            value_open = events.len();
                        }
                        depth += 1;
                    }
                    Event::Close { .. } => depth -= 1,
                    _ => {}
                }
                events.push(e);
                if let (Event::Close { end }, 0) = (e, depth) {
                    let Event::Open { start, .. } = events[value_open] else {
                        return;
                    };
                    if !descend(&text[start..end]) {
                        // Keep only the value's own open and close.
                        events.truncate(value_open + 1);
                        events.push(e);
                    }
                }
            })
        } else {
            plain::read(text, 0, &mut |e| events.push(e)).map(|_| ())
        };
        debug_assert!(read.is_some(), "a lazily kept value did not read: {text:?}");
        // Where each container ends (its Close), for the span of the field
        // that holds it.
        let mut ends = vec![0; events.len()];
        let mut open = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match e {
                Event::Open { .. } => open.push(i),
                Event::Close { end } => {
                    if let Some(o) = open.pop() {
                        ends[o] = *end;
                    }
                }
                _ => {}
            }
        }
        let base = self.offset;
        let depth = self.path.len();
        // For each open container: whether it is a list, and the path depth
        // to return to when it closes.
        let mut frames: Vec<(bool, usize)> = Vec::new();
        let mut pending: Option<(usize, usize, Option<usize>)> = None;
        for (i, e) in events.iter().enumerate() {
            let inside_array = in_array || frames.iter().any(|(list, _)| *list);
            let value = match *e {
                Event::Key {
                    start,
                    end,
                    separator,
                } => {
                    pending = Some((start, end, separator));
                    continue;
                }
                Event::Open { object, start } => {
                    let kind = if object {
                        ValueKind::Object
                    } else {
                        ValueKind::Array
                    };
                    Some((kind, start, ends[i], !object))
                }
                Event::Scalar { kind, start, end } => Some((
                    match kind {
                        Scalar::String => ValueKind::String,
                        Scalar::Number => ValueKind::Number,
                        Scalar::Bool => ValueKind::Boolean,
                        Scalar::Null => ValueKind::Null,
                    },
                    start,
                    end,
                    false,
                )),
                Event::Close { .. } => {
                    if let Some((_, d)) = frames.pop() {
                        self.path.truncate(d);
                    }
                    None
                }
            };
            let Some((kind, start, end, is_list)) = value else {
                continue;
            };
            let field_depth = self.path.len();
            if let Some((ks, ke, sep)) = pending.take() {
                let raw = &text[ks..ke];
                let key = if raw.starts_with('"') {
                    if raw.contains('\\') {
                        Cow::Owned(string_value(raw))
                    } else {
                        Cow::Borrowed(&raw[1..raw.len() - 1])
                    }
                } else {
                    Cow::Borrowed(raw)
                };
                self.path.push(key);
                (self.on_field)(FieldRef {
                    path: &self.path,
                    key_len: 1,
                    key_text: raw,
                    separator: sep.map(|at| &text[at..at + 1]),
                    value_kind: kind,
                    value_span: (base + start, base + end),
                    key_offset: base + ks,
                    in_array: inside_array,
                });
                if !matches!(e, Event::Open { .. }) {
                    self.path.truncate(field_depth);
                }
            }
            if let Event::Open { .. } = e {
                frames.push((is_list, field_depth));
            }
        }
        self.path.truncate(depth);
        self.events = events;
    }
}

fn kind_of(node: &Node) -> ValueKind {
    match node {
        Node::Object(_) => ValueKind::Object,
        Node::Lazy(t, _) if t.kind == TokenKind::OpenCurly => ValueKind::Object,
        Node::Lazy(..) => ValueKind::Array,
        Node::Array(_) => ValueKind::Array,
        Node::Concat(_) => ValueKind::Concatenation,
        Node::Simple(t) => match t.kind {
            TokenKind::QuotedString => ValueKind::String,
            TokenKind::Number => ValueKind::Number,
            TokenKind::Bool => ValueKind::Boolean,
            TokenKind::Null => ValueKind::Null,
            TokenKind::Substitution => ValueKind::Substitution,
            _ => ValueKind::Unquoted,
        },
        _ => ValueKind::Unquoted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_in_the_rendered_text() {
        let text = "\u{feff}{\n  \"a::b\": \"x\"\n  c { d = [1, {e: 2}] }\n}\n";
        let doc = Document::parse(text).unwrap();
        let rendered = doc.render();
        let fields = doc.fields();
        let seen: Vec<(String, &str, ValueKind)> = fields
            .iter()
            .map(|f| {
                (
                    f.path.join("/"),
                    &rendered[f.value_span.0..f.value_span.1],
                    f.value_kind,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("a::b".to_string(), "\"x\"", ValueKind::String),
                ("c".to_string(), "{ d = [1, {e: 2}] }", ValueKind::Object),
                ("c/d".to_string(), "[1, {e: 2}]", ValueKind::Array),
                ("c/d/e".to_string(), "2", ValueKind::Number),
            ]
        );
        assert!(fields[3].in_array);
        assert_eq!(
            &rendered[fields[1].key_offset..fields[1].key_offset + 1],
            "c"
        );
    }

    #[test]
    fn includes_are_listed() {
        let doc = Document::parse("include \"extra.conf\"\na: 1\n").unwrap();
        assert_eq!(doc.includes()[0].text, "include \"extra.conf\"");
    }
}
