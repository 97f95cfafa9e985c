//! Where the connection settings come from when flags don't give them,
//! following PE's own conventions (documented in docs/classifier.md).
//!
//! | setting | order |
//! |---|---|
//! | classifier URL | `--classifier-url`; `https://<--server>:4433/classifier-api`; the host of `service-url` in puppet-access.conf (user file, then `/etc/puppetlabs/client-tools/puppet-access.conf`) on port 4433; `https://<this host's certname>:4433/classifier-api` |
//! | orchestrator URL | `--orchestrator-url`; `https://<--server>:8143`; `options.service-url` of orchestrator.conf (`~/.puppetlabs/client-tools/`, then `/etc/puppetlabs/client-tools/`); `https://<certname>:8143` |
//! | CA | `--cacert`; `/etc/puppetlabs/puppet/ssl/certs/ca.pem` |
//! | certificate, key | `--cert`/`--key`; `/etc/puppetlabs/puppet/ssl/{certs,private_keys}/<certname>.pem` when both exist |
//! | token | `--token-file`; `PE_RBAC_TOKEN`; `token-file` of puppet-access.conf; `~/.puppetlabs/token` when it exists |
//! | certname | `certname` in puppet.conf (`[agent]`, then `[main]`), else the FQDN; `puppet config print` only where the file cannot say ([`super::identity`]) |
//! | ssldir | `ssldir` in puppet.conf, else `$confdir/ssl` (`/etc/puppetlabs/puppet/ssl`) |

use super::error::PeError;
use super::http::{ClientConfig, RetryPolicy, Secret};
use super::identity;
use serde_json::Value;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_CACERT: &str = "/etc/puppetlabs/puppet/ssl/certs/ca.pem";
pub const GLOBAL_CLIENT_TOOLS: &str = "/etc/puppetlabs/client-tools";
pub const CLASSIFIER_PORT: u16 = 4433;
pub const ORCHESTRATOR_PORT: u16 = 8143;
pub const TOKEN_ENV: &str = "PE_RBAC_TOKEN";
pub const DEFAULT_TIMEOUT_SECS: f64 = 30.0;

/// What the command line said (all optional).
#[derive(Clone, Debug, Default)]
pub struct Requested {
    pub classifier_url: Option<String>,
    pub orchestrator_url: Option<String>,
    pub server: Option<String>,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub timeout_secs: Option<f64>,
}

/// The machine the tool runs on: home directory, environment, and this
/// host's Puppet identity (certname, ssldir). Abstracted so the rules can be
/// tested.
pub struct Host {
    pub home: Option<PathBuf>,
    pub token_env: Option<String>,
    pub global_client_tools: PathBuf,
    certname: OnceCell<String>,
    certname_fn: Box<dyn Fn() -> String>,
    ssldir: OnceCell<PathBuf>,
    ssldir_fn: Box<dyn Fn() -> PathBuf>,
}

impl Host {
    /// This machine. Its identity is read from puppet.conf only when a
    /// default needs it (see [`super::identity`]).
    pub fn current() -> Host {
        Host {
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
            token_env: std::env::var(TOKEN_ENV).ok(),
            global_client_tools: PathBuf::from(GLOBAL_CLIENT_TOOLS),
            certname: OnceCell::new(),
            certname_fn: Box::new(|| identity::discover().certname.clone()),
            ssldir: OnceCell::new(),
            ssldir_fn: Box::new(|| identity::discover().ssldir.clone()),
        }
    }

    /// This machine, with its certname given (`--certname`) instead of
    /// discovered: Puppet is then never asked, not even for the ssldir.
    pub fn current_with_certname(certname: Option<&str>) -> Host {
        let mut h = Host::current();
        if let Some(c) = certname {
            let c = c.to_string();
            h.certname_fn = Box::new(move || c.clone());
            h.ssldir_fn = Box::new(identity::discover_ssldir);
        }
        h
    }

