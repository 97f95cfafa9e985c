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
            Node::Token(_) | Node::Path(_) | Node::Simple(_) | Node::Removed => &[],
        }
    }

    /// A value that holds other nodes (ruby-hocon's `ConfigNodeComplexValue`).
    pub fn is_complex_value(&self) -> bool {
        matches!(self, Node::Object(_) | Node::Array(_) | Node::Concat(_))
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
        match self {
            Node::Token(t) | Node::Simple(t) => out.push_str(t.text(buf)),
            Node::Path(tokens) => tokens.iter().for_each(|t| out.push_str(t.text(buf))),
            _ => self
                .children()
                .iter()
                .for_each(|child| child.render_into(buf, out)),
        }
    }

    pub fn render(&self, buf: &str) -> String {
        let mut out = String::new();
        self.render_into(buf, &mut out);
        out
    }

    /// Like [`Node::render_into`], with every include statement replaced by
    /// `include_text`.
    pub fn render_replacing_includes(&self, buf: &str, include_text: &str, out: &mut String) {
        match self {
            Node::Include(_) => out.push_str(include_text),
            Node::Field(c) | Node::Object(c) | Node::Array(c) | Node::Concat(c) => c
                .iter()
                .for_each(|child| child.render_replacing_includes(buf, include_text, out)),
            other => other.render_into(buf, out),
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
