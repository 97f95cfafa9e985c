//! Issue 15: the project's own resolver (src/hocon/resolve/) against two
//! independent implementations, on every conformance file
//! (tests/data/hocon-conformance/parse), every fixture pe.conf and a set of
//! documents written to exercise the semantics (substitutions, self
//! references, `+=`, merges, concatenations, includes):
//!
//! * ruby-hocon 1.3.1 (what PE reads pe.conf with), through
//!   tests/data/tools/hocon-resolve.rb in one batch: the resolver must give
//!   the same value, and fail where it fails (except where ruby-hocon itself
//!   crashes with an internal error, a bug of its own);
//! * the `hocon-parser` crate (the tool's resolver before): the same value
//!   wherever both succeed, except for the differences listed below, each a
//!   place where hocon-parser departs from lightbend/ruby-hocon.
//!
//! Needs `ruby` and Debian's `ruby-hocon` (.ci/run installs them).

#[path = "support/data.rs"]
mod data;
#[path = "support/hocon_parser.rs"]
mod hocon_parser;

use pe_analytics::hocon::resolve;
use pe_analytics::hocon::Syntax;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Documents written for the semantics, each named.
const CASES: &[(&str, &str)] = &[
    ("plain", "a: 1\nb { c: [1, {d: true}], e = null }\n\"x.y\" = 1.5\n"),
    ("dotted-merge", "a.b: 1\na { c: 2 }\na.d.e: 3\n"),
    ("duplicate-objects", "a { x: 1, y: { p: 1 } }\na { y: { q: 2 } }\n"),
    ("object-then-scalar", "a { x: 1 }\na: 5\n"),
    ("scalar-then-object", "a: 5\na { x: 1 }\n"),
    ("object-scalar-object", "a { x: 1 }\na: 5\na { y: 2 }\n"),
    ("concat-strings", "a: foo bar  baz\nb: \"x\" y \"z\"\nc: 1 2\nd: true false null\n"),
    ("concat-numbers", "a: 10m\nb: 1.5s\nc: -3 x\n"),
    ("concat-lists", "a: [1] [2, 3]\nb: [] [x]\n"),
    ("concat-objects", "a: {x: 1} {y: 2}\nb: {x: 1} {x: 2}\n"),
    ("list-then-unquoted", "a: [1] x\n"),
    ("triple-quoted", "a: \"\"\"x\n  \"y\" \\n\"\"\"\n"),
    ("escapes", "\"a\\tb\": \"\\u00e9\\n\\\"\"\n"),
    ("unicode-keys", "é: 1\n\"日本\": [\"語\"]\n"),
    ("numbers", "a: 0\nb: -0\nc: 1e3\nd: 1.0\ne: 2.5E-1\nf: 9007199254740993\n"),
    ("octal", "a: 010\nb: -07\n"),
    ("whitespace-key", "a b c: 1\n\"x\" y: 2\n"),
    ("number-keys", "1.5: a\n10: b\n"),
    ("subst-simple", "a: 1\nb: ${a}\nc: ${a} x\n"),
    ("subst-forward", "b: ${a}\na: {x: 1}\na: {y: 2}\n"),
    ("subst-nested", "a { b { c: 1 } }\nd: ${a.b.c}\ne: ${a.b}\n"),
    ("subst-quoted-path", "\"a.b\": 1\nc: ${\"a.b\"}\n\"x::y\": 2\nz: ${\"x::y\"}\n"),
    ("subst-sibling", "a { x: 1, y: ${a.x} }\n"),
    ("subst-optional", "a: ${?nope}\nb: [${?nope}, 1]\nc: x ${?nope}\nd: 1\nd: ${?nope}\n"),
    ("subst-missing", "a: ${nope}\n"),
    ("subst-cycle", "a: ${b}\nb: ${a}\n"),
    ("subst-self-cycle", "a: ${a}\n"),
    ("subst-contains-self", "bar: {foo: 42, baz: ${bar}}\n"),
    ("subst-optional-cycle", "a: ${?b}\nb: ${?a}\n"),
    ("self-ref-list", "p: [1]\np: ${p} [2]\n"),
    ("self-ref-string", "s: x\ns: ${s}y\ns: ${s}z\n"),
    ("self-ref-object", "o: {a: 1}\no: ${o} {b: 2}\n"),
    ("self-ref-nested", "a { b: 1 }\na { b: ${a.b} 2 }\n"),
    ("plus-equals", "a += 1\na += 2\nb: [0]\nb += 1\n"),
    ("plus-equals-nested", "x { a += 1 }\nx { a += 2 }\n"),
    ("plus-equals-string", "a: x\na += 1\n"),
    ("delayed-merge", "a: {x: 1}\na: ${b}\nb: {z: 0}\n"),
    ("delayed-merge-object-on-top", "a: {x: 1}\na: ${b}\na: {y: ${a.x}}\nb: {z: 0}\n"),
    ("delayed-merge-scalar", "a: {x: 1}\na: ${b}\nb: 5\n"),
    ("subst-to-object-then-merge", "b: {x: 1}\na: ${b}\na: {y: 2}\n"),
    ("subst-in-list", "a: 1\nb: [${a}, ${a}x]\n"),
    ("subst-whole-list", "a: [1, 2]\nb: ${a} [3]\n"),
    ("subst-concat-type-error", "a: [1]\nb: ${a} x\n"),
    ("subst-object-concat", "a: {x: 1}\nb: ${a} {y: 2}\n"),
    ("subst-chain", "a: ${b}\nb: ${c}\nc: ${d}\nd: end\n"),
    ("subst-in-key-object", "a: 1\nb { c: ${a}, d { e: ${b.c} } }\n"),
    ("subst-whitespace-inside", "a: 1\nb: ${ a }\n"),
    ("subst-optional-only", "a: ${?x} ${?y}\n"),
    ("empty", ""),
    ("comments-only", "# x\n// y\n"),
    ("braced-root", "{ a: 1, b: [ ] }"),
    ("include-missing", "include \"nowhere\"\na: 1\n"),
    ("null-concat", "a: null x\n"),
    ("bool-concat", "a: true \"x\"\n"),
    ("numeric-object-to-list", "a: {\"0\": x, \"1\": y} [z]\n"),
    ("env-home", "h: ${HOME}\n"),
    ("env-optional-missing", "h: ${?PE_ANALYTICS_NO_SUCH_VARIABLE}\n"),
    ("deep-dotted", "a.b.c.d.e: 1\na.b.x: ${a.b.c.d.e}\n"),
    ("array-of-objects", "a: [{b: 1}, {c: ${a.0}}]\n"),
    ("pe-conf-like", "{\n  \"console_admin_password\": \"x\"\n  \"puppet_enterprise::puppet_master_host\": \"pe.example.com\"\n  \"puppet_enterprise::console_host\": ${\"puppet_enterprise::puppet_master_host\"}\n  \"puppet_enterprise::profile::master::java_args\": {\"Xmx\": \"2048m\", \"Xms\": \"512m\"}\n  \"puppet_enterprise::send_analytics_data\": false\n}\n"),
];

