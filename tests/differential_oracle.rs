//! Differential test against ruby-hocon itself (the library Puppet uses):
//! generated pe.conf-like documents and edits go through
//! `tests/data/tools/hocon-oracle.rb` in one batch, and the library under
//! `EditRules::Ruby` must produce the same bytes. Under the default rules, the
//! output must parse and say what the edit meant.
//!
//! Needs `ruby` and Debian's `ruby-hocon` (.ci/run installs them).
//! `PE_ANALYTICS_DIFF_CASES` (default 600) and `PE_ANALYTICS_DIFF_SEED` vary
//! the run.

mod support;
use support::independent::{self, at, expected_meaning, keys, meaning, pruned};

use pe_analytics::hocon::{Document, EditRules, Syntax};
use pe_analytics::peconf::plan::{self, Edit};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

#[derive(Clone, Debug)]
enum Item {
    Field {
        key: &'static str,
        sep: &'static str,
        value: GenValue,
        comma: bool,
        comment: Option<&'static str>,
    },
    Comment(&'static str),
    Blank,
    Include,
}

#[derive(Clone, Debug)]
enum GenValue {
    Scalar(&'static str),
    Object(Vec<Item>, bool),
}

#[derive(Clone, Debug)]
struct GenDoc {
    braced: bool,
    one_line: bool,
    indent: &'static str,
    newline: &'static str,
    header: Vec<Item>,
    items: Vec<Item>,
    final_newline: bool,
}

const KEYS: &[&str] = &[
    "\"puppet_enterprise::send_analytics_data\"",
    "\"puppet_enterprise::send_analytics_data\"",
    "\"puppet_enterprise::puppet_master_host\"",
    "\"console_admin_password\"",
    "a",
    "b",
    "a.b",
    "\"a\"",
    "puppet_enterprise.send_analytics_data",
    "\"puppet_enterprise::profile::master::java_args\"",
];

const SCALARS: &[&str] = &[
    "true",
    "false",
    "\"false\"",
    "12",
    "1.5",
    "null",
    "\"m.example.com\"",
    "[\"puppet\", \"puppet.example.com\"]",
    "[1,2]",
    "[\n  1\n  2\n]",
    "${?PE_X}",
    "foo bar",
    "\"\"\"multi\nline\"\"\"",
    "{}",
];

fn item(depth: u32) -> BoxedStrategy<Item> {
    let scalar = prop::sample::select(SCALARS).prop_map(GenValue::Scalar);
    let value = if depth == 0 {
        scalar.boxed()
    } else {
        prop_oneof![
            4 => scalar,
            1 => (prop::collection::vec(item(depth - 1), 0..4), any::<bool>())
                .prop_map(|(items, one_line)| GenValue::Object(items, one_line)),
        ]
        .boxed()
    };
    let field = (
        prop::sample::select(KEYS),
        prop::sample::select(&[": ", ":", " = ", "=", " : ", " "][..]),
        value,
        prop::bool::weighted(0.2),
        prop::option::weighted(0.2, prop::sample::select(&["# note", "// note"][..])),
    )
        .prop_map(|(key, sep, value, comma, comment)| {
            // `key value` without a separator is only valid before an object.
            let sep = match (&value, sep) {
                (GenValue::Scalar(_), " ") => ": ",
                _ => sep,
            };
            Item::Field {
                key,
                sep,
                value,
                comma,
                comment,
            }
        });
    prop_oneof![
        6 => field,
        1 => prop::sample::select(&["# a comment", "// other", "#"][..]).prop_map(Item::Comment),
        1 => Just(Item::Blank),
        1 => Just(Item::Include),
    ]
    .boxed()
}

fn doc() -> impl Strategy<Value = GenDoc> {
    (
        any::<bool>(),
        prop::bool::weighted(0.15),
        prop::sample::select(&["", "  ", "    ", "\t"][..]),
        prop::sample::select(&["\n", "\n", "\r\n"][..]),
        prop::collection::vec(
            prop::sample::select(&[Item::Blank, Item::Comment("# pe.conf")][..]),
            0..2,
        ),
        prop::collection::vec(item(2), 0..7),
        prop::bool::weighted(0.85),
    )
        .prop_map(
            |(braced, one_line, indent, newline, header, items, final_newline)| GenDoc {
                braced,
                one_line,
                indent,
                newline,
                header,
                items,
                final_newline,
            },
        )
}

fn render_items(
    items: &[Item],
    indent: &str,
    depth: usize,
    one_line: bool,
    nl: &str,
    out: &mut String,
) {
    let pad = indent.repeat(depth);
    for (n, it) in items.iter().enumerate() {
        if one_line {
            if n > 0 {
                out.push_str(", ");
            }
        } else {
            out.push_str(&pad);
        }
        match it {
            Item::Field {
                key,
                sep,
                value,
                comma,
                comment,
            } => {
                out.push_str(key);
                out.push_str(sep);
                match value {
                    GenValue::Scalar(s) => out.push_str(&s.replace('\n', nl)),
                    GenValue::Object(inner, inner_one_line) => {
                        let inner_one_line = *inner_one_line || one_line;
                        out.push('{');
                        if inner_one_line {
                            out.push(' ');
                            let fields: Vec<Item> = inner
                                .iter()
                                .filter(|i| matches!(i, Item::Field { .. }))
                                .cloned()
                                .collect();
                            let fields: Vec<Item> = fields
                                .into_iter()
                                .map(|f| match f {
                                    Item::Field {
                                        key, sep, value, ..
                                    } => Item::Field {
                                        key,
                                        sep,
                                        value,
                                        comma: false,
                                        comment: None,
                                    },
                                    other => other,
                                })
                                .collect();
                            render_items(&fields, indent, 0, true, nl, out);
                            out.push_str(" }");
                        } else {
                            out.push_str(nl);
                            render_items(inner, indent, depth + 1, false, nl, out);
                            out.push_str(&pad);
                            out.push('}');
                        }
                    }
                }
                if *comma && !one_line {
                    out.push(',');
                }
                if let Some(c) = comment {
                    if !one_line {
                        out.push(' ');
                        out.push_str(c);
                    }
                }
            }
            Item::Comment(c) => {
                if one_line {
                    out.push_str("x: 1");
                } else {
                    out.push_str(c);
                }
            }
            Item::Blank => {
                if one_line {
                    out.push_str("y: 2");
                }
            }
            Item::Include => out.push_str("include \"other.conf\""),
        }
        if !one_line {
            out.push_str(nl);
        }
    }
}

fn render_doc(d: &GenDoc) -> String {
    let nl = d.newline;
    let mut out = String::new();
    if d.one_line {
        let fields: Vec<Item> = d.items.iter().filter(|i| matches!(i, Item::Field { value: GenValue::Scalar(s), .. } if !s.contains('\n'))).cloned().collect();
        if d.braced {
            out.push('{');
        }
        render_items(&fields, "", 0, true, nl, &mut out);
        if d.braced {
            out.push('}');
        }
        return out;
    }
    render_items(&d.header, "", 0, false, nl, &mut out);
    if d.braced {
        out.push('{');
        out.push_str(nl);
        render_items(&d.items, d.indent, 1, false, nl, &mut out);
        out.push('}');
        out.push_str(nl);
    } else {
        render_items(&d.items, d.indent, 0, false, nl, &mut out);
    }
    if !d.final_newline {
        while out.ends_with('\n') {
            out.truncate(out.len() - 1);
            if out.ends_with('\r') {
                out.truncate(out.len() - 1);
            }
        }
    }
    out
}

const OPS: &[(&str, &str, &str)] = &[
    ("set", "\"puppet_enterprise::send_analytics_data\"", "false"),
    ("set", "\"puppet_enterprise::send_analytics_data\"", "false"),
    ("set", "\"puppet_enterprise::send_analytics_data\"", "true"),
    ("remove", "\"puppet_enterprise::send_analytics_data\"", ""),
    ("remove", "\"puppet_enterprise::send_analytics_data\"", ""),
    ("has", "\"puppet_enterprise::send_analytics_data\"", ""),
    ("set", "a", "\"text\""),
    ("set", "a.b", "1"),
    ("set", "a.x.y", "[1, 2]"),
    ("remove", "a.b", ""),
    ("remove", "a", ""),
    ("has", "a.b", ""),
    (
        "set",
        "\"puppet_enterprise::profile::master::java_args\"",
        "{\n  \"Xmx\": \"2048m\"\n}",
    ),
    (
        "set",
        "\"puppet_enterprise::profile::master::java_args\".Xms",
        "\"512m\"",
    ),
    ("set", "new_key", "{a: 1}"),
];

fn runner(seed: u64) -> TestRunner {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    TestRunner::new_with_rng(Config::default(), rng)
}

fn generate(count: usize, seed: u64) -> Vec<Value> {
    let mut runner = runner(seed);
    let strategy = (doc(), prop::sample::select(OPS));
    (0..count)
        .map(|n| {
            let (d, (op, path, value)) = strategy.new_tree(&mut runner).unwrap().current();
            json!({"name": format!("gen-{n}"), "input": render_doc(&d), "op": op, "path": path, "value": value})
        })
        .collect()
}

/// Generated documents with a few characters inserted or deleted, to compare
/// which texts each side accepts.
fn generate_mutated(count: usize, seed: u64) -> Vec<Value> {
    let mut cases = generate(count, seed);
    let mut runner = runner(seed ^ 0x5eed);
    let edits = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            any::<bool>(),
            prop::sample::select(
                &[
                    "{", "}", "[", "]", ":", "=", ",", "\"", "#", "/", "\n", "$", "+", ".", "a",
                    "1", " ", "\\", "(", ")",
                ][..],
            ),
        ),
        1..3,
    );
    for case in &mut cases {
        let mut text: Vec<char> = case["input"].as_str().unwrap().chars().collect();
        for (at, delete, ch) in edits.new_tree(&mut runner).unwrap().current() {
            if delete && !text.is_empty() {
                text.remove(at.index(text.len()));
            } else {
                text.insert(at.index(text.len() + 1), ch.chars().next().unwrap());
            }
        }
        case["input"] = Value::String(text.into_iter().collect());
    }
    cases
}

