//! The command line's shell: parses arguments, runs a command, prints, and
//! turns the outcome into an exit code. The work itself is in the library's
//! pure modules (`hocon`, `peconf`); this is where files are read and written.

mod args;
mod classifier;
mod completions;
mod conf;
mod connection_args;
mod enforce;
mod help;
mod man;
mod pe_conf;
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

enum Selected {
    /// `--pe-conf` alone, or no layer flag and only pe.conf applies: the
    /// pe.conf-only code path (unchanged behaviour).
    PeConfOnly,
    Layers(classifier::Layers),
    Nothing(Failure),
}

/// Which layers to work on. `--pe-conf` and/or `--classifier`: those. No
/// layer flag: every layer that applies on this host: pe.conf when it exists
/// at the default path, the classifier when a connection is configured
/// ([`crate::pe::config::classifier_configured`]).
fn select_layers(pe: &args::PeConfLayer, cl: &connection_args::ClassifierLayer) -> Selected {
    if pe.pe_conf.is_some() || cl.classifier {
        if !cl.classifier {
            return Selected::PeConfOnly;
        }
        return Selected::Layers(classifier::Layers {
            pe_conf: pe.pe_conf.clone(),
            classifier: true,
        });
    }
    let default = std::path::PathBuf::from(crate::peconf::DEFAULT_PE_CONF);
    let pe_conf = default.exists().then_some(default);
    let host = crate::pe::config::Host::current_with_certname(cl.connection.certname.as_deref());
    let classifier =
        crate::pe::config::classifier_configured(&cl.connection.requested(), &host).is_some();
    match (pe_conf, classifier) {
        (Some(_), false) => Selected::PeConfOnly,
        (None, false) => Selected::Nothing(Failure::error(format!(
            "nothing to work on here: there is no pe.conf at {} and no PE classifier is configured \
(no --server/--classifier-url, no service-url in puppet-access.conf, and this host has no Puppet agent \
certificate in /etc/puppetlabs/puppet/ssl). Give --pe-conf PATH, or --server HOST with credentials",
            crate::peconf::DEFAULT_PE_CONF
        ))),
        (pe_conf, true) => Selected::Layers(classifier::Layers {
            pe_conf,
            classifier: true,
        }),
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
        args::Command::OptOut(a) => match select_layers(&a.layer, &a.classifier) {
            Selected::PeConfOnly => pe_conf::opt_out(&a),
            Selected::Layers(l) => classifier::opt_out(&a, &l),
            Selected::Nothing(f) => Err(f),
        },
        args::Command::OptIn(a) => match select_layers(&a.layer, &a.classifier) {
            Selected::PeConfOnly => pe_conf::opt_in(&a),
            Selected::Layers(l) => classifier::opt_in(&a, &l),
            Selected::Nothing(f) => Err(f),
        },
        args::Command::Check(a) => match select_layers(&a.layer, &a.classifier) {
            Selected::PeConfOnly => pe_conf::check(&a),
            Selected::Layers(l) => classifier::check(&a, &l),
            Selected::Nothing(f) => Err(f),
        },
        args::Command::Status(a) => status::status(&a),
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
