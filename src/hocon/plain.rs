//! Reading a lazily kept value ([`Node::Lazy`]) straight from its bytes.
//!
//! The skimmer (`skim.rs`) only keeps a value lazily when it is in a plain
//! subset of HOCON: quoted or one-word keys, `:`/`=`/`{` after a key, values
//! that are quoted strings, numbers, booleans, null, objects or arrays, with
//! blanks, line breaks, comments and commas between them. Walking the
//! fields of such a value, or taking its meaning, needs no tokens and no
//! nodes: this module reads it as a stream of events. What it reads is what
//! the parser would build (tests/hocon_lazy.rs and the fuzz targets compare
//! the two).
//!
//! [`Node::Lazy`]: super::tree::Node::Lazy

use super::cursor::Cursor;

/// One step through a plain value. Offsets are in the text given to [`read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `{` or `[` at `start`.
    Open { object: bool, start: usize },
    /// The closing bracket, ending just before `end`.
    Close { end: usize },
    /// A member's key (a quoted string or a word), its separator (`:` or
    /// `=`; none before `{`), and where the key ends.
    Key {
        start: usize,
        end: usize,
        separator: Option<usize>,
    },
    /// A quoted string, number, boolean or null.
    Scalar {
        kind: Scalar,
        start: usize,
        end: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    String,
    Number,
    Bool,
    Null,
}

/// Reads the plain object or array opening at `text[start]`, handing each
/// event to `f`; returns where the value ends. Text the skimmer did not
/// vouch for is not read past its first surprise (`None`).
pub fn read(text: &str, start: usize, f: &mut impl FnMut(Event)) -> Option<usize> {
    let mut r = Reader {
        b: text.as_bytes(),
        pos: start,
    };
    r.container(f)?;
    Some(r.pos)
}

/// Reads the members of a run kept as one span ([`Node::Members`]):
/// `text[start..end]` holds members on plain lines and the blanks, comments,
/// line breaks and commas between them. Each member is a [`Event::Key`]
/// followed by its value's events; there is no enclosing `Open`.
///
/// [`Node::Members`]: super::tree::Node::Members
pub fn read_members(text: &str, start: usize, end: usize, f: &mut impl FnMut(Event)) -> Option<()> {
    let mut r = Reader {
        b: &text.as_bytes()[..end],
        pos: start,
    };
    // A member's comma may follow it on a later line (the parser takes it
    // there, at the root).
    let mut after_member = false;
    loop {
        r.gap();
        if after_member && r.at(0) == b',' {
            r.pos += 1;
            after_member = false;
            continue;
        }
        if r.pos >= end {
            return Some(());
        }
        r.member(f)?;
        after_member = true;
        r.blanks();
        if r.at(0) == b',' {
            r.pos += 1;
            after_member = false;
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor for Reader<'_> {
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

impl Reader<'_> {
    fn container(&mut self, f: &mut impl FnMut(Event)) -> Option<()> {
        let object = match self.at(0) {
            b'{' => true,
            b'[' => false,
            _ => return None,
        };
        f(Event::Open {
            object,
            start: self.pos,
        });
        let close = if object { b'}' } else { b']' };
        self.pos += 1;
        loop {
            self.gap();
            if self.at(0) == close {
                self.pos += 1;
                f(Event::Close { end: self.pos });
                return Some(());
            }
            if object {
                self.member(f)?;
            } else {
                self.value(f)?;
            }
            self.blanks();
            if self.at(0) == b',' {
                self.pos += 1;
            }
        }
    }

    fn member(&mut self, f: &mut impl FnMut(Event)) -> Option<()> {
        let start = self.pos;
        if self.at(0) == b'"' {
            self.quoted()?;
        } else {
            while matches!(self.at(0), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-') {
                self.pos += 1;
            }
            if self.pos == start {
                return None;
            }
        }
        let end = self.pos;
        self.blanks();
        let separator = match self.at(0) {
            b':' | b'=' => {
                let at = self.pos;
                self.pos += 1;
                self.blanks();
                Some(at)
            }
            b'{' => None,
            _ => return None,
        };
        f(Event::Key {
            start,
            end,
            separator,
        });
        self.value(f)
    }

    fn value(&mut self, f: &mut impl FnMut(Event)) -> Option<()> {
        let start = self.pos;
        let kind = match self.at(0) {
            b'{' | b'[' => return self.container(f),
            b'"' => {
                self.quoted()?;
                Scalar::String
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match self.at(0) {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !self.b[self.pos..].starts_with(word) {
                    return None;
                }
                self.pos += word.len();
                if word == b"null" {
                    Scalar::Null
                } else {
                    Scalar::Bool
                }
            }
            b'0'..=b'9' | b'-' => {
                self.pos += 1;
                while matches!(self.at(0), b'0'..=b'9' | b'e' | b'E' | b'+' | b'-' | b'.') {
                    self.pos += 1;
                }
                Scalar::Number
            }
            _ => return None,
        };
        f(Event::Scalar {
            kind,
            start,
            end: self.pos,
        });
        Some(())
    }

    /// A `"..."` string (the skimmer checked its escapes).
    fn quoted(&mut self) -> Option<()> {
        self.pos += 1;
        loop {
            let run = memchr::memchr2(b'"', b'\\', &self.b[self.pos..])?;
            self.pos += run;
            if self.at(0) == b'"' {
                self.pos += 1;
                return Some(());
            }
            self.pos += 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_read_without_braces() {
        let text = "\n  \"a\": 1,\n  b { c: [2] } # x\n  d = \"e\"\n";
        let mut keys = Vec::new();
        read_members(text, 0, text.len(), &mut |e| {
            if let Event::Key { start, end, .. } = e {
                keys.push(&text[start..end]);
            }
        })
        .unwrap();
        assert_eq!(keys, ["\"a\"", "b", "c", "d"]);
    }

    #[test]
    fn events_follow_the_text() {
        let text = "x {\n  \"a\": \"1\\\"\", b = [true, null] # c\n  c { d: -2.5e3 }\n}";
        let mut events = Vec::new();
        let end = read(text, 2, &mut |e| events.push(e)).unwrap();
        assert_eq!(end, text.len());
        let shown: Vec<String> = events
            .iter()
            .map(|e| match *e {
                Event::Open { object, .. } => (if object { "{" } else { "[" }).to_string(),
                Event::Close { end } => text[end - 1..end].to_string(),
                Event::Key { start, end, .. } => format!("key {}", &text[start..end]),
                Event::Scalar { start, end, .. } => text[start..end].to_string(),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "{",
                "key \"a\"",
                "\"1\\\"\"",
                "key b",
                "[",
                "true",
                "null",
                "]",
                "key c",
                "{",
                "key d",
                "-2.5e3",
                "}",
                "}"
            ]
        );
    }
}
