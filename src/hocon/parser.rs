//! The document parser: a port of ruby-hocon's `ConfigDocumentParser`, which
//! decides which blanks and comments belong to which node.
//!
//! One deliberate difference: `include` accepts every form of the HOCON spec,
//! `required(...)` included, and keeps the closing `)` in the tree (ruby-hocon
//! drops it, so its render of `file("x")` loses the parenthesis).

use super::error::RawError;
use super::lexer::TokenStream;
use super::path::{has_byte, parse_path_texts, PathExpr};
use super::skim;
use super::token::{is_hocon_whitespace, Syntax, Token, TokenKind};
use super::tree::Node;

/// How a document's nested values are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Every value is built into nodes.
    Built,
    /// Objects and arrays nested in the root object's fields that
    /// [`skim::skim`] vouches for are kept as [`Node::Lazy`] spans, to be
    /// built by [`expand`] only if an edit walks into them.
    Lazy,
}

/// Parses a whole document (its tokens, as `tokens` hands them out) into the
/// root's children. Token texts are read from the text `tokens` reads;
/// `buf` is appended to (split keys of the JSON dialect), at offsets after
/// that text, so for HOCON it may be empty while the text lives elsewhere.
pub fn parse_document(
    tokens: TokenStream,
    buf: &mut String,
    syntax: Syntax,
    values: Values,
) -> Result<Vec<Node>, RawError> {
    let mut p = Parser::new(tokens, buf, syntax);
    p.lazy = values == Values::Lazy && syntax == Syntax::Conf;
    p.runs = p.lazy;
    p.document()
}

/// The nodes of a run of members kept as one span ([`Node::Members`]): what
/// reading it with nodes would have built. `ruby_cr` must be what the
/// document was tokenized with.
pub fn expand_members(
    buf: &mut String,
    run: Token,
    depth: u8,
    line_end: u32,
    syntax: Syntax,
    ruby_cr: bool,
) -> Vec<Node> {
    // The run and the rest of its last line: whether a member ends where it
    // seems to depends on what follows it on its line.
    let (start, end) = (run.start as usize, run.end as usize);
    let text = buf[start..line_end as usize].to_string();
    let mut p = Parser::new(TokenStream::new(&text, start, syntax, ruby_cr), buf, syntax);
    p.lazy = true;
    p.depth = depth as usize;
    p.run_end = Some(end);
    let mut nodes = Vec::new();
    p.plain_members(&mut nodes);
    debug_assert!(
        p.tokens.is_at(end),
        "a run of members did not read back whole: {:?} stopped at {:?} of {start}..{end}",
        text,
        p.tokens.position()
    );
    nodes
}

/// The nodes of a value kept lazily: what parsing it in place would have
/// built. `ruby_cr` must be what the document was tokenized with.
pub fn expand(
    buf: &mut String,
    lazy: Token,
    syntax: Syntax,
    ruby_cr: bool,
) -> Result<Node, RawError> {
    let text = lazy.text(buf).to_string();
    let mut p = Parser::new(
        TokenStream::new(&text, lazy.start as usize, syntax, ruby_cr),
        buf,
        syntax,
    );
    let t = p.next_token()?;
    p.value(t)
}

/// Parses the text given to `set` as one value (ruby-hocon's
/// `parse_single_value`): no blanks or comments around it.
pub fn parse_single_value(
    tokens: TokenStream,
    buf: &mut String,
    syntax: Syntax,
) -> Result<Node, RawError> {
    let mut p = Parser::new(tokens, buf, syntax);
    let t = p.next_token()?;
    if t.is_whitespace()
        || t.is_newline()
        || p.is_unquoted_whitespace(t)
        || t.kind == TokenKind::Comment
    {
        return Err(RawError::new(
            t.start as usize,
            "a value cannot have leading or trailing newlines, blanks or comments",
        ));
    }
    if t.kind == TokenKind::Eof {
        return Err(RawError::new(t.start as usize, "empty value"));
    }
    if syntax == Syntax::Json {
        let node = p.value(t)?;
        let t = p.next_token()?;
        if t.kind != TokenKind::Eof {
            return Err(RawError::new(
                t.start as usize,
                "a JSON value must be one value, without blanks or comments around it",
            ));
        }
        return Ok(node);
    }
    p.put_back(t);
    let mut ignored = Vec::new();
    let node = p.consolidate_values(&mut ignored)?;
    let t = p.next_token()?;
    match node {
        Some(node) if t.kind == TokenKind::Eof => Ok(node),
        _ => Err(RawError::new(
            t.start as usize,
            "a value cannot have leading or trailing newlines, blanks or comments",
        )),
    }
}