    /// A made-up machine (tests).
    pub fn fake(home: Option<PathBuf>, token_env: Option<String>, certname: &str) -> Host {
        let c = certname.to_string();
        Host {
            home,
            token_env,
            global_client_tools: PathBuf::from("/nonexistent/client-tools"),
            certname: OnceCell::new(),
            certname_fn: Box::new(move || c.clone()),
            ssldir: OnceCell::new(),
            ssldir_fn: Box::new(|| PathBuf::from("/nonexistent/ssl")),
        }
    }

    /// This host's certname (computed once, only when needed).
    pub fn certname(&self) -> &str {
        self.certname.get_or_init(|| (self.certname_fn)())
    }

    /// This host's Puppet ssldir (computed once, only when needed).
    pub fn ssldir(&self) -> &Path {
        self.ssldir.get_or_init(|| (self.ssldir_fn)())
    }

    fn user_file(&self, rel: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(rel))
    }
}

/// A resolved setting and where it came from (shown in reports and errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
}

fn sourced<T>(value: T, source: impl Into<String>) -> Sourced<T> {
    Sourced {
        value,
        source: source.into(),
    }
}

/// Everything resolved.
#[derive(Debug)]
pub struct Connection {
    pub classifier_url: Sourced<String>,
    pub orchestrator_url: Sourced<String>,
    pub cacert: Sourced<PathBuf>,
    pub identity: Option<Sourced<(PathBuf, PathBuf)>>,
    pub token: Option<Sourced<Secret>>,
    pub timeout: Duration,
}

impl Connection {
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            cacert: self.cacert.value.clone(),
            identity: self.identity.as_ref().map(|i| i.value.clone()),
            token: self.token.as_ref().map(|t| t.value.clone()),
            timeout: self.timeout,
            connect_timeout: self.timeout,
            retry: RetryPolicy::default(),
        }
    }
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// First existing client-tools file among user and global locations.
fn client_tools_files(host: &Host, name: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = host.user_file(&format!(".puppetlabs/client-tools/{name}")) {
        v.push(p);
    }
    if name == "puppet-access.conf" {
        // 2016.4-2017.2 docs put the user file directly in ~/.puppetlabs.
        if let Some(p) = host.user_file(&format!(".puppetlabs/{name}")) {
            v.push(p);
        }
    }
    v.push(host.global_client_tools.join(name));
    v
}

/// A key of a client-tools file: the first file (user before global) that has it.
fn client_tools_value(host: &Host, file: &str, key: &str) -> Option<(String, PathBuf)> {
    for p in client_tools_files(host, file) {
        if let Some(j) = read_json(&p) {
            // orchestrator.conf nests its keys under "options"; puppet-access.conf is flat.
            let v = j
                .get("options")
                .and_then(|o| o.get(key))
                .or_else(|| j.get(key))
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(v) = v.filter(|s| !s.is_empty()) {
                return Some((v, p));
            }
        }
    }
    None
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_string())
}

fn https_url(host: &str, port: u16, path: &str) -> String {
    let h = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("https://{h}:{port}{path}")
}

fn expand_home(host: &Host, p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), &host.home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

/// A PE service, for [`service_url`]: what its URL's path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The node classifier, port 4433, `/classifier-api`.
    Classifier,
    /// The orchestrator, port 8143, `/orchestrator/v1`.
    Orchestrator,
    /// PuppetDB, port 8081, `/pdb/query/v4`.
    PuppetDb,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Classifier => "the node classifier",
            Service::Orchestrator => "the orchestrator",
            Service::PuppetDb => "PuppetDB",
        }
    }

    /// The path suffixes that name this service's API, longest first.
    fn paths(self) -> &'static [&'static str] {
        match self {
            Service::Classifier => &["/classifier-api/v1", "/classifier-api"],
            Service::Orchestrator => &["/orchestrator/v1", "/orchestrator"],
            Service::PuppetDb => &["/pdb/query/v4", "/pdb/query", "/pdb"],
        }
    }

    /// What the normalised URL ends with: the classifier's clients add
    /// `/v1/...` to `.../classifier-api`; the others add their whole path to
    /// the server's root.
    fn canonical_suffix(self) -> &'static str {
        match self {
            Service::Classifier => "/classifier-api",
            Service::Orchestrator | Service::PuppetDb => "",
        }
    }
}

