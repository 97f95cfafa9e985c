//! The command line, declared with clap. Names, flags and exit codes here are
//! a contract: checks outside the project call them exactly so.

//!
//! Presentation (headings, examples, exit codes per command) is described
//! here and in [`super::help`]; `super::command` puts them together.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Help headings: options are grouped by what they are for, as cargo and rg do.
pub const LAYERS_HELP: &str = "Layers";
pub const CHANGE_HELP: &str = "Change options";
pub const RUNS_HELP: &str = "Puppet runs and reloads";
pub const NODES_HELP: &str = "Nodes and versions";
pub const OUTPUT_HELP: &str = "Output";
pub const FILE_HELP: &str = "File";
pub const REPORT_HELP: &str = "What the report reads";

#[derive(Debug, Parser)]
#[command(
    name = "pe-analytics",
    version,
    about = "Opt a Puppet Enterprise installation out of (or back into) analytics data collection",
    long_about = "Opt a Puppet Enterprise installation out of (or back into) analytics data collection, \
safely and verifiably.\n\n\
For a fresh install, pe-analytics sets \"puppet_enterprise::send_analytics_data\": false in pe.conf, \
editing the file in place exactly as Puppet's own HOCON library (ruby-hocon) would, without disturbing \
comments, order, spacing or line endings. Every edit is verified by resolving the file before and after; \
writes are atomic and keep the file's mode and owner.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The largest pe.conf (or other HOCON file) read, e.g. 64MiB, 512K, 1G; a larger file is refused
    /// before it is read
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = crate::files::MAX_FILE_SIZE_ENV,
        default_value = "64MiB",
        value_parser = crate::files::parse_size
    )]
    pub max_file_size: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn analytics data collection off
    OptOut(OptOutArgs),
    /// Turn analytics data collection back on
    OptIn(OptInArgs),
    /// Report whether the installation is opted out, changing nothing
    Check(CheckArgs),
    /// One table of every layer: opted out or not, and why (exit 0 opted out everywhere, 2 not)
    Status(StatusArgs),
    /// Show every item PE's analytics collect for this PE version, read where PE keeps it
    /// (PuppetDB, classifier, orchestrator, Puppet Server, files), and whether PE sends it now
    Report(ReportArgs),
    /// Read and edit any pe.conf key with ruby-hocon's edit rules
    #[command(subcommand)]
    Conf(ConfCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), or write them all into a directory
    Man(ManArgs),
}

/// `pe-analytics man [COMMAND...] [--out-dir DIR]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. opt-out or conf set [default: the top-level page]
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Vec<String>,
    /// Write every page (pe-analytics.1, pe-analytics-opt-out.1, ...) into DIR instead, and print
    /// their paths (for packagers)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Which pe.conf to work on.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = LAYERS_HELP)]
pub struct PeConfLayer {
    /// Work on pe.conf (default path /etc/puppetlabs/enterprise/conf.d/pe.conf, where PE's installer
    /// keeps it). Without any layer flag, every layer that applies on this host is done: pe.conf when it
    /// exists at the default path, then the classifier (with its Puppet runs and reloads) when a PE
    /// connection is configured.
    #[arg(
        long = "pe-conf",
        value_name = "PATH",
        num_args = 0..=1,
        default_missing_value = crate::peconf::DEFAULT_PE_CONF
    )]
    pub pe_conf: Option<PathBuf>,
}

pub use super::connection_args::ClassifierLayer;

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = OUTPUT_HELP)]
pub struct OutputArgs {
    /// Output format: short text for people, or a stable JSON object for pipelines
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = CHANGE_HELP)]
pub struct ChangeArgs {
    /// Show a unified diff of what would change and write nothing; exit 2 if anything would change
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Write nothing and print nothing but the verdict; exit 0 if nothing would change, 2 if something would
    #[arg(long)]
    pub check: bool,
    /// Before writing, keep a copy as <file>.bak.<UTC timestamp> beside it, with the same mode
    #[arg(long)]
    pub backup: bool,
    /// Also print the unified diff of what is changed (secrets masked)
    #[arg(long)]
    pub diff: bool,
}