struct Parser<'t, 'b> {
    tokens: TokenStream<'t>,
    /// Tokens taken and put back, the next one last.
    buffer: Vec<Token>,
    buf: &'b mut String,
    syntax: Syntax,
    /// How deep the current value is nested (objects, arrays, dotted keys).
    depth: usize,
    /// How many objects and arrays enclose the current token.
    level: usize,
    /// Whether the first (outermost) object has been started.
    root_seen: bool,
    /// Whether values may be kept as [`Node::Lazy`] (see [`Values::Lazy`]).
    lazy: bool,
    /// Whether runs of plain members of the root object are kept as
    /// [`Node::Members`] spans (with lazy values; off when expanding one).
    runs: bool,
    /// When expanding a run: where it ends (a buffer offset).
    run_end: Option<usize>,
}

/// How long a run of members kept as one span ([`Node::Members`]) gets at
/// least before it may end, and at most.
const RUN_MIN_BYTES: usize = 1024;
const RUN_MAX_BYTES: usize = 64 * 1024;

/// Whether a run may end after the member with this key: one key in
/// sixteen, by a hash of its bytes (FNV-1a).
fn ends_run(key: &[u8]) -> bool {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    hash >> 60 == 0
}

/// The deepest nesting accepted: objects, arrays and dotted-key elements
/// together. Real pe.conf files nest a few levels; the limit keeps every
/// recursive pass (here, in the editor and in the resolver) far from the
/// end of the stack, whatever the input.
pub const MAX_DEPTH: usize = 128;

impl<'t, 'b> Parser<'t, 'b> {
    fn new(tokens: TokenStream<'t>, buf: &'b mut String, syntax: Syntax) -> Self {
        Parser {
            tokens,
            buffer: Vec::new(),
            buf,
            syntax,
            depth: 0,
            level: 0,
            root_seen: false,
            lazy: false,
            runs: false,
            run_end: None,
        }
    }

    fn deeper(&mut self, t: Token, levels: usize) -> Result<(), RawError> {
        self.depth += levels;
        if self.depth > MAX_DEPTH {
            return Err(RawError::new(
                t.start as usize,
                format!("the document nests deeper than {MAX_DEPTH} levels (objects, arrays and dotted keys)"),
            ));
        }
        Ok(())
    }

    /// A token's text: from the text being read when it lies there (the
    /// buffer may not hold it: see [`parse_document`]), else from the buffer
    /// (what the parser appended).
    fn text(&self, t: Token) -> &str {
        let (src, base) = self.tokens.text();
        let (start, end) = (t.start as usize, t.end as usize);
        if start >= base && end <= base + src.len() {
            &src[start - base..end - base]
        } else {
            t.text(self.buf)
        }
    }

    fn pop_token(&mut self) -> Result<Token, RawError> {
        let t = match self.buffer.pop() {
            Some(t) => t,
            None => self.tokens.next(),
        };
        if t.kind == TokenKind::Problem {
            return Err(self
                .tokens
                .problem()
                .cloned()
                .unwrap_or_else(|| RawError::new(t.start as usize, "invalid input")));
        }
        Ok(t)
    }

