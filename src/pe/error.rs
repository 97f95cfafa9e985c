//! Errors from PE's APIs, with the HTTP status, PE's error `kind`, and what
//! to do about it. The advice names the service that failed (the console
//! services, the orchestrator or PuppetDB, told apart by the URL), with its
//! own port, allowlist and URL flag. URLs are shown with their credentials
//! masked (`https://<redacted>@host`, `?token=<redacted>`).

use crate::peconf::secrets::mask_urls_in;
use serde_json::Value;
use std::fmt;

/// Where the allowlist of client certificates lives (PE 2019.8.3+; before, the
/// same file was called `rbac-certificate-whitelist`, which still works).
pub const ALLOWLIST: &str = "/etc/puppetlabs/console-services/rbac-certificate-allowlist";

/// PuppetDB's own allowlist of client certificates in PE (its
/// `certificate-allowlist` setting; `certificate-whitelist` before PE 2019.8.3).
pub use super::puppetdb::PUPPETDB_ALLOWLIST;

/// Which credentials a request carried (decides the advice on 401/403).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthUsed {
    pub token: bool,
    pub cert: bool,
}

/// The PE service a URL belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// pe-console-services: classifier, RBAC, activity, its status API (4433).
    ConsoleServices,
    /// pe-orchestration-services (8143).
    Orchestrator,
    /// pe-puppetdb (8081).
    PuppetDb,
}

impl Service {
    /// The service behind `url`, from its path (and, for the status API,
    /// which every service has, its port).
    pub fn of_url(url: &str) -> Service {
        let path = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        if path.starts_with("/orchestrator") {
            Service::Orchestrator
        } else if path.starts_with("/pdb") {
            Service::PuppetDb
        } else if path.starts_with("/status") {
            match port_of(url) {
                Some(8143) => Service::Orchestrator,
                Some(8081) => Service::PuppetDb,
                _ => Service::ConsoleServices,
            }
        } else {
            Service::ConsoleServices
        }
    }

    /// `the console services (pe-console-services)`.
    pub fn name(self) -> &'static str {
        match self {
            Service::ConsoleServices => "the console services (pe-console-services)",
            Service::Orchestrator => "the orchestrator (pe-orchestration-services)",
            Service::PuppetDb => "PuppetDB (pe-puppetdb)",
        }
    }

    /// PE's standard port for it.
    pub fn default_port(self) -> u16 {
        match self {
            Service::ConsoleServices => 4433,
            Service::Orchestrator => 8143,
            Service::PuppetDb => 8081,
        }
    }

    /// The flag that sets its URL.
    pub fn url_flag(self) -> &'static str {
        match self {
            Service::ConsoleServices => "--classifier-url",
            Service::Orchestrator => "--orchestrator-url",
            Service::PuppetDb => "--puppetdb-url",
        }
    }
}

/// The port of `url` (the scheme's default when none is written).
pub fn port_of(url: &str) -> Option<u16> {
    let u = reqwest::Url::parse(url).ok()?;
    u.port_or_known_default()
}

/// Which limit fired when PE did not answer in time (all are `--timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// The TCP connection and TLS handshake did not complete.
    Connect,
    /// Connected, request sent, no response (status line and headers).
    Answer,
    /// The response started, then no data came for that long.
    Body,
}

#[derive(Debug)]
pub enum PeError {
    /// Bad local input: unreadable CA, certificate, key or token file, bad URL.
    Config(String),
    /// No HTTP answer: connection refused or reset, TLS failure, DNS.
    Transport {
        method: String,
        url: String,
        detail: String,
        hint: Option<String>,
        attempts: u32,
    },
    /// No answer within the timeout.
    Timeout {
        method: String,
        url: String,
        secs: f64,
        phase: TimeoutPhase,
        attempts: u32,
    },
    /// PE answered with an error status.
    Http(Box<HttpError>),
}

/// An error answer from PE.
#[derive(Debug)]
pub struct HttpError {
    pub method: String,
    pub url: String,
    pub status: u16,
    /// PE's error `kind`, e.g. `puppetlabs.rbac/token-expired`.
    pub kind: Option<String>,
    pub msg: Option<String>,
    pub details: Value,
    pub hint: Option<String>,
    pub attempts: u32,
}

impl PeError {
    pub fn status(&self) -> Option<u16> {
        match self {
            PeError::Http(h) => Some(h.status),
            _ => None,
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            PeError::Http(h) => h.kind.as_deref(),
            _ => None,
        }
    }

    /// A failure after which the request may or may not have been processed
    /// (no answer, or a gateway/overload status): a write must re-read first.
    pub fn is_transient(&self) -> bool {
        match self {
            PeError::Transport { hint, .. } => hint.is_none(),
            PeError::Timeout { .. } => true,
            PeError::Http(h) => matches!(h.status, 429 | 502 | 503 | 504),
            PeError::Config(_) => false,
        }
    }

