//! `pe-analytics man`: one man page per command (pe-analytics(1),
//! pe-analytics-opt-out(1), pe-analytics-conf-set(1), ...), rendered from the
//! same clap definition and help tables as `--help`.
//!
//! clap_mangen renders the synopsis, description and options (grouped under
//! the help headings); the examples, exit status, environment and see-also
//! sections are rendered here, because clap_mangen would print the
//! `--help` footer as one filled paragraph (the exit-code list ran together
//! mid-sentence).

use super::help::{self, Page};
use clap_mangen::roff::{bold, roman, Roff};
use std::path::{Path, PathBuf};

const SECTION: &str = "1";

/// A page: the command's path below `pe-analytics`, and the command itself
/// (built, so its bin name is "pe-analytics conf set" and its display name
/// "pe-analytics-conf-set").
pub struct ManPage {
    pub path: Vec<String>,
    pub cmd: clap::Command,
}

impl ManPage {
    /// `pe-analytics-opt-out`.
    pub fn name(&self) -> String {
        self.cmd
            .get_display_name()
            .unwrap_or_else(|| self.cmd.get_name())
            .to_string()
    }

    /// `pe-analytics-opt-out.1`.
    pub fn file_name(&self) -> String {
        format!("{}.{SECTION}", self.name())
    }
}

/// Every page, the top-level one first.
pub fn pages(cmd: clap::Command) -> Vec<ManPage> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, Vec::new(), &mut out);
    out
}

fn collect(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<ManPage>) {
    out.push(ManPage {
        path: path.clone(),
        cmd: cmd.clone(),
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        collect(sub, p, out);
    }
}

/// The page for `words` (`["conf", "set"]`, `["conf-set"]` or `[]`).
pub fn find<'a>(pages: &'a [ManPage], words: &[String]) -> Result<&'a ManPage, String> {
    let wanted = words.join("-");
    pages
        .iter()
        .find(|p| p.path.join("-") == wanted)
        .ok_or_else(|| {
            let known: Vec<String> = pages
                .iter()
                .filter(|p| !p.path.is_empty())
                .map(|p| p.path.join(" "))
                .collect();
            format!(
                "no man page for `{}`; pages: {}",
                words.join(" "),
                known.join(", ")
            )
        })
}

/// Renders `page` as roff.
pub fn render(page: &ManPage, all: &[ManPage]) -> Vec<u8> {
    // clap_mangen's own footer and version sections are replaced by ours.
    let cmd = page
        .cmd
        .clone()
        .after_help(None::<&str>)
        .after_long_help(None::<&str>);
    let version = cmd.get_version().map(str::to_string);
    let man = clap_mangen::Man::new(cmd.clone().version(None::<&str>))
        .source(format!("pe-analytics {}", version.as_deref().unwrap_or("")))
        .manual("pe-analytics manual");
    let mut out = Vec::new();
    man.render(&mut out).expect("writing to a Vec cannot fail");

    // In the order man-pages(7) gives.
    let mut roff = Roff::new();
    let path: Vec<&str> = page.path.iter().map(String::as_str).collect();
    let extra = help::page(&path);
    if let Some(extra) = extra {
        exit_status(&mut roff, extra);
    }
    environment(&mut roff, &cmd);
    if let Some(extra) = extra {
        notes_and_examples(&mut roff, extra);
    }
    see_also(&mut roff, page, all);
    if let Some(v) = version {
        roff.control("SH", ["VERSION"]);
        roff.text([roman(format!("v{v}"))]);
    }
    roff.to_writer(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

fn exit_status(roff: &mut Roff, page: &Page) {
    roff.control("SH", ["EXIT STATUS"]);
    for c in page.exits {
        roff.control("TP", []);
        roff.text([bold(c.exit.code().to_string())]);
        roff.text([roman(c.meaning)]);
    }
}

fn notes_and_examples(roff: &mut Roff, page: &Page) {
    if let Some(notes) = page.notes {
        roff.control("SH", ["NOTES"]);
        roff.text([roman(notes)]);
    }
    roff.control("SH", ["EXAMPLES"]);
    for e in page.examples {
        roff.control("PP", []);
        roff.text([roman(format!("{}:", e.what))]);
        // No filling: one command per line, as typed.
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        roff.text([bold(e.command)]);
        roff.control("fi", []);
        roff.control("RE", []);
    }
}

/// The variables behind the command's flags, and PE_RBAC_TOKEN where a
/// token is read.
fn environment(roff: &mut Roff, cmd: &clap::Command) {
    let vars: Vec<(String, String)> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| {
            let env = a.get_env()?.to_string_lossy().into_owned();
            Some((env, format!("--{}", a.get_long()?)))
        })
        .collect();
    if vars.is_empty() {
        return;
    }
    roff.control("SH", ["ENVIRONMENT"]);
    roff.text([roman(
        "Each flag below may also be given by its variable; a flag on the command line wins.",
    )]);
    for (env, flag) in &vars {
        roff.control("TP", []);
        roff.text([bold(env.as_str())]);
        roff.text([roman("The same as "), bold(flag.as_str()), roman(".")]);
    }
    if cmd
        .get_arguments()
        .any(|a| a.get_long() == Some("token-file"))
    {
        roff.control("TP", []);
        roff.text([bold(crate::pe::config::TOKEN_ENV)]);
        roff.text([roman(
            "An RBAC token itself, used when --token-file is not given (never printed).",
        )]);
    }
}

fn see_also(roff: &mut Roff, page: &ManPage, all: &[ManPage]) {
    let related: Vec<&ManPage> = all
        .iter()
        .filter(|p| {
            let parent = p.path.len() + 1 == page.path.len() && page.path.starts_with(&p.path);
            let child = page.path.len() + 1 == p.path.len() && p.path.starts_with(&page.path);
            parent || child
        })
        .collect();
    if related.is_empty() {
        return;
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (n, p) in related.iter().enumerate() {
        if n > 0 {
            line.push(roman(", "));
        }
        line.push(bold(p.name()));
        line.push(roman(format!("({SECTION})")));
    }
    roff.text(line);
}

/// Writes every page into `dir` (created if missing); returns the paths.
pub fn write_all(all: &[ManPage], dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for page in all {
        let path = dir.join(page.file_name());
        std::fs::write(&path, render(page, all)).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
