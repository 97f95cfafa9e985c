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

/// The lines and columns of many byte offsets of one text, found in one
/// pass over it (locating each offset from the start of the text made the
/// lint quadratic), without an index of every line (which on a large file
/// costs more memory than the few offsets need).
pub fn locate_all(
    text: &str,
    offsets: impl IntoIterator<Item = usize>,
) -> std::collections::HashMap<usize, Location> {
    let mut sorted: Vec<usize> = offsets.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let bytes = text.as_bytes();
    let mut located = std::collections::HashMap::with_capacity(sorted.len());
    // Lines before `at`, and where the line holding `at` starts.
    let (mut at, mut line, mut line_start) = (0, 1, 0);
    for offset in sorted {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let between = &bytes[at..end];
        // Counted a block at a time (this loop vectorizes).
        line += between.iter().filter(|&&b| b == b'\n').count();
        if let Some(i) = memchr::memrchr(b'\n', between) {
            line_start = at + i + 1;
        }
        at = end;
        let col = text[line_start..end].chars().count() + 1;
        located.insert(offset, Location { line, col });
    }
    located
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
    fn locating_all_at_once_is_locating_each() {
        let text = "a\n\nbé: 1\r\n  c\n";
        let offsets: Vec<usize> = (0..=text.len() + 2).rev().collect();
        let located = locate_all(text, offsets.iter().copied());
        for offset in offsets {
            assert_eq!(
                located[&offset],
                Location::of_offset(text, offset),
                "{offset}"
            );
        }
        assert_eq!(located[&9], Location { line: 3, col: 6 });
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
