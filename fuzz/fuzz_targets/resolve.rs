//! The resolver (src/hocon/resolve/: what every edit's check and `conf get`
//! run) against an independent implementation, the `hocon-parser` crate:
//!
//! * `resolve::text(text, Conf)` and `(text, Json)` never panic, crash or
//!   hang, whatever the input;
//! * where both parsers read the text (and tests/support/hocon_parser.rs
//!   does not refuse it), both resolutions succeed or both fail, with the
//!   same value, except in the classes where hocon-parser departs from lightbend
//!   and ruby-hocon (tests/resolve_oracles.rs lists them; `known_difference`
//!   below recognises them). `PE_FUZZ_SKIP_KNOWN=0` reports those too.
#![no_main]

mod altstack;
#[path = "../../tests/support/hocon_parser.rs"]
mod hocon_parser;

use libfuzzer_sys::fuzz_target;
use pe_analytics::hocon::resolve;
use pe_analytics::hocon::{Document, Syntax};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    altstack::install();
    let text = String::from_utf8_lossy(data);
    let ours = resolve::text(&text, Syntax::Conf);
    let _ = resolve::text(&text, Syntax::Json);
    // What is HOCON at all is the parser's to say (checked against ruby-hocon
    // by the tests and the roundtrip target; hocon-parser accepts some text
    // ruby-hocon rejects): compare meanings only where both read the text.
    if Document::parse(&text).is_err() {
        return;
    }
    let theirs = hocon_parser::resolve_text(&text);
    match &theirs {
        Err(e) if e.starts_with("refused:") || !e.contains("ResolveError") => return,
        _ => {}
    }
    let agree = match (&ours, &theirs) {
        (Ok(a), Ok(b)) => same(a, b),
        (Err(_), Err(_)) => true,
        _ => false,
    };
    // lightbend (and ruby-hocon) join concatenations when reading the file,
    // so one that cannot be joined is an error even where a later
    // definition hides it; hocon-parser only fails where it is used.
    let eager_concatenation = matches!((&ours, &theirs), (Err(e), Ok(_)) if e.contains("cannot concatenate"));
    // Likewise every definition of a key that is a delayed merge is
    // resolved, those a later one hides too (ruby-hocon: `x=${nope}`,
    // `x=${b}` fails); hocon-parser resolves only the one that wins.
    let hidden_definition = matches!((&ours, &theirs), (Err(e), Ok(_))
        if e.contains("is not set") || e.contains("cycle"));
    // An optional substitution left undefined keeps a key's earlier value
    // (ruby-hocon: `b=1`, `b=${?X}` gives b=1); hocon-parser drops the key.
    let optional_kept = text.contains("${?")
        && matches!((&ours, &theirs), (Ok(a), Ok(b)) if within(b, a));
    if !agree
        && !(skip_known()
            && (eager_concatenation
                || hidden_definition
                || optional_kept
                || known_difference(&text)))
    {
        panic!(
            "the resolver and hocon-parser disagree on {text:?}\n  ours: {ours:?}\n  hocon-parser: {theirs:?}"
        );
    }
});

fn skip_known() -> bool {
    std::env::var("PE_FUZZ_SKIP_KNOWN").map_or(true, |v| v != "0")
}

/// Numbers compare by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `small` is `big` with some keys of its objects left out.
fn within(small: &Value, big: &Value) -> bool {
    match (small, big) {
        (Value::Object(s), Value::Object(b)) => s
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| within(v, w))),
        _ => same(small, big),
    }
}

/// Whether the text has a feature on which hocon-parser is known to depart
/// from lightbend and ruby-hocon.
fn known_difference(text: &str) -> bool {
    // Which characters are blanks differs: Java's isWhitespace (U+001C to
    // U+001F, ...) for hocon-parser, Ruby's [[:space:]] for ruby-hocon and
    // the project's lexer. Lexing is the parser's (checked against
    // ruby-hocon elsewhere), not the resolver's.
    if text
        .chars()
        .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || (!c.is_ascii() && c.is_whitespace()) || c == '\u{feff}')
    {
        return true;
    }
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        let prev = if i == 0 { b' ' } else { b[i - 1] };
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        // A number with a leading zero: octal to ruby-hocon.
        (b[i] == b'0' && next.is_ascii_digit() && !prev.is_ascii_alphanumeric() && prev != b'.')
            // Numbers Ruby's Float() refuses (`1.`, `1e`, `.5`) are text to
            // ruby-hocon, numbers to Java's parser.
            || (b[i] == b'.' && prev.is_ascii_digit() && !next.is_ascii_digit())
            || (b[i] == b'.' && next.is_ascii_digit() && !prev.is_ascii_digit())
            || ((b[i] == b'e' || b[i] == b'E') && prev.is_ascii_digit() && !next.is_ascii_digit())
            // Unquoted text after a list or an object on its line: dropped
            // by lightbend, refused by hocon-parser.
            || ((b[i] == b']' || b[i] == b'}') && {
                let rest = &b[i + 1..];
                let at = rest.iter().position(|c| *c != b' ' && *c != b'\t');
                at.is_some_and(|j| {
                    let comment = rest[j] == b'/' && rest.get(j + 1) == Some(&b'/');
                    !b",\n\r]}#".contains(&rest[j]) && !comment
                })
            })
    })
}
