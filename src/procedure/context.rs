//! One context per command: this host's identity and the connection to PE,
//! built once (on first use) and shared by every layer. Errors are kept, so
//! whoever needs the connection reports why it is missing.

use crate::pe::config::{self, Connection, Host, Requested};
use crate::pe::orchestrator::api_base;
use crate::pe::PeHttp;
use std::cell::OnceCell;

pub struct Context {
    /// This host (its certname is looked up at most once, and only when
    /// something needs it).
    pub host: Host,
    /// `--certname`, when given.
    pub given_certname: Option<String>,
    pub requested: Requested,
    conn: OnceCell<Result<Connection, String>>,
    http: OnceCell<Result<PeHttp, String>>,
}

impl Context {
    /// `certname`: this host's certname when given (`--certname`), which
    /// spares the discovery.
    pub fn new(requested: Requested, certname: Option<&str>) -> Context {
        Context {
            host: Host::current_with_certname(certname),
            given_certname: certname.map(str::to_string),
            requested,
            conn: OnceCell::new(),
            http: OnceCell::new(),
        }
    }

    /// This host's certname.
    pub fn this_host(&self) -> &str {
        self.host.certname()
    }

    /// The resolved connection (resolved once), or why there is none.
    pub fn connection(&self) -> Result<&Connection, String> {
        self.conn
            .get_or_init(|| config::resolve(&self.requested, &self.host).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The HTTPS client on that connection (built once), or why there is none.
    pub fn http(&self) -> Result<&PeHttp, String> {
        self.http
            .get_or_init(|| {
                let c = self.connection()?;
                PeHttp::new(&c.client_config()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether a classifier connection is configured here without guessing.
    pub fn classifier_configured(&self) -> bool {
        config::classifier_configured(&self.requested, &self.host).is_some()
    }

    /// The classifier API base URL.
    pub fn classifier_url(&self) -> Result<String, String> {
        Ok(self.connection()?.classifier_url.value.clone())
    }

    /// The orchestrator API base (`…/orchestrator/v1`).
    pub fn orchestrator_base(&self) -> Result<String, String> {
        Ok(api_base(&self.connection()?.orchestrator_url.value))
    }

    /// The console services' status URL, next to the classifier's.
    pub fn status_url(&self) -> Result<String, String> {
        let base = self.classifier_url()?;
        let base = base.trim_end_matches('/');
        let root = base.strip_suffix("/classifier-api").unwrap_or(base);
        Ok(format!("{root}/status/v1/services/classifier-service"))
    }

    /// Whether an RBAC token is sent (the orchestrator accepts nothing else).
    pub fn has_token(&self) -> bool {
        self.http().is_ok_and(|h| h.auth().token)
    }
}
