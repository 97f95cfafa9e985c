//! The command line, declared with clap. Names, flags and exit codes here are
//! a contract: checks outside the project call them exactly so.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  done, or already in the wanted state (nothing written)
  1  error (bad input, unreadable or malformed file, refused write)
  2  changes pending (--dry-run, --check, check) or not opted out
  3  key not set (conf get)
  4  the change was made but enforcement failed (a Puppet run failed, timed out or was
     interrupted, a node was not connected, or a reload failed); the output says what remains";

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
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn analytics data collection off
    #[command(after_help = EXIT_CODES)]
    OptOut(OptOutArgs),
    /// Turn analytics data collection back on
    #[command(after_help = EXIT_CODES)]
    OptIn(OptInArgs),
    /// Report whether the installation is opted out, changing nothing
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// One table of every layer: opted out or not, and why (exit 0 opted out everywhere, 2 not)
    #[command(after_help = EXIT_CODES)]
    Status(StatusArgs),
    /// Show what PE's analytics collect about this installation (license, versions, node and
    /// OS counts from PuppetDB), item by item, and the opt-out state
    #[command(after_help = REPORT_EXIT_CODES)]
    Report(ReportArgs),
    /// Read and edit any pe.conf key with ruby-hocon's edit rules
    #[command(subcommand)]
    Conf(ConfCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output
    Man,
}

/// Which pe.conf to work on.
#[derive(Debug, Args, Clone)]
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
#[command(next_help_heading = "Puppet runs and reloads (classifier layer)")]
pub struct EnforceArgs {
    /// Run Puppet on these nodes instead of the ones the classifier names
    /// (puppet_master_host, console_host, nodes pinned to PE Master and PE Console)
    #[arg(long, value_name = "NODE,...", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Change the classifier only: start no Puppet run, print the command to run later
    #[arg(long)]
    pub no_run: bool,
    /// How long to wait for the Puppet runs before stopping the job (e.g. 30m, 90s, 45)
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
    /// This host's certname [default: `puppet config print certname`, else the FQDN]
    #[arg(long, value_name = "CERTNAME")]
    pub certname: Option<String>,
    /// On PE 2016.5.1: do not reload pe-console-services and pe-puppetserver after the runs
    #[arg(long)]
    pub no_reload: bool,
}

/// `30m`, `90s`, `1h 30m` (humantime), or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs > 0.0 && secs.is_finite() {
            return Ok(std::time::Duration::from_secs_f64(secs));
        }
        return Err("must be positive".into());
    }
    humantime::parse_duration(t).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct OptOutArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    /// With --classifier: also remove send_analytics_data from puppet_enterprise::profile::master
    /// and ::console in other groups (classes or configuration data) where it defeats the change
    #[arg(long, requires = "classifier")]
    pub fix_overrides: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct OptInArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    /// With --classifier: also remove send_analytics_data from puppet_enterprise::profile::master
    /// and ::console in other groups (classes or configuration data) where it defeats the change
    #[arg(long, requires = "classifier")]
    pub fix_overrides: bool,
    /// Write "puppet_enterprise::send_analytics_data": true instead of removing the key
    /// (removing it restores PE's default, which is true)
    #[arg(long)]
    pub explicit: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    /// Accepted for symmetry with opt-out and opt-in: check never writes anything
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub layer: PeConfLayer,
    #[command(flatten)]
    pub classifier: ClassifierLayer,
    /// The nodes to report on instead of the ones the classifier names
    #[arg(long, value_name = "NODE,...", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// This host's certname [default: `puppet config print certname`, else the FQDN]
    #[arg(long, value_name = "CERTNAME")]
    pub certname: Option<String>,
    /// The file PE (2018.1+) creates when analytics collection is off, checked when this host is
    /// one of the nodes
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/puppetlabs/analytics-opt-out"
    )]
    pub marker_file: PathBuf,
    /// The PE version (YEAR.RELEASE.PATCH) instead of detecting it
    #[arg(long, value_name = "VERSION")]
    pub pe_version: Option<String>,
    /// File holding the PE version
    #[arg(long, value_name = "FILE", default_value = crate::enforce::plan::DEFAULT_PE_VERSION_FILE)]
    pub pe_version_file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct FileArg {
    /// The HOCON file to work on
    #[arg(long, short = 'f', value_name = "FILE", default_value = crate::peconf::DEFAULT_PE_CONF)]
    pub file: PathBuf,
}

#[derive(Debug, Args, Clone)]
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
    #[arg(long, value_enum, default_value_t = Format::Text, conflicts_with = "stdout")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ConfCommand {
    /// Print a key's value as HOCON text; exit 3 if the key is not set
    #[command(after_help = KEY_HELP)]
    Get {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        output: OutputArgs,
        /// Print the values of secret keys (passwords, tokens, private keys) instead of <redacted>
        #[arg(long)]
        show_secrets: bool,
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
    },
    /// Set a key to a HOCON value, editing the file as ruby-hocon would
    #[command(after_help = KEY_HELP)]
    Set {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        write: WriteArgs,
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
        /// HOCON value text: false, "text", [1, 2], {a: 1}
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Remove every setting of a key
    #[command(after_help = KEY_HELP)]
    Unset {
        #[command(flatten)]
        file: FileArg,
        #[command(flatten)]
        write: WriteArgs,
        /// A HOCON path expression, e.g. '"puppet_enterprise::x".y' or puppet_enterprise::send_analytics_data
        key: String,
    },
}

const KEY_HELP: &str = "\
KEY is a HOCON path expression as ruby-hocon takes it: '.' separates keys, and a key containing ':'
must be double-quoted ('\"puppet_enterprise::x\".y'). For convenience, when KEY has no double quote,
each '.'-separated part that contains ':' is quoted for you, so puppet_enterprise::send_analytics_data
means the single key \"puppet_enterprise::send_analytics_data\".

Exit codes:
  0  done, or nothing to change
  1  error
  2  changes pending (--dry-run)
  3  key not set (get)";

pub const REPORT_EXIT_CODES: &str = "\
Exit codes:
  0  the report was produced; every item that applies here was gathered (items that do not
     apply, such as a missing license file, are shown as absent)
  1  an item could not be gathered: a malformed license file (FILE:LINE), PuppetDB unreachable
     or answering an error or an unexpected shape, bad flags; the report is still printed";

/// `pe-analytics report`: the status flags (for the opt-out state) plus where the collected data lives.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// PuppetDB base URL [default: https://<--server>:8081, else https://<this host's certname>:8081]
    #[arg(long, value_name = "URL", help_heading = super::connection_args::CONNECTION_HELP)]
    pub puppetdb_url: Option<String>,
    /// PE's license file
    #[arg(long, value_name = "FILE", default_value = crate::report::license::DEFAULT_LICENSE_FILE)]
    pub license_file: PathBuf,
    #[command(flatten)]
    pub status: StatusArgs,
}
