//! Issue 15: the lint's findings on a 1 MB pe.conf carry the right line and
//! column (the lint locates them from one line index and reads only the
//! nested values that can hold the key; before, it scanned from the start of
//! the text for every field). End to end: `check --format json` on the
//! generated file; the expected places are found in the text independently.

use serde_json::Value;
use std::fmt::Write as _;
use std::process::Command;

/// Filler that looks like pe.conf: keys, nested java_args objects, lists.
fn filler(out: &mut String, i: usize) {
    match i % 4 {
        0 => writeln!(out, "  \"puppet_enterprise::profile::x{i}::java_args\": {{\n    \"Xmx\": \"2048m\",\n    \"Xms\": \"512m\"\n  }}").unwrap(),
        1 => writeln!(out, "  \"pe_install::n{i}::dns_alt_names\": [\"a-{i}.example.com\", \"b-{i}.example.com\"]").unwrap(),
        2 => writeln!(out, "  # note {i}: é\n  \"puppet_enterprise::profile::p{i}_enabled\": true").unwrap(),
        _ => writeln!(out, "  \"puppet_enterprise::profile::p{i}_threads\": {}", i % 64).unwrap(),
    }
}

/// The 1-based line and column (in characters) of byte `offset`.
fn place(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset];
    let line = before.split('\n').count() as u64;
    let col = before.rsplit('\n').next().unwrap().chars().count() as u64 + 1;
    (line, col)
}

#[test]
fn findings_in_a_1_mb_document_are_located() {
    // Each marker line goes in at a chosen share of the document; the
    // finding's place is the marker's own (a key, or the value for a string).
    let markers: [(&str, &str, &str); 6] = [
        (
            "duplicate",
            "  \"puppet_enterprise::send_analytics_data\": true\n",
            "\"puppet_enterprise::send_analytics_data\"",
        ),
        (
            "nested-key",
            "  puppet_enterprise { \"other\": 1, send_analytics_data = false }\n",
            "send_analytics_data",
        ),
        (
            "misplaced-key",
            "  \"x::java_args\": { \"a\": 1, \"puppet_enterprise::send_analytics_data\": false }\n",
            "\"puppet_enterprise::send_analytics_data\"",
        ),
        (
            "misplaced-key",
            "  \"y::list\": [1, { \"z\": { \"\\u0070uppet_enterprise::send_analytics\\u005fdata\": 0 } }]\n",
            "\"\\u0070uppet",
        ),
        (
            "dotted-key",
            "puppet_enterprise.send_analytics_data: false\n",
            "puppet_enterprise.send_analytics_data",
        ),
        (
            "string-boolean",
            "  \"puppet_enterprise::send_analytics_data\": \"false\"\n",
            "\"false\"",
        ),
    ];
    let mut text = String::from("# pe.conf\n{\n");
    let mut expected: Vec<(String, u64, u64)> = Vec::new();
    let mut i = 0;
    for (n, (code, line, at)) in markers.iter().enumerate() {
        // Spread the markers over about 1 MB.
        while text.len() < (n + 1) * (1 << 20) / markers.len() {
            filler(&mut text, i);
            i += 1;
        }
        let start = text.len();
        text.push_str(line);
        let offset = start + line.find(at).unwrap();
        let (l, c) = place(&text, offset);
        expected.push((code.to_string(), l, c));
    }
    // An include after the setting: the file alone cannot tell.
    let include = text.len() + 2;
    text.push_str("  include \"extra.conf\"\n}\n");
    let (l, c) = place(&text, include);
    expected.push(("include".into(), l, c));
    assert!(text.len() > 1 << 20);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pe.conf");
    std::fs::write(&path, &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pe-analytics"))
        .args(["check", "--format", "json", "--pe-conf"])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut found: Vec<(String, u64, u64)> = report["layers"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort_by_key(|(_, l, c)| (*l, *c));
    expected.sort_by_key(|(_, l, c)| (*l, *c));
    assert_eq!(found, expected);
    assert_eq!(report["layers"][0]["state"], "invalid");
    // The effective setting's line.
    assert_eq!(report["layers"][0]["line"], expected[5].1);
}