    fn next_token(&mut self) -> Result<Token, RawError> {
        let t = self.pop_token()?;
        if self.syntax == Syntax::Json {
            if t.kind == TokenKind::Unquoted && !self.is_unquoted_whitespace(t) {
                return Err(RawError::new(
                    t.start as usize,
                    "unquoted text is not allowed in JSON (strings need double quotes)",
                ));
            }
            if t.kind == TokenKind::Substitution {
                return Err(RawError::new(
                    t.start as usize,
                    "substitutions (${...}) are not allowed in JSON",
                ));
            }
        }
        Ok(t)
    }

    fn put_back(&mut self, t: Token) {
        self.buffer.push(t);
    }

    fn is_unquoted_whitespace(&self, t: Token) -> bool {
        t.kind == TokenKind::Unquoted && self.text(t).chars().all(is_hocon_whitespace)
    }

    fn next_token_collecting_whitespace(
        &mut self,
        nodes: &mut Vec<Node>,
    ) -> Result<Token, RawError> {
        loop {
            let t = self.next_token()?;
            if t.is_whitespace()
                || t.is_newline()
                || self.is_unquoted_whitespace(t)
                || t.kind == TokenKind::Comment
            {
                nodes.push(Node::Token(t));
            } else {
                return Ok(t);
            }
        }
    }

    /// After an element: eats blanks, comments, newlines and one comma; true
    /// when a comma or newline separated this element from the next.
    fn check_element_separator(&mut self, nodes: &mut Vec<Node>) -> Result<bool, RawError> {
        if self.syntax == Syntax::Json {
            let t = self.next_token_collecting_whitespace(nodes)?;
            if t.kind == TokenKind::Comma {
                nodes.push(Node::Token(t));
                return Ok(true);
            }
            self.put_back(t);
            return Ok(false);
        }
        let mut saw_newline = false;
        loop {
            let t = self.next_token()?;
            if t.is_whitespace() || self.is_unquoted_whitespace(t) || t.kind == TokenKind::Comment {
                nodes.push(Node::Token(t));
            } else if t.is_newline() {
                saw_newline = true;
                nodes.push(Node::Token(t));
            } else if t.kind == TokenKind::Comma {
                nodes.push(Node::Token(t));
                return Ok(true);
            } else {
                self.put_back(t);
                return Ok(saw_newline);
            }
        }
    }

    /// A value, or several side by side (a concatenation). Blanks around it
    /// are given back for the enclosing node to keep.
    fn consolidate_values(&mut self, nodes: &mut Vec<Node>) -> Result<Option<Node>, RawError> {
        if self.syntax == Syntax::Json {
            return Ok(None);
        }
        let mut values: Vec<Node> = Vec::new();
        let mut value_count = 0;
        let mut t = self.next_token_collecting_whitespace(nodes)?;
        // Fast path: one value, then something that cannot continue it (the
        // common case) needs no list of candidates.
        if starts_value(t) {
            let value = self.value(t)?;
            let next = self.next_token()?;
            if next.is_whitespace() {
                let after = self.next_token()?;
                if !starts_value(after) {
                    self.put_back(after);
                    self.put_back(next);
                    return Ok(Some(value));
                }
                values.push(value);
                values.push(Node::Token(next));
                t = after;
            } else if !starts_value(next) {
                self.put_back(next);
                return Ok(Some(value));
            } else {
                values.push(value);
                t = next;
            }
            value_count = 1;
        }
        loop {
            if t.is_whitespace() {
                values.push(Node::Token(t));
                t = self.next_token()?;
                continue;
            }
            if starts_value(t) {
                let v = self.value(t)?;
                value_count += 1;
                values.push(v);
                t = self.next_token()?;
            } else {
                break;
            }
        }
        self.put_back(t);
        if value_count < 2 {
            let mut value = None;
            for node in values {
                if node.is_value() {
                    value = Some(node);
                } else if let Some(tok) = node.token() {
                    self.put_back(tok);
                }
            }
            return Ok(value);
        }
        while let Some(Node::Token(tok)) = values.last() {
            let tok = *tok;
            values.pop();
            self.put_back(tok);
        }
        Ok(Some(Node::Concat(values)))
    }

