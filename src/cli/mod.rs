//! The command line's shell: parses arguments, calls the library (the
//! procedure of `crate::procedure`, the engines of `hocon` and `peconf`),
//! renders the outcome (`crate::output::render`) and returns the exit code.

mod args;
mod change;
mod completions;
mod conf;
mod connection_args;
mod help;
mod man;
mod report;
mod status;

pub use args::Cli;

use crate::output::Exit;
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// A command that could not do its job: what to tell the user, and the exit
/// code that says so.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub exit: Exit,
}

impl Failure {
    pub fn error(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            exit: Exit::Error,
        }
    }
}

/// The command line as clap sees it. The layer flags are shared by every
/// command; on the commands that only read (check, status, report) their
/// help says so instead of promising edits and Puppet runs. Every command
/// gets its examples and exit codes ([`help::PAGES`]).
pub fn command() -> clap::Command {
    const READ_PE_CONF: &str =
        "Read pe.conf (default path /etc/puppetlabs/enterprise/conf.d/pe.conf, \
where PE's installer keeps it). Without any layer flag, every layer that applies on this host is \
read: pe.conf when it exists at the default path, then the classifier when a PE connection is \
configured. Nothing is written";
    const READ_CLASSIFIER: &str =
        "Read the node classifier of a running PE (the \"PE Infrastructure\" \
node group, class puppet_enterprise, parameter send_analytics_data). Without --pe-conf only this \
layer is read. Nothing is written and no Puppet run is started";
    // mut_subcommands and mut_args, not mut_subcommand and mut_arg: those
    // move what they change last (commands and help headings reorder).
    let cmd = Cli::command().mut_subcommands(|sub| {
        if !["check", "status", "report"].contains(&sub.get_name()) {
            return sub;
        }
        sub.mut_args(|a| match a.get_id().as_str() {
            "pe_conf" => a.help(None::<&str>).long_help(READ_PE_CONF),
            "classifier" => a.help(None::<&str>).long_help(READ_CLASSIFIER),
            _ => a,
        })
    });
    with_pages(cmd, &[])
}

/// Attaches the help page of `cmd` (at `path`) and of its subcommands.
fn with_pages(mut cmd: clap::Command, path: &[&str]) -> clap::Command {
    if let Some(page) = help::page(path) {
        let text = help::after_help(page, cmd.get_styles());
        cmd = cmd.after_help(text);
    }
    cmd.mut_subcommands(|sub| {
        let name = sub.get_name().to_string();
        let mut sub_path = path.to_vec();
        sub_path.push(&name);
        with_pages(sub, &sub_path)
    })
}

fn write_stdout(bytes: &[u8]) -> Result<Exit, Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::error(format!("cannot write to standard output: {e}")))?;
    Ok(Exit::Ok)
}

/// `pe-analytics man [COMMAND...]` prints one page; `--out-dir DIR` writes
/// them all and prints their paths.
fn man_command(a: &args::ManArgs) -> Result<Exit, Failure> {
    let pages = man::pages(command());
    if let Some(dir) = &a.out_dir {
        let written = man::write_all(&pages, dir).map_err(Failure::error)?;
        let list: String = written
            .iter()
            .map(|p| format!("{}\n", p.display()))
            .collect();
        return write_stdout(list.as_bytes());
    }
    let page = man::find(&pages, &a.command).map_err(Failure::error)?;
    write_stdout(&man::render(page, &pages))
}

/// Runs the command line `args` (program name first) and returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own exit code for usage errors is 2, which here means
            // "changes pending"; a usage error is an error.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    crate::files::set_max_file_size(cli.max_file_size);
    crate::pe::error::set_warning_sink(|m| eprintln!("warning: {m}"));
    let result = match cli.command {
        args::Command::OptOut(a) => Ok(change::opt_out(&a)),
        args::Command::OptIn(a) => Ok(change::opt_in(&a)),
        args::Command::Check(a) => Ok(change::check(&a)),
        args::Command::Status(a) => Ok(status::status(&a)),
        args::Command::Report(a) => report::report(&a),
        args::Command::Conf(c) => conf::run(c),
        args::Command::Completions { shell } => {
            let mut cmd = command();
            write_stdout(&completions::script(shell, &mut cmd))
        }
        args::Command::Man(a) => man_command(&a),
    };
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            // URLs in any message lose their credentials (user:pass@, ?token=).
            let message = crate::peconf::secrets::mask_urls_in(&failure.message);
            eprintln!("error: {message}");
            failure.exit.code()
        }
    }
}
