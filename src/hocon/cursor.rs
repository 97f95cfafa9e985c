//! Walking plain HOCON text byte by byte: the skimmer (`skim.rs`), which
//! decides what may be kept lazily, and the reader of what was kept
//! (`plain.rs`) must skip blanks, line breaks and comments alike, so both
//! take these steps from here.

/// A position in a text, moved over what lies between values.
pub(super) trait Cursor {
    fn bytes(&self) -> &[u8];
    fn pos(&self) -> usize;
    fn pos_mut(&mut self) -> &mut usize;

    /// The byte `offset` past the position (0 past the end).
    fn at(&self, offset: usize) -> u8 {
        self.bytes().get(self.pos() + offset).copied().unwrap_or(0)
    }

    /// Blanks within a line: what the lexer skips as whitespace, ASCII only.
    /// A `\r` right before `\n` belongs to the line break.
    fn blanks(&mut self) {
        loop {
            match self.at(0) {
                b' ' | b'\t' | 0x0B | 0x0C => *self.pos_mut() += 1,
                b'\r' if self.at(1) != b'\n' => *self.pos_mut() += 1,
                _ => return,
            }
        }
    }

    /// Blanks, line breaks and comments.
    fn gap(&mut self) {
        loop {
            self.blanks();
            match self.at(0) {
                b'\n' => *self.pos_mut() += 1,
                b'\r' => *self.pos_mut() += 2,
                b'#' => self.comment(),
                b'/' if self.at(1) == b'/' => self.comment(),
                _ => return,
            }
        }
    }

    /// Up to the line break (not included).
    fn comment(&mut self) {
        let rest = &self.bytes()[self.pos()..];
        let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        *self.pos_mut() += len;
    }
}