    fn value(&mut self, t: Token) -> Result<Node, RawError> {
        if t.is_simple_value() {
            Ok(Node::Simple(t))
        } else if matches!(t.kind, TokenKind::OpenCurly | TokenKind::OpenSquare) {
            self.deeper(t, 1)?;
            if let Some(lazy) = self.skim(t) {
                self.depth -= 1;
                return Ok(lazy);
            }
            self.level += 1;
            let node = if t.kind == TokenKind::OpenCurly {
                self.object(Some(t))
            } else {
                self.array(t)
            };
            self.level -= 1;
            self.depth -= 1;
            node
        } else {
            Err(self.unexpected(t, "a value"))
        }
    }

    /// The value opened by `open` as one [`Node::Lazy`] span, when lazy
    /// values are on, the value sits in a root field (or one level below,
    /// so a value the skimmer gives up on still has its parts skimmed), and
    /// the skimmer vouches for it.
    fn skim(&mut self, open: Token) -> Option<Node> {
        if !self.lazy
            || !(1..=2).contains(&self.level)
            || !self.buffer.is_empty()
            || !self.tokens.is_at(open.end as usize)
        {
            return None;
        }
        let (text, base) = self.tokens.text();
        let start = open.start as usize - base;
        let budget = skim::MAX_DEPTH.min(MAX_DEPTH + 1 - self.depth);
        let skimmed = skim::skim(text.as_bytes(), start, budget)?;
        let end = base + skimmed.end;
        self.tokens.resume_at(end);
        Some(Node::Lazy(
            Token::new(open.kind, open.start as usize, end),
            skimmed.depth as u8,
        ))
    }

