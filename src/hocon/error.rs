//! Errors of the HOCON engine, each with enough context to point at the cause.

use thiserror::Error;

/// A position in a text, 1-based, columns counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub col: usize,
}

impl Location {
    /// The line and column of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = text[line_start..offset].chars().count() + 1;
        Location { line, col }
    }
}

/// Where the lines of a text start, found once, so that any number of
/// offsets can be located each in logarithmic time (locating each from the
/// start of the text made linting quadratic).
#[derive(Clone, Debug)]
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { text, starts }
    }

    /// The line and column of byte `offset`, as [`Location::of_offset`] gives them.
    pub fn locate(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let line_start = self.starts[line - 1];
        let col = self.text[line_start..offset].chars().count() + 1;
        Location { line, col }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_index_locates_like_a_scan() {
        let text = "a\n\nbé: 1\r\n  c\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.locate(offset),
                Location::of_offset(text, offset),
                "{offset}"
            );
        }
        assert_eq!(index.locate(9), Location { line: 3, col: 6 });
    }
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum HoconError {
    /// The document text is not valid HOCON.
    #[error("{at}: {msg}")]
    Syntax { at: Location, msg: String },
    /// A path expression given to an edit or query is malformed.
    #[error("invalid key {path:?}: {msg}")]
    BadPath { path: String, msg: String },
    /// A value text given to `set` is malformed.
    #[error("invalid value {value:?}: {msg}")]
    BadValue { value: String, msg: String },
    /// The edit cannot be made on this document.
    #[error("{0}")]
    Unsupported(String),
}

impl HoconError {
    pub fn is_syntax(&self) -> bool {
        matches!(self, HoconError::Syntax { .. })
    }
}

/// An error found while reading some text, located by byte offset; turned into
/// a [`HoconError`] by whoever knows what the text was (document, path, value).
///
/// The message is boxed so that `Result<Token, RawError>`, which the parser
/// passes around for every token, stays two words wide (returned in
/// registers) instead of going through memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawError {
    pub offset: usize,
    #[allow(clippy::box_collection)] // on purpose: see above
    pub msg: Box<String>,
}

impl RawError {
    pub fn new(offset: usize, msg: impl Into<String>) -> Self {
        RawError {
            offset,
            msg: Box::new(msg.into()),
        }
    }

    pub fn into_syntax(self, text: &str) -> HoconError {
        HoconError::Syntax {
            at: Location::of_offset(text, self.offset),
            msg: *self.msg,
        }
    }
}