fn apply(case: &Value, rules: EditRules) -> Result<Value, String> {
    let input = case["input"].as_str().unwrap();
    let path = case["path"].as_str().unwrap();
    let mut doc =
        Document::parse_with(input, Syntax::Conf, rules).map_err(|e| format!("parse: {e}"))?;
    match case["op"].as_str().unwrap() {
        "set" => doc.set(path, case["value"].as_str().unwrap()),
        "remove" => doc.remove(path),
        "has" => {
            return doc
                .has(path)
                .map(|b| json!({ "bool": b }))
                .map_err(|e| format!("edit: {e}"))
        }
        _ => unreachable!(),
    }
    .map_err(|e| format!("edit: {e}"))?;
    Ok(json!({ "text": doc.render() }))
}

fn settings() -> (usize, u64) {
    let count = std::env::var("PE_ANALYTICS_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let seed = std::env::var("PE_ANALYTICS_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261129);
    (count, seed)
}

/// Generated documents are mostly valid: most cases must be compared byte
/// for byte, not merely rejected by both.
#[test]
fn generated_edits_match_ruby_hocon() {
    let (count, seed) = settings();
    let cases = generate(count, seed);
    let t = compare_with_oracle(&cases);
    assert!(
        t.identical * 10 >= cases.len() * 8,
        "too few edits compared byte for byte: {t:?}"
    );
}

