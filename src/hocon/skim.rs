//! Skimming: checking that a nested object or array is well formed without
//! building its nodes.
//!
//! Why: most of a pe.conf's bytes sit in values nested in root fields
//! (`java_args` objects, lists of hosts) that an edit of one root key never
//! looks into. The parser keeps such a value as one span ([`Node::Lazy`])
//! when this module vouches for it, and builds its nodes only if an edit
//! walks into it. Building nodes for every token was most of the time spent
//! on a large document.
//!
//! The skimmer reads bytes, not tokens, and accepts a plain subset of HOCON:
//! keys that are quoted strings or simple unquoted words; `:`, `=` or `{`
//! after a key; values that are quoted strings, numbers, `true`, `false`,
//! `null`, objects or arrays; commas, line breaks, blanks and comments
//! between members. It gives up (returns `None`) on everything else, and the
//! parser then builds the value as usual, so whatever it accepts the parser
//! accepts too, with the same nodes. It never reports errors: the parser
//! does, with its own words and locations.
//!
//! [`Node::Lazy`]: super::tree::Node::Lazy

use super::cursor::Cursor;
use super::lexer::{comment_end, is_ruby_number, quiet_run, NUMBER_CHARS};
use super::token::{Token, TokenKind};

/// The deepest value the skimmer follows (objects and arrays, the skimmed
/// value itself included); deeper ones are left to the parser.
pub const MAX_DEPTH: usize = 32;

/// A value the skimmer vouches for.
#[derive(Debug, PartialEq, Eq)]
pub struct Skimmed {
    /// Just after its closing bracket.
    pub end: usize,
    /// How many objects and arrays deep it goes, itself included.
    pub depth: usize,
}

/// Skims the object or array opening at `text[start]` (a `{` or `[`), going
/// at most `max_depth` levels deep.
pub fn skim(text: &[u8], start: usize, max_depth: usize) -> Option<Skimmed> {
    let mut s = Skimmer {
        b: text,
        pos: start,
        max_depth,
        deepest: 0,
    };
    s.container(1)?;
    Some(Skimmed {
        end: s.pos,
        depth: s.deepest,
    })
}

/// A member on a plain line, as the lexer and parser would read it: a key
/// of one token, blanks, `:` or `=` (or none before `{`), blanks, and a
/// value of one token or an object or array the skimmer vouches for.
#[derive(Debug, PartialEq, Eq)]
pub struct PlainField {
    /// A quoted string or unquoted text.
    pub key: Token,
    pub blanks_after_key: Option<Token>,
    pub separator: Option<Token>,
    pub blanks_after_separator: Option<Token>,
    pub value: PlainValue,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PlainValue {
    /// A quoted string, number, boolean or null.
    Token(Token),
    /// An object or array: its span (the token's kind is its opening
    /// bracket) and depth.
    Skimmed(Token, usize),
}

impl PlainValue {
    pub fn end(&self) -> usize {
        match self {
            PlainValue::Token(t) | PlainValue::Skimmed(t, _) => t.end as usize,
        }
    }
}

/// The member starting at `text[pos]`, when it is plain and what follows it
/// on its line leaves no doubt that it ends there: blanks, then a comma, a
/// line break, or a comment and a line break. (A value followed by more
/// text on its line could be a concatenation; that is the parser's to
/// read.) Offsets are in `text`; `crlf_newline` is the lexer's setting.
pub fn plain_field(
    text: &[u8],
    pos: usize,
    max_depth: usize,
    crlf_newline: bool,
) -> Option<PlainField> {
    let mut s = Skimmer {
        b: text,
        pos,
        max_depth,
        deepest: 0,
    };
    let key_kind = if s.at(0) == b'"' {
        TokenKind::QuotedString
    } else {
        TokenKind::Unquoted
    };
    s.key()?;
    let key = Token::new(key_kind, pos, s.pos);
    let blanks_after_key = s.blank_token(crlf_newline)?;
    let separator = match s.at(0) {
        b':' => Some(TokenKind::Colon),
        b'=' => Some(TokenKind::Equals),
        b'{' => None,
        _ => return None,
    }
    .map(|kind| {
        s.pos += 1;
        Token::new(kind, s.pos - 1, s.pos)
    });
    let blanks_after_separator = match separator {
        Some(_) => s.blank_token(crlf_newline)?,
        None => None,
    };
    let start = s.pos;
    let value = match s.at(0) {
        b'{' | b'[' => {
            let kind = if s.at(0) == b'{' {
                TokenKind::OpenCurly
            } else {
                TokenKind::OpenSquare
            };
            s.container(1)?;
            PlainValue::Skimmed(Token::new(kind, start, s.pos), s.deepest)
        }
        first => {
            s.value(0)?;
            let kind = match first {
                b'"' => TokenKind::QuotedString,
                b't' | b'f' => TokenKind::Bool,
                b'n' => TokenKind::Null,
                _ => TokenKind::Number,
            };
            PlainValue::Token(Token::new(kind, start, s.pos))
        }
    };
    // What follows on the line.
    s.blank_token(crlf_newline)?;
    let ends_line = match s.at(0) {
        b',' | b'\n' => true,
        b'\r' => crlf_newline && s.at(1) == b'\n',
        b'#' => s.comment_ends_line(),
        b'/' => s.at(1) == b'/' && s.comment_ends_line(),
        _ => false,
    };
    ends_line.then_some(PlainField {
        key,
        blanks_after_key,
        separator,
        blanks_after_separator,
        value,
    })
}

/// The blanks, line break or comment at `text[pos]` as the lexer reads it
/// (its kind and span), or `None` when there is none there, or when a run of
/// blanks ends in a non-ASCII character that the lexer might take as more
/// whitespace. Blanks read here never sit between two simple values, so
/// they are [`TokenKind::Whitespace`].
pub fn gap_token(text: &[u8], pos: usize, crlf_newline: bool) -> Option<Token> {
    let mut s = Skimmer {
        b: text,
        pos,
        max_depth: 0,
        deepest: 0,
    };
    if let Some(blanks) = s.blank_token(crlf_newline)? {
        return Some(blanks);
    }
    let end = match (s.at(0), s.at(1)) {
        (b'\n', _) if pos < text.len() => pos + 1,
        (b'\r', b'\n') if crlf_newline => pos + 2,
        (b'#', _) | (b'/', b'/') => {
            let end = comment_end(text, pos, crlf_newline);
            return Some(Token::new(TokenKind::Comment, pos, end));
        }
        _ => return None,
    };
    Some(Token::new(TokenKind::Newline, pos, end))
}

struct Skimmer<'a> {
    b: &'a [u8],
    pos: usize,
    max_depth: usize,
    deepest: usize,
}

