//! Lossless round trip: for any UTF-8 input that parses, `render()` gives the
//! input back byte for byte, under every syntax and set of edit rules. And
//! values kept lazily are invisible: parsing with nested values skimmed
//! (what every entry point does) and with every value built agree on
//! success, error, render and nodes.
//! Inputs that are not UTF-8 are decoded lossily, so the fuzzer's byte-level
//! mutations are not wasted. Nothing may panic either way.
#![no_main]

mod altstack;

use libfuzzer_sys::fuzz_target;
use pe_analytics::hocon::{lazy_parse_disagreement, Document, EditRules, Syntax};

fuzz_target!(|data: &[u8]| {
    altstack::install();
    let text = String::from_utf8_lossy(data);
    let text: &str = &text;

    // The default: HOCON, improved edit rules (what `Document::parse` does).
    if let Ok(doc) = Document::parse(text) {
        assert_eq!(doc.render(), text, "render(parse(x)) != x (conf, improved)");
        // A clone renders the same, and rendering twice is stable.
        assert_eq!(doc.clone().render(), text);
    }

    for (syntax, rules) in [
        (Syntax::Conf, EditRules::Improved),
        (Syntax::Conf, EditRules::Ruby),
        (Syntax::Json, EditRules::Improved),
        (Syntax::Json, EditRules::Ruby),
    ] {
        if let Some(diff) = lazy_parse_disagreement(text, syntax, rules) {
            panic!("lazy and built parses differ ({syntax:?}, {rules:?}): {diff}");
        }
    }

    for (syntax, rules) in [
        (Syntax::Conf, EditRules::Ruby),
        (Syntax::Json, EditRules::Improved),
        (Syntax::Json, EditRules::Ruby),
    ] {
        if let Ok(doc) = Document::parse_with(text, syntax, rules) {
            assert_eq!(
                doc.render(),
                text,
                "render(parse_with(x, {syntax:?}, {rules:?})) != x"
            );
        }
    }
});