/// Cases where hocon-parser departs from lightbend and ruby-hocon, and how.
/// Each is checked: a listed case that starts to agree fails the test too.
const HOCON_PARSER_DIFFERS: &[(&str, &str)] = &[
    (
        "lightbend/equiv03/includes.conf",
        "hocon-parser reads included .properties files; ruby-hocon does not",
    ),
    (
        "lightbend/equiv03/letters/a.conf",
        "hocon-parser reads included .properties files; ruby-hocon does not",
    ),
    (
        "list-then-unquoted",
        "lightbend drops unquoted text after a list (ConfigConcatenation.isIgnoredWhitespace); hocon-parser refuses it",
    ),
    (
        "octal",
        "ruby-hocon reads a leading zero as octal (Ruby's Integer()); hocon-parser as decimal",
    ),
    (
        "delayed-merge-object-on-top",
        "an object over a delayed merge may refer to the merged key; hocon-parser cannot resolve it",
    ),
];

/// What one implementation made of one document.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Value(Value),
    Error(String),
}

fn ours_text(text: &str) -> Outcome {
    match resolve::text(text, Syntax::Conf) {
        Ok(v) => Outcome::Value(v),
        Err(e) => Outcome::Error(e),
    }
}

fn ours_file(path: &Path) -> Outcome {
    match resolve::file(path) {
        Ok(v) => Outcome::Value(v),
        Err(e) => Outcome::Error(e),
    }
}

/// Numbers compare by value (ruby-hocon writes 1.0 where others write 1).
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

