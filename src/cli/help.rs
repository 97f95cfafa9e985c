//! What `--help` and the man pages say beyond the flags: two or three
//! examples and the exit codes that apply, per command. One table feeds both,
//! so the terminal help and the man pages cannot drift apart.

use crate::output::Exit;
use clap::builder::StyledStr;

/// One example: what it is for, and the command line(s): one command per
/// line, long ones continued with ` \` (each line fits in 80 columns).
pub struct Example {
    pub what: &'static str,
    pub command: &'static str,
}

/// One exit code and what it means for this command.
pub struct Code {
    pub exit: Exit,
    pub meaning: &'static str,
}

/// The extra help of one command (by its path below `pe-analytics`).
pub struct Page {
    pub path: &'static [&'static str],
    /// Prose shown before the examples (e.g. how KEY is written).
    pub notes: Option<&'static str>,
    pub examples: &'static [Example],
    pub exits: &'static [Code],
}

const fn ex(what: &'static str, command: &'static str) -> Example {
    Example { what, command }
}

const fn code(exit: Exit, meaning: &'static str) -> Code {
    Code { exit, meaning }
}

const OK_CHANGE: Code = code(
    Exit::Ok,
    "done, or already in the wanted state (nothing written)",
);
const ERROR: Code = code(
    Exit::Error,
    "error: bad input or flags, an unreadable or malformed file, a refused write, PE unreachable \
or refusing the request, or a preflight check failed (a later step could not run: the \
orchestrator, a node, the PE version); nothing was written by the failing step",
);
const PENDING_CHANGE: Code = code(
    Exit::Pending,
    "changes pending (--dry-run, --check), or an override in another node group still defeats \
the change (see --fix-overrides)",
);
const ENFORCE: Code = code(
    Exit::Enforce,
    "the change was made but enforcement failed: a Puppet run failed, timed out or was \
interrupted, a node disconnected after the preflight, or a reload failed; the output says what \
remains",
);

const KEY_NOTES: &str = "KEY is a HOCON path expression as ruby-hocon takes it: '.' separates \
keys, and a key containing ':' must be double-quoted ('\"puppet_enterprise::x\".y'). For \
convenience, when KEY has no double quote, each '.'-separated part that contains ':' is quoted for \
you, so puppet_enterprise::send_analytics_data means the single key \
\"puppet_enterprise::send_analytics_data\". VALUE is HOCON value text: false, '\"text\"', '[1, 2]', \
'{a: 1}'.";

