//! Edits on the syntax tree: a port of ruby-hocon's `ConfigNodeObject`
//! (`change_value_on_path`, `add_value_on_path`, `indentation`, `has_value`)
//! and `ConfigNodeComplexValue#indent_text`.
//!
//! Under [`EditRules::Ruby`] the result is ruby-hocon's, byte for byte. Under
//! [`EditRules::Improved`] (the default) a few of its outputs are mended; each
//! mend is marked `Improved:` below and listed in the README.

use super::error::RawError;
use super::lazy;
use super::path::{key_elements, simple_key, starts_with, PathExpr};
use super::token::{Syntax, Token, TokenKind};
use super::tree::Node;

/// Which edit rules apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EditRules {
    /// ruby-hocon's output, mended where it is invalid, lossy or untidy.
    #[default]
    Improved,
    /// Exactly what ruby-hocon 1.3.1 writes (for differential tests).
    Ruby,
}

/// How a field's key relates to an edited path (both as key elements).
struct KeyRelation {
    /// How many elements the key has.
    len: usize,
    /// The key is the path.
    exact: bool,
    /// The key is the path or lies below it (`a.b` under `a`).
    key_under_desired: bool,
    /// The path is the key or lies below it.
    desired_under_key: bool,
}

pub(crate) struct Editor<'a> {
    pub buf: &'a mut String,
    pub syntax: Syntax,
    pub rules: EditRules,
    /// The line break inserted lines get.
    pub newline: &'static str,
}