    /// At the top of an object's member loop: reads members on plain lines
    /// (see [`skim::plain_field`]) and the blanks, line breaks, comments and
    /// commas between them straight from the bytes, building the nodes the
    /// loop would build from tokens, and stops at the first thing that is
    /// not plain, back at the top of the loop. Most of a pe.conf is such
    /// lines; going through the token stream for each of their five or six
    /// tokens was most of the time of a parse.
    ///
    /// Returns true when it stopped after a member without having read a
    /// comma after it (the loop then finishes the separator).
    fn plain_members(&mut self, nodes: &mut Vec<Node>) -> bool {
        // The loop may have read one token ahead and put it back: read it
        // again from the bytes.
        if let [t] = self.buffer[..] {
            if t.kind != TokenKind::Eof && self.tokens.is_at(t.end as usize) {
                self.buffer.clear();
                self.tokens.resume_at(t.start as usize);
            }
        }
        if !self.buffer.is_empty() {
            return false;
        }
        let Some(start) = self.tokens.position() else {
            return false;
        };
        let (text, base) = self.tokens.text();
        let bytes = text.as_bytes();
        let crlf = self.tokens.crlf_newline();
        let budget = skim::MAX_DEPTH.min(MAX_DEPTH - self.depth);
        let at_base = |t: Token| Token {
            start: t.start + base as u32,
            end: t.end + base as u32,
            ..t
        };
        let mut pos = start - base;
        // At the root, the run is kept as one span instead of nodes.
        let run = self.runs && self.level == 1;
        let mut members = 0;
        // After a member, until a line break or comma ends it.
        let mut in_separator = false;
        let limit = self.run_end.map_or(bytes.len(), |e| e - base);
        loop {
            if pos >= limit {
                break;
            }
            loop {
                if in_separator && bytes.get(pos) == Some(&b',') {
                    if !run {
                        nodes.push(Node::Token(at_base(Token::new(
                            TokenKind::Comma,
                            pos,
                            pos + 1,
                        ))));
                    }
                    pos += 1;
                    in_separator = false;
                    continue;
                }
                match skim::gap_token(bytes, pos, crlf) {
                    Some(t) => {
                        if !run {
                            nodes.push(Node::Token(at_base(t)));
                        }
                        pos = t.end as usize;
                    }
                    None => break,
                }
            }
            let Some(f) = skim::plain_field(bytes, pos, budget, crlf) else {
                break;
            };
            if run {
                pos = f.value.end();
                members += 1;
                in_separator = true;
                // Runs are kept short, so that what an edit or its check
                // reads around a change stays small; the object's loop takes
                // the separator and starts the next run. Where a run ends
                // depends on the member's key, not on where it is, so that
                // after a change the runs of two versions of a text line up
                // again at the next such member.
                let len = pos - (start - base);
                let key = &bytes[f.key.start as usize..f.key.end as usize];
                if (len >= RUN_MIN_BYTES && ends_run(key)) || len >= RUN_MAX_BYTES {
                    break;
                }
                continue;
            }
            let mut field = Vec::with_capacity(5);
            field.push(Node::Path(vec![at_base(f.key)]));
            for t in [f.blanks_after_key, f.separator, f.blanks_after_separator]
                .into_iter()
                .flatten()
            {
                field.push(Node::Token(at_base(t)));
            }
            pos = f.value.end();
            field.push(match f.value {
                skim::PlainValue::Token(t) => Node::Simple(at_base(t)),
                skim::PlainValue::Skimmed(t, depth) => Node::Lazy(at_base(t), depth as u8),
            });
            nodes.push(Node::Field(field));
            in_separator = true;
        }
        if run && pos > start - base {
            // Blanks and comments alone stay nodes: the editor looks at
            // those around the fields it places.
            let span = at_base(Token::new(TokenKind::Unquoted, start - base, pos));
            if members > 0 {
                let line_end =
                    memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
                nodes.push(Node::Members(
                    span,
                    self.depth as u8,
                    (line_end + base) as u32,
                ));
            } else {
                let mut gap = start - base;
                while let Some(t) = skim::gap_token(bytes, gap, crlf).filter(|_| gap < pos) {
                    nodes.push(Node::Token(at_base(t)));
                    gap = t.end as usize;
                }
                debug_assert_eq!(gap, pos);
            }
        }
        self.tokens.resume_at(pos + base);
        in_separator
    }

    /// "found X, expected Y". Tokens that may hold a value (strings, unquoted
    /// text, numbers) are named by kind, never quoted: they may be secrets.
    fn unexpected(&self, t: Token, expected: &str) -> RawError {
        let found = match t.kind {
            TokenKind::Eof => "end of input".to_string(),
            TokenKind::Newline => "a line break".to_string(),
            TokenKind::QuotedString => "a quoted string".to_string(),
            TokenKind::Unquoted => "unquoted text".to_string(),
            TokenKind::Number => "a number".to_string(),
            TokenKind::Substitution => "a substitution".to_string(),
            TokenKind::Comment => "a comment".to_string(),
            _ => format!("'{}'", self.text(t)),
        };
        RawError::new(
            t.start as usize,
            format!("found {found}, expected {expected}"),
        )
    }

    /// How a key is named in messages: its first token only, since a
    /// malformed line can glue a value (maybe a secret) onto the key.
    fn key_for_message(&self, path: &Node) -> String {
        match path {
            Node::Path(tokens) => tokens
                .first()
                .map_or(String::new(), |t| self.text(*t).to_string()),
            other => {
                let mut out = String::new();
                for t in other.children().iter().filter_map(Node::token) {
                    out.push_str(self.text(t));
                }
                out
            }
        }
    }

