//! The HOCON engine's fast paths (benches/hocon.rs) must give exactly what
//! the general code gives: keys compared as slices, one-token keys taken
//! without building their elements, quoted strings and comments scanned by
//! bytes. Each case here sits on an edge between a fast path and the general
//! one (a backslash in a key, a period, a keyword, a stop byte at a 16-byte
//! chunk boundary, CRLF before a comment's end).

use pe_analytics::hocon::{Document, EditRules, Syntax};

fn paths(text: &str) -> Vec<Vec<String>> {
    let doc = Document::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(doc.render(), text, "round trip");
    doc.fields().into_iter().map(|f| f.path).collect()
}

#[test]
fn one_token_keys_name_the_same_key_as_the_general_path_parser() {
    let cases: &[(&str, &[&str])] = &[
        ("\"a::b\": 1", &["a::b"]),
        ("\"a.b\": 1", &["a.b"]),
        ("\"\": 1", &[""]),
        ("\"a\\u0062\": 1", &["ab"]),
        ("\"a\\\"b\": 1", &["a\"b"]),
        ("\"\"\"x\\n\"\"\": 1", &["x\\n"]),
        ("a.b: 1", &["a", "b"]),
        ("true: 1", &["true"]),
        ("null: 1", &["null"]),
        ("10: 1", &["10"]),
        ("1.5: 1", &["1", "5"]),
        ("a b: 1", &["a b"]),
        ("a\"b\": 1", &["ab"]),
        ("é: 1", &["é"]),
    ];
    for (text, want) in cases {
        let got = paths(text);
        assert_eq!(got.len(), 1, "{text}");
        assert_eq!(got[0], *want, "{text}");
    }
}

#[test]
fn keyword_keys_are_spelled_back_unchanged_after_an_edit() {
    let mut doc = Document::parse("true: 1\nnull: 2\n").unwrap();
    doc.set("true", "3").unwrap();
    doc.set("null", "4").unwrap();
    assert_eq!(doc.render(), "true: 3\nnull: 4\n");
}

#[test]
fn keys_with_escapes_are_matched_by_their_value() {
    // `"a\u0062"` is the key `ab`: the slice comparison must not miss it.
    let mut doc = Document::parse("{\n  \"a\\u0062\": 1\n}\n").unwrap();
    assert!(doc.has("ab").unwrap());
    doc.set("ab", "2").unwrap();
    assert_eq!(doc.render(), "{\n  \"a\\u0062\": 2\n}\n");

    // A quoted key holding a period is one key, not a path.
    let mut doc = Document::parse("{\n  \"a.b\": 1\n}\n").unwrap();
    assert!(!doc.has("a.b").unwrap());
    assert!(doc.has("\"a.b\"").unwrap());
    doc.set("\"a.b\"", "2").unwrap();
    assert_eq!(doc.render(), "{\n  \"a.b\": 2\n}\n");
}

#[test]
fn an_edit_below_an_existing_key_finds_it_without_a_second_scan() {
    let mut doc = Document::parse("a {\n  b: 1\n}\nc: 2\n").unwrap();
    doc.set("a.b", "3").unwrap();
    doc.set("a.d", "4").unwrap();
    doc.set("e", "5").unwrap();
    assert_eq!(doc.render(), "a {\n  b: 3\n  d: 4\n}\nc: 2\ne: 5\n");
}

/// A stop byte at every offset around the 16-byte chunks of the quoted-string
/// scan: accepted characters round-trip, control characters are refused at
/// their own column.
#[test]
fn quoted_string_scan_stops_at_every_offset() {
    for at in 0..40 {
        let pad = "x".repeat(at);
        for ok in ["\\\"", "\\\\", "é", "\u{A0}", "\u{C2A0}", "\u{7E}"] {
            let text = format!("k: \"{pad}{ok}y\"\n");
            let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(doc.render(), text);
        }
        for bad in ['\u{1}', '\u{7F}', '\u{85}', '\u{9F}', '\t'] {
            let text = format!("k: \"{pad}{bad}y\"\n");
            let err = Document::parse(&text).unwrap_err().to_string();
            let col = format!("1:{}:", 5 + at);
            assert!(
                err.contains("control characters need") && err.starts_with(&col),
                "{text:?}: {err}"
            );
        }
        let text = format!("k: \"{pad}");
        let err = Document::parse(&text).unwrap_err().to_string();
        assert!(err.contains("closing quote"), "{text:?}: {err}");
    }
}