/// Other PE APIs a URL may mistakenly name (e.g. puppet-access.conf's
/// `service-url`, which is RBAC's).
const OTHER_APIS: &[(&str, &str)] = &[
    ("/rbac-api", "RBAC"),
    ("/rbac-api/v1", "RBAC"),
    ("/status/v1", "the status service"),
    ("/activity-api", "the activity service"),
];

/// Checks and normalises a service URL given with or without its service
/// path: `https://pe:4433`, `https://pe:4433/` and
/// `https://pe:4433/classifier-api[/v1]` all give
/// `https://pe:4433/classifier-api`; `https://pe:8143/orchestrator/v1` gives
/// `https://pe:8143`. A path that is neither the service's nor another PE
/// API's is kept as a prefix (a reverse proxy), the service path added.
pub fn service_url(url: &str, flag: &str, service: Service) -> Result<String, PeError> {
    let url = url.trim();
    let example = match service {
        Service::Classifier => "https://pe.example.com:4433",
        Service::Orchestrator => "https://pe.example.com:8143",
        Service::PuppetDb => "https://pe.example.com:8081",
    };
    if !url.contains("://") {
        return Err(PeError::Config(format!(
            "{flag} {url}: not a URL; give one such as {example}"
        )));
    }
    let mut parsed = reqwest::Url::parse(url)
        .map_err(|e| PeError::Config(format!("{flag} {url}: not a URL ({e})")))?;
    if parsed.scheme() != "https" {
        return Err(PeError::Config(format!(
            "{flag} {url}: only https:// URLs are accepted (PE's APIs are HTTPS-only), e.g. {example}"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(PeError::Config(format!("{flag} {url}: no host")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(PeError::Config(format!(
            "{flag} {url}: a query or fragment has no place in a service URL; give e.g. {example}"
        )));
    }
    let path = parsed.path().trim_end_matches('/').to_string();
    let prefix = if let Some(p) = service.paths().iter().find_map(|s| path.strip_suffix(s)) {
        p.to_string()
    } else {
        let others = [
            Service::Classifier,
            Service::Orchestrator,
            Service::PuppetDb,
        ]
        .into_iter()
        .filter(|s| *s != service)
        .flat_map(|s| s.paths().iter().map(move |p| (*p, s.name())))
        .chain(OTHER_APIS.iter().copied());
        for (other, name) in others {
            if path.ends_with(other) {
                return Err(PeError::Config(format!(
                    "{flag} {url}: {other} is {name}'s API, not {}'s; give e.g. {example}",
                    service.name()
                )));
            }
        }
        path
    };
    parsed.set_path(&format!("{prefix}{}", service.canonical_suffix()));
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

/// Whether a classifier connection can be configured here without guessing,
/// and why: a URL flag or `--server`, a `service-url` in puppet-access.conf,
/// or this host being a PE node with its agent certificate, key and the CA in
/// Puppet's default places (the primary). `None`: the classifier layer does
/// not apply on this host unless asked for with `--classifier`.
pub fn classifier_configured(req: &Requested, host: &Host) -> Option<String> {
    if req.classifier_url.is_some() {
        return Some("--classifier-url".into());
    }
    if req.server.is_some() {
        return Some("--server".into());
    }
    if let Some((_, p)) = client_tools_value(host, "puppet-access.conf", "service-url") {
        return Some(format!("service-url in {}", p.display()));
    }
    let name = host.certname();
    let ca = host.ssldir().join("certs/ca.pem");
    let c = host.ssldir().join(format!("certs/{name}.pem"));
    let k = host.ssldir().join(format!("private_keys/{name}.pem"));
    (ca.is_file() && c.is_file() && k.is_file())
        .then(|| format!("agent certificate of {name} in {}", host.ssldir().display()))
}

/// Resolves the classifier/orchestrator URLs, CA, certificate and token.
pub fn resolve(req: &Requested, host: &Host) -> Result<Connection, PeError> {
    if let Some(s) = &req.server {
        if s.is_empty() || s.contains('/') {
            return Err(PeError::Config(format!(
                "--server {s}: give a host name (e.g. pe.example.com), not a URL"
            )));
        }
    }
    let classifier_url = if let Some(u) = &req.classifier_url {
        sourced(
            service_url(u, "--classifier-url", Service::Classifier)?,
            "--classifier-url",
        )
    } else if let Some(s) = &req.server {
        sourced(https_url(s, CLASSIFIER_PORT, "/classifier-api"), "--server")
    } else if let Some((h, p)) = client_tools_value(host, "puppet-access.conf", "service-url")
        .and_then(|(u, p)| host_of(&u).map(|h| (h, p)))
    {
        sourced(
            https_url(&h, CLASSIFIER_PORT, "/classifier-api"),
            format!("service-url host in {}", p.display()),
        )
    } else {
        sourced(
            https_url(host.certname(), CLASSIFIER_PORT, "/classifier-api"),
            "this host's certname",
        )
    };
    let orchestrator_url = if let Some(u) = &req.orchestrator_url {
        sourced(
            service_url(u, "--orchestrator-url", Service::Orchestrator)?,
            "--orchestrator-url",
        )
    } else if let Some(s) = &req.server {
        sourced(https_url(s, ORCHESTRATOR_PORT, ""), "--server")
    } else if let Some((u, p)) = client_tools_value(host, "orchestrator.conf", "service-url") {
        let source = format!("service-url in {}", p.display());
        sourced(service_url(&u, &source, Service::Orchestrator)?, source)
    } else {
        sourced(
            https_url(host.certname(), ORCHESTRATOR_PORT, ""),
            "this host's certname",
        )
    };
    let cacert = match &req.cacert {
        Some(p) => sourced(p.clone(), "--cacert"),
        None => sourced(host.ssldir().join("certs/ca.pem"), "default"),
    };
    let identity = match (&req.cert, &req.key) {
        (Some(c), Some(k)) => Some(sourced((c.clone(), k.clone()), "--cert/--key")),
        (Some(_), None) | (None, Some(_)) => {
            return Err(PeError::Config("--cert and --key go together".to_string()))
        }
        (None, None) => {
            let name = host.certname();
            let c = host.ssldir().join(format!("certs/{name}.pem"));
            let k = host.ssldir().join(format!("private_keys/{name}.pem"));
            (c.is_file() && k.is_file())
                .then(|| sourced((c, k), format!("agent certificate of {name}")))
        }
    };
    let token = resolve_token(req, host)?;
    if identity.is_none() && token.is_none() {
        return Err(PeError::Config(format!(
            "no credentials for PE: give a client certificate on the RBAC allowlist (--cert/--key; \
default {}/certs/<certname>.pem and private_keys/<certname>.pem, not found for certname {}) or an \
RBAC token (--token-file, {TOKEN_ENV}, or ~/.puppetlabs/token from `puppet-access login`)",
            host.ssldir().display(),
            host.certname()
        )));
    }
    let secs = req.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(PeError::Config(
            "--timeout must be a positive number of seconds".into(),
        ));
    }
    Ok(Connection {
        classifier_url,
        orchestrator_url,
        cacert,
        identity,
        token,
        timeout: Duration::from_secs_f64(secs),
    })
}

fn read_token(path: &Path, source: String) -> Result<Sourced<Secret>, PeError> {
    let bytes = crate::files::read_regular(path, 64 * 1024).map_err(|e| {
        PeError::Config(format!(
            "cannot read the RBAC token file ({e}); run `puppet-access login` or give --token-file"
        ))
    })?;
    let text = String::from_utf8_lossy(&bytes);
    warn_if_readable_by_others(path);
    let t = text.trim();
    if t.is_empty() {
        return Err(PeError::Config(format!(
            "the RBAC token file {} is empty; run `puppet-access login`",
            path.display()
        )));
    }
    Ok(sourced(Secret::new(t), source))
}

/// A token file that group or others may read hands the token to them:
/// `puppet-access login` writes it 0600. Said once per process.
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            super::error::warn_once(format!(
                "the RBAC token file {} has mode {mode:04o}: its group or other users may read the token (and act as you in PE). Make it private: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
}

fn resolve_token(req: &Requested, host: &Host) -> Result<Option<Sourced<Secret>>, PeError> {
    if let Some(p) = &req.token_file {
        return read_token(p, format!("--token-file {}", p.display())).map(Some);
    }
    if let Some(t) = host.token_env.as_deref().map(str::trim) {
        if !t.is_empty() {
            return Ok(Some(sourced(Secret::new(t), TOKEN_ENV)));
        }
    }
    if let Some((p, conf)) = client_tools_value(host, "puppet-access.conf", "token-file") {
        let path = expand_home(host, &p);
        if path.is_file() {
            return read_token(&path, format!("token-file in {}", conf.display())).map(Some);
        }
    }
    if let Some(p) = host.user_file(".puppetlabs/token") {
        if p.is_file() {
            return read_token(&p, p.display().to_string()).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    #[test]
    fn a_given_certname_is_used_without_discovery() {
        let h = Host::current_with_certname(Some("given.example.test"));
        assert_eq!(h.certname(), "given.example.test");
    }

    #[test]
    fn defaults_follow_certname_then_config_then_server_then_flags() {
        let home = home_with(&[(".puppetlabs/token", "tok\n")]);
        let host = Host::fake(Some(home.path().into()), None, "pe.example.test");
        let c = resolve(&Requested::default(), &host).unwrap();
        assert_eq!(
            c.classifier_url.value,
            "https://pe.example.test:4433/classifier-api"
        );
        assert_eq!(c.orchestrator_url.value, "https://pe.example.test:8143");
        assert_eq!(c.token.as_ref().unwrap().value.expose(), "tok");

        let home = home_with(&[
            (".puppetlabs/token", "tok"),
            (
                ".puppetlabs/client-tools/puppet-access.conf",
                r#"{"service-url": "https://console.example.test:4433/rbac-api"}"#,
            ),
            (
                ".puppetlabs/client-tools/orchestrator.conf",
                r#"{"options": {"service-url": "https://orch.example.test:8143/"}}"#,
            ),
        ]);
        let host = Host::fake(Some(home.path().into()), None, "pe.example.test");
        let c = resolve(&Requested::default(), &host).unwrap();
        assert_eq!(
            c.classifier_url.value,
            "https://console.example.test:4433/classifier-api"
        );
        assert!(c.classifier_url.source.contains("puppet-access.conf"));
        assert_eq!(c.orchestrator_url.value, "https://orch.example.test:8143");

        let req = Requested {
            server: Some("srv.example.test".into()),
            ..Default::default()
        };
        let c = resolve(&req, &host).unwrap();
        assert_eq!(
            c.classifier_url.value,
            "https://srv.example.test:4433/classifier-api"
        );
        assert_eq!(c.orchestrator_url.value, "https://srv.example.test:8143");

        let req = Requested {
            server: Some("srv.example.test".into()),
            classifier_url: Some("https://x:1/classifier-api/".into()),
            ..Default::default()
        };
        let c = resolve(&req, &host).unwrap();
        assert_eq!(c.classifier_url.value, "https://x:1/classifier-api");
        assert_eq!(c.orchestrator_url.value, "https://srv.example.test:8143");
    }

    #[test]
    fn token_env_beats_the_token_file_and_flag_beats_both() {
        let home = home_with(&[(".puppetlabs/token", "file-token"), ("other", "flag-token")]);
        let host = Host::fake(Some(home.path().into()), Some("env-token".into()), "h");
        let c = resolve(&Requested::default(), &host).unwrap();
        assert_eq!(c.token.unwrap().value.expose(), "env-token");
        let req = Requested {
            token_file: Some(home.path().join("other")),
            ..Default::default()
        };
        assert_eq!(
            resolve(&req, &host).unwrap().token.unwrap().value.expose(),
            "flag-token"
        );
    }

    #[test]
    fn no_credentials_and_http_urls_are_errors() {
        let host = Host::fake(None, None, "h");
        let e = resolve(&Requested::default(), &host).unwrap_err();
        assert!(e.to_string().contains("no credentials"), "{e}");
        let host = Host::fake(None, Some("t".into()), "h");
        let req = Requested {
            classifier_url: Some("http://h:4433/classifier-api".into()),
            ..Default::default()
        };
        assert!(resolve(&req, &host)
            .unwrap_err()
            .to_string()
            .contains("only https"));
    }
    #[test]
    fn urls_are_taken_with_or_without_their_service_path() {
        let nc = |u: &str| service_url(u, "--classifier-url", Service::Classifier);
        for u in [
            "https://pe.test:4433",
            "https://pe.test:4433/",
            "https://pe.test:4433/classifier-api",
            "https://pe.test:4433/classifier-api/",
            "https://pe.test:4433/classifier-api/v1",
            " https://pe.test:4433/classifier-api/v1/ ",
        ] {
            assert_eq!(nc(u).unwrap(), "https://pe.test:4433/classifier-api", "{u}");
        }
        let orch = |u: &str| service_url(u, "--orchestrator-url", Service::Orchestrator);
        for u in [
            "https://pe.test:8143",
            "https://pe.test:8143/orchestrator",
            "https://pe.test:8143/orchestrator/v1/",
        ] {
            assert_eq!(orch(u).unwrap(), "https://pe.test:8143", "{u}");
        }
        let pdb = |u: &str| service_url(u, "--puppetdb-url", Service::PuppetDb);
        for u in [
            "https://pe.test:8081/",
            "https://pe.test:8081/pdb",
            "https://pe.test:8081/pdb/query/v4",
        ] {
            assert_eq!(pdb(u).unwrap(), "https://pe.test:8081", "{u}");
        }
        // A reverse proxy's prefix is kept; IPv6 hosts stay bracketed.
        assert_eq!(
            nc("https://proxy.test/pe").unwrap(),
            "https://proxy.test/pe/classifier-api"
        );
        assert_eq!(
            orch("https://[::1]:8143/orchestrator/v1").unwrap(),
            "https://[::1]:8143"
        );
    }

    #[test]
    fn urls_of_another_service_or_not_https_are_refused() {
        let nc = |u: &str| {
            service_url(u, "--classifier-url", Service::Classifier)
                .unwrap_err()
                .to_string()
        };
        // puppet-access.conf's service-url is RBAC's, a common copy-paste.
        let e = nc("https://pe.test:4433/rbac-api");
        assert!(
            e.contains("RBAC") && e.contains("https://pe.example.com:4433"),
            "{e}"
        );
        let e = nc("https://pe.test:8143/orchestrator/v1");
        assert!(
            e.contains("the orchestrator's API, not the node classifier's"),
            "{e}"
        );
        assert!(nc("http://pe.test:4433").contains("only https://"));
        assert!(nc("pe.test:4433").contains("not a URL; give one such as"));
        assert!(nc("https://pe.test:4433/?x=1").contains("query"));
        let e = service_url(
            "https://pe.test:8081/classifier-api",
            "--puppetdb-url",
            Service::PuppetDb,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not PuppetDB's"), "{e}");
    }

    #[test]
    fn orchestrator_conf_urls_are_normalised_too() {
        let home = home_with(&[
            (".puppetlabs/token", "tok"),
            (
                ".puppetlabs/client-tools/orchestrator.conf",
                r#"{"options": {"service-url": "https://orch.example.test:8143/orchestrator/v1/"}}"#,
            ),
        ]);
        let host = Host::fake(Some(home.path().into()), None, "pe.example.test");
        let c = resolve(&Requested::default(), &host).unwrap();
        assert_eq!(c.orchestrator_url.value, "https://orch.example.test:8143");
        let req = Requested {
            classifier_url: Some("https://nc.example.test:4433".into()),
            ..Default::default()
        };
        let c = resolve(&req, &host).unwrap();
        assert_eq!(
            c.classifier_url.value,
            "https://nc.example.test:4433/classifier-api"
        );
    }
}