/// After the classifier change: the Puppet runs that apply it, and the
/// reloads PE 2016.5.1 needs.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = RUNS_HELP)]
pub struct EnforceArgs {
    /// Run Puppet on these nodes instead of the ones the classifier names
    /// (puppet_master_host, console_host, nodes pinned to PE Master and PE Console)
    #[arg(long, value_name = "NODE,...", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Change the classifier only: start no Puppet run, print the command to run later
    #[arg(long)]
    pub no_run: bool,
    /// How long to wait for the Puppet runs before stopping the job (e.g. 30m, 90s, 45; at most 7 days)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub wait_timeout: std::time::Duration,
    /// The PE version (YEAR.RELEASE.PATCH) instead of detecting it
    #[arg(
        long,
        value_name = "VERSION",
        long_help = "The PE version (YEAR.RELEASE.PATCH, e.g. 2016.5.1). Default: the first line of \
--pe-version-file, else the service_version of the console services' status endpoint"
    )]
    pub pe_version: Option<String>,
    /// File holding the PE version
    #[arg(long, value_name = "FILE", default_value = crate::enforce::plan::DEFAULT_PE_VERSION_FILE)]
    pub pe_version_file: PathBuf,
    /// On PE 2016.5.1: do not reload pe-console-services and pe-puppetserver after the runs
    #[arg(long)]
    pub no_reload: bool,
    /// Lock file that serialises writing runs on this host [default: /run/lock/pe-analytics.lock
    /// for root, else $XDG_RUNTIME_DIR/pe-analytics.lock or /tmp/pe-analytics-<uid>.lock]
    #[arg(long, value_name = "FILE", env = "PE_ANALYTICS_LOCK_FILE")]
    pub lock_file: Option<PathBuf>,
}

/// The longest `--wait-timeout`: a week (Puppet runs take minutes; a larger
/// value is a typo, and beyond about 5·10^11 years one overflows the clock).
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The longest `--timeout`: a day per connection, answer or read.
pub const MAX_TIMEOUT_SECS: f64 = 24.0 * 3600.0;

/// The shortest: one millisecond (anything less rounds to no time at all).
const MIN_SECS: f64 = 0.001;

/// A duration between [`MIN_SECS`] and `max`: `30m`, `90s`, `1h 30m`
/// (humantime), or a bare number of seconds (`45`, `2.5`).
pub fn parse_bounded_duration(
    s: &str,
    max: std::time::Duration,
) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let too_long = || {
        format!(
            "must be at most {} ({} seconds)",
            humantime::format_duration(max),
            max.as_secs()
        )
    };
    let d = if let Ok(secs) = t.parse::<f64>() {
        if !secs.is_finite() || secs < MIN_SECS {
            return Err(format!(
                "must be a positive number of seconds (at least {MIN_SECS}) or a duration such as 90s, 30m, 1h"
            ));
        }
        if secs > max.as_secs_f64() {
            return Err(too_long());
        }
        std::time::Duration::from_secs_f64(secs)
    } else {
        humantime::parse_duration(t).map_err(|e| {
            format!("{e}: give seconds (e.g. 45) or a duration such as 90s, 30m, 1h")
        })?
    };
    if d.as_secs_f64() < MIN_SECS {
        return Err(format!("must be at least {MIN_SECS} s"));
    }
    if d > max {
        return Err(too_long());
    }
    Ok(d)
}

/// `--wait-timeout`: `30m`, `90s`, `1h 30m` (humantime), or a bare number of
/// seconds; at most [`MAX_WAIT`].
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    parse_bounded_duration(s, MAX_WAIT)
}

