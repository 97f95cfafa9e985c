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
}
