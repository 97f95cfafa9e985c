//! A read-only view of where things are in a document: every field with its
//! full key path and the byte span of its value in the rendered text, and
//! every include. Linting and secret masking are built on it.

use super::path::key_elements;
use super::token::TokenKind;
use super::tree::Node;
use super::Document;

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

impl Document {
    /// Every field, in document order, with nested fields after their parent.
    pub fn fields(&self) -> Vec<FieldInfo> {
        self.walk().0
    }

    /// Every include statement, in document order.
    pub fn includes(&self) -> Vec<IncludeInfo> {
        self.walk().1
    }

    fn walk(&self) -> (Vec<FieldInfo>, Vec<IncludeInfo>) {
        if self.has_lazy_values() {
            return self.fully_built().walk_built();
        }
        self.walk_built()
    }

    fn walk_built(&self) -> (Vec<FieldInfo>, Vec<IncludeInfo>) {
        let mut walker = Walker {
            buf: &self.buf,
            offset: if self.bom { '\u{FEFF}'.len_utf8() } else { 0 },
            fields: Vec::new(),
            includes: Vec::new(),
        };
        for node in &self.root {
            walker.node(node, &[], false);
        }
        (walker.fields, walker.includes)
    }
}

struct Walker<'a> {
    buf: &'a str,
    offset: usize,
    fields: Vec<FieldInfo>,
    includes: Vec<IncludeInfo>,
}

impl Walker<'_> {
    fn len_of(&self, node: &Node) -> usize {
        match node {
            Node::Token(t) | Node::Simple(t) => (t.end - t.start) as usize,
            Node::Path(tokens) => tokens.iter().map(|t| (t.end - t.start) as usize).sum(),
            Node::Removed => 0,
            _ => node.children().iter().map(|c| self.len_of(c)).sum(),
        }
    }

    fn node(&mut self, node: &Node, parent: &[String], in_array: bool) {
        match node {
            Node::Field(children) => self.field(children, parent, in_array),
            Node::Include(_) => {
                let len = self.len_of(node);
                let mut text = String::new();
                node.render_into(self.buf, &mut text);
                self.includes.push(IncludeInfo {
                    text,
                    offset: self.offset,
                });
                self.offset += len;
            }
            Node::Object(children) | Node::Concat(children) => {
                for c in children {
                    self.node(c, parent, in_array);
                }
            }
            Node::Array(children) => {
                for c in children {
                    self.node(c, parent, true);
                }
            }
            other => self.offset += self.len_of(other),
        }
    }

    fn field(&mut self, children: &[Node], parent: &[String], in_array: bool) {
        let mut path = parent.to_vec();
        let mut key_len = 0;
        let mut key_text = String::new();
        let mut key_offset = self.offset;
        let mut separator = None;
        for child in children {
            match child {
                Node::Path(tokens) => {
                    key_offset = self.offset;
                    let elements = key_elements(tokens, self.buf);
                    key_len = elements.len();
                    path.extend(elements);
                    child.render_into(self.buf, &mut key_text);
                    self.offset += self.len_of(child);
                }
                Node::Token(t)
                    if matches!(
                        t.kind,
                        TokenKind::Colon | TokenKind::Equals | TokenKind::PlusEquals
                    ) =>
                {
                    separator = Some(t.text(self.buf).to_string());
                    self.offset += self.len_of(child);
                }
                value if value.is_value() => {
                    let start = self.offset;
                    let len = self.len_of(value);
                    let value_kind = kind_of(value);
                    self.fields.push(FieldInfo {
                        path: path.clone(),
                        key_len,
                        key_text: key_text.clone(),
                        separator: separator.clone(),
                        value_kind,
                        value_span: (start, start + len),
                        key_offset,
                        in_array,
                    });
                    // Nested fields come after their parent.
                    self.node(value, &path, in_array);
                    debug_assert_eq!(self.offset, start + len);
                    self.offset = start + len;
                }
                other => self.offset += self.len_of(other),
            }
        }
    }
}

fn kind_of(node: &Node) -> ValueKind {
    match node {
        Node::Object(_) => ValueKind::Object,
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
