//! The command line's shell: parses arguments, runs a command, prints, and
//! turns the outcome into an exit code. The work itself is in the library's
//! pure modules (`hocon`, `peconf`); this is where files are read and written.

mod args;
mod classifier;
mod conf;
mod connection_args;
mod pe_conf;

pub use args::Cli;

use crate::output::Exit;
use clap::{CommandFactory, Parser};
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

/// Runs the command line `args` (program name first) and returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
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
        args::Command::OptOut(a) if a.classifier.classifier => classifier::opt_out(&a),
        args::Command::OptIn(a) if a.classifier.classifier => classifier::opt_in(&a),
        args::Command::Check(a) if a.classifier.classifier => classifier::check(&a),
        args::Command::OptOut(a) => pe_conf::opt_out(&a),
        args::Command::OptIn(a) => pe_conf::opt_in(&a),
        args::Command::Check(a) => pe_conf::check(&a),
        args::Command::Conf(c) => conf::run(c),
        args::Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "pe-analytics", &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        args::Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
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
