//! PuppetDB's query API (`/pdb/query/v4`), over the same HTTPS client as the
//! other PE APIs ([`PeHttp`]: PE's CA only, this node's certificate and/or an
//! RBAC token, bounded retries of GETs).
//!
//! PE's PuppetDB listens on port 8081 of the primary (or of the PuppetDB
//! node) and accepts a certificate signed by PE's CA or, in PE, an RBAC token
//! (`X-Authentication`).

use super::error::PeError;
use super::http::PeHttp;
use crate::report::queries::Query;
use serde_json::Value;

/// PE's PuppetDB port.
pub const PUPPETDB_PORT: u16 = 8081;

pub struct PuppetDb<'a> {
    pub http: &'a PeHttp,
    /// e.g. `https://pe.example.com:8081`, no trailing slash.
    pub base: String,
}

impl PuppetDb<'_> {
    /// The full URL of a query, its AST URL-encoded in `query=`.
    pub fn url(&self, q: &Query) -> Result<String, PeError> {
        let raw = format!("{}{}", self.base, q.path());
        reqwest::Url::parse_with_params(&raw, &[("query", q.ast.to_string())])
            .map(|u| u.to_string())
            .map_err(|e| PeError::Config(format!("--puppetdb-url {}: not a URL ({e})", self.base)))
    }

    /// Runs a query; the JSON answer.
    pub fn query(&self, q: &Query) -> Result<Value, PeError> {
        let url = self.url(q)?;
        self.http.get(&url).map(|a| a.body)
    }
}

/// Checks a `--puppetdb-url`: https only, with or without `/pdb/query/v4`;
/// the server's root, no trailing slash (the query paths are added to it).
pub fn check_url(url: &str) -> Result<String, PeError> {
    super::config::service_url(url, "--puppetdb-url", super::config::Service::PuppetDb)
}

/// Where PuppetDB keeps the certnames it accepts when an allowlist is set
/// (`certificate-allowlist` in the `[puppetdb]` section of its config;
/// `certificate-whitelist` before PuppetDB 7).
pub const PUPPETDB_ALLOWLIST: &str = "/etc/puppetlabs/puppetdb/certificate-allowlist";

/// PuppetDB's own advice for an error of one of its queries: its port, its
/// certificate allowlist, its token support in PE. `base` is the
/// `--puppetdb-url` used. One place for it, so the service-aware error
/// hints of `super::error` can take it over.
pub fn hint(e: &PeError, base: &str) -> Option<String> {
    let host = reqwest::Url::parse(base)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| base.to_string());
    match e {
        PeError::Transport { detail, .. } => {
            let d = detail.to_ascii_lowercase();
            Some(
                if d.contains("certificate required")
                    || d.contains("handshake")
                    || d.contains("alert")
                {
                    format!(
                    "PuppetDB at {host} asks for a client certificate signed by PE's CA: give \
--cert/--key (on the primary, its agent certificate /etc/puppetlabs/puppet/ssl/certs/<certname>.pem), \
whose certname must also be in PuppetDB's {PUPPETDB_ALLOWLIST} when that file is set up"
                )
                } else if d.contains("refused") {
                    format!(
                        "nothing answers at {host}: is pe-puppetdb running there? PE's PuppetDB \
listens on port {PUPPETDB_PORT} of the primary (or of the PuppetDB node): give --puppetdb-url"
                    )
                } else {
                    format!(
                    "cannot reach PuppetDB at {host} (port {PUPPETDB_PORT} on the primary or the \
PuppetDB node): check --puppetdb-url"
                )
                },
            )
        }
        PeError::Timeout { secs, .. } => Some(format!(
            "PuppetDB at {host} gave no answer within {secs} s: is pe-puppetdb running, and port \
{PUPPETDB_PORT} open to this host? Raise the limit with --timeout SECS"
        )),
        PeError::Http(h) => match h.status {
            403 => Some(format!(
                "PuppetDB refused the client certificate: its certname is not in PuppetDB's \
certificate allowlist, {PUPPETDB_ALLOWLIST} (the file `certificate-allowlist` names in the \
[puppetdb] section of /etc/puppetlabs/puppetdb/conf.d/); add it there and restart pe-puppetdb, or \
use a certificate that is listed (the primary's own)"
            )),
            401 => Some(
                "PE's PuppetDB refused the RBAC token (expired, revoked, or its user lacks the \
\"Nodes: view node data from PuppetDB\" permission): get a new one with `puppet-access login`, or \
use a client certificate (--cert/--key) on PuppetDB's certificate allowlist"
                    .to_string(),
            ),
            404 => Some(format!(
                "not found: --puppetdb-url is PuppetDB's root (https://<host>:{PUPPETDB_PORT}), \
without /pdb"
            )),
            400 => Some(
                "PuppetDB rejected the query: it may be older than this report expects \
(PuppetDB 5 or later answers these queries)"
                    .to_string(),
            ),
            500..=599 => Some(
                "PuppetDB failed or is starting: see /var/log/puppetlabs/puppetdb/puppetdb.log on \
its node, and re-run"
                    .to_string(),
            ),
            _ => h.hint.clone(),
        },
        PeError::Config(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            check_url("https://pe.test:8081/").unwrap(),
            "https://pe.test:8081"
        );
        assert!(check_url("http://pe.test:8080").is_err());
        assert!(check_url("pe.test").is_err());
    }

    #[test]
    fn hints_name_puppetdbs_allowlist_and_port() {
        let e = PeError::from_answer("GET", "u", 403, "Forbidden", Default::default(), 1);
        let h = hint(&e, "https://pdb.test:8081").unwrap();
        assert!(h.contains(PUPPETDB_ALLOWLIST), "{h}");
        let e = PeError::Transport {
            method: "GET".into(),
            url: "u".into(),
            detail: "Connection refused".into(),
            hint: None,
            attempts: 1,
        };
        let h = hint(&e, "https://pdb.test:8081").unwrap();
        assert!(
            h.contains("pdb.test:8081") && h.contains("pe-puppetdb"),
            "{h}"
        );
    }
}
