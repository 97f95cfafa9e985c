//! The tokenizer: a port of ruby-hocon's `Tokenizer`, producing spans.
//!
//! Two deliberate differences, both invisible in LF-only text:
//! * `\r\n` is one newline token (ruby-hocon makes `\r` whitespace and `\n` the
//!   newline), so edits in CRLF files keep CRLF and removed lines go whole;
//! * a comment stops before `\r\n`, for the same reason.

use super::error::RawError;
use super::token::{is_hocon_whitespace, Syntax, Token, TokenKind};

/// Characters that end unquoted text (ruby-hocon's `NOT_IN_UNQUOTED_TEXT`).
const NOT_IN_UNQUOTED_TEXT: &str = "$\"{}[]:=,+#`^?!@*&\\";
const FIRST_NUMBER_CHARS: &str = "0123456789-";

/// Bytes a quoted string's fast scan stops at: the quote, the backslash, C0
/// controls and DEL, and 0xC2 (the first byte of the C1 controls in UTF-8).
const STOPS_QUOTED_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7F] = true;
    table[0xC2] = true;
    table
};

/// How many bytes at the start of `bytes` a quoted string can skip without
/// looking at them one by one (none is in [`STOPS_QUOTED_RUN`]). Checks 16
/// bytes at a time with a branch-free test the compiler vectorizes (this
/// measured faster than `memchr2` for the quote and backslash followed by a
/// pass for control characters, and than building a 16-bit mask per chunk
/// to find the stop without the byte loop: 35.4 M instructions per 1 MB
/// edit against 30.6 M).
pub(super) fn quiet_run(bytes: &[u8]) -> usize {
    let stops = |b: u8| (b == b'"') | (b == b'\\') | (b < 0x20) | (b == 0x7F) | (b == 0xC2);
    let mut n = 0;
    for chunk in bytes.chunks_exact(16) {
        if chunk.iter().fold(false, |any, &b| any | stops(b)) {
            break;
        }
        n += 16;
    }
    n + bytes[n..]
        .iter()
        .position(|&b| STOPS_QUOTED_RUN[b as usize])
        .unwrap_or(bytes.len() - n)
}

/// ASCII bytes that end unquoted text: [`NOT_IN_UNQUOTED_TEXT`] and ASCII
/// whitespace (the lexer's hot loop looks bytes up here).
const ENDS_UNQUOTED_TEXT: [bool; 128] = {
    let mut table = [false; 128];
    let reserved = NOT_IN_UNQUOTED_TEXT.as_bytes();
    let mut i = 0;
    while i < reserved.len() {
        table[reserved[i] as usize] = true;
        i += 1;
    }
    let blanks = [b' ', b'\t', b'\n', b'\r', 0x0B, 0x0C];
    let mut i = 0;
    while i < blanks.len() {
        table[blanks[i] as usize] = true;
        i += 1;
    }
    table
};
pub(super) const NUMBER_CHARS: &str = "0123456789eE+-.";

/// The tokens of `buf[start..]` (spans are offsets into `buf`), always ending
/// with an [`TokenKind::Eof`] or a [`TokenKind::Problem`] token. The problem's
/// description is returned alongside.
pub fn tokenize(buf: &str, start: usize, syntax: Syntax) -> (Vec<Token>, Option<RawError>) {
    tokenize_with(buf, start, syntax, false)
}

/// [`tokenize`], optionally with ruby-hocon's own handling of `\r` (a blank,
/// also inside comments) for byte-exact compatibility.
pub fn tokenize_with(
    buf: &str,
    start: usize,
    syntax: Syntax,
    ruby_cr: bool,
) -> (Vec<Token>, Option<RawError>) {
    let mut stream = TokenStream::new(&buf[start..], start, syntax, ruby_cr);
    let mut tokens = Vec::with_capacity((buf.len() - start) / 4 + 2);
    loop {
        let token = stream.next();
        tokens.push(token);
        if matches!(token.kind, TokenKind::Eof | TokenKind::Problem) {
            return (tokens, stream.problem().cloned());
        }
    }
}

