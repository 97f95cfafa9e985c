//! A lossless, editable HOCON document, modelled on `toml_edit` and
//! reproducing the edits of ruby-hocon's `ConfigDocument` (what Puppet uses to
//! edit pe.conf), so files touched by either tool never churn.
//!
//! ```
//! use pe_analytics::hocon::Document;
//! let mut doc = Document::parse("{\n  \"a::b\": 1\n}\n").unwrap();
//! doc.set("\"puppet_enterprise::send_analytics_data\"", "false").unwrap();
//! assert_eq!(doc.render(), "{\n  \"a::b\": 1\n  \"puppet_enterprise::send_analytics_data\": false\n}\n");
//! ```

mod cursor;
mod edit;
mod error;
mod include_probe;
mod lazy;
mod lexer;
mod parser;
mod path;
mod plain;
pub mod render_json;
pub mod resolve;
pub mod semantic;
mod skim;
mod token;
mod tree;
mod walk;

pub use edit::EditRules;
pub use error::{locate_all, HoconError, Location};
#[doc(hidden)]
pub use lazy::lazy_parse_disagreement;
pub use path::PathExpr;
pub use token::Syntax;
pub use walk::{FieldInfo, FieldRef, IncludeInfo, ValueKind};

use edit::Editor;
use error::RawError;
use token::TokenKind;
use tree::Node;

const BOM: char = '\u{FEFF}';

/// A parsed HOCON document that renders back to its exact input and can be
/// edited without disturbing anything but the edited field.
///
/// Objects and arrays nested in fields may be kept as spans of text until
/// an edit or a walk needs their nodes (`skim.rs`, `lazy.rs`); nothing
/// outside this module can tell.
#[derive(Clone, Debug)]
pub struct Document {
    /// The text all tokens point into: the input (without BOM), followed by
    /// the text of paths and values added by edits.
    buf: String,
    bom: bool,
    root: Vec<Node>,
    syntax: Syntax,
    rules: EditRules,
    newline: &'static str,
}

impl Document {
    /// Parses HOCON (pe.conf's syntax) with the improved edit rules.
    pub fn parse(text: &str) -> Result<Document, HoconError> {
        Document::parse_with(text, Syntax::Conf, EditRules::Improved)
    }

    pub fn parse_with(
        text: &str,
        syntax: Syntax,
        rules: EditRules,
    ) -> Result<Document, HoconError> {
        Document::parse_values(text, syntax, rules, parser::Values::Lazy)
    }

    /// [`Document::parse_with`] on a text the caller gives away: the
    /// document keeps it as its buffer instead of a copy (a large file is
    /// then held once).
    pub fn parse_owned(
        mut text: String,
        syntax: Syntax,
        rules: EditRules,
    ) -> Result<Document, HoconError> {
        if syntax == Syntax::Json || text.len() >= u32::MAX as usize / 2 {
            // The JSON dialect's parser appends to the buffer as it goes.
            return Document::parse_with(&text, syntax, rules);
        }
        let bom = text.starts_with(BOM);
        if bom {
            text.drain(..BOM.len_utf8());
        }
        let mut appended = String::new();
        let root = {
            let tokens = lexer::TokenStream::new(&text, 0, syntax, rules == EditRules::Ruby);
            parser::parse_document(tokens, &mut appended, syntax, parser::Values::Lazy)
                .map_err(|e| e.into_syntax(&text))?
        };
        debug_assert!(appended.is_empty(), "HOCON parsing appended to the buffer");
        let newline = match rules {
            EditRules::Ruby => "\n",
            EditRules::Improved => line_ending(&text),
        };
        Ok(Document {
            buf: text,
            bom,
            root,
            syntax,
            rules,
            newline,
        })
    }

    /// Parses with nested values either kept lazily (what every public entry
    /// point does) or all built, which `lazy.rs` compares against.
    fn parse_values(
        text: &str,
        syntax: Syntax,
        rules: EditRules,
        values: parser::Values,
    ) -> Result<Document, HoconError> {
        if text.len() >= u32::MAX as usize / 2 {
            return Err(HoconError::Unsupported(
                "documents of 2 GiB or more are not supported".into(),
            ));
        }
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut buf = body.to_string();
        // The tokens come from `body`, which `buf` copies: same offsets, and
        // the parser may append to `buf` (split JSON keys) as it goes.
        let tokens = lexer::TokenStream::new(body, 0, syntax, rules == EditRules::Ruby);
        let root = parser::parse_document(tokens, &mut buf, syntax, values)
            .map_err(|e| e.into_syntax(body))?;
        let newline = match rules {
            EditRules::Ruby => "\n",
            EditRules::Improved => line_ending(body),
        };
        Ok(Document {
            buf,
            bom,
            root,
            syntax,
            rules,
            newline,
        })
    }