pub const PAGES: &[Page] = &[
    Page {
        path: &[],
        notes: None,
        examples: &[
            ex(
                "CI: prove that a generated pe.conf is opted out, changing nothing",
                "pe-analytics check --pe-conf build/pe.conf",
            ),
            ex(
                "Review the change on every layer of this host, then make it",
                "pe-analytics opt-out --dry-run\npe-analytics opt-out",
            ),
            ex(
                "Where the installation stands, layer by layer",
                "pe-analytics status",
            ),
        ],
        exits: &[
            OK_CHANGE,
            ERROR,
            code(
                Exit::Pending,
                "changes pending (--dry-run, --check) or not opted out (check, status)",
            ),
            code(Exit::NotSet, "key not set (conf get)"),
            ENFORCE,
        ],
    },
    Page {
        path: &["opt-out"],
        notes: None,
        examples: &[
            ex(
                "See what would change on every layer that applies here, then change it",
                "pe-analytics opt-out --dry-run\npe-analytics opt-out",
            ),
            ex(
                "A pe.conf before PE is installed: edit in place, keep a backup, show the diff",
                "pe-analytics opt-out --pe-conf build/pe.conf --backup --diff",
            ),
            ex(
                "An installed PE, from another host, with an RBAC token",
                "pe-analytics opt-out --classifier --server pe.example.com \\\n    \
--cacert ca.pem --token-file ~/.puppetlabs/token",
            ),
        ],
        exits: &[OK_CHANGE, ERROR, PENDING_CHANGE, ENFORCE],
    },
    Page {
        path: &["opt-in"],
        notes: None,
        examples: &[
            ex(
                "See what would change, then opt back in (PE's default, true, applies again)",
                "pe-analytics opt-in --dry-run\npe-analytics opt-in",
            ),
            ex(
                "Write true explicitly in a pe.conf instead of removing the key",
                "pe-analytics opt-in --explicit --pe-conf build/pe.conf",
            ),
            ex(
                "The classifier only, without Puppet runs (prints the command to run later)",
                "pe-analytics opt-in --classifier --no-run",
            ),
        ],
        exits: &[OK_CHANGE, ERROR, PENDING_CHANGE, ENFORCE],
    },
    Page {
        path: &["check"],
        notes: None,
        examples: &[
            ex(
                "CI: fail the job unless a generated pe.conf is opted out",
                "pe-analytics check --pe-conf build/pe.conf",
            ),
            ex(
                "An installed PE, as JSON for a pipeline",
                "pe-analytics check --classifier --server pe.example.com --format json",
            ),
        ],
        exits: &[
            code(Exit::Ok, "opted out: PE reads the boolean false on every layer checked"),
            code(
                Exit::Error,
                "error: bad flags, an unreadable or malformed file, PE unreachable or refusing the \
request, or nothing to check on this host",
            ),
            code(Exit::Pending, "not opted out (the output says where and why)"),
        ],
    },
    Page {
        path: &["status"],
        notes: None,
        examples: &[
            ex(
                "On the primary server: the defaults find pe.conf, the classifier, the nodes",
                "pe-analytics status",
            ),
            ex(
                "From another host, naming the nodes",
                "pe-analytics status --server pe.example.com \\\n    \
--nodes pe.example.com,console.example.com",
            ),
            ex(
                "Only the rows that are not compliant, from the JSON report",
                "pe-analytics status --format json |\n    \
jq '.layers[] | select(.verdict != \"compliant\")'",
            ),
        ],
        exits: &[
            code(
                Exit::Ok,
                "opted out: every layer that applies is proven compliant (applied: by PuppetDB's \
catalog and report, else by the orchestrator's job history)",
            ),
            code(
                Exit::Error,
                "error: a layer could not be read, bad flags, or no layer applies on this host",
            ),
            code(Exit::Pending, "not opted out: at least one row is not-compliant"),
        ],
    },
    Page {
        path: &["report"],
        notes: None,
        examples: &[
            ex("On the primary server: the defaults just work", "pe-analytics report"),
            ex(
                "From another host, about the primary pe.example.com, as JSON",
                "pe-analytics report --format json --primary pe.example.com \\\n    \
--server pe.example.com --puppetdb-url https://pdb.example.com:8081",
            ),
            ex(
                "PE 2019.8's list of items, whatever the version file says",
                "pe-analytics report --pe-version 2019.8.12",
            ),
        ],
        exits: &[
            code(
                Exit::Ok,
                "the report was produced; every item that applies here was gathered (items that \
do not apply, such as a missing license file or no console connection, are shown as absent)",
            ),
            code(
                Exit::Error,
                "an item could not be gathered: a malformed file (FILE:LINE), a PE service \
(PuppetDB, the classifier, RBAC, the orchestrator, Puppet Server) unreachable or answering an \
error or an unexpected shape; the report is still printed. Or bad flags (such as --nodes, which \
report does not take)",
            ),
        ],
    },
    Page {
        path: &["conf"],
        notes: Some(KEY_NOTES),
        examples: &[
            ex(
                "Read a key as PE would (includes followed, substitutions resolved)",
                "pe-analytics conf get puppet_enterprise::puppet_master_host",
            ),
            ex(
                "Preview an edit as a unified diff",
                "pe-analytics conf set --dry-run \\\n    \
'puppet_enterprise::profile::master::java_args.Xmx' '\"4096m\"'",
            ),
        ],
        exits: &[
            code(Exit::Ok, "done, or nothing to change"),
            code(Exit::Error, "error; nothing was written"),
            code(Exit::Pending, "changes pending (--dry-run)"),
            code(Exit::NotSet, "key not set (get)"),
        ],
    },
    Page {
        path: &["conf", "get"],
        notes: Some(KEY_NOTES),
        examples: &[
            ex(
                "The value PE reads (includes followed, substitutions resolved)",
                "pe-analytics conf get puppet_enterprise::send_analytics_data",
            ),
            ex(
                "A nested key, from another file, as JSON",
                "pe-analytics conf get --file pe.conf --format json \\\n    \
'\"puppet_enterprise::profile::master::java_args\".Xmx'",
            ),
        ],
        exits: &[
            code(Exit::Ok, "the value was printed"),
            code(Exit::Error, "error: unreadable or malformed file, bad key"),
            code(Exit::NotSet, "the key is not set"),
        ],
    },
    Page {
        path: &["conf", "set"],
        notes: Some(KEY_NOTES),
        examples: &[
            ex(
                "Preview the edit as a unified diff, then make it with a backup",
                "pe-analytics conf set --dry-run puppet_enterprise::send_analytics_data false\n\
pe-analytics conf set --backup puppet_enterprise::send_analytics_data false",
            ),
            ex(
                "A nested key; the value is HOCON text, so a string keeps its quotes",
                "pe-analytics conf set \\\n    \
'puppet_enterprise::profile::master::java_args.Xmx' '\"4096m\"'",
            ),
            ex(
                "Write the edited document elsewhere, leaving the file alone",
                "pe-analytics conf set --stdout --file pe.conf \\\n    \
puppet_enterprise::puppet_master_host '\"pe.example.com\"' > new-pe.conf",
            ),
        ],
        exits: &[
            code(Exit::Ok, "done, or nothing to change (nothing written)"),
            code(
                Exit::Error,
                "error: unreadable or malformed file, bad key or value, a refused write, or \
send_analytics_data set to a non-boolean without --force; nothing was written",
            ),
            code(Exit::Pending, "changes pending (--dry-run)"),
        ],
    },
    Page {
        path: &["conf", "unset"],
        notes: Some(KEY_NOTES),
        examples: &[
            ex(
                "Preview, then remove every setting of a key",
                "pe-analytics conf unset --dry-run puppet_enterprise::send_analytics_data\n\
pe-analytics conf unset puppet_enterprise::send_analytics_data",
            ),
            ex(
                "Write the edited document elsewhere",
                "pe-analytics conf unset --stdout --file pe.conf \\\n    \
'\"puppet_enterprise::profile::master::r10k_remote\"' > new-pe.conf",
            ),
        ],
        exits: &[
            code(Exit::Ok, "done, or nothing to change (nothing written)"),
            code(
                Exit::Error,
                "error: unreadable or malformed file, bad key, a refused write; nothing was written",
            ),
            code(Exit::Pending, "changes pending (--dry-run)"),
        ],
    },
    Page {
        path: &["completions"],
        notes: Some(
            "Bash reads the directory below through the bash-completion package. Zsh: the \
directory must exist and be in fpath before compinit runs (mkdir -p ~/.zfunc, and fpath+=(~/.zfunc) \
in ~/.zshrc). Fish reads its directory by itself. Start a new shell afterwards.",
        ),
        examples: &[
            ex(
                "Bash",
                "pe-analytics completions bash \\\n    \
> ~/.local/share/bash-completion/completions/pe-analytics",
            ),
            ex(
                "Zsh",
                "pe-analytics completions zsh > ~/.zfunc/_pe-analytics",
            ),
            ex(
                "Fish",
                "pe-analytics completions fish \\\n    \
> ~/.config/fish/completions/pe-analytics.fish",
            ),
        ],
        exits: &[
            code(Exit::Ok, "the script was printed"),
            code(Exit::Error, "error: unknown shell"),
        ],
    },
    Page {
        path: &["man"],
        notes: None,
        examples: &[
            ex("Read a command's page", "pe-analytics man conf set | man -l -"),
            ex(
                "Install every page (packagers)",
                "pe-analytics man --out-dir /usr/local/share/man/man1",
            ),
        ],
        exits: &[
            code(Exit::Ok, "the page was printed, or the pages were written"),
            code(
                Exit::Error,
                "error: no such command, or the directory cannot be written",
            ),
        ],
    },
];