/// Tokens handed out one at a time, as the parser asks for them. No token
/// list is built, and the parser can skip a value it has checked by other
/// means ([`TokenStream::resume_at`]).
pub struct TokenStream<'a> {
    lexer: Lexer<'a>,
    /// Added to every offset: where `text` starts in the document buffer.
    base: usize,
    /// The token lexed after a run of blanks, handed out after them.
    pending: Option<Token>,
    last_was_simple: bool,
    /// The lexical error reached, with its offset in the buffer; from then on
    /// only [`TokenKind::Problem`] tokens come out.
    problem: Option<RawError>,
}

impl<'a> TokenStream<'a> {
    /// Tokens of `text`, which sits at `base` in the document buffer.
    pub fn new(text: &'a str, base: usize, syntax: Syntax, ruby_cr: bool) -> Self {
        TokenStream {
            lexer: Lexer {
                buf: text,
                pos: 0,
                allow_comments: syntax == Syntax::Conf,
                crlf_newline: !ruby_cr,
                nesting: 0,
            },
            base,
            pending: None,
            last_was_simple: false,
            problem: None,
        }
    }

    /// The next token, with offsets into the document buffer. After the end,
    /// [`TokenKind::Eof`] again; after an error, [`TokenKind::Problem`].
    #[inline]
    pub fn next(&mut self) -> Token {
        let t = self.next_in_text();
        let base = self.base as u32;
        Token {
            kind: t.kind,
            start: t.start + base,
            end: t.end + base,
        }
    }

    fn next_in_text(&mut self) -> Token {
        if let Some(t) = self.pending.take() {
            return t;
        }
        if let Some(p) = &self.problem {
            let at = p.offset - self.base;
            return Token::new(TokenKind::Problem, at, at);
        }
        let lexer = &mut self.lexer;
        let ws_start = lexer.pos;
        lexer.skip_blanks();
        let ws_end = lexer.pos;
        let token = match lexer.next_token() {
            Ok(t) => t,
            Err(mut e) => {
                let at = e.offset;
                e.offset += self.base;
                self.problem = Some(e);
                return Token::new(TokenKind::Problem, at, at);
            }
        };
        let simple = token.is_simple_value();
        let last_was_simple = std::mem::replace(&mut self.last_was_simple, simple);
        if ws_end > ws_start {
            let kind = if simple && last_was_simple {
                TokenKind::Unquoted
            } else {
                TokenKind::Whitespace
            };
            self.pending = Some(token);
            return Token::new(kind, ws_start, ws_end);
        }
        token
    }

    /// The lexical error reached so far, if any.
    pub fn problem(&self) -> Option<&RawError> {
        self.problem.as_ref()
    }

    /// The text being tokenized and where it sits in the buffer.
    pub fn text(&self) -> (&'a str, usize) {
        (self.lexer.buf, self.base)
    }

    /// Whether the next token would be lexed at buffer offset `at` (nothing
    /// is held back), so the stream can be moved on from there.
    pub fn is_at(&self, at: usize) -> bool {
        self.position() == Some(at)
    }

    /// Carries on from buffer offset `at`, after a value that ends with a
    /// closing bracket (so the blanks that follow are plain whitespace).
    pub fn resume_at(&mut self, at: usize) {
        debug_assert!(self.pending.is_none());
        self.lexer.pos = at - self.base;
        self.last_was_simple = false;
    }

    /// Where the next token will be lexed (a buffer offset), when nothing is
    /// held back and no error was reached.
    pub fn position(&self) -> Option<usize> {
        (self.pending.is_none() && self.problem.is_none()).then_some(self.lexer.pos + self.base)
    }

    /// Whether `\r\n` is one line break (else `\r` is a blank).
    pub fn crlf_newline(&self) -> bool {
        self.lexer.crlf_newline
    }

    /// Bytes not yet lexed.
    pub fn remaining(&self) -> usize {
        self.lexer.buf.len() - self.lexer.pos
    }
}