fn agree(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Value(x), Outcome::Value(y)) => same(x, y),
        (Outcome::Error(_), Outcome::Error(_)) => true,
        _ => false,
    }
}

/// Every conformance file that is HOCON or JSON, and every fixture pe.conf.
fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("conf" | "json")
            ) && p
                .file_name()
                .is_some_and(|n| n != "manifest.json" && n != "sources.json")
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data::data("hocon-conformance/parse"), &mut out);
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pe.conf");
    walk(&fixtures, &mut out);
    out.retain(|p| !p.ends_with("oracle-expected.json"));
    out.sort();
    out
}

/// ruby-hocon's outcome for each case, in one batch.
fn ruby(cases: &[Value]) -> Vec<Outcome> {
    let script = data::data("tools/hocon-resolve.rb");
    let mut child = Command::new("ruby")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ruby is needed (apt-get install -y ruby-hocon)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "hocon-resolve.rb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    answers
        .into_iter()
        .map(|a| match a.get("value") {
            Some(v) => Outcome::Value(v.clone()),
            None => Outcome::Error(a["error"].as_str().unwrap_or("").to_string()),
        })
        .collect()
}

/// ruby-hocon failing on its own bug (not a verdict on the document).
fn ruby_crashed(o: &Outcome) -> bool {
    matches!(o, Outcome::Error(e) if e.starts_with("NameError")
        || e.starts_with("NoMethodError")
        || e.contains("ConfigBugOrBrokenError")
        || e.starts_with("SystemStackError"))
}

#[test]
fn the_resolver_agrees_with_ruby_hocon_and_hocon_parser() {
    let files = files();
    assert!(files.len() >= 70, "{} files", files.len());
    let mut batch = Vec::new();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut names = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        batch.push(json!({"name": name, "file": path}));
        ours.push(ours_file(path));
        theirs.push(match hocon_parser::resolve_file(path) {
            Ok(v) => Outcome::Value(v),
            Err(e) => Outcome::Error(e),
        });
        names.push(name);
    }
    for (name, text) in CASES {
        batch.push(json!({"name": name, "text": text}));
        ours.push(ours_text(text));
        theirs.push(match hocon_parser::resolve_text(text) {
            Ok(v) => Outcome::Value(v),
            Err(e) => Outcome::Error(e),
        });
        names.push(name.to_string());
    }
    let ruby = ruby(&batch);
    let mut failures = Vec::new();
    let mut hocon_parser_differs = Vec::new();
    let (mut compared_ruby, mut compared_hp) = (0, 0);
    for i in 0..names.len() {
        if !ruby_crashed(&ruby[i]) {
            compared_ruby += 1;
            if !agree(&ours[i], &ruby[i]) {
                failures.push(format!(
                    "{}: ruby-hocon {:?}\n   ours {:?}",
                    names[i], ruby[i], ours[i]
                ));
            }
        }
        let refused = matches!(&theirs[i], Outcome::Error(e) if e.starts_with("refused:"));
        if !refused {
            compared_hp += 1;
            if !agree(&ours[i], &theirs[i]) {
                hocon_parser_differs.push(names[i].clone());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Files are named by their path; the list names them from the conformance directory.
    let known: Vec<String> = HOCON_PARSER_DIFFERS
        .iter()
        .map(|(n, _)| {
            names
                .iter()
                .find(|x| *x == n || x.ends_with(&format!("/{n}")))
                .cloned()
                .unwrap_or_else(|| n.to_string())
        })
        .collect();
    let unexplained: Vec<String> = hocon_parser_differs
        .iter()
        .filter(|n| !known.contains(n))
        .map(|n| {
            let i = names.iter().position(|x| *x == **n).unwrap_or(0);
            format!("{n}: hocon-parser {:?}\n   ours {:?}", theirs[i], ours[i])
        })
        .collect();
    assert!(unexplained.is_empty(), "{}", unexplained.join("\n"));
    let stale: Vec<&String> = known
        .iter()
        .filter(|n| !hocon_parser_differs.contains(*n))
        .collect();
    assert!(
        stale.is_empty(),
        "listed as differing, but agree: {stale:?}"
    );
    eprintln!(
        "{} documents: {compared_ruby} compared with ruby-hocon, {compared_hp} with hocon-parser ({} known differences)",
        names.len(),
        known.len()
    );
}