    /// Whether the request got no HTTP answer at all (the server is down,
    /// unreachable or hung): asking the same server again now is pointless.
    pub fn no_answer(&self) -> bool {
        matches!(self, PeError::Transport { .. } | PeError::Timeout { .. })
    }

    /// The credentials were refused (401/403): the next request to the same
    /// service with the same credentials will be refused too.
    pub fn is_auth_refused(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// What to do about it, when there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            PeError::Config(_) => None,
            PeError::Transport { hint, .. } => hint.clone(),
            PeError::Timeout { url, phase, .. } => Some(timeout_advice(url, *phase)),
            PeError::Http(h) => h.hint.clone(),
        }
    }

    /// The message without the hint (for listing several errors of one
    /// service and giving the advice once: see [`distinct_hints`]).
    pub fn summary(&self) -> String {
        let text = self.render(false);
        mask_urls_in(&text)
    }

    /// Builds the error for an HTTP error answer, parsing PE's error body.
    pub fn from_answer(
        method: &str,
        url: &str,
        status: u16,
        body: &str,
        auth: AuthUsed,
        attempts: u32,
    ) -> PeError {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let field = |k: &str| {
            json.as_ref()
                .and_then(|j| j.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let kind = field("kind");
        let msg = field("msg").or_else(|| {
            let t = body.trim();
            (!t.is_empty() && json.is_none()).then(|| t.chars().take(300).collect())
        });
        let details = json
            .as_ref()
            .and_then(|j| j.get("details"))
            .cloned()
            .unwrap_or(Value::Null);
        let hint = advice(
            Service::of_url(url),
            status,
            kind.as_deref(),
            &details,
            auth,
        );
        PeError::Http(Box::new(HttpError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            kind,
            msg,
            details,
            hint,
            attempts,
        }))
    }

    fn render(&self, with_hint: bool) -> String {
        let tries = |n: &u32| {
            if *n > 1 {
                format!(" (after {n} attempts)")
            } else {
                String::new()
            }
        };
        let mut out = match self {
            PeError::Config(m) => m.clone(),
            PeError::Transport {
                method,
                url,
                detail,
                attempts,
                ..
            } => format!("{method} {url}: {detail}{}", tries(attempts)),
            PeError::Timeout {
                method,
                url,
                secs,
                phase,
                attempts,
            } => {
                let what = match phase {
                    TimeoutPhase::Connect => format!(
                        "could not connect (TCP and TLS handshake) within {secs} s (--timeout)"
                    ),
                    TimeoutPhase::Answer => {
                        format!("connected, but no answer within {secs} s (--timeout)")
                    }
                    TimeoutPhase::Body => {
                        format!("the answer stopped: no data for {secs} s (--timeout)")
                    }
                };
                format!("{method} {url}: {what}{}", tries(attempts))
            }
            PeError::Http(h) => {
                let HttpError {
                    method,
                    url,
                    status,
                    kind,
                    msg,
                    attempts,
                    ..
                } = h.as_ref();
                let mut s = format!("HTTP {status}");
                if let Some(k) = kind {
                    s.push_str(&format!(" ({k})"));
                }
                s.push_str(&format!(" from {method} {url}{}", tries(attempts)));
                if let Some(m) = msg {
                    s.push_str(&format!(": {m}"));
                }
                s
            }
        };
        if with_hint {
            if let Some(h) = self.hint() {
                out.push_str(&format!("\n  hint: {h}"));
            }
        }
        out
    }
}