/// `--timeout`: seconds (or a duration such as `90s`), at most a day.
pub fn parse_timeout_secs(s: &str) -> Result<f64, String> {
    parse_bounded_duration(s, std::time::Duration::from_secs_f64(MAX_TIMEOUT_SECS))
        .map(|d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("7days").unwrap(), MAX_WAIT);
        for bad in [
            "1e20",
            "1e400",
            "inf",
            "NaN",
            "-5",
            "0",
            "0s",
            "8days",
            "1000000000000y",
            "99999999999999999999999s",
            "1e-9",
            "soon",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(parse_duration("1e20")
            .unwrap_err()
            .contains("at most 7days"));
        assert_eq!(parse_timeout_secs("2.5").unwrap(), 2.5);
        assert_eq!(parse_timeout_secs("90s").unwrap(), 90.0);
        assert!(parse_timeout_secs("1e20").is_err());
        assert!(parse_timeout_secs("86401").is_err());
        assert!(parse_timeout_secs("0").is_err());
    }
}

#[derive(Debug, Args)]
// Field order is help order: headings appear in the order of their first flag.
pub struct OptOutArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// With --classifier: also remove send_analytics_data from puppet_enterprise::profile::master
    /// and ::console in other groups (classes or configuration data) where it defeats the change
    #[arg(long, requires = "classifier", help_heading = CHANGE_HELP)]
    pub fix_overrides: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
}

#[derive(Debug, Args)]
pub struct OptInArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Write "puppet_enterprise::send_analytics_data": true instead of removing the key
    /// (removing it restores PE's default, which is true)
    #[arg(long, help_heading = CHANGE_HELP)]
    pub explicit: bool,
    /// With --classifier: also remove send_analytics_data from puppet_enterprise::profile::master
    /// and ::console in other groups (classes or configuration data) where it defeats the change
    #[arg(long, requires = "classifier", help_heading = CHANGE_HELP)]
    pub fix_overrides: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    /// Accepted for symmetry with opt-out and opt-in: check never writes anything
    #[arg(long, help_heading = CHANGE_HELP)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The nodes to report on instead of the ones the classifier names
    #[arg(long, value_name = "NODE,...", value_delimiter = ',', help_heading = NODES_HELP)]
    pub nodes: Vec<String>,
    /// The file PE (2018.1+) creates when analytics collection is off, checked when this host is
    /// one of the nodes
    #[arg(
        long,
        value_name = "FILE",
        env = "PE_ANALYTICS_MARKER_FILE",
        default_value = "/etc/puppetlabs/analytics-opt-out",
        help_heading = NODES_HELP
    )]
    pub marker_file: PathBuf,
    /// The PE version (YEAR.RELEASE.PATCH) instead of detecting it
    #[arg(long, value_name = "VERSION", help_heading = NODES_HELP)]
    pub pe_version: Option<String>,
    /// File holding the PE version
    #[arg(long, value_name = "FILE", default_value = crate::enforce::plan::DEFAULT_PE_VERSION_FILE, help_heading = NODES_HELP)]
    pub pe_version_file: PathBuf,
    /// PuppetDB URL, with or without /pdb/query/v4, where each node's latest catalog and report
    /// prove the change applied [default: https://<--server>:8081, else https://<this host's
    /// certname>:8081]
    #[arg(
        long,
        value_name = "URL",
        env = "PE_ANALYTICS_PUPPETDB_URL",
        help_heading = super::connection_args::CONNECTION_HELP
    )]
    pub puppetdb_url: Option<String>,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = FILE_HELP)]
pub struct FileArg {
    /// The HOCON file to work on
    #[arg(long, short = 'f', value_name = "FILE", default_value = crate::peconf::DEFAULT_PE_CONF)]
    pub file: PathBuf,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = CHANGE_HELP)]