/// Mutated documents: both sides must accept and reject the same texts; a
/// fair share of each must occur, or the mutation tests nothing.
#[test]
fn mutated_documents_are_accepted_and_edited_like_ruby_hocon() {
    let (count, seed) = settings();
    let cases = generate_mutated(count, seed);
    let t = compare_with_oracle(&cases);
    assert!(
        t.identical * 5 >= cases.len() && t.both_rejected * 5 >= cases.len(),
        "the mutations must give both accepted and rejected documents: {t:?}"
    );
}

/// Deliberate: ruby-hocon drops blanks before the `}` that closes a
/// substitution when it renders (R41); the library keeps every byte. Where a
/// document has substitutions, outputs are compared with blanks before every
/// `}` taken out.
fn without_blanks_before_close(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '}' {
            while out.ends_with([' ', '\t']) {
                out.pop();
            }
        }
        out.push(c);
    }
    out
}

fn same_text(input: &str, ruby: &Value, ours: &Value) -> bool {
    if ruby == ours {
        return true;
    }
    match (ruby["text"].as_str(), ours["text"].as_str()) {
        (Some(r), Some(o)) if input.contains("${") => {
            without_blanks_before_close(r) == without_blanks_before_close(o)
        }
        _ => false,
    }
}

/// How the cases of a run compared: every case lands in exactly one count.
#[derive(Debug, Default)]
struct Tally {
    /// Same bytes (or the same `has` answer) as ruby-hocon.
    identical: usize,
    /// Both refused the document or the edit, at the same stage.
    both_rejected: usize,
    /// A documented deviation: a `\u` escape without 4 hex digits.
    deliberate: usize,
    failures: Vec<String>,
}

