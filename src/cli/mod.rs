//! The command line's shell: parses arguments, runs a command, prints, and
//! turns the outcome into an exit code. The work itself is in the library's
//! pure modules (`hocon`, `peconf`); this is where files are read and written.

mod args;
mod classifier;
mod conf;
mod connection_args;
mod enforce;
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
    let host = crate::pe::config::Host::current();
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
/// help says so instead of promising edits and Puppet runs.
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
    let mut cmd = Cli::command();
    for name in ["check", "status", "report"] {
        cmd = cmd.mut_subcommand(name, |sub| {
            sub.mut_arg("pe_conf", |a| a.help(None::<&str>).long_help(READ_PE_CONF))
                .mut_arg("classifier", |a| {
                    a.help(None::<&str>).long_help(READ_CLASSIFIER)
                })
        });
    }
    cmd
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
            clap_complete::generate(shell, &mut cmd, "pe-analytics", &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        args::Command::Man => {
            let man = clap_mangen::Man::new(command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => Ok(Exit::Ok),
                Err(e) => Err(Failure::error(format!("cannot write the man page: {e}"))),
            }
        }
    };
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.exit.code()
        }
    }
}
