//! HOCON path expressions: `a.b`, `"puppet_enterprise::x".y`.
//!
//! A port of ruby-hocon's `PathParser`. A path has two faces: its elements
//! (what keys it names; used to match fields) and its tokens (how it is
//! spelled; used to write a new key exactly as the caller spelled it).

use super::error::RawError;
use super::token::{Syntax, Token, TokenKind};

/// A parsed path expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathExpr {
    /// The key names the path walks through.
    pub elements: Vec<String>,
    /// The tokens of the expression, with unquoted text split at each `.` into
    /// separate tokens, so the spelling of each element can be recovered.
    pub tokens: Vec<Token>,
}

impl PathExpr {
    /// The tokens that spell the first element.
    pub fn first_tokens(&self, buf: &str) -> Vec<Token> {
        match self.tokens.iter().position(|t| is_period(t, buf)) {
            Some(i) => self.tokens[..i].to_vec(),
            None => self.tokens.clone(),
        }
    }

    /// The path without its first `n` elements.
    pub fn sub_path(&self, n: usize, buf: &str) -> PathExpr {
        let mut periods = 0;
        for (i, t) in self.tokens.iter().enumerate() {
            if is_period(t, buf) {
                periods += 1;
                if periods == n {
                    return PathExpr {
                        elements: self.elements[n..].to_vec(),
                        tokens: self.tokens[i + 1..].to_vec(),
                    };
                }
            }
        }
        PathExpr {
            elements: self.elements[n.min(self.elements.len())..].to_vec(),
            tokens: Vec::new(),
        }
    }
}

fn is_period(t: &Token, buf: &str) -> bool {
    t.kind == TokenKind::Unquoted && t.text(buf) == "."
}

/// Whether `path` starts with all the elements of `prefix` (or equals it).
pub fn starts_with(path: &[String], prefix: &[String]) -> bool {
    prefix.len() <= path.len() && path[..prefix.len()] == *prefix
}

/// Parses the tokens of a path expression. Text that the JSON dialect needs
/// quoted is appended to `buf` and referred to by the returned tokens.
pub fn parse_path_tokens(
    tokens: &[Token],
    buf: &mut String,
    syntax: Syntax,
) -> Result<PathExpr, RawError> {
    let texts: Vec<String> = tokens.iter().map(|t| t.text(buf).to_string()).collect();
    parse_path_texts(tokens, &texts, buf, syntax)
}

/// [`parse_path_tokens`] with the tokens' texts given (`texts[i]` is
/// `tokens[i]`'s): `buf` is only appended to (the JSON dialect's quoted
/// pieces), so the texts may live elsewhere.
pub fn parse_path_texts(
    tokens: &[Token],
    texts: &[String],
    buf: &mut String,
    syntax: Syntax,
) -> Result<PathExpr, RawError> {
    let mut elements = vec![Element::default()];
    let mut out = Vec::with_capacity(tokens.len());
    for (&t, text) in tokens.iter().zip(texts) {
        match t.kind {
            TokenKind::Whitespace => out.push(t),
            TokenKind::Eof => out.push(t),
            TokenKind::QuotedString => {
                out.push(t);
                let value = string_value(text);
                add_path_text(&mut elements, true, &value);
            }
            TokenKind::Number | TokenKind::Bool | TokenKind::Null | TokenKind::Unquoted => {
                split_on_periods(t, text, buf, syntax, &mut out);
                add_path_text(&mut elements, false, text);
            }
            _ => {
                return Err(RawError::new(
                    t.start as usize,
                    format!(
                        "'{text}' is not allowed in a path expression (double-quote the key if it contains it)"
                    ),
                ))
            }
        }
    }
    let mut names = Vec::with_capacity(elements.len());
    for e in elements {
        if e.text.is_empty() && !e.can_be_empty {
            let at = tokens.first().map_or(0, |t| t.start as usize);
            return Err(RawError::new(
                at,
                "the path has a leading, trailing or doubled '.' (write \"\" for an empty key)",
            ));
        }
        names.push(e.text);
    }
    Ok(PathExpr {
        elements: names,
        tokens: out,
    })
}

/// The one key a field's path names, when it is spelled as a single token
/// that needs no decoding: a quoted string without escapes (not
/// triple-quoted), or unquoted text without a period. Nearly every key of a
/// real pe.conf is one of these; it lets the parser and the editor compare
/// keys as slices of the document instead of building owned copies (which
/// was a third of the time of an edit on a large document).
pub fn simple_key<'a>(tokens: &[Token], buf: &'a str) -> Option<&'a str> {
    let [t] = tokens else {
        return None;
    };
    let text = t.text(buf);
    match t.kind {
        TokenKind::QuotedString
            if text.len() >= 2 && !text.starts_with("\"\"\"") && !has_byte(text, b'\\') =>
        {
            Some(&text[1..text.len() - 1])
        }
        TokenKind::Unquoted | TokenKind::Number | TokenKind::Bool | TokenKind::Null
            if !text.is_empty() && !has_byte(text, b'.') =>
        {
            Some(text)
        }
        _ => None,
    }
}

/// Whether `text` holds `byte`.
pub fn has_byte(text: &str, byte: u8) -> bool {
    memchr::memchr(byte, text.as_bytes()).is_some()
}

