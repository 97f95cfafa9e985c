//! `pe-analytics completions SHELL`: clap_complete's scripts, with the bash
//! one mended.
//!
//! clap_complete (up to at least 4.6.11) spells the bash dispatch states of a
//! hyphenated binary two ways: the loop that walks the command line builds
//! `pe__analytics__subcmd__opt__subcmd__out`, while the `case` arms that
//! complete each subcommand are labelled `pe__subcmd__analytics__subcmd__...`
//! (the bin name's hyphen escaped as a subcommand separator). No arm ever
//! matches, so nothing completes after a subcommand (clap-rs/clap#6421, fix
//! proposed in #6428). The arms are relabelled the way the loop spells them;
//! once upstream is fixed, the wrong spelling no longer occurs and this
//! changes nothing.

use clap_complete::Shell;

pub const BIN: &str = "pe-analytics";

/// The completion script for `shell`.
pub fn script(shell: Shell, cmd: &mut clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, BIN, &mut out);
    if shell == Shell::Bash {
        let text = String::from_utf8(out).expect("clap_complete writes UTF-8");
        return mend_bash(&text, BIN).into_bytes();
    }
    out
}

/// Relabels the `case` arms of a bash script generated for `bin` so that
/// they match the states its dispatch loop computes.
pub fn mend_bash(script: &str, bin: &str) -> String {
    if !bin.contains('-') {
        return script.to_string();
    }
    let wrong = bin.replace('-', "__subcmd__");
    let right = bin.replace('-', "__");
    script.replace(&wrong, &right)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state the dispatch loop assigns (`cmd="..."`) has a `case` arm
    /// (`    state)`), and the reverse: the structural form of the bug.
    #[test]
    fn every_bash_state_has_its_arm() {
        let mut cmd = super::super::command();
        let text = String::from_utf8(script(Shell::Bash, &mut cmd)).unwrap();
        let assigned: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("cmd=\"")?.strip_suffix('"'))
            .filter(|s| !s.is_empty())
            .collect();
        let arms: std::collections::BTreeSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("        ") && !l.starts_with("         "))
            .filter_map(|l| l.trim().strip_suffix(')'))
            .filter(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        assert!(assigned.len() > 10, "{assigned:?}");
        let missing: Vec<_> = assigned.difference(&arms).collect();
        assert!(missing.is_empty(), "states without an arm: {missing:?}");
        let unreachable: Vec<_> = arms.difference(&assigned).collect();
        assert!(
            unreachable.is_empty(),
            "arms never reached: {unreachable:?}"
        );
    }

    #[test]
    fn mending_only_touches_the_bin_name() {
        let s =
            "case x in\n  my__subcmd__app__subcmd__thunder)\n  cmd=\"my__app__subcmd__thunder\"";
        assert_eq!(
            mend_bash(s, "my-app"),
            "case x in\n  my__app__subcmd__thunder)\n  cmd=\"my__app__subcmd__thunder\""
        );
        assert_eq!(mend_bash(s, "myapp"), s);
    }
}