struct Lexer<'a> {
    buf: &'a str,
    pos: usize,
    allow_comments: bool,
    /// Whether `\r\n` is one newline token.
    crlf_newline: bool,
    /// How many substitutions the lexer is inside (`${ ${ ...`).
    nesting: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        let b = *self.buf.as_bytes().get(self.pos)?;
        if b < 0x80 {
            Some(b as char)
        } else {
            self.buf[self.pos..].chars().next()
        }
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.buf.get(self.pos + offset..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_crlf(&self) -> bool {
        self.crlf_newline
            && self.buf.as_bytes().get(self.pos) == Some(&b'\r')
            && self.buf.as_bytes().get(self.pos + 1) == Some(&b'\n')
    }

    /// Skips whitespace other than line breaks.
    fn skip_blanks(&mut self) {
        let bytes = self.buf.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | 0x0B | 0x0C => self.pos += 1,
                b'\r' if !self.at_crlf() => self.pos += 1,
                0x80.. => match self.peek() {
                    Some(c) if is_hocon_whitespace(c) => self.pos += c.len_utf8(),
                    _ => return,
                },
                _ => return,
            }
        }
    }

    fn at_comment(&self) -> bool {
        if !self.allow_comments {
            return false;
        }
        match self.peek() {
            Some('#') => true,
            Some('/') => self.peek_at(1) == Some('/'),
            _ => false,
        }
    }

    fn next_token(&mut self) -> Result<Token, RawError> {
        let start = self.pos;
        let single = |lexer: &mut Self, kind| {
            lexer.pos += 1;
            Ok(Token::new(kind, start, start + 1))
        };
        let Some(c) = self.peek() else {
            return Ok(Token::new(TokenKind::Eof, start, start));
        };
        match c {
            '#' | '/' if self.at_comment() => Ok(self.comment()),
            '\n' => single(self, TokenKind::Newline),
            '\r' => {
                // Only reached at "\r\n": a lone '\r' is a blank.
                self.pos += 2;
                Ok(Token::new(TokenKind::Newline, start, start + 2))
            }
            '"' => self.quoted_string(),
            '$' => self.substitution(),
            ':' => single(self, TokenKind::Colon),
            ',' => single(self, TokenKind::Comma),
            '=' => single(self, TokenKind::Equals),
            '{' => single(self, TokenKind::OpenCurly),
            '}' => single(self, TokenKind::CloseCurly),
            '[' => single(self, TokenKind::OpenSquare),
            ']' => single(self, TokenKind::CloseSquare),
            '+' => {
                if self.peek_at(1) == Some('=') {
                    self.pos += 2;
                    Ok(Token::new(TokenKind::PlusEquals, start, start + 2))
                } else {
                    Err(RawError::new(
                        start,
                        "'+' not followed by '=' (quote the text if '+' belongs to a value)",
                    ))
                }
            }
            c if FIRST_NUMBER_CHARS.contains(c) => self.number(),
            c if NOT_IN_UNQUOTED_TEXT.contains(c) => Err(RawError::new(
                start,
                format!("reserved character '{c}' is not allowed outside quotes"),
            )),
            _ => Ok(self.unquoted_text()),
        }
    }

    fn comment(&mut self) -> Token {
        let start = self.pos;
        self.pos = comment_end(self.buf.as_bytes(), start, self.crlf_newline);
        Token::new(TokenKind::Comment, start, self.pos)
    }

    /// Unquoted text; `true`, `false` and `null` at its start are their own
    /// tokens, whatever follows them (as in ruby-hocon).
    fn unquoted_text(&mut self) -> Token {
        let start = self.pos;
        let bytes = self.buf.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b < 0x80 {
                if ENDS_UNQUOTED_TEXT[b as usize] || (b == b'/' && self.at_comment()) {
                    break;
                }
                self.pos += 1;
            } else {
                match self.peek() {
                    Some(c) if !is_hocon_whitespace(c) => self.pos += c.len_utf8(),
                    _ => break,
                }
            }
            // The keywords are ASCII, so their length in bytes is their
            // length in characters.
            if matches!(self.pos - start, 4 | 5) {
                match &bytes[start..self.pos] {
                    b"true" => return Token::new(TokenKind::Bool, start, self.pos),
                    b"null" => return Token::new(TokenKind::Null, start, self.pos),
                    b"false" => return Token::new(TokenKind::Bool, start, self.pos),
                    _ => {}
                }
            }
        }
        Token::new(TokenKind::Unquoted, start, self.pos)
    }

    fn number(&mut self) -> Result<Token, RawError> {
        let start = self.pos;
        self.pos += 1;
        while let Some(b) = self.buf.as_bytes().get(self.pos) {
            if !NUMBER_CHARS.as_bytes().contains(b) {
                break;
            }
            self.pos += 1;
        }
        let text = &self.buf[start..self.pos];
        if is_ruby_number(text) {
            return Ok(Token::new(TokenKind::Number, start, self.pos));
        }
        if let Some(i) = text.find('+') {
            return Err(RawError::new(
                start + i,
                "reserved character '+' is not allowed outside quotes",
            ));
        }
        Ok(Token::new(TokenKind::Unquoted, start, self.pos))
    }

    fn quoted_string(&mut self) -> Result<Token, RawError> {
        let start = self.pos;
        self.pos += 1;
        let mut empty = true;
        let bytes = self.buf.as_bytes();
        loop {
            // Fast path: skip bytes that need no attention (no quote, no
            // backslash, no control character; C1 controls start with 0xC2).
            let run = quiet_run(&bytes[self.pos..]);
            if run > 0 {
                self.pos += run;
                empty = false;
            }
            let at = self.pos;
            match self.bump() {
                None => {
                    return Err(RawError::new(
                        start,
                        "end of input but the string's closing quote is missing",
                    ))
                }
                Some('"') => break,
                Some('\\') => {
                    self.escape(at)?;
                    empty = false;
                }
                Some(c) if is_control(c) => {
                    return Err(RawError::new(
                        at,
                        format!(
                            "unescaped {} in a quoted string (control characters need a backslash escape)",
                            describe_char(c)
                        ),
                    ))
                }
                Some(_) => empty = false,
            }
        }
        if empty && self.peek() == Some('"') {
            self.pos += 1;
            self.triple_quoted(start)?;
        }
        Ok(Token::new(TokenKind::QuotedString, start, self.pos))
    }

    fn escape(&mut self, at: usize) -> Result<(), RawError> {
        match self.bump() {
            None => Err(RawError::new(
                at,
                "end of input but a backslash in a string has nothing after it",
            )),
            Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => Ok(()),
            Some('u') => {
                for _ in 0..4 {
                    match self.bump() {
                        Some(c) if c.is_ascii_hexdigit() => {}
                        _ => {
                            return Err(RawError::new(
                                at,
                                "malformed \\u escape: expected 4 hex digits",
                            ))
                        }
                    }
                }
                Ok(())
            }
            Some(c) => Err(RawError::new(
                at,
                format!(
                    "backslash followed by {}, which is not a valid escape (use \\\\ for a literal backslash)",
                    describe_char(c)
                ),
            )),
        }
    }

    /// After the opening `"""`: up to and including the closing quotes. The last
    /// three of a run of quotes close the string; earlier ones are content.
    fn triple_quoted(&mut self, start: usize) -> Result<(), RawError> {
        let mut quotes = 0;
        loop {
            match self.peek() {
                Some('"') => {
                    quotes += 1;
                    self.pos += 1;
                }
                _ if quotes >= 3 => return Ok(()),
                None => {
                    return Err(RawError::new(
                        start,
                        "end of input but a triple-quoted string is still open",
                    ))
                }
                Some(c) => {
                    quotes = 0;
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn substitution(&mut self) -> Result<Token, RawError> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() != Some('{') {
            let found = self
                .peek()
                .map_or("end of input".to_string(), describe_char);
            return Err(RawError::new(
                start,
                format!("'$' not followed by '{{' but by {found} (quote the text if '$' belongs to a value)"),
            ));
        }
        self.pos += 1;
        if self.peek() == Some('?') {
            self.pos += 1;
        }
        self.nesting += 1;
        if self.nesting > super::parser::MAX_DEPTH {
            return Err(RawError::new(start, "substitutions nest too deeply"));
        }
        let result = self.substitution_rest(start);
        self.nesting -= 1;
        result
    }

    /// The rest of a substitution, after `${` or `${?`.
    fn substitution_rest(&mut self, start: usize) -> Result<Token, RawError> {
        loop {
            self.skip_blanks();
            let t = self.next_token()?;
            match t.kind {
                TokenKind::CloseCurly => break,
                TokenKind::Eof => {
                    return Err(RawError::new(
                        start,
                        "substitution '${' is not closed with '}'",
                    ))
                }
                _ => {}
            }
        }
        Ok(Token::new(TokenKind::Substitution, start, self.pos))
    }
}

/// Where the comment starting at `text[start]` ends: before its line break,
/// which is `\r\n` when `crlf_newline` (ruby-hocon: `\n` only, so its
/// comments keep a `\r`). The lexer and the plain-line reader (skim.rs)
/// both end comments here.
pub(super) fn comment_end(text: &[u8], start: usize, crlf_newline: bool) -> usize {
    let mut end = start + memchr::memchr(b'\n', &text[start..]).unwrap_or(text.len() - start);
    if crlf_newline && end > start && end < text.len() && text[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// Control characters as Ruby's `[[:cntrl:]]` matches them (C0, DEL and C1).
fn is_control(c: char) -> bool {
    c.is_control()
}

fn describe_char(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => format!("control character U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

/// Whether Ruby's `Integer()` (no `.`/`e`) or `Float()` accepts `s`, which is
/// made of [`NUMBER_CHARS`] and starts with a digit or `-`. Decides between a
/// number token and unquoted text, as ruby-hocon does.
pub(super) fn is_ruby_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if s.contains(['.', 'e', 'E']) {
        let (mantissa, exponent) = match digits.find(['e', 'E']) {
            Some(i) => (&digits[..i], Some(&digits[i + 1..])),
            None => (digits, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mantissa, None),
        };
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        all_digits(int)
            && frac.is_none_or(all_digits)
            && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
    } else if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        false
    } else if digits.len() > 1 && digits.starts_with('0') {
        // Ruby reads a leading zero as octal.
        digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        let (tokens, problem) = tokenize(text, 0, Syntax::Conf);
        assert!(problem.is_none(), "{problem:?}");
        tokens.iter().map(|t| (t.kind, t.text(text))).collect()
    }

    #[test]
    fn blanks_between_simple_values_are_unquoted_text() {
        use TokenKind::*;
        assert_eq!(
            kinds("a: b c # x\n"),
            vec![
                (Unquoted, "a"),
                (Colon, ":"),
                (Whitespace, " "),
                (Unquoted, "b"),
                (Unquoted, " "),
                (Unquoted, "c"),
                (Whitespace, " "),
                (Comment, "# x"),
                (Newline, "\n"),
                (Eof, ""),
            ]
        );
    }

    #[test]
    fn crlf_is_one_newline_and_lone_cr_is_blank() {
        use TokenKind::*;
        assert_eq!(
            kinds("a\r\n\rb"),
            vec![
                (Unquoted, "a"),
                (Newline, "\r\n"),
                (Whitespace, "\r"),
                (Unquoted, "b"),
                (Eof, "")
            ]
        );
    }

    #[test]
    fn keywords_split_off_the_front_of_unquoted_text() {
        use TokenKind::*;
        assert_eq!(
            kinds("trueish"),
            vec![(Bool, "true"), (Unquoted, "ish"), (Eof, "")]
        );
    }

    #[test]
    fn numbers_follow_ruby() {
        for ok in [
            "0", "12", "-3", "017", "1.5", "1e5", "1E-3", "01.5", "-0.5e+2",
        ] {
            assert!(is_ruby_number(ok), "{ok}");
        }
        for bad in ["-", "08", "1.", "1.e5", "1-2", "1e", "1.5.5", "2021-07-01"] {
            assert!(!is_ruby_number(bad), "{bad}");
        }
    }

    #[test]
    fn triple_quoted_strings_close_on_the_last_three_quotes() {
        let text = "\"\"\"a\"\"\"\" x";
        let (tokens, _) = tokenize(text, 0, Syntax::Conf);
        assert_eq!(tokens[0].text(text), "\"\"\"a\"\"\"\"");
    }

    #[test]
    fn problems_are_located() {
        let (tokens, problem) = tokenize("a: `", 0, Syntax::Conf);
        assert_eq!(tokens.last().unwrap().kind, TokenKind::Problem);
        assert_eq!(problem.unwrap().offset, 3);
    }
}