#[test]
fn comments_end_before_crlf_except_under_ruby_rules() {
    let text = "a: 1 # note\r\nb: 2 // x\r\r\n# last\r";
    let mut doc = Document::parse(text).unwrap();
    assert_eq!(doc.render(), text);
    doc.set("c", "3").unwrap();
    assert_eq!(
        doc.render(),
        "a: 1 # note\r\nb: 2 // x\r\r\n# last\r\r\nc: 3",
        "CRLF document: the comment keeps its stray \\r, the new line gets CRLF"
    );
    let ruby = Document::parse_with(text, Syntax::Conf, EditRules::Ruby).unwrap();
    assert_eq!(ruby.render(), text);
}

#[test]
fn unquoted_text_splits_keywords_only_at_its_start() {
    let cases: &[(&str, &str)] = &[
        ("k: truex\n", "truex"),
        ("k: xtrue\n", "xtrue"),
        ("k: falsehood\n", "falsehood"),
        ("k: nullable\n", "nullable"),
        ("k: tru\n", "tru"),
        ("k: a/b\n", "a/b"),
    ];
    for (text, want) in cases {
        let mut doc = Document::parse(text).unwrap();
        assert_eq!(doc.render(), *text);
        let field = &doc.fields()[0];
        let value = &doc.render()[field.value_span.0..field.value_span.1];
        assert_eq!(value, *want, "{text}");
        doc.set("k", "1").unwrap();
        assert_eq!(doc.render(), "k: 1\n");
    }
    // `//` starts a comment even inside unquoted text.
    let doc = Document::parse("k: a//b\n").unwrap();
    let field = &doc.fields()[0];
    assert_eq!(&doc.render()[field.value_span.0..field.value_span.1], "a");
}

/// Fuzzer (edit target, 2026-11-29): `set` on a path of ~130 elements wrote
/// nested objects deeper than the parser's 128-level limit, so the result
/// did not parse back. Such an edit is now refused and changes nothing.
#[test]
fn a_set_that_would_nest_past_the_depth_limit_is_refused() {
    let text = "{\n  \"x\": 1\n}\n";
    let deep = ["a"; 130].join(".");
    let mut doc = Document::parse(text).unwrap();
    let err = doc.set(&deep, "1").unwrap_err().to_string();
    assert!(err.contains("deeper than 128"), "{err}");
    assert_eq!(doc.render(), text);
    let deep_value = format!("{}{}", "[".repeat(120), "]".repeat(120));
    let err = doc.set(&["a"; 10].join("."), &deep_value).unwrap_err();
    assert!(err.to_string().contains("deeper than 128"), "{err}");
    assert_eq!(doc.render(), text);

    // Dotted keys inside the value count as the parser counts them.
    let dotted_value = format!("{{{}: 1}}", ["k"; 127].join("."));
    let err = doc.set("a.b", &dotted_value).unwrap_err();
    assert!(err.to_string().contains("deeper than 128"), "{err}");
    doc.set("a", &format!("{{{}: 1}}", ["k"; 100].join(".")))
        .unwrap();
    doc.remove("a").unwrap();
    assert_eq!(doc.render(), text);

    // Deep but within the limit: written, and it parses back.
    let ok = ["a"; 100].join(".");
    doc.set(&ok, "[[1]]").unwrap();
    let out = doc.render();
    let again = Document::parse(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.render(), out);
}
