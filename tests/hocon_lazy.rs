//! Values kept lazily (src/hocon/skim.rs, lazy.rs) must be invisible: a
//! document parsed with its nested values skimmed means exactly what it means
//! with every value built (same success or same error, same render, same
//! nodes once built), and every edit gives the same text either way.
//!
//! The generated documents mix the plain subset the skimmer accepts with
//! everything at its edges (concatenations such as `10m`, keywords glued to
//! text, `\r` alone, a comma after a line break, NBSP, triple quotes, bad
//! escapes, dotted keys, includes, substitutions, unclosed values), so both
//! sides of each edge are taken.

#[path = "support/data.rs"]
mod data;

use pe_analytics::hocon::{lazy_parse_disagreement, Document, EditRules, Syntax};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};

const MODES: [(Syntax, EditRules); 4] = [
    (Syntax::Conf, EditRules::Improved),
    (Syntax::Conf, EditRules::Ruby),
    (Syntax::Json, EditRules::Improved),
    (Syntax::Json, EditRules::Ruby),
];

fn assert_agree(text: &str, origin: &str) {
    for (syntax, rules) in MODES {
        if let Some(diff) = lazy_parse_disagreement(text, syntax, rules) {
            panic!("{origin} ({syntax:?}, {rules:?}): {diff}\n--- text ---\n{text:?}");
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn known_documents_parse_the_same_lazily_and_built() {
    let mut files = Vec::new();
    files_under(&data::data("hocon-conformance/parse"), &mut files);
    // The corpus has 64 documents and its manifest: none may go missing unseen.
    assert!(files.len() >= 65, "only {} corpus files", files.len());
    files_under(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut files,
    );
    let mut checked = 0;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        assert_agree(&text, &file.display().to_string());
        checked += 1;
    }
    // The fixtures alone are more than 20 files.
    assert!(checked > 20, "only {checked} files found");

    let cases = data::data("hocon-conformance/configdocument-cases.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cases).unwrap()).unwrap();
    let mut inputs = Vec::new();
    collect_strings(&json, &mut inputs);
    // 77 cases, each with at least an input.
    assert!(inputs.len() >= 77, "only {} case strings", inputs.len());
    for input in &inputs {
        assert_agree(input, "a configdocument case");
    }
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Pieces of the plain subset the skimmer accepts, then pieces at its edges
/// (or outside it); the generator takes a plain piece four times in five so
/// that most documents parse and deep ones still come out whole.
const LEAVES: (&[&str], &[&str]) = (
    &[
        "1",
        "-2.5e3",
        "0",
        "017",
        "true",
        "false",
        "null",
        "\"s\"",
        "\"\"",
        "\"a\\nb\"",
        "\"\\u00e9\"",
        "\"é\"",
        "\"\\\\\"",
    ],
    &[
        "08",
        "1.",
        "-",
        "10m",
        "1/2",
        "true1",
        "nullx",
        "\"\\u00g9\"",
        "\"\\x\"",
        "\"\"\"t\"\"\"",
        "\"a\"\"b\"",
        "${a}",
        "${?b}",
        "b",
        "\"\u{a0}\"",
        "\"\u{85}\"",
        "\"x",
        "\"\u{7f}\"",
        "1 2",
        "\"a\" b",
    ],
);
const KEYS: (&[&str], &[&str]) = (
    &[
        "a",
        "\"k\"",
        "x-1",
        "_y",
        "\"\"",
        "A9",
        "\"a.b\"",
        "\"\\u0061\"",
    ],
    &[
        "a.b",
        "\"a\".b",
        "true",
        "trueish",
        "nullable",
        "include",
        "include \"f\"",
        "1",
        "é",
        "a b",
        "a\u{a0}",
    ],
);
const SEPARATORS: (&[&str], &[&str]) = (
    &[":", ": ", " : ", "=", " = ", ":\t"],
    &[" ", "", "+=", ":\n", ": # c\n"],
);
const GAPS: (&[&str], &[&str]) = (
    &[
        ",", ", ", "\n", "  \n  ", "\r\n", " # c\n", " // c\n", "// c\r\n", ",\n", "\n\n",
    ],
    &[
        "\r", "\n,", ",,", " ", "", "\u{a0}", "\t", "\u{b}", " #c", "/x",
    ],
);

fn pick(
    (plain, edge): (&'static [&'static str], &'static [&'static str]),
) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(plain).prop_map(str::to_string),
        1 => proptest::sample::select(edge).prop_map(str::to_string),
    ]
}