pub struct WriteArgs {
    /// Print the whole resulting document and write nothing (secrets included: it is the file)
    #[arg(long, conflicts_with = "dry_run")]
    pub stdout: bool,
    /// Print a unified diff of the change and write nothing; exit 2 if anything would change
    #[arg(long)]
    pub dry_run: bool,
    /// Before writing, keep a copy as <file>.bak.<UTC timestamp> beside it, with the same mode
    #[arg(long)]
    pub backup: bool,
    /// Output format: short text for people, or a stable JSON object for pipelines
    #[arg(
        long,
        value_enum,
        default_value_t = Format::Text,
        conflicts_with = "stdout",
        help_heading = OUTPUT_HELP
    )]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ConfCommand {
    // Positionals first: a flattened struct's help heading carries over to
    // the fields after it.
    /// Print a key's value as HOCON text; exit 3 if the key is not set
    Get {
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        output: OutputArgs,
        /// Print the values of secret keys (passwords, tokens, private keys) instead of <redacted>
        #[arg(long)]
        show_secrets: bool,
    },
    /// Set a key to a HOCON value, editing the file as ruby-hocon would
    Set {
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
        /// HOCON value text: false, "text", [1, 2], {a: 1}
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        write: WriteArgs,
        /// Write a value that PE cannot use anyway: puppet_enterprise::send_analytics_data set to
        /// anything but true or false (the class parameter is Boolean, so catalog compilation
        /// would fail on every infrastructure node)
        #[arg(long, help_heading = CHANGE_HELP)]
        force: bool,
    },
    /// Remove every setting of a key
    Unset {
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        write: WriteArgs,
    },
}

/// `pe-analytics report`: where the collected data lives, plus the status flags (for the
/// opt-out state). `--certname` (this host) is among the connection flags; `--primary` names the
/// primary server, which may be another host.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The primary server whose facts, Puppet Server and files are reported [default: the host
    /// of --server, else this host's certname]
    #[arg(
        long,
        value_name = "CERTNAME",
        env = "PE_ANALYTICS_PRIMARY",
        help_heading = REPORT_HELP
    )]
    pub primary: Option<String>,
    /// PuppetDB URL, with or without /pdb/query/v4 [default: https://<--primary>:8081]
    #[arg(
        long,
        value_name = "URL",
        env = "PE_ANALYTICS_PUPPETDB_URL",
        help_heading = super::connection_args::CONNECTION_HELP
    )]
    pub puppetdb_url: Option<String>,
    /// Puppet Server URL, for its status API (JRuby and JVM figures) [default:
    /// https://<--primary>:8140]
    #[arg(
        long,
        value_name = "URL",
        env = "PE_ANALYTICS_PUPPETSERVER_URL",
        help_heading = super::connection_args::CONNECTION_HELP
    )]
    pub puppetserver_url: Option<String>,
    /// PE's license file
    #[arg(
        long,
        value_name = "FILE",
        default_value = crate::report::license::DEFAULT_LICENSE_FILE,
        help_heading = REPORT_HELP
    )]
    pub license_file: PathBuf,
    /// Puppet Server's product.conf, where PE names its product (product.name)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/puppetlabs/puppetserver/conf.d/product.conf",
        help_heading = REPORT_HELP
    )]
    pub product_conf: PathBuf,
    /// The primary's puppet.conf (its autosign setting)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/puppetlabs/puppet/puppet.conf",
        help_heading = REPORT_HELP
    )]
    pub puppet_conf: PathBuf,
    /// Puppet Server's JRuby settings (jruby-puppet.max-active-instances,
    /// max-requests-per-instance)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/puppetlabs/puppetserver/conf.d/pe-puppet-server.conf",
        help_heading = REPORT_HELP
    )]
    pub puppetserver_conf: PathBuf,
    /// The file PE (2018.1+) creates when analytics collection is off, checked when this host is
    /// one of the nodes
    #[arg(
        long,
        value_name = "FILE",
        env = "PE_ANALYTICS_MARKER_FILE",
        default_value = "/etc/puppetlabs/analytics-opt-out",
        help_heading = NODES_HELP
    )]
    pub marker_file: PathBuf,
    /// The PE version (YEAR.RELEASE.PATCH) instead of detecting it; it chooses PE's list
    #[arg(long, value_name = "VERSION", help_heading = NODES_HELP)]
    pub pe_version: Option<String>,
    /// File holding the PE version
    #[arg(long, value_name = "FILE", default_value = crate::enforce::plan::DEFAULT_PE_VERSION_FILE, help_heading = NODES_HELP)]
    pub pe_version_file: PathBuf,
    /// Not taken by report (refused with a usage error): PE's analytics describe the whole
    /// installation; `status --nodes` shows given nodes' opt-out state
    #[arg(long, value_name = "NODE,...", value_delimiter = ',', hide = true)]
    pub nodes: Vec<String>,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
}
