//! The flags of every command that talks to PE: the classifier layer switch
//! and the connection flags (a contract: names are checked from outside).
//!
//! `opt-out`, `opt-in`, `check`, `status` and `report` all flatten
//! [`ClassifierLayer`], so one set of connection flags (or the
//! `PE_ANALYTICS_*` environment variables behind them) works for every one of
//! them: a CI job sets them once.

use crate::pe::config::Requested;
use clap::Args;
use std::path::PathBuf;

/// `--classifier` and the connection flags.
#[derive(Debug, Args, Clone)]
pub struct ClassifierLayer {
    /// Work on the node classifier of a running PE (the "PE Infrastructure" node group, class
    /// puppet_enterprise, parameter send_analytics_data), then run Puppet on the nodes that need it
    /// (unless --no-run) and, on PE 2016.5.1, reload services. Without --pe-conf only this layer
    /// runs; with both, pe.conf comes first.
    #[arg(long, help_heading = super::args::LAYERS_HELP)]
    pub classifier: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

pub const CONNECTION_HELP: &str = "Connecting to PE";

/// The environment variables behind the connection flags, in the order of
/// the flags (shown in `--help`, the man pages and `pe-sim --print-env`).
pub const ENV_CLASSIFIER_URL: &str = "PE_ANALYTICS_CLASSIFIER_URL";
pub const ENV_ORCHESTRATOR_URL: &str = "PE_ANALYTICS_ORCHESTRATOR_URL";
pub const ENV_SERVER: &str = "PE_ANALYTICS_SERVER";
pub const ENV_CACERT: &str = "PE_ANALYTICS_CACERT";
pub const ENV_CERT: &str = "PE_ANALYTICS_CERT";
pub const ENV_KEY: &str = "PE_ANALYTICS_KEY";
pub const ENV_TOKEN_FILE: &str = "PE_ANALYTICS_TOKEN_FILE";
pub const ENV_TIMEOUT: &str = "PE_ANALYTICS_TIMEOUT";
pub const ENV_CERTNAME: &str = "PE_ANALYTICS_CERTNAME";

/// How to reach and authenticate to PE. Flags beat their environment
/// variables, which beat the defaults (those follow PE's own conventions).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = CONNECTION_HELP)]
pub struct ConnectionArgs {
    /// Host of the PE console and primary server: shorthand for both URLs on PE's standard ports
    #[arg(
        long,
        value_name = "HOST",
        env = ENV_SERVER,
        long_help = "Host of the PE console and primary server: shorthand for \
--classifier-url https://HOST:4433 and --orchestrator-url https://HOST:8143 (an explicit URL \
flag wins)"
    )]
    pub server: Option<String>,
    /// Node classifier API URL (https://HOST:4433, with or without /classifier-api)
    #[arg(
        long,
        value_name = "URL",
        env = ENV_CLASSIFIER_URL,
        long_help = "Node classifier API URL: https://HOST:PORT, with or without its service path \
/classifier-api (both mean the same). Default: https://<console host>:4433/classifier-api, where \
the console host is --server, else the host of `service-url` in puppet-access.conf \
(~/.puppetlabs/client-tools/puppet-access.conf, ~/.puppetlabs/puppet-access.conf, then \
/etc/puppetlabs/client-tools/puppet-access.conf), else this host's certname"
    )]
    pub classifier_url: Option<String>,
    /// Orchestrator API URL (https://HOST:8143, with or without /orchestrator/v1)
    #[arg(
        long,
        value_name = "URL",
        env = ENV_ORCHESTRATOR_URL,
        long_help = "Orchestrator API URL: https://HOST:PORT, with or without its service path \
/orchestrator/v1 (both mean the same). Default: https://<--server>:8143, else `service-url` of \
orchestrator.conf (~/.puppetlabs/client-tools/orchestrator.conf, then \
/etc/puppetlabs/client-tools/orchestrator.conf), else https://<this host's certname>:8143"
    )]
    pub orchestrator_url: Option<String>,
    /// PE CA certificate, the only CA trusted [default: /etc/puppetlabs/puppet/ssl/certs/ca.pem]
    #[arg(
        long,
        value_name = "FILE",
        env = ENV_CACERT,
        long_help = "PE CA certificate (PEM): the only CA trusted; the system store is never used and \
the server's host name is always checked. Default: /etc/puppetlabs/puppet/ssl/certs/ca.pem"
    )]
    pub cacert: Option<PathBuf>,
    /// Client certificate on PE's RBAC allowlist [default: this node's agent certificate]
    #[arg(
        long,
        value_name = "FILE",
        requires = "key",
        env = ENV_CERT,
        long_help = "Client certificate (PEM) whose certname is on PE's allowlist \
(/etc/puppetlabs/console-services/rbac-certificate-allowlist). Default: this node's agent \
certificate, <ssldir>/certs/<certname>.pem, used when it and its key exist; certname and ssldir \
from puppet.conf ([agent], then [main]; default the FQDN and /etc/puppetlabs/puppet/ssl)"
    )]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PKCS#1 "RSA PRIVATE KEY" as Puppet writes it, PKCS#8 or SEC1)
    #[arg(
        long,
        value_name = "FILE",
        requires = "cert",
        env = ENV_KEY,
        long_help = "Private key of --cert (PEM, unencrypted: PKCS#1 \"BEGIN RSA PRIVATE KEY\" as Puppet \
writes it, PKCS#8 or SEC1). Default: <ssldir>/private_keys/<certname>.pem"
    )]
    pub key: Option<PathBuf>,
    /// File holding an RBAC token, sent as X-Authentication [default: ~/.puppetlabs/token]
    #[arg(
        long,
        value_name = "FILE",
        env = ENV_TOKEN_FILE,
        long_help = "File holding an RBAC token (one line, as `puppet-access login` writes it), sent in \
the X-Authentication header and never printed. Without it: the token in the environment variable \
PE_RBAC_TOKEN, else the `token-file` of puppet-access.conf, else ~/.puppetlabs/token when it exists. \
A token and a certificate may both be given; PE then goes by the token"
    )]
    pub token_file: Option<PathBuf>,
    /// Seconds allowed to connect (TCP and TLS), to wait for each answer, and for each read of it
    #[arg(
        long,
        value_name = "SECS",
        env = ENV_TIMEOUT,
        default_value_t = crate::pe::config::DEFAULT_TIMEOUT_SECS,
        value_parser = super::args::parse_timeout_secs,
        long_help = "Seconds (or a duration such as 90s) allowed to connect to PE (TCP and TLS \
handshake), then to wait for each answer, and then for each read of the answer's body; a message \
says which of them ran out. At most a day"
    )]
    pub timeout: f64,
    /// This host's certname [default: certname in puppet.conf, else the FQDN]
    #[arg(
        long,
        value_name = "CERTNAME",
        env = ENV_CERTNAME,
        long_help = "This host's certname: names its agent certificate (the default --cert and --key), \
the default URLs' host, and tells whether this host is one of the nodes (local reloads, the \
marker file). Default: `certname` in puppet.conf ([agent], then [main]; /etc/puppetlabs/puppet, or \
PE_ANALYTICS_PUPPET_CONFDIR), else the FQDN; `puppet config print` only when the file cannot say"
    )]
    pub certname: Option<String>,
}

impl ConnectionArgs {
    pub fn requested(&self) -> Requested {
        Requested {
            classifier_url: self.classifier_url.clone(),
            orchestrator_url: self.orchestrator_url.clone(),
            server: self.server.clone(),
            cacert: self.cacert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            token_file: self.token_file.clone(),
            timeout_secs: Some(self.timeout),
        }
    }
}