fn value() -> impl Strategy<Value = String> {
    pick(LEAVES).prop_recursive(5, 48, 6, |inner| {
        let member = (pick(KEYS), pick(SEPARATORS), inner.clone())
            .prop_map(|(k, s, v)| format!("{k}{s}{v}"));
        prop_oneof![
            (
                pick(GAPS),
                proptest::collection::vec((member, pick(GAPS)), 0..5),
                proptest::bool::weighted(0.95)
            )
                .prop_map(|(open, members, closed)| {
                    let body: String = members.iter().map(|(m, g)| format!("{m}{g}")).collect();
                    format!("{{{open}{body}{}", if closed { "}" } else { "" })
                }),
            (
                pick(GAPS),
                proptest::collection::vec((inner, pick(GAPS)), 0..5)
            )
                .prop_map(|(open, items)| {
                    let body: String = items.iter().map(|(v, g)| format!("{v}{g}")).collect();
                    format!("[{open}{body}]")
                }),
        ]
    })
}

const INDENTS: (&[&str], &[&str]) = (
    &["  ", "", "\t", "    "],
    &["\u{a0}", " \u{a0}", " \r", "\u{b}", "\u{2028} "],
);
const LINE_ENDS: (&[&str], &[&str]) = (
    &["\n", "\r\n", ",\n", "\n\n", "\n# c\n", "\n  // c\r\n"],
    &[
        "",
        ",",
        "\n,",
        ",,\n",
        " # c",
        "\r",
        "\n\u{a0}\n",
        "\n \u{a0},",
        "\n\u{2028}\n,",
    ],
);

/// A document: root fields whose values are generated, on lines of their
/// own or not, braced or not.
fn document() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(
            (
                pick(INDENTS),
                pick(KEYS),
                pick(SEPARATORS),
                value(),
                pick(GAPS),
                pick(LINE_ENDS),
            ),
            1..6,
        ),
        0..3u8,
        pick(LINE_ENDS),
    )
        .prop_map(|(fields, root, head)| {
            let body: String = fields
                .iter()
                .map(|(i, k, s, v, g, e)| format!("{i}{k}{s}{v}{g}{e}"))
                .collect();
            match root {
                0 => format!("{head}{body}"),
                1 => format!("{{{head}{body}}}\n"),
                // Unclosed.
                _ => format!("{{{head}{body}"),
            }
        })
}

