//! Issue 15: the check before every write (src/hocon/semantic.rs) stops a
//! write whose meaning differs anywhere but the edited key, whatever the
//! editor got wrong. Each case hands the check a faulty edit: the text a
//! buggy editor could have written, made by hand, next to the right one
//! (which it must accept, so a check that refuses everything fails here
//! too). Every case runs on a small document (the whole documents are
//! compared) and inside a large one with no substitution (the check then
//! compares only the root keys the change can touch, over runs of members
//! kept as spans), and through the CLI where a user would meet it.

use pe_analytics::hocon::semantic::{verify_edit, Change, SemanticError};
use pe_analytics::hocon::Syntax;
mod support;
use support::fixtures::bin;

/// A case: the document, the edit (path, new value text or `None` to
/// remove), the text the editor should write, and faulty texts, each with
/// what it gets wrong.
struct Case {
    name: &'static str,
    before: &'static str,
    path: &'static [&'static str],
    value: Option<&'static str>,
    right: &'static str,
    wrong: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "another key",
        before: "a: 1\nb: \"x\"\nk: true\nc: [1, 2]\n",
        path: &["k"],
        value: Some("false"),
        right: "a: 1\nb: \"x\"\nk: false\nc: [1, 2]\n",
        wrong: &[
            ("a neighbour's value", "a: 1\nb: \"y\"\nk: false\nc: [1, 2]\n"),
            ("the first key", "a: 2\nb: \"x\"\nk: false\nc: [1, 2]\n"),
            ("the last key", "a: 1\nb: \"x\"\nk: false\nc: [1, 3]\n"),
            ("a key lost", "a: 1\nk: false\nc: [1, 2]\n"),
            ("a key added", "a: 1\nb: \"x\"\nk: false\nz: 0\nc: [1, 2]\n"),
            ("a key renamed", "a: 1\nbb: \"x\"\nk: false\nc: [1, 2]\n"),
            ("a string that became a number", "a: \"1\"\nb: \"x\"\nk: false\nc: [1, 2]\n"),
            ("an integer that became a float", "a: 1.0\nb: \"x\"\nk: false\nc: [1, 2]\n"),
            ("the edited key's value", "a: 1\nb: \"x\"\nk: \"false\"\nc: [1, 2]\n"),
            ("the edited key somewhere else", "a: 1\nb: \"x\"\nk: true\nc: [1, 2]\nx { k: false }\n"),
            ("a value swallowed by a comment", "a: 1\nb: \"x\"\nk: false # c: [1, 2]\n"),
        ],
    },
    Case {
        name: "a nested key",
        before: "p { x: 1, send: true, y { z: [1] } }\nq: 2\n",
        path: &["p", "send"],
        value: None,
        right: "p { x: 1, y { z: [1] } }\nq: 2\n",
        wrong: &[
            ("a sibling lost", "p { y { z: [1] } }\nq: 2\n"),
            ("a sibling's nested value", "p { x: 1, y { z: [2] } }\nq: 2\n"),
            ("the parent lost", "q: 2\n"),
            ("the key still there", "p { x: 1, send: true, y { z: [1] } }\nq: 2\n"),
        ],
    },
    Case {
        name: "a substitution elsewhere",
        before: "k: 1\nref: ${k}\nother: 2\nuse: ${other}\n",
        path: &["k"],
        value: Some("2"),
        // Right as an edit of `k`, yet `ref` reads `k`: its meaning would
        // change too, so even this text is refused (see below).
        right: "k: 2\nref: ${k}\nother: 2\nuse: ${other}\n",
        wrong: &[
            ("the reference redirected", "k: 2\nref: ${other}\nother: 2\nuse: ${other}\n"),
            ("the referenced key changed", "k: 2\nref: ${k}\nother: 3\nuse: ${other}\n"),
            ("a reference made optional and broken", "k: 2\nref: ${k}\nother: 2\nuse: ${?nope}\n"),
        ],
    },
    Case {
        name: "a substitution of another key",
        before: "k: 1\nother: x\nuse: ${other} y\n",
        path: &["k"],
        value: Some("2"),
        right: "k: 2\nother: x\nuse: ${other} y\n",
        wrong: &[
            ("the substituted key", "k: 2\nother: z\nuse: ${other} y\n"),
            ("the substitution's path", "k: 2\nother: x\nuse: ${k} y\n"),
            ("the text beside it", "k: 2\nother: x\nuse: ${other}y\n"),
        ],
    },
    Case {
        name: "includes",
        before: "a: 1\ninclude \"common\"\nk: true\nb { include \"nested\", c: 1 }\nd: 2\n",
        path: &["k"],
        value: Some("false"),
        right: "a: 1\ninclude \"common\"\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n",
        wrong: &[
            ("an include lost", "a: 1\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("an include renamed", "a: 1\ninclude \"commons\"\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("an include made required", "a: 1\ninclude required(\"common\")\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("an include made a file()", "a: 1\ninclude file(\"common\")\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("an include before a key it may override", "include \"common\"\na: 1\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("an include after a key it may override", "a: 1\nk: false\nb { include \"nested\", c: 1 }\ninclude \"common\"\nd: 2\n"),
            ("a nested include moved out", "a: 1\ninclude \"common\"\nk: false\nb { c: 1 }\ninclude \"nested\"\nd: 2\n"),
            ("a nested include after its sibling", "a: 1\ninclude \"common\"\nk: false\nb { c: 1, include \"nested\" }\nd: 2\n"),
            ("an include added", "a: 1\ninclude \"common\"\nk: false\nb { include \"nested\", c: 1 }\nd: 2\ninclude \"more\"\n"),
            ("an include duplicated", "a: 1\ninclude \"common\"\ninclude \"common\"\nk: false\nb { include \"nested\", c: 1 }\nd: 2\n"),
            ("a scalar written where an object merged with an include", "a: 1\ninclude \"common\"\nk: false\nb { include \"nested\", c: 1 }\nb: 5\nb { c: 1 }\nd: 2\n"),
        ],
    },
    Case {
        name: "an include after the key",
        before: "k: true\ninclude \"late\"\na: 1\n",
        path: &["k"],
        value: Some("false"),
        // Set where it is: whether the include overrides `k` the text
        // cannot tell (the lint says so); the rest must mean the same.
        right: "k: false\ninclude \"late\"\na: 1\n",
        wrong: &[
            ("the include lost", "k: false\na: 1\n"),
            ("a neighbour moved before the include", "k: false\na: 1\ninclude \"late\"\n"),
            ("the include made optional-looking", "k: false\ninclude file(\"late\")\na: 1\n"),
        ],
    },
    Case {
        name: "a new key beside an include",
        before: "include \"x\"\na: 1\n",
        path: &["k"],
        value: Some("false"),
        right: "include \"x\"\na: 1\nk: false\n",
        wrong: &[
            ("the include after everything", "a: 1\nk: false\ninclude \"x\"\n"),
        ],
    },
    Case {
        name: "a key removed beside includes",
        before: "include \"x\"\np { include \"y\", send: true, z: 1 }\n",
        path: &["p", "send"],
        value: None,
        right: "include \"x\"\np { include \"y\", z: 1 }\n",
        wrong: &[
            ("the nested include lost with it", "include \"x\"\np { z: 1 }\n"),
            ("a sibling moved before the nested include", "include \"x\"\np { z: 1, include \"y\" }\n"),
        ],
    },
    Case {
        name: "two includes",
        before: "include \"one\"\ninclude \"two\"\nk: 1\n",
        path: &["k"],
        value: Some("2"),
        right: "include \"one\"\ninclude \"two\"\nk: 2\n",
        wrong: &[
            ("swapped", "include \"two\"\ninclude \"one\"\nk: 2\n"),
        ],
    },
    Case {
        name: "duplicate keys merged",
        before: "a { x: 1 }\nk: 0\na { y: 2 }\ns: 5\ns { z: 1 }\n",
        path: &["k"],
        value: Some("1"),
        right: "a { x: 1 }\nk: 1\na { y: 2 }\ns: 5\ns { z: 1 }\n",
        wrong: &[
            ("the first of two lost", "k: 1\na { y: 2 }\ns: 5\ns { z: 1 }\n"),
            ("the last of two lost", "a { x: 1 }\nk: 1\ns: 5\ns { z: 1 }\n"),
            ("an object and a scalar swapped", "a { x: 1 }\nk: 1\na { y: 2 }\ns { z: 1 }\ns: 5\n"),
            ("a merge made a replacement", "a { x: 1 }\nk: 1\na = 7\na { y: 2 }\ns: 5\ns { z: 1 }\n"),
            ("a key merged into another", "a { x: 1 }\nk: 1\na { y: 2, z: 3 }\ns: 5\ns { z: 1 }\n"),
        ],
    },
    Case {
        name: "+=",
        before: "l: [1]\nk: a\nl += 2\nm += x\n",
        path: &["k"],
        value: Some("b"),
        right: "l: [1]\nk: b\nl += 2\nm += x\n",
        wrong: &[
            ("+= made =", "l: [1]\nk: b\nl = [2]\nm += x\n"),
            ("+= moved before its list", "l += 2\nl: [1]\nk: b\nm += x\n"),
            ("+= lost", "l: [1]\nk: b\nm += x\n"),
            ("+= doubled", "l: [1]\nk: b\nl += 2\nl += 2\nm += x\n"),
            ("the list under += replaced", "l: [0]\nk: b\nl += 2\nm += x\n"),
        ],
    },
];

fn change(value: Option<&'static str>) -> Change<'static> {
    match value {
        Some(v) => Change::Set(v),
        None => Change::Remove,
    }
}

/// `text` inside a large document: plain root members before and after it
/// (kept as runs of spans), so the check lines the texts up and compares
/// only the root keys around the change when there is no substitution.
fn large(text: &str) -> String {
    let filler = |from: usize, out: &mut String| {
        for i in from..from + 2000 {
            out.push_str(&format!(
                "\"filler::key{i}\": {{ \"x\": {i}, \"y\": [\"v{i}\"] }}\n"
            ));
        }
    };
    let mut out = String::new();
    filler(0, &mut out);
    out.push_str(text);
    filler(2000, &mut out);
    out
}

fn verdict(before: &str, after: &str, case: &Case) -> Result<(), SemanticError> {
    let path: Vec<String> = case.path.iter().map(|s| s.to_string()).collect();
    verify_edit(before, after, Syntax::Conf, &path, change(case.value))
}

#[test]
fn faulty_edits_are_refused_and_the_right_ones_accepted() {
    let mut failures = Vec::new();
    for case in CASES {
        for (size, wrap) in [("small", false), ("large", true)] {
            let text = |t: &str| if wrap { large(t) } else { t.to_string() };
            let before = text(case.before);
            let right = verdict(&before, &text(case.right), case);
            // A substitution of the edited key elsewhere changes what that
            // key means too: refused, naming it.
            let expect_right_ok = case.name != "a substitution elsewhere";
            match (&right, expect_right_ok) {
                (Ok(()), true) => {}
                (Err(SemanticError::Mismatch { path, .. }), false) if path == "ref" => {}
                _ => failures.push(format!("{} ({size}), the right edit: {right:?}", case.name)),
            }
            for (what, wrong) in case.wrong {
                match verdict(&before, &text(wrong), case) {
                    Err(SemanticError::Mismatch { .. } | SemanticError::EditedUnresolvable(_)) => {}
                    other => failures.push(format!("{} ({size}), {what}: {other:?}", case.name)),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Through the CLI: `conf set` writes a correct edit of a file with include
/// statements (the check's markers accept it), and refuses, writing nothing,
/// an edit whose meaning reaches another key.
#[test]
fn the_cli_writes_edits_beside_includes_and_refuses_one_that_reaches_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pe.conf");
    let before = "include \"common.conf\"\n\"puppet_enterprise::send_analytics_data\": true\np { include \"nested.conf\", x: 1 }\ninclude \"late.conf\"\n";
    std::fs::write(&file, before).unwrap();
    let out = bin()
        .args(["conf", "set", "--file"])
        .arg(&file)
        .args(["puppet_enterprise::send_analytics_data", "false"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before.replace(": true", ": false")
    );

    let reaching = "k: 1\nref: ${k}\n";
    std::fs::write(&file, reaching).unwrap();
    let out = bin()
        .args(["conf", "set", "--file"])
        .arg(&file)
        .args(["k", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("refusing to write: after the edit, ref would change value"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), reaching);
}

/// The other side: every edit the editor makes of a document with include
/// statements (set an existing key, a new key, a nested key; remove one) is
/// accepted by the check, wherever the includes stand. A check that refuses
/// more than the faulty edits above fails here.
#[test]
fn the_editors_own_edits_beside_includes_are_accepted() {
    use pe_analytics::hocon::Document;
    let documents = [
        "include \"a\"\nk: true\nx: 1\n",
        "k: true\ninclude \"a\"\nx: 1\n",
        "k: true\nx: 1\ninclude required(\"a\")\n",
        "{\n  include file(\"a.conf\")\n  \"k\": true\n  \"p\": { \"send\": 1, include \"b\" }\n}\n",
        "p { include \"b\", send: true }\nk: 1\np { x: 2 }\ninclude \"c\"\n",
        "k: 1\ninclude \"a\"\nk: 2\np.send: 3\ninclude \"b\"\n",
        "l: [1]\ninclude \"a\"\nl += 2\nk: ${?l}\n",
        "p { q { include \"deep\", send: false } }\ninclude \"a\", k: 0\n",
    ];
    let edits: [(&str, &[&str], Option<&str>); 5] = [
        ("k", &["k"], Some("false")),
        ("new", &["new"], Some("\"v\"")),
        ("p.send", &["p", "send"], Some("false")),
        ("p.send", &["p", "send"], None),
        ("k", &["k"], None),
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for text in documents {
        for (expr, path, value) in edits {
            let mut doc = Document::parse(text).unwrap();
            let done = match value {
                Some(v) => doc.set(expr, v),
                None => doc.remove(expr),
            };
            if done.is_err() {
                continue;
            }
            let after = doc.render();
            let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            match verify_edit(text, &after, Syntax::Conf, &path, change(value)) {
                Ok(()) => checked += 1,
                Err(e) => failures.push(format!("{text:?} {expr} {value:?} -> {after:?}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 30, "only {checked} edits checked");
}