/// The page of the command at `path` (below `pe-analytics`).
pub fn page(path: &[&str]) -> Option<&'static Page> {
    PAGES.iter().find(|p| p.path == path)
}

/// The text after the flags in `--help`: notes, examples, exit codes, with
/// headings styled like clap's own ("Options:").
pub fn after_help(page: &Page, styles: &clap::builder::Styles) -> StyledStr {
    let h = styles.get_header();
    let heading = |s: &str| format!("{}{s}{}", h.render(), h.render_reset());
    let mut out = String::new();
    if let Some(notes) = page.notes {
        out.push_str(&wrap(notes, 0));
        out.push_str("\n\n");
    }
    out.push_str(&heading("Examples:"));
    out.push('\n');
    for (n, e) in page.examples.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!("  # {}\n", e.what));
        for line in e.command.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push('\n');
    out.push_str(&heading("Exit codes:"));
    out.push('\n');
    for c in page.exits {
        out.push_str(&format!("  {}  ", c.exit.code()));
        out.push_str(wrap(c.meaning, 5).trim_start());
        out.push('\n');
    }
    StyledStr::from(out.trim_end().to_string())
}

/// Wraps prose at 80 columns, indenting continuation lines by `indent`
/// (clap re-wraps only on terminals narrower than that, without indent).
fn wrap(text: &str, indent: usize) -> String {
    const WIDTH: usize = 80;
    let mut out = String::new();
    let mut line = " ".repeat(indent);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command has a page and every page a command; each example
    /// runs the command it documents and fits in 80 columns (in the man
    /// pages they are not refilled); each page lists exit 0 and 1.
    #[test]
    fn every_command_has_a_page_that_fits() {
        let mut paths = Vec::new();
        fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
            out.push(path.clone());
            for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let mut p = path.clone();
                p.push(s.get_name().to_string());
                walk(s, p, out);
            }
        }
        walk(&super::super::command(), Vec::new(), &mut paths);
        assert_eq!(paths.len(), PAGES.len(), "{paths:?}");
        for path in &paths {
            let words: Vec<&str> = path.iter().map(String::as_str).collect();
            let page = page(&words).unwrap_or_else(|| panic!("no page for {path:?}"));
            let prefix = std::iter::once("pe-analytics")
                .chain(words.iter().copied())
                .collect::<Vec<_>>()
                .join(" ");
            assert!(page.examples.len() >= 2, "{prefix}");
            for e in page.examples {
                let first = e.command.lines().next().unwrap();
                assert!(first.starts_with(&prefix), "{prefix}: {first}");
                for line in e.command.lines().chain([e.what]) {
                    assert!(line.len() <= 78, "{prefix}: {line}");
                }
            }
            let codes: Vec<i32> = page.exits.iter().map(|c| c.exit.code()).collect();
            assert!(codes.starts_with(&[0, 1]), "{prefix}: {codes:?}");
        }
    }

    #[test]
    fn wrapping_keeps_every_word_and_the_indent() {
        let text = "word ".repeat(60);
        let w = wrap(&text, 5);
        assert!(w.lines().all(|l| l.len() <= 80), "{w}");
        assert!(w.lines().skip(1).all(|l| l.starts_with("     w")), "{w}");
        assert_eq!(w.split_whitespace().count(), 60);
    }
}