    fn key(&mut self, first: Token) -> Result<Node, RawError> {
        if self.syntax == Syntax::Json {
            if first.kind != TokenKind::QuotedString {
                return Err(self.unexpected(first, "'}' or a quoted field name"));
            }
            // A quoted string is one element whatever it holds.
            return Ok(Node::Path(vec![first]));
        }
        if !(first.is_value() || first.kind == TokenKind::Unquoted) {
            return Err(self.unexpected(first, "'}' or a field name"));
        }
        let second = self.next_token()?;
        // One quoted string is one element whatever it holds; unquoted text
        // is, unless a period splits it.
        let one_element =
            first.kind == TokenKind::QuotedString || !has_byte(self.text(first), b'.');
        if !(second.is_value() || second.kind == TokenKind::Unquoted) && one_element {
            // The common case, one token naming one key: nothing to split or
            // check, so skip building the path's elements.
            self.put_back(second);
            let kind = match first.kind {
                TokenKind::QuotedString => TokenKind::QuotedString,
                _ => TokenKind::Unquoted,
            };
            return Ok(Node::Path(vec![Token { kind, ..first }]));
        }
        let mut expression = vec![first];
        let mut t = second;
        while t.is_value() || t.kind == TokenKind::Unquoted {
            expression.push(t);
            t = self.next_token()?;
        }
        self.put_back(t);
        let texts: Vec<String> = expression
            .iter()
            .map(|t| self.text(*t).to_string())
            .collect();
        let PathExpr { tokens, .. } = parse_path_texts(&expression, &texts, self.buf, self.syntax)?;
        Ok(Node::Path(tokens))
    }

    fn is_include_keyword(&self, t: Token) -> bool {
        t.kind == TokenKind::Unquoted && self.text(t) == "include"
    }

    /// `include` and its argument: `"x"`, `url("x")`, `file("x")`,
    /// `classpath("x")`, or any of those inside `required(...)`.
    fn include(&mut self, mut nodes: Vec<Node>) -> Result<Node, RawError> {
        let t = self.next_token_collecting_whitespace(&mut nodes)?;
        if t.kind == TokenKind::QuotedString {
            nodes.push(Node::Simple(t));
            return Ok(Node::Include(nodes));
        }
        if t.kind != TokenKind::Unquoted {
            return Err(self.unexpected(
                t,
                "a quoted file name, url(), file(), classpath() or required() after include",
            ));
        }
        let mut t = t;
        let mut opened = 0;
        // `required(file(` is one unquoted token: split it at each '('.
        loop {
            let text = self.text(t);
            let kind_len = ["required(", "url(", "file(", "classpath("]
                .iter()
                .find(|k| text.starts_with(**k))
                .map(|k| k.len());
            let Some(len) = kind_len else {
                return Err(self.unexpected(
                    t,
                    "url(\"...\"), file(\"...\"), classpath(\"...\") or required(...) (no blanks before the parenthesis)",
                ));
            };
            let is_required = text.starts_with("required(");
            if is_required && opened > 0 {
                return Err(self.unexpected(t, "url(), file() or classpath() inside required()"));
            }
            let head = Token::new(
                TokenKind::Unquoted,
                t.start as usize,
                t.start as usize + len,
            );
            nodes.push(Node::Token(head));
            opened += 1;
            if head.end < t.end {
                t = Token::new(TokenKind::Unquoted, head.end as usize, t.end as usize);
                continue;
            }
            let next = self.next_token_collecting_whitespace(&mut nodes)?;
            if is_required && next.kind == TokenKind::Unquoted {
                t = next;
                continue;
            }
            if next.kind != TokenKind::QuotedString {
                return Err(self.unexpected(next, "a quoted string inside the parentheses"));
            }
            nodes.push(Node::Simple(next));
            break;
        }
        // The closing parentheses, possibly glued together as `))`.
        while opened > 0 {
            let t = self.next_token_collecting_whitespace(&mut nodes)?;
            let text = self.text(t);
            if t.kind != TokenKind::Unquoted || !text.starts_with(')') {
                return Err(self.unexpected(t, "')'"));
            }
            let closing = text.bytes().take_while(|&b| b == b')').count();
            if closing > opened {
                return Err(self.unexpected(t, "one ')' per '('"));
            }
            let close = Token::new(
                TokenKind::Unquoted,
                t.start as usize,
                t.start as usize + closing,
            );
            nodes.push(Node::Token(close));
            if close.end < t.end {
                let rest = Token::new(TokenKind::Unquoted, close.end as usize, t.end as usize);
                return Err(self.unexpected(rest, "a line break or ',' after the include"));
            }
            opened -= closing;
        }
        Ok(Node::Include(nodes))
    }

