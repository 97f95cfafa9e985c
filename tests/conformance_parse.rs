//! Every data file of tests/data/hocon-conformance/parse/: the library accepts
//! what ruby-hocon's document parser accepts and renders it back byte for
//! byte (also where ruby-hocon does not: `include file("x")`, `${ a }`), and
//! the files that resolve give the value the manifest records (ruby-hocon's,
//! `.properties` includes left out as ruby-hocon leaves them out).

#[path = "support/data.rs"]
mod data;

use pe_analytics::hocon::semantic::resolve_file;
use pe_analytics::hocon::{Document, EditRules};
use pe_analytics::peconf::syntax_for;
use serde_json::Value;
use std::path::PathBuf;

fn parse_dir() -> PathBuf {
    data::data("hocon-conformance/parse")
}

/// Numbers compare by value (the resolver may give 42 where ruby-hocon wrote 42.0).
/// The manifest writes values read from environment variables as a
/// placeholder.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (_, Value::String(s)) if s.starts_with("<depends on the environment") => true,
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

#[test]
fn every_file_round_trips_and_resolves_as_recorded() {
    let dir = parse_dir();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert!(files.len() >= 64);
    let (mut round_trips, mut resolved, mut rejected) = (0, 0, 0);
    for entry in files {
        let name = entry["file"].as_str().unwrap();
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap();
        let ruby_accepts = !entry["document_roundtrip"].is_null();
        let Ok(text) = String::from_utf8(bytes) else {
            assert!(!ruby_accepts, "{name}: not UTF-8, yet ruby-hocon read it");
            rejected += 1;
            continue;
        };
        let parsed = Document::parse_with(&text, syntax_for(&path), EditRules::Improved);
        if !ruby_accepts {
            assert!(
                parsed.is_err(),
                "{name}: ruby-hocon rejects it, the library accepted it"
            );
            rejected += 1;
            continue;
        }
        let doc = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.render(), text, "{name}: render is not the input");
        round_trips += 1;

        if entry["resolves"] == true {
            let value = resolve_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                same(&value, &entry["value"]),
                "{name}:\n  ours {value}\n  ruby {}",
                entry["value"]
            );
            resolved += 1;
        } else if entry["parses"] == true && entry["resolves"] == false {
            assert!(
                resolve_file(&path).is_err(),
                "{name}: ruby-hocon cannot resolve it"
            );
        }
    }
    eprintln!("{round_trips} files round-trip, {resolved} resolve as recorded, {rejected} rejected like ruby-hocon");
    assert!(round_trips >= 49 && resolved >= 47 && rejected >= 14);
}