fn compare_with_oracle(cases: &[Value]) -> Tally {
    assert!(
        !cases.is_empty(),
        "no cases: a run that checks nothing fails"
    );
    let results = independent::ruby_hocon(cases);
    let mut t = Tally::default();
    for (case, expected) in cases.iter().zip(&results) {
        let ours = apply(case, EditRules::Ruby);
        match (expected.get("error"), &ours) {
            (Some(err), Err(e)) if err["stage"].as_str() == e.split(':').next() => {
                t.both_rejected += 1
            }
            (Some(err), Err(e)) => t.failures.push(format!(
                "{}: ruby-hocon failed at {} ({}), the library at {e}\n{case}",
                case["name"], err["stage"], err["message"]
            )),
            (Some(err), Ok(_)) => t.failures.push(format!(
                "{}: ruby-hocon failed ({err}) but the library did not\n{case}",
                case["name"]
            )),
            // Deliberate: a \u escape needs 4 hex digits (ruby-hocon takes any
            // 4 characters, closing quote included).
            (None, Err(e)) if e.contains("\\u escape") => t.deliberate += 1,
            (None, Err(e)) => t.failures.push(format!(
                "{}: the library failed ({e}) but ruby-hocon did not\n{case}",
                case["name"]
            )),
            (None, Ok(got)) if same_text(case["input"].as_str().unwrap(), expected, got) => {
                t.identical += 1
            }
            (None, Ok(got)) => t.failures.push(format!(
                "{}: differs\n  input {:?}\n  op {} {} {:?}\n  ruby {expected}\n  ours {got}",
                case["name"], case["input"], case["op"], case["path"], case["value"]
            )),
        }
    }
    assert!(
        t.failures.is_empty(),
        "{} of {} differ:\n{}",
        t.failures.len(),
        cases.len(),
        t.failures.join("\n\n")
    );
    assert_eq!(
        t.identical + t.both_rejected + t.deliberate,
        cases.len(),
        "every case is counted"
    );
    eprintln!(
        "{} cases: {} byte-identical to ruby-hocon, {} rejected by both, {} deliberate \\u differences",
        cases.len(),
        t.identical,
        t.both_rejected,
        t.deliberate
    );
    t
}

/// Under the improved rules (the CLI's), every edit of a generated document
/// gives a text that an independent HOCON implementation (the hocon-parser
/// crate) reads as the input with exactly that edit made; an edit the
/// library refuses must be one ruby-hocon refuses too.
#[test]
fn generated_edits_are_valid_and_mean_the_edit_under_improved_rules() {
    let cases: Vec<Value> = generate(400, 7)
        .into_iter()
        .filter(|c| c["op"] != "has")
        .collect();
    let ruby = independent::ruby_hocon(&cases);
    let (mut meant, mut refused_by_both, mut unreadable_input, mut as_ruby) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (case, ruby) in cases.iter().zip(&ruby) {
        let name = &case["name"];
        let input = case["input"].as_str().unwrap();
        let out = match apply(case, EditRules::Improved) {
            Ok(out) => out,
            Err(_) if ruby.get("error").is_some() => {
                refused_by_both += 1;
                continue;
            }
            Err(e) => {
                failures.push(format!(
                    "{name}: refused ({e}) where ruby-hocon edits\n{case}"
                ));
                continue;
            }
        };
        let text = out["text"].as_str().unwrap();
        let Ok(before) = meaning(input) else {
            // The generator's own documents all read; count any that does not.
            unreadable_input += 1;
            continue;
        };
        let after = match meaning(text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: the output does not read ({e})\n{text:?}"));
                continue;
            }
        };
        let op = case["op"].as_str().unwrap();
        let path = keys(case["path"].as_str().unwrap());
        let value = (op == "set").then(|| {
            let v = meaning(&format!("v: {}", case["value"].as_str().unwrap())).unwrap();
            at(&v, &["v"]).unwrap().clone()
        });
        let want = expected_meaning(&before, op, &path, value.as_ref());
        if after == want || (op == "remove" && after == pruned(&want, &path)) {
            meant += 1;
            continue;
        }
        // ruby-hocon's rules edit the first of several settings of a prefix
        // that a later one overrides (`a {...}` then `a: [1, 2]`), so the
        // edit means nothing; the library inherits that, and the CLI's
        // check of the meaning refuses to write such an edit.
        let ruby_reads = ruby["text"].as_str().map(meaning);
        if ruby_reads == Some(Ok(after.clone())) {
            let edit = match op {
                "set" => Edit::Set {
                    path: case["path"].as_str().unwrap().into(),
                    value: case["value"].as_str().unwrap().into(),
                },
                _ => Edit::Remove {
                    path: case["path"].as_str().unwrap().into(),
                },
            };
            assert!(
                plan::apply(input, Syntax::Conf, &[edit]).is_err(),
                "{name}: the CLI would write an edit that does not mean what it says\n{case}"
            );
            as_ruby += 1;
            continue;
        }
        {
            failures.push(format!(
                "{name}: {op} {path:?} does not mean the edit\n  input {input:?}\n  output {text:?}\n  \
reads {after}\n  should {want}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{} edits: {meant} read back as meant, {refused_by_both} refused by both, {as_ruby} \
shadowed as in ruby-hocon (refused by the CLI), {unreadable_input} inputs the hocon crate does \
not read",
        cases.len()
    );
    assert_eq!(
        meant + refused_by_both + unreadable_input + as_ruby,
        cases.len()
    );
    assert!(as_ruby * 20 <= cases.len(), "{as_ruby} shadowed edits");
    assert!(
        meant * 10 >= cases.len() * 8,
        "too few edits checked: {meant} of {}",
        cases.len()
    );
}