impl Cursor for Skimmer<'_> {
    fn bytes(&self) -> &[u8] {
        self.b
    }
    fn pos(&self) -> usize {
        self.pos
    }
    fn pos_mut(&mut self) -> &mut usize {
        &mut self.pos
    }
}

impl Skimmer<'_> {
    /// `{ ... }` or `[ ... ]` at `depth`, from its opening bracket.
    fn container(&mut self, depth: usize) -> Option<()> {
        if depth > self.max_depth {
            return None;
        }
        self.deepest = self.deepest.max(depth);
        let object = match self.at(0) {
            b'{' => true,
            b'[' => false,
            _ => return None,
        };
        let close = if object { b'}' } else { b']' };
        self.pos += 1;
        loop {
            self.gap();
            if self.at(0) == close {
                self.pos += 1;
                return Some(());
            }
            if object {
                self.member(depth)?;
            } else {
                self.value(depth)?;
            }
            self.after_element(close)?;
        }
    }

    /// `key: value`, `key = value` or `key { ... }`.
    fn member(&mut self, depth: usize) -> Option<()> {
        self.key()?;
        self.blanks();
        match self.at(0) {
            b':' | b'=' => {
                self.pos += 1;
                self.blanks();
                self.value(depth)
            }
            b'{' => self.container(depth + 1),
            _ => None,
        }
    }

    /// A quoted key, or an unquoted word that the lexer reads as one token
    /// naming one key (so not a keyword, not `include`, no period).
    fn key(&mut self) -> Option<()> {
        if self.at(0) == b'"' {
            return self.quoted();
        }
        let start = self.pos;
        if !(self.at(0).is_ascii_alphabetic() || self.at(0) == b'_') {
            return None;
        }
        while matches!(self.at(0), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-') {
            self.pos += 1;
        }
        let word = &self.b[start..self.pos];
        let reserved = [&b"true"[..], b"false", b"null", b"include"];
        if reserved.iter().any(|r| word.starts_with(r)) {
            return None;
        }
        Some(())
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.at(0) {
            b'"' => self.quoted(),
            b'{' | b'[' => self.container(depth + 1),
            b'0'..=b'9' | b'-' => self.number(),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        if !self.b[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        Some(())
    }

    /// A number as the lexer reads one (what follows is checked by
    /// [`Skimmer::after_element`]: `10m` is a concatenation, not skimmed).
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        self.pos += 1;
        while NUMBER_CHARS.as_bytes().contains(&self.at(0)) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.b[start..self.pos]).ok()?;
        is_ruby_number(text).then_some(())
    }

    /// A single-quoted string (`"..."`, not `"""..."""`) that the lexer
    /// accepts: valid escapes, no control characters.
    fn quoted(&mut self) -> Option<()> {
        if self.at(1) == b'"' {
            if self.at(2) == b'"' {
                return None;
            }
            self.pos += 2;
            return Some(());
        }
        self.pos += 1;
        loop {
            self.pos += quiet_run(&self.b[self.pos..]);
            match self.at(0) {
                b'"' if self.pos < self.b.len() => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => match self.at(1) {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 2,
                    b'u' if (2..6).all(|i| self.at(i).is_ascii_hexdigit()) => self.pos += 6,
                    _ => return None,
                },
                // 0xC2 starts both the C1 controls (0xC2 0x80..=0x9F), which
                // need an escape, and ordinary characters (U+00A0..).
                0xC2 if self.at(1) >= 0xA0 && self.at(1) <= 0xBF => self.pos += 2,
                _ => return None,
            }
        }
    }

    /// The run of blanks here as the lexer reads it: `Some(None)` when there
    /// is none, `None` when it runs into a non-ASCII character (which the
    /// lexer might read as more whitespace).
    fn blank_token(&mut self, crlf_newline: bool) -> Option<Option<Token>> {
        let start = self.pos;
        loop {
            match self.at(0) {
                b' ' | b'\t' | 0x0B | 0x0C => self.pos += 1,
                b'\r' if !crlf_newline || self.at(1) != b'\n' => self.pos += 1,
                _ => break,
            }
        }
        if self.at(0) >= 0x80 {
            return None;
        }
        Some((self.pos > start).then(|| Token::new(TokenKind::Whitespace, start, self.pos)))
    }

    /// Whether the comment starting here ends at a line break (not at the
    /// end of the text).
    fn comment_ends_line(&self) -> bool {
        memchr::memchr(b'\n', &self.b[self.pos..]).is_some()
    }

    /// What may follow an element: blanks, then a comma, a line break, a
    /// comment or the closing bracket. Anything else (another value on the
    /// same line would make a concatenation) is left to the parser, and so is
    /// a comma after a line break.
    fn after_element(&mut self, close: u8) -> Option<()> {
        self.blanks();
        match self.at(0) {
            b',' => {
                self.pos += 1;
                self.gap();
                (self.at(0) != b',').then_some(())
            }
            b'\n' | b'\r' | b'#' => {
                self.gap();
                (self.at(0) != b',').then_some(())
            }
            b'/' if self.at(1) == b'/' => {
                self.gap();
                (self.at(0) != b',').then_some(())
            }
            c if c == close && self.pos < self.b.len() => Some(()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(text: &str) -> Option<usize> {
        skim(text.as_bytes(), 0, MAX_DEPTH).map(|s| s.end)
    }

    #[test]
    fn skims_the_plain_subset() {
        for text in [
            "{}",
            "[]",
            "{ \"Xmx\": \"2048m\", \"Xms\": \"1024m\" }",
            "{\n  a: 1\n  b = -2.5e3 # c\n  c { d: [true, false, null] } // e\n}",
            "[\n  \"x\",\n  \"y\",\n]",
            "{ \"\": \"\", k: \"\\u00e9\\n\", \"é\": \"\u{a0}\" }",
            "{\r\n  a: 1\r\n}",
        ] {
            assert_eq!(ends(&format!("{text} tail")), Some(text.len()), "{text}");
        }
    }

    #[test]
    fn leaves_everything_else_to_the_parser() {
        for text in [
            "{ a: 10m }",
            "{ a: b }",
            "{ a.b: 1 }",
            "{ a += 1 }",
            "{ include \"x\" }",
            "{ a: ${x} }",
            "{ a: \"\"\"x\"\"\" }",
            "{ a: 1 b: 2 }",
            "{ a: 1\r b: 2 }",
            "{ a: 1\n, b: 2 }",
            "{ a: 1,, b: 2 }",
            "[ 1 2 ]",
            "[ , ]",
            "{ a:\n 1 }",
            "{ a: \"\u{85}\" }",
            "{ a: \"\\x\" }",
            "{ a: true1 }",
            "{ trueish: 1 }",
            "{ a: 01.5.5 }",
            "{ a: 1 }}",
            "{ a: \"x",
            "{ a: 1",
            "[\u{a0}1]",
        ] {
            if let Some(end) = ends(text) {
                // Accepted only when it stops before the problem.
                assert!(end < text.len() && text[..end].ends_with('}'), "{text}");
            }
        }
        assert_eq!(ends("{ a: 1 }}"), Some(8));
        assert_eq!(ends("{ a: 10m }"), None);
    }

    #[test]
    fn depth_is_counted_and_bounded() {
        let nested = "[[[{a: [1]}]]]";
        assert_eq!(skim(nested.as_bytes(), 0, 5).map(|s| s.depth), Some(5));
        assert_eq!(skim(nested.as_bytes(), 0, 4), None);
    }
}
