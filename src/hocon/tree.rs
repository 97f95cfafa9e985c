//! The lossless syntax tree.
//!
//! The shape mirrors ruby-hocon's ConfigNode classes (`ConfigNodeObject`,
//! `ConfigNodeField`, ...) on purpose: its edit rules are defined in terms of
//! which tokens are children of which node, so reproducing them byte for byte
//! needs the same grouping. Every token of the input is in exactly one place,
//! so rendering the tree gives the input back.

use super::token::{Token, TokenKind};

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A lone token: whitespace, newline, comment, comma, brace, separator.
    Token(Token),
    /// The key of a field, as a path expression.
    Path(Vec<Token>),
    /// `key sep value`: a [`Node::Path`], blanks, a separator token (absent
    /// for `key { ... }`), blanks, a value node.
    Field(Vec<Node>),
    /// `include ...` with its argument.
    Include(Vec<Node>),
    /// A single value token: string, number, boolean, null, unquoted text or
    /// substitution.
    Simple(Token),
    /// `{ ... }`, or the braceless root object.
    Object(Vec<Node>),
    Array(Vec<Node>),
    /// Values side by side on one line, with the blanks between them.
    Concat(Vec<Node>),
    /// An object or array (the token's kind says which: `{` or `[`) kept
    /// as the span of its text, and how deep it nests. The parser leaves
    /// values it has skimmed this way (see `skim.rs`); `Document` builds
    /// their nodes when an edit or a walk needs them.
    Lazy(Token, u8),
    /// A run of members of the root object on plain lines (`"key": value`
    /// and the blanks, comments, line breaks and commas between them) kept
    /// as the span of its text, and the depth the parser was at. Most of a
    /// pe.conf is such lines: the parser reads them without building a node
    /// each (`Parser::plain_members`), and the nodes are built only where an
    /// edit needs them (`lazy.rs`). Not a value: a sequence of the object's
    /// children. The `u32` is where the line the run ends on ends: reading
    /// the run again looks that far (whether a member ends where it seems to
    /// depends on what follows it on its line).
    Members(Token, u8, u32),
    /// Where an edit just deleted a field; lets the tidy-up pass find lines the
    /// edit emptied. Never survives an edit and renders as nothing.
    Removed,
}

impl Node {
    pub fn children(&self) -> &[Node] {
        match self {
            Node::Field(c)
            | Node::Include(c)
            | Node::Object(c)
            | Node::Array(c)
            | Node::Concat(c) => c,
            Node::Token(_)
            | Node::Path(_)
            | Node::Simple(_)
            | Node::Lazy(..)
            | Node::Members(..)
            | Node::Removed => &[],
        }
    }

    /// A value that holds other nodes (ruby-hocon's `ConfigNodeComplexValue`).
    pub fn is_complex_value(&self) -> bool {
        matches!(
            self,
            Node::Object(_) | Node::Array(_) | Node::Concat(_) | Node::Lazy(..)
        )
    }

    /// A member of an object: a field, an include, or a run of members kept
    /// as one span.
    pub fn is_member(&self) -> bool {
        matches!(self, Node::Field(_) | Node::Include(_) | Node::Members(..))
    }

    pub fn is_value(&self) -> bool {
        self.is_complex_value() || matches!(self, Node::Simple(_))
    }

    pub fn token(&self) -> Option<Token> {
        match self {
            Node::Token(t) => Some(*t),
            _ => None,
        }
    }

    pub fn is_token(&self, kind: TokenKind) -> bool {
        matches!(self, Node::Token(t) if t.kind == kind)
    }

    pub fn is_newline(&self) -> bool {
        self.is_token(TokenKind::Newline)
    }

    pub fn is_whitespace(&self) -> bool {
        self.is_token(TokenKind::Whitespace)
    }

    /// Appends this node's text to `out`.
    pub fn render_into(&self, buf: &str, out: &mut String) {
        let mut w = SpanWriter::new(buf, out);
        self.write(&mut w, None);
        w.finish();
    }

