//! `pe-analytics man`: every page written with `--out-dir`, rendered by
//! man-db (`man -l`, as a reader sees it), must show the command's options,
//! its examples and its own exit codes, one per entry (they used to run
//! together in one filled paragraph), and name pages that exist.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

mod support;
use support::fixtures::bin;

/// Each page: its command, the flags it must document (a contract, written
/// out here rather than read from the definition under test) and its exit
/// codes.
const PAGES: &[(&str, &[&str], &[u8])] = &[
    ("", &[], &[0, 1, 2, 3, 4]),
    (
        "opt-out",
        &[
            "--pe-conf",
            "--classifier",
            "--dry-run",
            "--check",
            "--backup",
            "--diff",
            "--fix-overrides",
            "--format",
            "--nodes",
            "--no-run",
            "--wait-timeout",
            "--pe-version",
            "--pe-version-file",
            "--no-reload",
            "--server",
            "--classifier-url",
            "--orchestrator-url",
            "--cacert",
            "--cert",
            "--key",
            "--token-file",
            "--timeout",
            "--certname",
        ],
        &[0, 1, 2, 4],
    ),
    (
        "opt-in",
        &[
            "--pe-conf",
            "--classifier",
            "--dry-run",
            "--check",
            "--backup",
            "--diff",
            "--explicit",
            "--fix-overrides",
            "--format",
            "--nodes",
            "--no-run",
            "--wait-timeout",
            "--no-reload",
            "--server",
            "--classifier-url",
            "--orchestrator-url",
            "--cacert",
            "--cert",
            "--key",
            "--token-file",
            "--timeout",
            "--certname",
        ],
        &[0, 1, 2, 4],
    ),
    (
        "check",
        &[
            "--pe-conf",
            "--classifier",
            "--dry-run",
            "--format",
            "--server",
            "--classifier-url",
            "--orchestrator-url",
            "--cacert",
            "--cert",
            "--key",
            "--token-file",
            "--timeout",
            "--certname",
        ],
        &[0, 1, 2],
    ),
    (
        "status",
        &[
            "--pe-conf",
            "--classifier",
            "--format",
            "--nodes",
            "--marker-file",
            "--pe-version",
            "--pe-version-file",
            "--server",
            "--classifier-url",
            "--orchestrator-url",
            "--cacert",
            "--cert",
            "--key",
            "--token-file",
            "--timeout",
            "--certname",
        ],
        &[0, 1, 2],
    ),
    (
        "report",
        &[
            "--pe-conf",
            "--classifier",
            "--format",
            "--puppetdb-url",
            "--license-file",
            "--server",
            "--cacert",
            "--cert",
            "--key",
            "--token-file",
            "--certname",
        ],
        &[0, 1],
    ),
    ("conf", &[], &[0, 1, 2, 3]),
    (
        "conf-get",
        &["--file", "--format", "--show-secrets"],
        &[0, 1, 3],
    ),
    (
        "conf-set",
        &[
            "--file",
            "--stdout",
            "--dry-run",
            "--backup",
            "--force",
            "--format",
        ],
        &[0, 1, 2],
    ),
    (
        "conf-unset",
        &["--file", "--stdout", "--dry-run", "--backup", "--format"],
        &[0, 1, 2],
    ),
    ("completions", &[], &[0, 1]),
    ("man", &["--out-dir"], &[0, 1]),
];

fn page_name(cmd: &str) -> String {
    if cmd.is_empty() {
        "pe-analytics".into()
    } else {
        format!("pe-analytics-{cmd}")
    }
}

/// `man -l FILE` as plain text, 80 columns; man's and groff's warnings
/// must be none.
fn render(file: &Path) -> String {
    let out = Command::new("man")
        .args([
            "--warnings=mac,char,escape,syntax,font,input,missing,el,delim,di,reg",
            "-l",
        ])
        .arg(file)
        // Every warning but line adjustment (long paths cannot be broken).
        .env("MANROFFOPT", "-Wbreak")
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .env("MAN_KEEP_FORMATTING", "")
        .output()
        .unwrap_or_else(|e| panic!("man is needed (.ci/run installs man-db): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "{}: {stderr}",
        file.display()
    );
    // Overstrike (bold, underline) to plain text, as `col -b` would.
    let text = String::from_utf8(out.stdout).unwrap();
    let mut plain = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The lines of a section: from its heading (at column 0) to the next.
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = text.lines().skip_while(|l| *l != heading);
    assert!(lines.next().is_some(), "no {heading} section:\n{text}");
    lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// Flags at the start of an option's heading line (`  -f, --file <FILE>`).
fn documented_flags(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let indent = l.len() - t.len();
            if !(1..=8).contains(&indent) {
                return None;
            }
            let t = t
                .strip_prefix("-")
                .and_then(|r| r.get(1..))
                .and_then(|r| r.strip_prefix(", "))
                .unwrap_or(t);
            let flag = t.split([' ', '[', '<']).next()?;
            (flag.starts_with("--") && flag.len() > 2).then(|| flag.to_string())
        })
        .collect()
}