    fn is_separator(&self, t: Token) -> bool {
        match self.syntax {
            Syntax::Json => t.kind == TokenKind::Colon,
            Syntax::Conf => matches!(
                t.kind,
                TokenKind::Colon | TokenKind::Equals | TokenKind::PlusEquals
            ),
        }
    }

    /// An object's members, after its `{` (or at the start of a braceless root).
    fn object(&mut self, open_curly: Option<Token>) -> Result<Node, RawError> {
        // The root object holds most of a pe.conf's nodes: size it from the
        // text left instead of doubling it (and copying it) many times. With
        // runs of members kept as spans (about one node per kilobyte), far
        // fewer nodes are needed than with a node per token.
        let mut nodes = if self.root_seen {
            // Braces, blanks, line breaks and commas around a few fields.
            Vec::with_capacity(16)
        } else {
            self.root_seen = true;
            let per_node = if self.runs { 256 } else { 16 };
            Vec::with_capacity(self.tokens.remaining() / per_node + 8)
        };
        let mut after_comma = false;
        let had_open_curly = open_curly.is_some();
        if let Some(open) = open_curly {
            nodes.push(Node::Token(open));
        }
        loop {
            if self.lazy && self.plain_members(&mut nodes) {
                // It stopped after a member's line, maybe in the blanks
                // before the comma that separates it from the next: finish
                // the separator as after any member.
                self.check_element_separator(&mut nodes)?;
                after_comma = true;
                continue;
            }
            let t = self.next_token_collecting_whitespace(&mut nodes)?;
            if t.kind == TokenKind::CloseCurly {
                if self.syntax == Syntax::Json && after_comma {
                    return Err(self.unexpected(t, "a field name after the comma"));
                }
                if !had_open_curly {
                    return Err(RawError::new(
                        t.start as usize,
                        "found '}' with no matching '{'",
                    ));
                }
                nodes.push(Node::Token(t));
                break;
            } else if t.kind == TokenKind::Eof && !had_open_curly {
                self.put_back(t);
                break;
            } else if self.syntax == Syntax::Conf && self.is_include_keyword(t) {
                let include = self.include(vec![Node::Token(t)])?;
                nodes.push(include);
            } else {
                // Key, blank, separator, blank, value: room for the usual
                // shape up front.
                let mut field = Vec::with_capacity(5);
                let path = self.key(t)?;
                // Each dotted element is one more level of nesting.
                let periods = match &path {
                    Node::Path(tokens) => tokens
                        .iter()
                        .filter(|k| k.kind == TokenKind::Unquoted && self.text(**k) == ".")
                        .count(),
                    _ => 0,
                };
                self.deeper(t, periods)?;
                field.push(path);
                let after_key = self.next_token_collecting_whitespace(&mut field)?;
                let value = if self.syntax == Syntax::Conf && after_key.kind == TokenKind::OpenCurly
                {
                    self.value(after_key)?
                } else {
                    if !self.is_separator(after_key) {
                        let key = self.key_for_message(&field[0]);
                        return Err(self.unexpected(
                            after_key,
                            &format!("':', '=' or '+=' after the key `{key}`"),
                        ));
                    }
                    field.push(Node::Token(after_key));
                    match self.consolidate_values(&mut field)? {
                        Some(v) => v,
                        None => {
                            let t = self.next_token_collecting_whitespace(&mut field)?;
                            self.value(t)?
                        }
                    }
                };
                field.push(value);
                self.depth -= periods;
                nodes.push(Node::Field(field));
            }
            if self.check_element_separator(&mut nodes)? {
                after_comma = true;
                continue;
            }
            let t = self.next_token_collecting_whitespace(&mut nodes)?;
            if t.kind == TokenKind::CloseCurly {
                if !had_open_curly {
                    return Err(RawError::new(
                        t.start as usize,
                        "found '}' with no matching '{'",
                    ));
                }
                nodes.push(Node::Token(t));
                break;
            } else if had_open_curly {
                return Err(self.unexpected(t, "'}' or ',' or a line break"));
            } else if t.kind == TokenKind::Eof {
                self.put_back(t);
                break;
            } else {
                return Err(self.unexpected(t, "',' or a line break"));
            }
        }
        Ok(Node::Object(nodes))
    }

