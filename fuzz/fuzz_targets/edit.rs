//! Edits: the input is `document NUL path NUL value` (split at the last two
//! NUL bytes; with fewer, the path and value default to the analytics key
//! and `false`). For each input:
//!
//! * `has`, `set` and `remove` never panic, under both edit rules and both
//!   syntaxes;
//! * under the default rules (`Document::parse`: HOCON, `EditRules::Improved`)
//!   a `set` or `remove` that succeeds leaves text that parses again with
//!   `Document::parse`, renders back to itself, and in which `has(path)` is
//!   true after `set` and false after `remove`;
//! * a failed edit leaves the document exactly as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pe_analytics::hocon::{Document, EditRules, Syntax};

const DEFAULT_PATH: &str = "\"puppet_enterprise::send_analytics_data\"";
const DEFAULT_VALUE: &str = "false";

fn split(text: &str) -> (&str, &str, &str) {
    let mut parts = text.rsplitn(3, '\0');
    let last = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (Some(path), Some(doc)) => (doc, path, last),
        (Some(doc), None) => (doc, last, DEFAULT_VALUE),
        _ => (last, DEFAULT_PATH, DEFAULT_VALUE),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (doc_text, path, value) = split(&text);

    // The default rules: the strong properties.
    if let Ok(original) = Document::parse(doc_text) {
        let before = original.render();
        assert_eq!(before, doc_text, "round trip");

        let mut doc = original.clone();
        let _ = doc.has(path);
        assert_eq!(doc.render(), before, "has() changed the document");

        let mut doc = original.clone();
        match doc.set(path, value) {
            Ok(()) => {
                let out = doc.render();
                let mut again = Document::parse(&out).unwrap_or_else(|e| {
                    panic!("set({path:?}, {value:?}) left text that does not parse: {e}\n--- output ---\n{out}")
                });
                assert_eq!(again.render(), out, "edited text does not round trip");
                match again.has(path) {
                    Ok(true) => {}
                    other => panic!(
                        "after set({path:?}, {value:?}), has() on the re-parsed text is {other:?}\n--- output ---\n{out}"
                    ),
                }
            }
            Err(_) => assert_eq!(doc.render(), before, "a failed set changed the document"),
        }

        let mut doc = original.clone();
        match doc.remove(path) {
            Ok(()) => {
                let out = doc.render();
                let mut again = Document::parse(&out).unwrap_or_else(|e| {
                    panic!("remove({path:?}) left text that does not parse: {e}\n--- output ---\n{out}")
                });
                assert_eq!(again.render(), out, "edited text does not round trip");
                match again.has(path) {
                    Ok(false) => {}
                    other => panic!(
                        "after remove({path:?}), has() on the re-parsed text is {other:?}\n--- output ---\n{out}"
                    ),
                }
            }
            Err(_) => assert_eq!(doc.render(), before, "a failed remove changed the document"),
        }
    }

    // ruby-hocon's exact rules and JSON syntax: nothing may panic (ruby-hocon
    // itself writes text that does not parse in some cases, so no more is
    // asserted). Two edits in a row exercise edits on edited trees.
    for (syntax, rules) in [
        (Syntax::Conf, EditRules::Ruby),
        (Syntax::Json, EditRules::Improved),
        (Syntax::Json, EditRules::Ruby),
    ] {
        if let Ok(original) = Document::parse_with(doc_text, syntax, rules) {
            let mut doc = original.clone();
            let _ = doc.has(path);
            let _ = doc.set(path, value);
            let _ = doc.set(path, value);
            let _ = doc.render();
            let mut doc = original;
            let _ = doc.remove(path);
            let _ = doc.has(path);
            let _ = doc.render();
        }
    }
});