/// The key names of a field's path tokens (already split by the parser).
pub fn key_elements(tokens: &[Token], buf: &str) -> Vec<String> {
    let mut elements = vec![Element::default()];
    for t in tokens {
        match t.kind {
            TokenKind::QuotedString => {
                add_path_text(&mut elements, true, &string_value(t.text(buf)))
            }
            TokenKind::Whitespace | TokenKind::Eof => {}
            _ => add_path_text(&mut elements, false, t.text(buf)),
        }
    }
    elements.into_iter().map(|e| e.text).collect()
}

#[derive(Default)]
struct Element {
    text: String,
    can_be_empty: bool,
}

fn add_path_text(elements: &mut Vec<Element>, quoted: bool, text: &str) {
    let mut text = text;
    loop {
        let current = elements.last_mut().expect("at least one element");
        match (!quoted).then(|| text.find('.')).flatten() {
            None => {
                current.text.push_str(text);
                if quoted && current.text.is_empty() {
                    current.can_be_empty = true;
                }
                return;
            }
            Some(i) => {
                current.text.push_str(&text[..i]);
                elements.push(Element::default());
                text = &text[i + 1..];
            }
        }
    }
}

/// Splits a token at its periods like ruby-hocon's `split_token_on_period`
/// (Ruby's `String#split`, which drops trailing empty pieces). In the JSON
/// dialect the pieces become quoted strings, whose text is appended to `buf`.
fn split_on_periods(t: Token, text: &str, buf: &mut String, syntax: Syntax, out: &mut Vec<Token>) {
    if text == "." {
        out.push(Token {
            kind: TokenKind::Unquoted,
            ..t
        });
        return;
    }
    let start = t.start as usize;
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut piece_start = 0;
    for (i, _) in text.match_indices('.') {
        pieces.push((piece_start, i));
        piece_start = i + 1;
    }
    pieces.push((piece_start, text.len()));
    while pieces.len() > 1 && pieces.last().is_some_and(|&(s, e)| s == e) {
        pieces.pop();
    }
    if pieces.len() == 1 && pieces[0].0 == pieces[0].1 {
        pieces.clear();
    }
    let count = pieces.len();
    for (n, (s, e)) in pieces.into_iter().enumerate() {
        let piece = match syntax {
            Syntax::Conf => Token::new(TokenKind::Unquoted, start + s, start + e),
            Syntax::Json => {
                let quoted = format!("\"{}\"", &text[s..e]);
                let at = buf.len();
                buf.push_str(&quoted);
                Token::new(TokenKind::QuotedString, at, buf.len())
            }
        };
        out.push(piece);
        let period_end = start + e + 1;
        if n + 1 < count || text.ends_with('.') {
            out.push(Token::new(TokenKind::Unquoted, start + e, period_end));
        }
    }
}

/// The value of a quoted string token's text (`"..."` or `"""..."""`).
pub fn string_value(text: &str) -> String {
    if let Some(inner) = text
        .strip_prefix("\"\"\"")
        .and_then(|t| t.strip_suffix("\"\"\""))
    {
        return inner.to_string();
    }
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                if (0xD800..0xDC00).contains(&code) {
                    let rest = chars.as_str();
                    if let Some(low) = rest
                        .strip_prefix("\\u")
                        .and_then(|r| r.get(..4))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(combined).unwrap_or('\u{FFFD}'));
                        chars = rest[6..].chars();
                        continue;
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hocon::lexer::tokenize;

    fn parse(path: &str) -> Result<(Vec<String>, Vec<String>), RawError> {
        let mut buf = path.to_string();
        let (tokens, problem) = tokenize(&buf.clone(), 0, Syntax::Conf);
        if let Some(p) = problem {
            return Err(p);
        }
        let expr = parse_path_tokens(&tokens, &mut buf, Syntax::Conf)?;
        let texts = expr
            .tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Eof)
            .map(|t| t.text(&buf).to_string())
            .collect();
        Ok((expr.elements, texts))
    }

    #[test]
    fn quoted_elements_keep_their_dots_and_colons() {
        let (elements, tokens) = parse("\"pe::java_args\".Xss").unwrap();
        assert_eq!(elements, ["pe::java_args", "Xss"]);
        assert_eq!(tokens, ["\"pe::java_args\"", "", ".", "Xss"]);
    }

    #[test]
    fn dotted_path_splits() {
        let (elements, tokens) = parse("a.b.c").unwrap();
        assert_eq!(elements, ["a", "b", "c"]);
        assert_eq!(tokens, ["a", ".", "b", ".", "c"]);
    }

    #[test]
    fn bad_paths_are_refused() {
        assert!(parse("a..b").is_err());
        assert!(parse(".a").is_err());
        assert!(parse("").is_err());
        assert!(parse("puppet_enterprise::x").is_err());
        assert!(parse("\"\"").is_ok());
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(string_value(r#""a\u003a\u003ab\n""#), "a::b\n");
        assert_eq!(string_value(r#""\ud83d\ude00""#), "\u{1F600}");
        assert_eq!(string_value("\"\"\"x\\n\"\"\""), "x\\n");
    }
}