    pub fn render(&self, buf: &str) -> String {
        let mut out = String::new();
        self.render_into(buf, &mut out);
        out
    }

    /// Like [`Node::render_into`], with every include statement replaced by
    /// `include_text`.
    pub fn render_replacing_includes(&self, buf: &str, include_text: &str, out: &mut String) {
        let mut w = SpanWriter::new(buf, out);
        self.write(&mut w, Some(include_text));
        w.finish();
    }

    fn write(&self, w: &mut SpanWriter, include_text: Option<&str>) {
        match self {
            Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
                w.token(*t)
            }
            Node::Path(tokens) => tokens.iter().for_each(|t| w.token(*t)),
            Node::Include(_) if include_text.is_some() => w.text(include_text.unwrap_or("")),
            _ => {
                // Most children are lone tokens: write those here rather
                // than through a call each.
                for child in self.children() {
                    match child {
                        Node::Token(t)
                        | Node::Simple(t)
                        | Node::Lazy(t, _)
                        | Node::Members(t, ..) => w.token(*t),
                        other => other.write(w, include_text),
                    }
                }
            }
        }
    }

    /// How many levels this node nests, counted as the parser counts them
    /// against its depth limit: objects, arrays and the periods of dotted
    /// keys.
    pub fn nesting(&self, buf: &str) -> usize {
        let inner = self
            .children()
            .iter()
            .map(|c| c.nesting(buf))
            .max()
            .unwrap_or(0);
        match self {
            Node::Object(_) | Node::Array(_) => 1 + inner,
            Node::Lazy(_, depth) => *depth as usize,
            Node::Field(_) => {
                let periods = self.field_path().map_or(0, |tokens| {
                    tokens
                        .iter()
                        .filter(|t| t.kind == TokenKind::Unquoted && t.text(buf) == ".")
                        .count()
                });
                periods + inner
            }
            _ => inner,
        }
    }

    /// The field's key tokens.
    pub fn field_path(&self) -> Option<&[Token]> {
        match self {
            Node::Field(children) => children.iter().find_map(|c| match c {
                Node::Path(tokens) => Some(tokens.as_slice()),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The field's value node.
    pub fn field_value(&self) -> Option<&Node> {
        match self {
            Node::Field(children) => children.iter().find(|c| c.is_value()),
            _ => None,
        }
    }

    pub fn field_value_mut(&mut self) -> Option<&mut Node> {
        match self {
            Node::Field(children) => children.iter_mut().find(|c| c.is_value()),
            _ => None,
        }
    }

    /// The separator token of a field (`:`, `=`, `+=`), if it has one.
    pub fn field_separator(&self) -> Option<Token> {
        self.children().iter().find_map(|c| match c {
            Node::Token(t)
                if matches!(
                    t.kind,
                    TokenKind::Colon | TokenKind::Equals | TokenKind::PlusEquals
                ) =>
            {
                Some(*t)
            }
            _ => None,
        })
    }
}

/// Writes token texts to a string, copying each run of tokens that lie next
/// to each other in the buffer with one copy. An unedited document is one
/// run, so rendering it is close to a single `memcpy`, instead of one
/// append per token.
struct SpanWriter<'a> {
    buf: &'a str,
    out: &'a mut String,
    /// The run not yet copied: `buf[start..end]`.
    start: usize,
    end: usize,
}

impl<'a> SpanWriter<'a> {
    fn new(buf: &'a str, out: &'a mut String) -> Self {
        SpanWriter {
            buf,
            out,
            start: 0,
            end: 0,
        }
    }

    #[inline(always)]
    fn token(&mut self, t: Token) {
        let (start, end) = (t.start as usize, t.end as usize);
        if start != self.end {
            self.finish();
            self.start = start;
        }
        self.end = end;
    }

    fn text(&mut self, text: &str) {
        self.finish();
        self.out.push_str(text);
    }

    /// Copies the pending run.
    fn finish(&mut self) {
        self.out.push_str(&self.buf[self.start..self.end]);
        self.start = self.end;
    }
}