    fn array(&mut self, open: Token) -> Result<Node, RawError> {
        let mut nodes = Vec::with_capacity(16);
        nodes.push(Node::Token(open));
        match self.consolidate_values(&mut nodes)? {
            Some(v) => nodes.push(v),
            None => {
                let t = self.next_token_collecting_whitespace(&mut nodes)?;
                if t.kind == TokenKind::CloseSquare {
                    nodes.push(Node::Token(t));
                    return Ok(Node::Array(nodes));
                }
                if !(t.is_simple_value()
                    || matches!(t.kind, TokenKind::OpenCurly | TokenKind::OpenSquare))
                {
                    return Err(self.unexpected(t, "']' or a first element"));
                }
                let v = self.value(t)?;
                nodes.push(v);
            }
        }
        loop {
            if !self.check_element_separator(&mut nodes)? {
                let t = self.next_token_collecting_whitespace(&mut nodes)?;
                if t.kind == TokenKind::CloseSquare {
                    nodes.push(Node::Token(t));
                    return Ok(Node::Array(nodes));
                }
                return Err(self.unexpected(t, "']' or ',' or a line break"));
            }
            match self.consolidate_values(&mut nodes)? {
                Some(v) => nodes.push(v),
                None => {
                    let t = self.next_token_collecting_whitespace(&mut nodes)?;
                    if t.is_simple_value()
                        || matches!(t.kind, TokenKind::OpenCurly | TokenKind::OpenSquare)
                    {
                        let v = self.value(t)?;
                        nodes.push(v);
                    } else if self.syntax == Syntax::Conf && t.kind == TokenKind::CloseSquare {
                        // One trailing comma is allowed.
                        self.put_back(t);
                    } else {
                        return Err(self.unexpected(t, "an element or ']'"));
                    }
                }
            }
        }
    }

    fn document(&mut self) -> Result<Vec<Node>, RawError> {
        let mut children = Vec::new();
        let t = self.next_token_collecting_whitespace(&mut children)?;
        let missing_curly;
        let result = if matches!(t.kind, TokenKind::OpenCurly | TokenKind::OpenSquare) {
            missing_curly = false;
            self.value(t)?
        } else {
            if self.syntax == Syntax::Json {
                return Err(if t.kind == TokenKind::Eof {
                    RawError::new(t.start as usize, "empty document")
                } else {
                    self.unexpected(t, "'{' or '[' at the start of a JSON document")
                });
            }
            self.put_back(t);
            missing_curly = true;
            self.level += 1;
            let root = self.object(None)?;
            self.level -= 1;
            root
        };
        match result {
            Node::Object(inner) if missing_curly => children.extend(inner),
            other => children.push(other),
        }
        let t = self.next_token_collecting_whitespace(&mut children)?;
        if t.kind != TokenKind::Eof {
            return Err(self.unexpected(t, "end of input after the root object or array"));
        }
        if missing_curly {
            Ok(vec![Node::Object(children)])
        } else {
            Ok(children)
        }
    }
}

/// Whether a value (or a concatenation's next part) can start with `t`.
fn starts_value(t: Token) -> bool {
    t.is_simple_value() || matches!(t.kind, TokenKind::OpenCurly | TokenKind::OpenSquare)
}
