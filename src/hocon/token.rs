//! Tokens of a HOCON document.
//!
//! A token is a kind plus a byte span into the document's text buffer. Keeping
//! spans instead of owned strings is what makes the tree lossless (every byte of
//! the input belongs to exactly one token) and cheap (no allocation per token).

/// What a token is. The split between [`TokenKind::Whitespace`] and
/// [`TokenKind::Unquoted`] for blanks follows ruby-hocon's tokenizer: blanks
/// between two simple values are part of a concatenation (unquoted text), all
/// other blanks are ignorable whitespace. The editor's placement rules depend
/// on that distinction, so it is reproduced exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Comma,
    Colon,
    Equals,
    PlusEquals,
    OpenCurly,
    CloseCurly,
    OpenSquare,
    CloseSquare,
    /// `\n`, or `\r\n` taken as one line break.
    Newline,
    /// Blanks that carry no meaning.
    Whitespace,
    /// Unquoted text, including blanks inside a concatenation.
    Unquoted,
    /// `"..."` or `"""..."""`.
    QuotedString,
    Number,
    Bool,
    Null,
    /// `${path}` or `${?path}`, kept whole.
    Substitution,
    /// `# ...` or `// ...`, without the line break.
    Comment,
    /// End of input; renders as nothing.
    Eof,
    /// A lexical error; the parser reports it when it reaches it, so errors
    /// come out in document order as they do in ruby-hocon's lazy tokenizer.
    Problem,
}

/// A token: its kind and where its text lives in the document buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
}

impl Token {
    pub fn new(kind: TokenKind, start: usize, end: usize) -> Self {
        Token {
            kind,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The token's text in `buf`.
    pub fn text<'a>(&self, buf: &'a str) -> &'a str {
        &buf[self.start as usize..self.end as usize]
    }

    /// A value token that can stand alone as a field value or key part.
    pub fn is_value(&self) -> bool {
        matches!(
            self.kind,
            TokenKind::QuotedString | TokenKind::Number | TokenKind::Bool | TokenKind::Null
        )
    }

    /// Simple values join into concatenations; see ruby-hocon's WhitespaceSaver.
    pub fn is_simple_value(&self) -> bool {
        self.is_value() || matches!(self.kind, TokenKind::Unquoted | TokenKind::Substitution)
    }

    pub fn is_whitespace(&self) -> bool {
        self.kind == TokenKind::Whitespace
    }

    pub fn is_newline(&self) -> bool {
        self.kind == TokenKind::Newline
    }
}

/// Which HOCON dialect a document is parsed as (ruby-hocon's `ConfigSyntax`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Syntax {
    /// HOCON proper; what pe.conf is.
    #[default]
    Conf,
    /// Strict JSON, as ruby-hocon applies to `.json` files.
    Json,
}

/// Whitespace as ruby-hocon's `[[:space:]]` sees it (Unicode White_Space,
/// which does not include the BOM U+FEFF).
pub fn is_hocon_whitespace(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}
