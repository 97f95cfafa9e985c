//! `pe-analytics completions SHELL`, installed as a user would install it,
//! asked to complete a subcommand's flags in real bash, zsh and fish
//! processes. Each shell must be installed (.ci/run installs zsh and fish);
//! a missing shell fails the test rather than skipping it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

mod support;

/// What each shell must offer for each command line (the last word is
/// being completed; a trailing space completes a new, empty word).
const CASES: &[(&str, &[&str])] = &[
    // The subcommand's own flag: the upstream bash bug completed nothing here.
    ("pe-analytics opt-out --dr", &["--dry-run"]),
    (
        "pe-analytics conf set --f",
        &["--file", "--force", "--format"],
    ),
    // `check` takes the connection flags, --certname included.
    ("pe-analytics check --cert", &["--cert", "--certname"]),
    ("pe-analytics opt-out --format ", &["json", "text"]),
    ("pe-analytics conf u", &["unset"]),
];

fn script(shell: &str, dir: &Path, file: &str) -> std::path::PathBuf {
    let out = support::fixtures::bin()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "completions writes only the script");
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// `name`, with HOME in `dir` (no user configuration is read).
fn shell(name: &str, dir: &Path) -> Command {
    let probe = Command::new(name).arg("--version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "{name} is needed for this test (.ci/run installs it: apt-get install -y zsh fish)"
    );
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = Command::new(name);
    c.env("HOME", home).env("TERM", "dumb");
    c
}

fn set(words: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    words.into_iter().map(Into::into).collect()
}

fn check(shell_name: &str, line: &str, got: BTreeSet<String>, want: &[&str]) {
    assert_eq!(got, set(want.iter().copied()), "{shell_name}: {line:?}");
}

/// Bash calls the function `complete -F` registered, with COMP_WORDS,
/// COMP_CWORD, COMP_LINE and COMP_POINT set, and reads COMPREPLY; so does
/// this driver, in a bash that sourced the script.
#[test]
fn bash_completes_a_subcommands_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = script("bash", dir.path(), "pe-analytics.bash");
    let driver = r#"
source "$1"; shift
spec=$(complete -p pe-analytics) || exit 3
fn=${spec#*-F }; fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$fn" pe-analytics "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    for (line, want) in CASES {
        let mut words: Vec<&str> = line.split(' ').collect();
        if line.ends_with(' ') {
            words.truncate(words.len() - 1);
            words.push("");
        }
        let out = shell("bash", dir.path())
            .args(["--norc", "--noprofile", "-c", driver, "driver"])
            .arg(&file)
            .args(&words)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{line}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        check(
            "bash",
            line,
            set(text.lines().map(str::trim).filter(|l| !l.is_empty())),
            want,
        );
    }
}

/// Zsh completes only inside its line editor, so a zsh drives another,
/// interactive one through a pseudo-terminal (zsh/zpty): it sources the
/// script from fpath through compinit, types the line and a Tab, and a
/// wrapper around `compadd` records every match offered.
#[test]
fn zsh_completes_a_subcommands_flags() {
    let dir = tempfile::tempdir().unwrap();
    let fpath = dir.path().join("functions");
    std::fs::create_dir(&fpath).unwrap();
    script("zsh", &fpath, "_pe-analytics");
    let init = dir.path().join("init.zsh");
    std::fs::write(
        &init,
        r#"PROMPT='' RPROMPT=''
fpath=($COMP_DIR $fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
  if [[ ${@[(I)-[OAD]]} -ne 0 ]]; then builtin compadd "$@"; return; fi
  local -a __m
  builtin compadd -A __m "$@"
  (( $#__m )) && print -rl -- "${__m[@]}" >> $COMP_OUT
  builtin compadd "$@"
}
__done() { print -r -- '@@done' >> $COMP_OUT }
comppostfuncs=(__done)
bindkey '^I' complete-word
print -r -- '@@ready' >> $COMP_OUT
"#,
    )
    .unwrap();
    let driver = r#"
zmodload zsh/zpty || exit 3
wait_for() { for i in {1..1200}; do grep -q "$1" $COMP_OUT 2>/dev/null && return 0; sleep 0.025; done; return 1 }
zpty sh zsh -f -i
zpty -w sh "source $INIT"
wait_for @@ready || exit 4
zpty -w -n sh "$LINE"$'\t'
wait_for @@done || exit 5
zpty -d sh
"#;
    for (n, (line, want)) in CASES.iter().enumerate() {
        let out_file = dir.path().join(format!("out-{n}"));
        let out = shell("zsh", dir.path())
            .args(["-f", "-c", driver])
            .env("COMP_DIR", &fpath)
            .env("COMP_OUT", &out_file)
            .env("INIT", &init)
            .env("LINE", line)
            .output()
            .unwrap();
        let text = std::fs::read_to_string(&out_file).unwrap_or_default();
        assert_eq!(out.status.code(), Some(0), "{line}: {out:?}\n{text}");
        check(
            "zsh",
            line,
            set(text.lines().filter(|l| !l.starts_with("@@"))),
            want,
        );
    }
}

/// Fish answers `complete --do-complete LINE` with one match per line
/// (then a tab and the description).
#[test]
fn fish_completes_a_subcommands_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = script("fish", dir.path(), "pe-analytics.fish");
    for (line, want) in CASES {
        let out = shell("fish", dir.path())
            .args([
                "--no-config",
                "-c",
                "source $argv[1]; complete --do-complete $argv[2]",
            ])
            .arg(&file)
            .arg(line)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{line}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        check(
            "fish",
            line,
            set(text.lines().map(|l| l.split('\t').next().unwrap())),
            want,
        );
    }
}