fn runner() -> TestRunner {
    let cases = std::env::var("PE_ANALYTICS_LAZY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn generated_documents_parse_the_same_lazily_and_built() {
    let skimmed = std::cell::Cell::new(0);
    runner()
        .run(&document(), |text| {
            if let Some(diff) = lazy_parse_disagreement(&text, Syntax::Conf, EditRules::Improved) {
                return Err(TestCaseError::fail(format!(
                    "{diff}\n--- text ---\n{text:?}"
                )));
            }
            for (syntax, rules) in MODES {
                if let Some(diff) = lazy_parse_disagreement(&text, syntax, rules) {
                    return Err(TestCaseError::fail(format!(
                        "{syntax:?}/{rules:?}: {diff}\n--- text ---\n{text:?}"
                    )));
                }
            }
            if Document::parse(&text).is_ok_and(|d| d.fields().iter().any(|f| f.path.len() > 1)) {
                skimmed.set(skimmed.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    // The generator must reach valid documents with nested fields, or it
    // tests only the error paths.
    let skimmed = skimmed.get();
    eprintln!("valid nested documents: {skimmed}");
    assert!(
        skimmed > 20,
        "only {skimmed} valid nested documents generated"
    );
}

const PATHS: &[&str] = &[
    "a", "a.b", "a.x", "a.b.c", "\"k\"", "k.a", "a.\"k\"", "x-1.y", "_y.a",
];

/// Every edit gives the same text on the lazy document as on the same
/// document with all values built.
fn same_edits(text: &str, path: &str) -> Result<(), String> {
    let Ok(lazy) = Document::parse(text) else {
        return Ok(());
    };
    let built = lazy.clone().with_values_built();
    let mut results = Vec::new();
    for mut doc in [lazy, built] {
        let has = doc.has(path).map_err(|e| e.to_string());
        let mut set = doc.clone();
        let set = set.set(path, "{ z: 1 }").map(|_| set.render());
        let mut removed = doc.clone();
        let removed = removed.remove(path).map(|_| removed.render());
        let fields = doc.fields();
        results.push(format!("{has:?}\n{set:?}\n{removed:?}\n{fields:?}"));
    }
    if results[0] != results[1] {
        return Err(format!(
            "edits of {path} differ\n--- text ---\n{text:?}\n--- lazy ---\n{}\n--- built ---\n{}",
            results[0], results[1]
        ));
    }
    Ok(())
}

#[test]
fn edits_give_the_same_text_on_lazy_and_built_values() {
    let strategy = (document(), proptest::sample::select(PATHS));
    runner()
        .run(&strategy, |(text, path)| {
            same_edits(&text, path).map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn an_edit_inside_a_lazily_kept_object_builds_only_what_it_walks_into() {
    let text = "{\n  \"java_args\": {\n    \"Xmx\": \"2g\"\n  }\n  \"hosts\": [\n    \"a\",\n    \"b\"\n  ]\n}\n";
    let mut doc = Document::parse(text).unwrap();
    doc.set("java_args.Xms", "\"1g\"").unwrap();
    assert_eq!(
        doc.render(),
        "{\n  \"java_args\": {\n    \"Xmx\": \"2g\"\n    Xms: \"1g\"\n  }\n  \"hosts\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"
    );
    assert!(doc.has("java_args.Xmx").unwrap());
    doc.remove("java_args.Xmx").unwrap();
    assert!(!doc.has("java_args.Xmx").unwrap());
    let paths: Vec<Vec<String>> = doc.fields().into_iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        [vec!["java_args"], vec!["java_args", "Xms"], vec!["hosts"]]
    );
    for path in PATHS
        .iter()
        .chain(&["java_args", "java_args.Xmx", "hosts.a"])
    {
        same_edits(text, path).unwrap();
    }
}

/// Each edge of the plain-line reader (src/hocon/parser.rs `plain_members`,
/// skim.rs `plain_field`/`gap_token`), on both sides: where it must read
/// the line and where it must leave it to the token parser, which words its
/// errors in its own way.
#[test]
fn edges_of_the_plain_line_reader() {
    let cases = [
        "{\n  a: 1 # c",
        "{\n  a: 1",
        "{\n  a: 1\n",
        "{\n  a: 1 // c",
        "a: 1 # c",
        "a: 1",
        "  \u{a0}a: 1\n",
        "a: 1 \u{a0}\n",
        "a: 1\n, b: 2\n",
        "a: 1\n\n  , b: 2\n",
        "a: 1,\n, b: 2\n",
        "a: 1,, b: 2\n",
        "a: 1 b: 2\n",
        "a: 10m\n",
        "a: true1\n",
        "a: 1/2\n",
        "a: 1\r b: 2\n",
        "a: 1\r\n b: 2\r\n",
        "a: 1 # c\r\nb: 2\r\n",
        "a: 1 #c\r",
        "a: {x: 1}, b: [1]\n",
        "a {x: 1}\nb = [\n 1\n]\n",
        "a: {x: 1} {y: 2}\n",
        "a: {x: 1}}\n",
        "{ a: 1 }\n",
        "{ a: 1, }\n",
        "include \"f\"\nincludes: 1\n",
        "a.b: 1\n\"a\".b: 2\n",
        "a += 1\n",
        "a: ${x}\n",
        "a : \"\"\"x\"\"\"\n",
        "\"a\" \"b\": 1\n",
        "a:\n1\n",
        "\"a\\u0062\": \"\\n\"\n",
        "\"a\": \"\u{85}\"\n",
        "trueish: 1\nnull: 2\n",
        "[\n  {a: 1}\n]\n",
        // Found by fuzzing: the reader stopped in the blanks after a line
        // (at whitespace it leaves to the lexer) before the comma that
        // still separated the member from the next.
        "a: 1\n \u{2028},\nb: 2\n",
        "{\n  a: 1\n  \u{a0}, b: 2\n}\n",
    ];
    for text in cases {
        assert_agree(text, "an edge case");
    }
}

/// Documents long enough to be kept as several runs of members (issue 15):
/// edits of keys at the start, in the middle, at a run's border, at the end,
/// and of absent keys, with duplicates in different runs and non-plain
/// fields between runs, give the same text as on the built document.
#[test]
fn edits_across_runs_of_members_give_the_same_text() {
    for (braced, crlf) in [(true, false), (false, false), (true, true)] {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if braced {
            text.push_str(&format!("# head{nl}{{{nl}"));
        }
        for i in 0..600 {
            let line = match i % 7 {
                0 => format!("  \"k{i}\": {{ \"a\": {i}, \"b\": [1, 2] }}"),
                1 => format!("  k{i} = \"v{i}\" # c"),
                2 => format!("  dup: {i},"),
                // Not plain: a concatenation, a substitution-free dotted key.
                3 if i % 3 == 0 => format!("  c{i}: foo bar"),
                3 => format!("  d.e{i}: true"),
                4 => "  // comment".to_string(),
                _ => format!("  \"x::y{i}\": null"),
            };
            text.push_str(&line);
            text.push_str(nl);
        }
        if braced {
            text.push_str(&format!("}}{nl}"));
        }
        let doc = Document::parse(&text).unwrap();
        assert_eq!(doc.render(), text);
        for path in [
            "\"k0\"",
            "k1",
            "dup",
            "k301",
            "\"k302\".a",
            "\"x::y599\"",
            "d",
            "d.e10",
            "absent",
            "k596",
            "c3",
        ] {
            same_edits(&text, path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Found by the `edit` fuzz target (fuzz/known/edit/lazy-run-then-comma):
/// a run of members kept as a span can end right before a member's comma;
/// removing a field elsewhere tidied that comma away as if no member came
/// before it, on the lazy document only.
#[test]
fn a_comma_after_a_run_of_members_belongs_to_its_last_member() {
    let mut text = String::from("{\n");
    for i in 0..400 {
        text.push_str(&format!(
            "  \"puppet_enterprise::key{i}\": \"value-{i}\",\n"
        ));
    }
    text.push_str("  \"puppet_enterprise::send_analytics_data\": false\n}\n");
    let doc = Document::parse(&text).unwrap();
    let mut lazy = doc.clone();
    lazy.remove("\"puppet_enterprise::send_analytics_data\"")
        .unwrap();
    let mut built = doc.with_values_built();
    built
        .remove("\"puppet_enterprise::send_analytics_data\"")
        .unwrap();
    assert_eq!(lazy.render(), built.render());
    assert_eq!(lazy.render().matches(",\n").count(), 400);
    same_edits(&text, "\"puppet_enterprise::key7\"").unwrap();
    let known = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/known/edit/lazy-run-then-comma"),
    )
    .unwrap();
    let known = String::from_utf8_lossy(&known);
    same_edits(&known, "\"puppet_enterprise::send_analytics_data\"").unwrap();
}