/// The advice of `errors`, each once, in order (a report that asked PuppetDB
/// five queries and got five 403s gives the allowlist advice once).
pub fn distinct_hints<'a>(errors: impl IntoIterator<Item = &'a PeError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in errors.into_iter().filter_map(PeError::hint) {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

fn timeout_advice(url: &str, phase: TimeoutPhase) -> String {
    let service = Service::of_url(url);
    let port = port_of(url).unwrap_or(service.default_port());
    match phase {
        TimeoutPhase::Connect => format!(
            "nothing completed a connection on port {port}: is {} running, is {port} its port \
(PE's is {}; set the URL with {}), and does no firewall drop the traffic? Raise the limit with \
--timeout SECS",
            service.name(),
            service.default_port(),
            service.url_flag()
        ),
        TimeoutPhase::Answer | TimeoutPhase::Body => format!(
            "{} on port {port} accepted the connection but is slow or hung (starting up, \
overloaded, out of memory?); check it, or raise the limit with --timeout SECS",
            service.name()
        ),
    }
}

/// What to do about an error answer from `service`.
fn advice(
    service: Service,
    status: u16,
    kind: Option<&str>,
    details: &Value,
    auth: AuthUsed,
) -> Option<String> {
    let k = kind.unwrap_or("");
    let token_advice = "the RBAC token has expired or was revoked: get a new one with \
`puppet-access login --lifetime 1h` (it writes ~/.puppetlabs/token), or point --token-file / \
PE_RBAC_TOKEN at a valid token";
    let allowlist_advice = match service {
        Service::ConsoleServices => format!(
            "the client certificate is not on the console services' allowlist: add its certname \
to {ALLOWLIST} (rbac-certificate-whitelist before PE 2019.8.3) on the console node and run \
`service pe-console-services reload`, or use an RBAC token (--token-file)"
        ),
        Service::PuppetDb => format!(
            "PuppetDB refused the client certificate: PuppetDB has its own allowlist (its \
certificate-allowlist setting; in PE {PUPPETDB_ALLOWLIST}, managed by the class parameter \
puppet_enterprise::profile::puppetdb::allowlisted_certnames): add the certname there and restart \
pe-puppetdb, or use an RBAC token (--token-file)"
        ),
        Service::Orchestrator => "the orchestrator accepts RBAC tokens only, not client \
certificates: give one with --token-file or PE_RBAC_TOKEN (`puppet-access login` writes \
~/.puppetlabs/token)"
            .to_string(),
    };
    match status {
        401 | 403 => Some(if k.contains("token") {
            token_advice.to_string()
        } else if auth.token {
            if status == 403 && k.contains("permission") {
                match service {
                    Service::ConsoleServices => {
                        "the RBAC user of this token lacks the permission \
\"Node groups: edit configuration data / set parameters\" on PE Infrastructure; use an \
administrator's token"
                    }
                    Service::Orchestrator => {
                        "the RBAC user of this token lacks the permission \
\"Puppet agent: run Puppet on agent nodes\" (or job control); use an administrator's token"
                    }
                    Service::PuppetDb => {
                        "the RBAC user of this token lacks the permission to \
query PuppetDB (\"Nodes: view node data from PuppetDB\"); use an administrator's token"
                    }
                }
                .to_string()
            } else {
                token_advice.to_string()
            }
        } else if auth.cert {
            allowlist_advice
        } else {
            "no credentials were sent: give a client certificate (--cert/--key) or an RBAC token \
(--token-file, PE_RBAC_TOKEN, ~/.puppetlabs/token)"
                .to_string()
        }),
        404 => Some(match service {
            Service::ConsoleServices => "not found: check --classifier-url (the console services' \
host and port, e.g. https://<console host>:4433); a group may also have been deleted meanwhile"
                .to_string(),
            Service::Orchestrator => "not found: check --orchestrator-url (e.g. \
https://<primary>:8143); a job may also have been removed meanwhile"
                .to_string(),
            Service::PuppetDb => "not found: check --puppetdb-url (the root of PuppetDB's \
API, e.g. https://<primary>:8081)"
                .to_string(),
        }),
        422 if k == "missing-referents" => {
            let first = details.as_array().and_then(|a| a.first());
            let get = |key: &str| {
                first
                    .and_then(|d| d.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()
            };
            Some(format!(
                "this PE's classifier knows no {} `{}` in environment `{}`: the puppet_enterprise \
class of that environment has no such parameter (PE older than 2016.4 has no analytics opt-out), \
or the class cache is stale (POST /v1/update-classes refreshes it)",
                if get("kind") == "missing-class" {
                    "class"
                } else {
                    "parameter"
                },
                get("missing"),
                get("environment")
            ))
        }
        409 => Some(
            "the group was changed by someone else meanwhile (stale serial_number); re-run"
                .to_string(),
        ),
        429 | 502 | 503 | 504 => Some(format!(
            "{} is overloaded or restarting; wait and re-run",
            service.name()
        )),
        _ => None,
    }
}

/// Warnings about the connection's set-up (a token file others can read),
/// given to the sink the CLI installs ([`set_warning_sink`]: it prints them
/// on stderr), each once per process however many clients are set up. The
/// library itself never prints; without a sink they are kept for
/// [`take_warnings`].
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static SINK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Where warnings go (the CLI: stderr).
pub fn set_warning_sink(sink: fn(&str)) {
    let _ = SINK.set(sink);
}

/// Reports `message` once.
pub fn warn_once(message: String) {
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if seen.contains(&message) {
        return;
    }
    seen.push(message.clone());
    match SINK.get() {
        Some(sink) => sink(&message),
        None => WARNINGS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message),
    }
}

/// The warnings kept so far (when no sink is set).
pub fn take_warnings() -> Vec<String> {
    std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(|p| p.into_inner()))
}

