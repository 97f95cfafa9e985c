//! The independent oracles the tests compare the editor with: the
//! `hocon-parser` crate (a HOCON implementation that shares no code with
//! `pe_analytics::hocon`) to read what a text means, and ruby-hocon (the
//! library Puppet uses) through `tests/data/tools/hocon-oracle.rb` to say
//! what an edit writes.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// What `text` means (resolved, as JSON), read by the hocon-parser crate.
/// Runs on a large stack: the crate recurses on deep nesting.
pub fn meaning(text: &str) -> Result<Value, String> {
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            hocon::parse(&text)
                .map_err(|e| e.to_string())?
                .deserialize::<Value>()
                .map_err(|e| e.to_string())
        })
        .unwrap()
        .join()
        .unwrap_or_else(|_| Err("the hocon crate panicked".into()))
}

/// What the file at `path` means (includes followed, relative to it).
pub fn file_meaning(path: &std::path::Path) -> Result<Value, String> {
    hocon::parse_file(path)
        .map_err(|e| e.to_string())?
        .deserialize::<Value>()
        .map_err(|e| e.to_string())
}

/// The value at a path of keys.
pub fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.as_object()?.get(*k))
}

/// ruby-hocon's results for a batch of cases (`{name, input, op, path,
/// value}`; see the oracle's header): one ruby process for the batch.
pub fn ruby_hocon(cases: &[Value]) -> Vec<Value> {
    let script = super::data::data("tools/hocon-oracle.rb");
    let mut child = Command::new("ruby")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ruby is needed for this test (apt-get install -y ruby-hocon)");
    let input = serde_json::to_vec(cases).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "the oracle failed (is ruby-hocon installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), cases.len(), "one result per case");
    results.into_iter().map(|r| r["expected"].clone()).collect()
}

/// The keys of a simple path expression (`a.b`, `"x::y".Xms`): `.`
/// outside quotes separates, quotes are dropped (no escapes).
pub fn keys(path: &str) -> Vec<String> {
    let mut keys = vec![String::new()];
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => keys.push(String::new()),
            c => keys.last_mut().unwrap().push(c),
        }
    }
    keys
}

/// `expected` with the objects on `path` that the removal left empty taken
/// away too: `a.b: 1` alone defines `a`, so removing it leaves no `a`,
/// while `a { b: 1 }` leaves `a {}`; the meaning alone cannot tell which.
pub fn pruned(expected: &Value, path: &[String]) -> Value {
    fn prune(v: &mut Value, path: &[String]) {
        let (Some(key), Some(map)) = (path.first(), v.as_object_mut()) else {
            return;
        };
        if let Some(child) = map.get_mut(key) {
            prune(child, &path[1..]);
            if child.as_object().is_some_and(|m| m.is_empty()) && path.len() > 1 {
                map.remove(key);
            }
        }
    }
    let mut v = expected.clone();
    prune(&mut v, path);
    v
}

/// `before` with the edit applied, as a reader of HOCON sees it: set puts
/// the value at the path (making objects of whatever is in the way),
/// remove takes the key away.
pub fn expected_meaning(before: &Value, op: &str, path: &[String], value: Option<&Value>) -> Value {
    let mut after = before.clone();
    let mut node = &mut after;
    for key in &path[..path.len() - 1] {
        if !node.is_object() {
            *node = json!({});
        }
        let map = node.as_object_mut().unwrap();
        if op == "remove" && !map.contains_key(key) {
            return after;
        }
        node = map.entry(key.clone()).or_insert_with(|| json!({}));
        if op == "remove" && !node.is_object() {
            return after;
        }
    }
    if !node.is_object() {
        *node = json!({});
    }
    let map = node.as_object_mut().unwrap();
    let last = path.last().unwrap().clone();
    match op {
        "set" => {
            map.insert(last, value.unwrap().clone());
        }
        _ => {
            map.remove(&last);
        }
    }
    after
}