    /// The document's text, borrowed when it is the input as it was read
    /// (no BOM, no edit: the buffer holds exactly that), else rendered.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        if !self.bom && self.pristine() {
            return std::borrow::Cow::Borrowed(&self.buf);
        }
        std::borrow::Cow::Owned(self.render())
    }

    /// Whether the buffer holds exactly what renders, in order: the tokens
    /// of the top-level nodes follow each other from the start of the
    /// buffer to its end (true for a document as parsed, until an edit).
    fn pristine(&self) -> bool {
        fn bounds(node: &Node) -> Option<(u32, u32)> {
            match node {
                Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
                    Some((t.start, t.end))
                }
                Node::Path(tokens) => Some((tokens.first()?.start, tokens.last()?.end)),
                Node::Removed => None,
                other => {
                    let c = other.children();
                    Some((
                        c.iter().find_map(bounds)?.0,
                        c.iter().rev().find_map(bounds)?.1,
                    ))
                }
            }
        }
        let mut at = 0;
        for node in &self.root {
            match bounds(node) {
                Some((s, e)) if s as usize == at => at = e as usize,
                Some(_) => return false,
                None => {}
            }
        }
        at == self.buf.len() && self.render_len() == self.buf.len()
    }

    /// How long the rendered text is (without the BOM).
    fn render_len(&self) -> usize {
        fn len(node: &Node) -> usize {
            match node {
                Node::Token(t) | Node::Simple(t) | Node::Lazy(t, _) | Node::Members(t, ..) => {
                    (t.end - t.start) as usize
                }
                Node::Path(tokens) => tokens.iter().map(|t| (t.end - t.start) as usize).sum(),
                Node::Removed => 0,
                other => other.children().iter().map(len).sum(),
            }
        }
        self.root.iter().map(len).sum()
    }

    /// The document's text: the input byte for byte, plus any edits.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    /// [`Document::render`], appended to `out` (whose capacity is reused).
    pub fn render_into(&self, out: &mut String) {
        out.reserve(self.buf.len() + 3);
        if self.bom {
            out.push(BOM);
        }
        for node in &self.root {
            node.render_into(&self.buf, out);
        }
    }

    /// The text with each include statement replaced by `include_text`.
    pub fn render_with_includes_replaced(&self, include_text: &str) -> String {
        let mut out = String::with_capacity(self.buf.len());
        for node in &self.root {
            node.render_replacing_includes(&self.buf, include_text, &mut out);
        }
        out
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Whether the document has a BOM (kept on render).
    pub fn has_bom(&self) -> bool {
        self.bom
    }

    /// The line break this document's edits insert: `\r\n` when most of its
    /// lines end that way, else `\n`.
    pub fn newline(&self) -> &'static str {
        self.newline
    }

    /// Parses a path expression as the edit methods take it.
    pub fn parse_path(&mut self, path: &str, syntax: Syntax) -> Result<PathExpr, HoconError> {
        let bad = |msg: String| HoconError::BadPath {
            path: path.to_string(),
            msg,
        };
        let start = self.buf.len();
        self.buf.push_str(path);
        let (tokens, problem) = lexer::tokenize(&self.buf, start, syntax);
        if let Some(p) = problem {
            self.buf.truncate(start);
            return Err(bad(*p.msg));
        }
        let result = path::parse_path_tokens(&tokens, &mut self.buf, syntax);
        match result {
            Ok(expr) => Ok(expr),
            Err(e) => {
                self.buf.truncate(start);
                Err(bad(*e.msg))
            }
        }
    }

    fn parse_value(&mut self, value: &str) -> Result<Node, HoconError> {
        let start = self.buf.len();
        self.buf.push_str(value);
        let tokens =
            lexer::TokenStream::new(value, start, self.syntax, self.rules == EditRules::Ruby);
        let result = parser::parse_single_value(tokens, &mut self.buf, self.syntax);
        match result {
            Ok(node) => Ok(self.with_document_newlines(node)),
            Err(RawError { offset, msg }) => {
                self.buf.truncate(start);
                let at = Location::of_offset(value, offset.saturating_sub(start));
                Err(HoconError::BadValue {
                    value: value.to_string(),
                    msg: format!("column {}: {msg}", at.col),
                })
            }
        }
    }

    /// Line breaks in a value given to `set` take the document's own style.
    fn with_document_newlines(&mut self, node: Node) -> Node {
        if self.newline == "\n" {
            return node;
        }
        let start = self.buf.len();
        self.buf.push_str(self.newline);
        let crlf = token::Token::new(TokenKind::Newline, start, self.buf.len());
        map_tokens(node, &|t| {
            if t.kind == TokenKind::Newline {
                crlf
            } else {
                t
            }
        })
    }

    fn root_object(&mut self) -> Result<(&mut Vec<Node>, bool), HoconError> {
        let root_is_braceless = self.root.len() == 1;
        for node in self.root.iter_mut() {
            match node {
                Node::Array(_) => return Err(HoconError::Unsupported(
                    "the document's root is an array, and values inside an array cannot be edited"
                        .into(),
                )),
                Node::Object(children) => {
                    let braceless = root_is_braceless
                        && !children
                            .first()
                            .is_some_and(|c| c.is_token(TokenKind::OpenCurly));
                    return Ok((children, braceless));
                }
                _ => {}
            }
        }
        Err(HoconError::Unsupported(
            "the document has no root object".into(),
        ))
    }

    /// Whether the document sets `path` or anything under it (ruby-hocon's
    /// `has_value?`: includes are not followed, arrays not looked into).
    pub fn has(&mut self, path: &str) -> Result<bool, HoconError> {
        let expr = self.parse_path(path, Syntax::Conf)?;
        let (children, _) = self.take_root_for(&expr.elements)?;
        let found = self.editor().has_value(&children, &expr.elements);
        *self.root_object()?.0 = children;
        Ok(found)
    }

    /// Sets `path` to the HOCON value text `value` (`false`, `"x"`, `[1]`).
    pub fn set(&mut self, path: &str, value: &str) -> Result<(), HoconError> {
        let expr = self.parse_path(path, self.syntax)?;
        let value = self.parse_value(value)?;
        // One level per path element at most (a new object or a dotted
        // key), plus the value's own: the result must stay within what the
        // parser reads back.
        if expr.elements.len() + value.nesting(&self.buf) > parser::MAX_DEPTH {
            return Err(HoconError::BadPath {
                path: path.to_string(),
                msg: format!(
                    "with its value, this key would nest deeper than {} levels (objects, arrays and dotted keys)",
                    parser::MAX_DEPTH
                ),
            });
        }
        self.edit(&expr, Some(value))
    }

    /// Sets `path` to a JSON value, written as ruby-hocon's
    /// `set_config_value` writes it.
    pub fn set_json(&mut self, path: &str, value: &serde_json::Value) -> Result<(), HoconError> {
        self.set(path, &render_json::render_config_value(value))
    }

    /// Removes every field that sets `path` or something under it.
    pub fn remove(&mut self, path: &str) -> Result<(), HoconError> {
        let expr = self.parse_path(path, self.syntax)?;
        self.edit(&expr, None)
    }

    fn editor(&mut self) -> Editor<'_> {
        Editor {
            buf: &mut self.buf,
            syntax: self.syntax,
            rules: self.rules,
            newline: self.newline,
        }
    }

    /// The root object's children, taken out for the editor, with the lazily
    /// kept values that an edit of `desired` walks into built; and whether
    /// the root is braceless.
    fn take_root_for(&mut self, desired: &[String]) -> Result<(Vec<Node>, bool), HoconError> {
        let (children, braceless) = self.root_object()?;
        let mut children = std::mem::take(children);
        self.editor().expand_runs_for(&mut children, desired);
        let built = self.editor().expand_on_path(&mut children, desired);
        if let Err(e) = built {
            *self.root_object()?.0 = children;
            return Err(e.into_syntax(&self.buf));
        }
        Ok((children, braceless))
    }

    fn edit(&mut self, expr: &PathExpr, value: Option<Node>) -> Result<(), HoconError> {
        let (mut children, braceless) = self.take_root_for(&expr.elements)?;
        let mut editor = self.editor();
        let related =
            editor.change_value_on_path(&mut children, &expr.elements, value.as_ref(), braceless);
        if let Some(value) = value {
            if !related || !editor.has_value(&children, &expr.elements) {
                editor.add_value_on_path(&mut children, expr, value);
            }
        }
        *self.root_object()?.0 = children;
        Ok(())
    }
}

/// `\r\n` when most line breaks in `text` are CRLF, else `\n`.
fn line_ending(text: &str) -> &'static str {
    // memchr's vector search: `<[u8]>::contains` was 3% of an edit.
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return "\n";
    }
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf {
        "\r\n"
    } else {
        "\n"
    }
}

fn map_tokens(node: Node, f: &dyn Fn(token::Token) -> token::Token) -> Node {
    let map_all = |children: Vec<Node>| children.into_iter().map(|c| map_tokens(c, f)).collect();
    match node {
        Node::Token(t) => Node::Token(f(t)),
        Node::Field(c) => Node::Field(map_all(c)),
        Node::Include(c) => Node::Include(map_all(c)),
        Node::Object(c) => Node::Object(map_all(c)),
        Node::Array(c) => Node::Array(map_all(c)),
        Node::Concat(c) => Node::Concat(map_all(c)),
        other => other,
    }
}