impl fmt::Display for PeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_urls_in(&self.render(true)))
    }
}

impl std::error::Error for PeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_token_says_what_to_do() {
        let e = PeError::from_answer(
            "GET",
            "https://pe:4433/classifier-api/v1/groups",
            401,
            r#"{"kind":"puppetlabs.rbac/token-expired","msg":"The provided token has expired.","details":null}"#,
            AuthUsed {
                token: true,
                cert: false,
            },
            1,
        );
        let s = e.to_string();
        assert!(
            s.starts_with("HTTP 401 (puppetlabs.rbac/token-expired)"),
            "{s}"
        );
        assert!(s.contains("puppet-access login"), "{s}");
    }

    #[test]
    fn unlisted_cert_names_the_allowlist() {
        let e = PeError::from_answer(
            "GET",
            "u",
            403,
            r#"{"kind":"puppetlabs.rbac/user-unauthenticated","msg":"no","details":null}"#,
            AuthUsed {
                token: false,
                cert: true,
            },
            1,
        );
        assert!(e.to_string().contains(ALLOWLIST), "{e}");
    }

    #[test]
    fn missing_referents_names_parameter_and_environment() {
        let e = PeError::from_answer(
            "POST",
            "u",
            422,
            r#"{"kind":"missing-referents","msg":"m","details":[{"kind":"missing-parameter","missing":"send_analytics_data","environment":"production"}]}"#,
            AuthUsed::default(),
            1,
        );
        let s = e.to_string();
        assert!(
            s.contains("no parameter `send_analytics_data` in environment `production`"),
            "{s}"
        );
        assert_eq!(e.kind(), Some("missing-referents"));
    }

    #[test]
    fn advice_names_the_service_that_failed() {
        let cert = AuthUsed {
            token: false,
            cert: true,
        };
        let pdb = PeError::from_answer(
            "GET",
            "https://pe:8081/pdb/query/v4/nodes",
            403,
            "",
            cert,
            1,
        );
        let s = pdb.to_string();
        assert!(
            s.contains(PUPPETDB_ALLOWLIST) && !s.contains(ALLOWLIST),
            "{s}"
        );
        let orch = PeError::from_answer(
            "GET",
            "https://pe:8143/orchestrator/v1/jobs",
            401,
            "",
            cert,
            1,
        );
        assert!(orch.to_string().contains("RBAC tokens only"), "{orch}");
        let t = PeError::Timeout {
            method: "GET".into(),
            url: "https://pe:8081/pdb/query/v4/nodes".into(),
            secs: 3.0,
            phase: TimeoutPhase::Connect,
            attempts: 1,
        };
        let s = t.to_string();
        assert!(
            s.contains("port 8081") && s.contains("PuppetDB") && !s.contains("4433"),
            "{s}"
        );
        assert!(
            s.contains("could not connect (TCP and TLS handshake) within 3 s"),
            "{s}"
        );
        let nf = PeError::from_answer("GET", "https://pe:8081/pdb/query/v4/x", 404, "", cert, 1);
        assert!(nf.to_string().contains("--puppetdb-url"), "{nf}");
        assert_eq!(
            Service::of_url("https://pe:8143/status/v1/services"),
            Service::Orchestrator
        );
        assert_eq!(
            Service::of_url("https://pe:4433/status/v1/services"),
            Service::ConsoleServices
        );
    }

    #[test]
    fn hints_are_given_once_for_many_errors() {
        let cert = AuthUsed {
            token: false,
            cert: true,
        };
        let errors: Vec<PeError> = (0..5)
            .map(|i| {
                PeError::from_answer(
                    "GET",
                    &format!("https://pe:8081/pdb/query/v4/q{i}"),
                    403,
                    "",
                    cert,
                    1,
                )
            })
            .collect();
        assert_eq!(distinct_hints(&errors).len(), 1);
        assert!(!errors[0].summary().contains("hint"));
    }

    #[test]
    fn urls_in_errors_are_masked() {
        let e = PeError::Transport {
            method: "GET".into(),
            url: "https://admin:hunter2@pe:4433/classifier-api/v1/groups?token=abc".into(),
            detail: "connection refused".into(),
            hint: None,
            attempts: 1,
        };
        let s = e.to_string();
        assert!(!s.contains("hunter2") && !s.contains("abc"), "{s}");
        assert!(s.contains("https://<redacted>@pe:4433"), "{s}");
    }

    #[test]
    fn non_json_bodies_are_kept_short() {
        let e = PeError::from_answer("GET", "u", 500, &"x".repeat(1000), AuthUsed::default(), 2);
        let s = e.to_string();
        assert!(s.contains("(after 2 attempts)") && s.len() < 400, "{s}");
    }
}