#[test]
fn every_page_renders_with_its_options_examples_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = PAGES
        .iter()
        .map(|(cmd, _, _)| {
            dir.path()
                .join(format!("{}.1", page_name(cmd)))
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(listed, expected);
    let mut checked = 0;
    for (cmd, flags, codes) in PAGES {
        let name = page_name(cmd);
        let file = dir.path().join(format!("{name}.1"));
        let text = render(&file);
        assert!(text.contains(&format!("{name}(1)")), "{name}: title");

        // Options: the contract's, and every flag `--help` shows.
        let documented = documented_flags(&text);
        for f in *flags {
            assert!(
                documented.contains(*f),
                "{name}: {f} not documented\n{text}"
            );
        }
        let words: Vec<&str> = cmd.split('-').collect();
        let words: Vec<&str> = match *cmd {
            "opt-out" | "opt-in" => vec![cmd],
            "" => vec![],
            _ => words,
        };
        let help = bin().args(&words).arg("--help").output().unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        for f in documented_flags(&help) {
            assert!(
                documented.contains(&f),
                "{name}: --help shows {f}, the page does not"
            );
        }

        // Exit status: one entry per code, each starting its own line, and
        // only this command's codes.
        let exit = section(&text, "EXIT STATUS");
        let tags: Vec<u8> = exit
            .iter()
            .filter_map(|l| {
                let t = l.strip_prefix("       ")?;
                let (code, rest) = t.split_once(' ')?;
                (code.len() == 1 && rest.starts_with("     ")).then(|| code.parse().ok())?
            })
            .collect();
        assert_eq!(tags, codes.to_vec(), "{name}:\n{}", exit.join("\n"));
        let entries = exit.iter().filter(|l| !l.trim().is_empty()).count();
        assert!(entries >= codes.len(), "{name}");

        // Examples: at least two command lines of this very command.
        let examples = section(&text, "EXAMPLES");
        let prefix = format!("pe-analytics {}", words.join(" "));
        let runs = examples
            .iter()
            .filter(|l| l.trim_start().starts_with(prefix.trim_end()))
            .count();
        assert!(runs >= 2, "{name}: examples\n{}", examples.join("\n"));

        // See also: pages that were written.
        if !cmd.is_empty() {
            let see = section(&text, "SEE ALSO").join(" ");
            let mut refs = 0;
            for word in see.split([',', ' ']).filter(|w| w.ends_with("(1)")) {
                let file = dir
                    .path()
                    .join(format!("{}.1", word.trim_end_matches("(1)")));
                assert!(file.exists(), "{name}: SEE ALSO {word}: no such page");
                refs += 1;
            }
            assert!(refs >= 1, "{name}: {see}");
        }
        checked += 1;
    }
    assert_eq!(checked, PAGES.len());
}

#[test]
fn pages_with_connection_flags_list_their_environment_variables() {
    let out = bin().args(["man", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("status.1");
    std::fs::write(&file, &out.stdout).unwrap();
    let text = render(&file);
    let env = section(&text, "ENVIRONMENT").join("\n");
    for var in [
        "PE_ANALYTICS_SERVER",
        "PE_ANALYTICS_CLASSIFIER_URL",
        "PE_ANALYTICS_ORCHESTRATOR_URL",
        "PE_ANALYTICS_CACERT",
        "PE_ANALYTICS_CERT",
        "PE_ANALYTICS_KEY",
        "PE_ANALYTICS_TOKEN_FILE",
        "PE_ANALYTICS_TIMEOUT",
        "PE_ANALYTICS_CERTNAME",
        "PE_ANALYTICS_MARKER_FILE",
        "PE_RBAC_TOKEN",
    ] {
        assert!(env.contains(var), "{var}:\n{env}");
    }
}

#[test]
fn one_page_by_command_words_or_name_and_an_unknown_one_is_an_error() {
    let by_words = bin().args(["man", "conf", "set"]).output().unwrap();
    let by_name = bin().args(["man", "conf-set"]).output().unwrap();
    assert_eq!(by_words.status.code(), Some(0));
    assert_eq!(by_words.stdout, by_name.stdout);
    let text = String::from_utf8(by_words.stdout).unwrap();
    assert!(text.contains(".TH pe-analytics-conf-set 1"), "{text}");

    let out = bin().args(["man", "no-such"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no man page for `no-such`") && err.contains("conf set"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let out = bin()
        .args(["man", "--out-dir"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-dir"));
}