impl Editor<'_> {
    fn improved(&self) -> bool {
        self.rules == EditRules::Improved
    }

    fn new_token(&mut self, kind: TokenKind, text: &str) -> Token {
        let start = self.buf.len();
        self.buf.push_str(text);
        Token::new(kind, start, self.buf.len())
    }

    /// How a field's key relates to the path `desired`.
    fn relation(&self, field: &Node, desired: &[String]) -> KeyRelation {
        let tokens = field.field_path().unwrap_or(&[]);
        match simple_key(tokens, self.buf) {
            // One element, compared in place (no allocation).
            Some(key) => {
                let first_matches = desired.first().is_some_and(|d| d == key);
                KeyRelation {
                    len: 1,
                    exact: first_matches && desired.len() == 1,
                    key_under_desired: desired.is_empty() || (first_matches && desired.len() == 1),
                    desired_under_key: first_matches,
                }
            }
            None => {
                let key = key_elements(tokens, self.buf);
                KeyRelation {
                    len: key.len(),
                    exact: key == desired,
                    key_under_desired: starts_with(&key, desired),
                    desired_under_key: starts_with(desired, &key),
                }
            }
        }
    }

    /// Builds the lazily kept values (see `skim.rs`) of the fields whose
    /// objects an edit of `desired` may walk into: those whose key `desired`
    /// lies strictly below. Every other value is only copied or replaced.
    pub fn expand_on_path(
        &mut self,
        children: &mut [Node],
        desired: &[String],
    ) -> Result<(), RawError> {
        let ruby_cr = self.rules == EditRules::Ruby;
        for child in children.iter_mut() {
            if !matches!(child, Node::Field(_)) {
                continue;
            }
            let key = self.relation(child, desired);
            if key.desired_under_key && !key.exact {
                if let Some(value) = child.field_value_mut() {
                    lazy::build_in(value, self.buf, self.syntax, ruby_cr)?;
                }
            }
        }
        Ok(())
    }

    /// Builds the nodes of the runs of root members kept as spans
    /// ([`Node::Members`]) that an edit of `desired` looks at: runs holding a
    /// key on its way, runs next to such a key (a removed field's line and
    /// comma), and the first and last runs (a new field takes its
    /// indentation from the first line and goes at the end). Every other run
    /// holds only fields the edit passes over, and is copied as it is.
    pub fn expand_runs_for(&mut self, children: &mut Vec<Node>, desired: &[String]) {
        let runs: Vec<usize> = children
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Node::Members(..)))
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (runs.first(), runs.last()) else {
            return;
        };
        let finder = memchr::memmem::Finder::new(desired.first().map_or("", String::as_str));
        let related: Vec<bool> = children
            .iter()
            .map(|c| match c {
                Node::Field(_) => {
                    let key = self.relation(c, desired);
                    key.exact || key.key_under_desired || key.desired_under_key
                }
                Node::Members(t, ..) => run_holds_key(t.text(self.buf), desired.first(), &finder),
                _ => false,
            })
            .collect();
        let near = |i: usize| {
            related[i] || (i > 0 && related[i - 1]) || related.get(i + 1).copied().unwrap_or(false)
        };
        let ruby_cr = self.rules == EditRules::Ruby;
        lazy::expand_members_in(children, self.buf, self.syntax, ruby_cr, &|i, _| {
            i == first || i == last || near(i)
        });
    }

    /// Whether a field sets `desired` or something below it.
    pub fn has_value(&self, children: &[Node], desired: &[String]) -> bool {
        children.iter().any(|node| {
            if !matches!(node, Node::Field(_)) {
                return false;
            }
            let key = self.relation(node, desired);
            if key.key_under_desired {
                return true;
            }
            if key.desired_under_key {
                if let Some(Node::Object(inner)) = node.field_value() {
                    return self.has_value(inner, &desired[key.len..]);
                }
            }
            false
        })
    }

    /// Sets (`Some`) or removes (`None`) every field for `desired` in an
    /// object: the last one is replaced, earlier ones and longer paths under
    /// it are deleted, and objects on the way are recursed into. Returns
    /// whether any field's key was on `desired`'s way or under it (when none
    /// was, the caller knows without another scan that the path is unset).
    pub fn change_value_on_path(
        &mut self,
        children: &mut Vec<Node>,
        desired: &[String],
        value: Option<&Node>,
        braceless_root: bool,
    ) -> bool {
        let mut related = false;
        let mut seen_non_matching = false;
        let mut value_copy = value;
        let mut i = children.len();
        while i > 0 {
            i -= 1;
            if let Node::Token(t) = &children[i] {
                if self.syntax == Syntax::Json && !seen_non_matching && t.kind == TokenKind::Comma {
                    children.remove(i);
                }
                continue;
            }
            if !matches!(children[i], Node::Field(_)) {
                continue;
            }
            let key = self.relation(&children[i], desired);
            related |= key.exact || key.key_under_desired || key.desired_under_key;
            let exact = key.exact;
            if (value_copy.is_none() && exact) || (key.key_under_desired && !exact) {
                children.remove(i);
                // The blanks and commas after it on its line go with it.
                while i < children.len() {
                    match &children[i] {
                        Node::Token(t)
                            if t.kind == TokenKind::Whitespace || t.kind == TokenKind::Comma =>
                        {
                            children.remove(i);
                        }
                        _ => break,
                    }
                }
                children.insert(i, Node::Removed);
            } else if exact {
                seen_non_matching = true;
                let value = value_copy.expect("checked above");
                // ruby-hocon looks at the node before only from index 2 on.
                let before = if i >= 2 {
                    children[i - 1].token()
                } else {
                    None
                };
                let new_value = match before {
                    Some(ws) if value.is_complex_value() && ws.kind == TokenKind::Whitespace => {
                        indent_text(value, &Node::Token(ws))
                    }
                    _ => value.clone(),
                };
                self.replace_value(&mut children[i], new_value);
                value_copy = None;
            } else if key.desired_under_key {
                seen_non_matching = true;
                let remaining = desired[key.len..].to_vec();
                if let Some(Node::Object(inner)) = children[i].field_value_mut() {
                    let mut inner = std::mem::take(inner);
                    self.change_value_on_path(&mut inner, &remaining, value_copy, false);
                    if let Some(Node::Object(slot)) = children[i].field_value_mut() {
                        *slot = inner;
                    }
                }
                // ruby-hocon means to stop here once a nested object took the
                // value, but its check compares a node with itself and never
                // fires; so every matching object gets the value.
            } else {
                seen_non_matching = true;
            }
        }
        self.tidy_removed(children, braceless_root);
        related
    }

    /// Puts `new_value` in place of a field's value.
    fn replace_value(&mut self, field: &mut Node, new_value: Node) {
        let is_object = matches!(new_value, Node::Object(_));
        let had_separator = field.field_separator().is_some();
        let Node::Field(children) = field else {
            return;
        };
        if let Some(slot) = children.iter_mut().find(|c| c.is_value()) {
            *slot = new_value;
        }
        // Improved: `key { ... }` has no separator; ruby-hocon then writes
        // `key false`, which is not HOCON. Give the key a colon.
        if self.improved() && !is_object && !had_separator {
            let colon = self.new_token(TokenKind::Colon, ":");
            let path_at = children
                .iter()
                .position(|c| matches!(c, Node::Path(_)))
                .unwrap_or(0);
            children.insert(path_at + 1, Node::Token(colon));
            if !children.get(path_at + 2).is_some_and(Node::is_whitespace) {
                let space = self.new_token(TokenKind::Whitespace, " ");
                children.insert(path_at + 2, Node::Token(space));
            }
        }
    }

    /// Drops the markers left by deleted fields. Improved: a line that held
    /// only the deleted field is removed whole, instead of being left with
    /// its indentation (or nothing) before the line break.
    fn tidy_removed(&mut self, children: &mut Vec<Node>, braceless_root: bool) {
        if self.improved() && children.iter().any(|c| matches!(c, Node::Removed)) {
            drop_orphan_commas(children);
        }
        while let Some(m) = children.iter().position(|c| matches!(c, Node::Removed)) {
            children.remove(m);
            if !self.improved() {
                continue;
            }
            let is_line_start = |idx: usize| idx == 0 || children[idx - 1].is_newline();
            let start = if m > 0 && children[m - 1].is_whitespace() && is_line_start(m - 1) {
                m - 1
            } else if is_line_start(m) && (m > 0 || braceless_root) {
                m
            } else {
                continue;
            };
            let mut end = m;
            while end < children.len() && matches!(children[end], Node::Removed) {
                end += 1;
            }
            if end < children.len() && children[end].is_newline() {
                children.drain(start..=end);
            } else if end == children.len() && braceless_root {
                // The last line of the file: take the line break before it.
                let from = if start > 0 && children[start - 1].is_newline() {
                    start - 1
                } else {
                    start
                };
                children.drain(from..end);
            }
        }
    }

    /// The blanks a new field gets in front of it (ruby-hocon's
    /// `indentation`): a line break and the indentation of the first field
    /// that starts a line; or two more spaces than the closing brace; or, for
    /// an object on one line, a single space.
    fn indentation(&mut self, children: &[Node]) -> Vec<Node> {
        if children.is_empty() {
            return Vec::new();
        }
        let mut seen_newline = false;
        for (i, child) in children.iter().enumerate() {
            if !seen_newline {
                seen_newline = child.is_newline();
            } else if child.is_whitespace() && children.get(i + 1).is_some_and(Node::is_member) {
                let nl = self.new_token(TokenKind::Newline, self.newline);
                return vec![Node::Token(nl), child.clone()];
            }
        }
        if !seen_newline {
            let space = self.new_token(TokenKind::Whitespace, " ");
            return vec![Node::Token(space)];
        }
        let nl = self.new_token(TokenKind::Newline, self.newline);
        if children
            .last()
            .is_some_and(|c| c.is_token(TokenKind::CloseCurly))
        {
            let mut indent = String::new();
            if let Some(Node::Token(t)) = children.len().checked_sub(2).map(|i| &children[i]) {
                if t.kind == TokenKind::Whitespace {
                    indent.push_str(t.text(self.buf));
                }
            }
            indent.push_str("  ");
            let ws = self.new_token(TokenKind::Whitespace, &indent);
            return vec![Node::Token(nl), Node::Token(ws)];
        }
        // A braceless root: new fields start in column 0.
        vec![Node::Token(nl)]
    }

    /// The tokens of a new key: the first path element as the caller spelled
    /// it. Improved: when that spelling would read back as another key (an
    /// element with blanks at its ends, or the word `include`, written
    /// unquoted), the element is written as a quoted string instead.
    fn new_key_tokens(&mut self, desired: &PathExpr) -> Vec<Token> {
        let tokens = desired.first_tokens(self.buf);
        if !self.improved() {
            return tokens;
        }
        let spelled: String = tokens.iter().map(|t| t.text(self.buf)).collect();
        let wanted = &desired.elements[..1];
        let reads_back =
            super::Document::parse_with(&format!("{spelled}: 0"), self.syntax, EditRules::Ruby)
                .map(|doc| {
                    let fields = doc.fields();
                    fields.len() == 1 && fields[0].path == wanted
                })
                .unwrap_or(false);
        if reads_back {
            return tokens;
        }
        // JSON escaping, plus the C1 controls and DEL, which HOCON also
        // refuses raw inside quotes.
        let quoted: String = serde_json::to_string(&desired.elements[0])
            .expect("strings serialize")
            .chars()
            .map(|c| {
                if c.is_control() {
                    format!("\\u{:04x}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        vec![self.new_token(TokenKind::QuotedString, &quoted)]
    }

    /// Adds a field for `desired` to an object that has none; for a longer
    /// path, inside the last object on the way, or in new nested objects.
    pub fn add_value_on_path(&mut self, children: &mut Vec<Node>, desired: &PathExpr, value: Node) {
        let path = &desired.elements;
        let mut indentation = self.indentation(children);
        // Improved: a braceless one-line document holding only a comment
        // (`# x`, no line break) would get the new field inside the comment.
        // Start a new line instead.
        let only_comments = !children.iter().any(Node::is_member)
            && children.iter().any(|c| c.is_token(TokenKind::Comment));
        let braced = children
            .first()
            .is_some_and(|c| c.is_token(TokenKind::OpenCurly));
        if self.improved() && only_comments && !braced && !indentation.iter().any(Node::is_newline)
        {
            indentation = vec![Node::Token(
                self.new_token(TokenKind::Newline, self.newline),
            )];
        }
        let indented_value = match indentation.last() {
            // Improved: in a braceless root the "indentation" is a bare line
            // break; ruby-hocon puts one after every line of the value.
            Some(last) if value.is_complex_value() && !(self.improved() && last.is_newline()) => {
                indent_text(&value, last)
            }
            _ => value.clone(),
        };
        let same_line = !indentation.first().is_some_and(Node::is_newline);

        if path.len() > 1 {
            for i in (0..children.len()).rev() {
                if !matches!(children[i], Node::Field(_)) {
                    continue;
                }
                let key = self.relation(&children[i], path);
                if key.desired_under_key {
                    if let Some(Node::Object(inner)) = children[i].field_value_mut() {
                        let remaining = desired.sub_path(key.len, self.buf);
                        let mut inner = std::mem::take(inner);
                        self.add_value_on_path(&mut inner, &remaining, value);
                        if let Some(Node::Object(slot)) = children[i].field_value_mut() {
                            *slot = inner;
                        }
                        return;
                    }
                }
            }
        }

        let starts_with_brace = children
            .first()
            .is_some_and(|c| c.is_token(TokenKind::OpenCurly));
        let mut field = indentation.clone();
        let key = self.new_key_tokens(desired);
        field.push(Node::Path(key));
        field.push(Node::Token(self.new_token(TokenKind::Colon, ":")));
        field.push(Node::Token(self.new_token(TokenKind::Whitespace, " ")));
        if path.len() == 1 {
            field.push(indented_value);
        } else {
            let mut object = vec![Node::Token(self.new_token(TokenKind::OpenCurly, "{"))];
            if indentation.is_empty() {
                object.push(Node::Token(
                    self.new_token(TokenKind::Newline, self.newline),
                ));
            }
            object.extend(indentation.iter().cloned());
            object.push(Node::Token(self.new_token(TokenKind::CloseCurly, "}")));
            let rest = desired.sub_path(1, self.buf);
            self.add_value_on_path(&mut object, &rest, indented_value);
            field.push(Node::Object(object));
        }
        let field = Node::Field(field);
        let json = self.syntax == Syntax::Json;

        let mut pending = Some(field);
        if json || starts_with_brace || same_line {
            let mut i = children.len() as isize - 1;
            while i >= 0 {
                let iu = i as usize;
                // Improved: an include ends a member too (`include "a"` then
                // the new field needs the comma as well).
                let member = matches!(children[iu], Node::Field(_))
                    || (self.improved() && matches!(children[iu], Node::Include(_)));
                if (json || same_line) && member {
                    // Improved: `a: 1 ,` already has its comma after a
                    // blank; ruby-hocon adds a second one (`a: 1, ,`).
                    let next = if self.improved() {
                        children[iu + 1..].iter().find(|c| !c.is_whitespace())
                    } else {
                        children.get(iu + 1)
                    };
                    let comma_follows = next.is_some_and(|c| c.is_token(TokenKind::Comma));
                    if !comma_follows {
                        let comma = self.new_token(TokenKind::Comma, ",");
                        children.insert(iu + 1, Node::Token(comma));
                        break;
                    }
                }
                if starts_with_brace && children[iu].is_token(TokenKind::CloseCurly) {
                    let field = pending.take().expect("one closing brace per object");
                    let previous = &children[iu - 1];
                    if previous.is_newline() {
                        children.insert(iu - 1, field);
                        i -= 1;
                    } else if previous.is_whitespace() {
                        if same_line {
                            children.insert(iu - 1, field);
                            i -= 1;
                        } else if iu >= 2 && children[iu - 2].is_newline() {
                            children.insert(iu - 2, field);
                            i -= 2;
                        } else if self.improved() {
                            // Improved: the `}` shares the last value's line;
                            // ruby-hocon writes `a: 1 \n  x: 1}`. Put the new
                            // field before the blank, keeping ` }` after it.
                            children.insert(iu - 1, field);
                            i -= 1;
                        } else {
                            children.insert(iu, field);
                        }
                    } else {
                        children.insert(iu, field);
                    }
                }
                i -= 1;
            }
        }
        if !starts_with_brace {
            let field = pending
                .take()
                .expect("braceless object gets the field here");
            if children.last().is_some_and(Node::is_newline) {
                children.insert(children.len() - 1, field);
            } else if self.improved() && same_line && !json {
                // Improved: on a one-line braceless document ending in a
                // comment, ruby-hocon appends the field inside the comment.
                // Put it right after the last field's comma instead.
                let comment_after = children
                    .iter()
                    .rposition(Node::is_member)
                    .filter(|&f| children[f..].iter().any(|c| c.is_token(TokenKind::Comment)));
                // Right after the comma that follows that field (blanks may
                // stand between them).
                let after_comma = comment_after.and_then(|f| {
                    children[f + 1..]
                        .iter()
                        .position(|c| c.is_token(TokenKind::Comma))
                        .map(|p| f + 1 + p + 1)
                });
                match after_comma {
                    Some(at) => children.insert(at, field),
                    None => children.push(field),
                }
            } else {
                children.push(field);
            }
        }
    }
}

/// Improved: a member's comma may stand on a later line (`a: 1\n, b: 2`).
/// Once the member is deleted, that comma follows no member (it comes first,
/// or after another comma), which does not parse; ruby-hocon leaves it.
/// Drops such commas, with the blanks after them.
fn drop_orphan_commas(children: &mut Vec<Node>) {
    let mut member_before = false;
    let mut i = 0;
    while i < children.len() {
        match &children[i] {
            c if c.is_member() => member_before = true,
            c if c.is_token(TokenKind::Comma) => {
                if !member_before {
                    children.remove(i);
                    while i < children.len() && children[i].is_whitespace() {
                        children.remove(i);
                    }
                    continue;
                }
                member_before = false;
            }
            _ => {}
        }
        i += 1;
    }
}

/// A copy of a complex value with `indentation` added after each of its line
/// breaks, recursively (ruby-hocon's `indent_text`).
/// Whether a run of members has a member whose key is `key` (any key when
/// `key` is `None`).
fn run_holds_key(text: &str, key: Option<&String>, finder: &memchr::memmem::Finder) -> bool {
    let Some(key) = key else {
        return true;
    };
    let bytes = text.as_bytes();
    if finder.find(bytes).is_none() && memchr::memchr(b'\\', bytes).is_none() {
        return false;
    }
    let mut depth = 0usize;
    let mut found = false;
    super::plain::read_members(text, 0, text.len(), &mut |e| match e {
        super::plain::Event::Key { start, end, .. } if depth == 0 => {
            let raw = &text[start..end];
            let name = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(inner) if !raw.contains('\\') => std::borrow::Cow::Borrowed(inner),
                Some(_) => std::borrow::Cow::Owned(super::path::string_value(raw)),
                None => std::borrow::Cow::Borrowed(raw),
            };
            found |= name == key.as_str();
        }
        super::plain::Event::Open { .. } => depth += 1,
        super::plain::Event::Close { .. } => depth -= 1,
        _ => {}
    });
    found
}

pub fn indent_text(node: &Node, indentation: &Node) -> Node {
    let rebuild = |children: &[Node]| -> Vec<Node> {
        let mut out = Vec::with_capacity(children.len());
        for child in children {
            match child {
                c if c.is_newline() => {
                    out.push(c.clone());
                    out.push(indentation.clone());
                }
                Node::Field(parts) => {
                    let parts = parts
                        .iter()
                        .map(|p| {
                            if p.is_complex_value() {
                                indent_text(p, indentation)
                            } else {
                                p.clone()
                            }
                        })
                        .collect();
                    out.push(Node::Field(parts));
                }
                c if c.is_complex_value() => out.push(indent_text(c, indentation)),
                c => out.push(c.clone()),
            }
        }
        out
    };
    match node {
        Node::Object(c) => Node::Object(rebuild(c)),
        Node::Array(c) => Node::Array(rebuild(c)),
        Node::Concat(c) => Node::Concat(rebuild(c)),
        other => other.clone(),
    }
}
