//! The HTTPS client for PE's APIs.
//!
//! * Trust: only the PE CA (`--cacert`); the system store is never used, the
//!   server's host name is checked, and there is no insecure mode.
//! * Credentials: the agent certificate and key (PKCS#1 `BEGIN RSA PRIVATE
//!   KEY` as Puppet writes it, PKCS#8 or SEC1) and/or an RBAC token sent in
//!   `X-Authentication`. The token is a [`Secret`]: it is never printed,
//!   logged or put in an error; the header is marked sensitive.
//! * Time: `--timeout` bounds the TCP connection and TLS handshake, the wait
//!   for the answer, and each read of its body (a stalled body fails; one
//!   that keeps coming is bounded by size); an error says which of them fired.
//! * Size: an answer is read as a stream and refused past
//!   [`MAX_BODY_BYTES`] (an error answer is cut at 64 KiB), so a broken or
//!   hostile server cannot make the process take all memory.
//! * Retries: only for requests that are safe to repeat (GET, and POSTs the
//!   caller declares idempotent), on connection errors and 429/502/503/504,
//!   bounded, with exponential backoff and jitter, honouring `Retry-After`.
//!   A timeout is not retried (a server that did not answer in time is not
//!   expected to answer the next time; raise `--timeout` instead), and a TLS
//!   verification failure never is. A connection the server closes (even
//!   while this side writes: EPIPE, see `files::signals`) is an ordinary
//!   transport error.
//!
//! The client is reqwest's asynchronous one on a small runtime owned by
//! [`PeHttp`]: its blocking wrapper has no per-read timeout.

use super::error::{AuthUsed, PeError, TimeoutPhase};
use crate::files::{human_size, read_regular};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Certificate, Client, Identity, Method, RequestBuilder};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The largest answer read from PE (PE Infrastructure's `GET /v1/groups` is
/// a few hundred KiB even with thousands of groups).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// An error answer is only read for PE's `kind` and `msg`.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The largest CA bundle, certificate or key file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A secret string (an RBAC token): `Debug` and `Display` print `<redacted>`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself; only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Bounded retries with exponential backoff and jitter.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubles each time) ...
    pub base: Duration,
    /// ... up to this, also the cap for `Retry-After`.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// "Equal jitter": half the exponential step, plus a random part of the
    /// other half, so retries of many clients spread out but never bunch at 0.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.cap);
        let half = step / 2;
        let jitter = Duration::from_nanos(fastrand::u64(0..=half.as_nanos() as u64));
        let d = half + jitter;
        match retry_after {
            Some(ra) => d.max(ra.min(self.cap)),
            None => d,
        }
    }
}

/// Everything needed to build a client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub cacert: PathBuf,
    /// Client certificate and its private key.
    pub identity: Option<(PathBuf, PathBuf)>,
    pub token: Option<Secret>,
    /// Each wait for an answer and each read of it.
    pub timeout: Duration,
    /// The TCP connection and TLS handshake together.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

/// A response with a 2xx status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The JSON body, `Null` when empty.
    pub body: Value,
}

/// When the current request's new connection (TCP + TLS) was started and
/// made; both `None` when it reuses one. Lets the wait for the answer be
/// timed from the moment there is a connection, and a timeout be told apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ConnPhase {
    started: Option<Instant>,
    made: Option<Instant>,
}

/// A connector layer recording [`ConnPhase`].
#[derive(Clone)]
struct MarkConnect(Arc<Mutex<ConnPhase>>);

impl<S> tower_layer::Layer<S> for MarkConnect {
    type Service = Marked<S>;
    fn layer(&self, inner: S) -> Marked<S> {
        Marked {
            inner,
            phase: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Marked<S> {
    inner: S,
    phase: Arc<Mutex<ConnPhase>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R> tower_service::Service<R> for Marked<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        lock(&self.phase).started = Some(Instant::now());
        let fut = self.inner.call(req);
        let phase = self.phase.clone();
        Box::pin(async move {
            let r = fut.await;
            if r.is_ok() {
                lock(&phase).made = Some(Instant::now());
            }
            r
        })
    }
}

fn lock(m: &Mutex<ConnPhase>) -> std::sync::MutexGuard<'_, ConnPhase> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The client. Counts the HTTP requests it sends (every attempt).
pub struct PeHttp {
    client: Client,
    rt: tokio::runtime::Runtime,
    phase: Arc<Mutex<ConnPhase>>,
    token: Option<Secret>,
    auth: AuthUsed,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    sent: Cell<u32>,
    retried: Cell<u32>,
}

fn read(path: &Path, what: &str, flag: &str) -> Result<Vec<u8>, PeError> {
    read_regular(path, MAX_PEM_BYTES).map_err(|e| {
        PeError::Config(format!(
            "cannot read the {what} ({e}); give another with {flag}"
        ))
    })
}

/// How one exchange failed.
enum Failed {
    /// reqwest's error, and whether it came while reading the body.
    Net(reqwest::Error, bool),
    /// Connected, but no answer within the timeout.
    NoAnswer,
    /// The body stopped for the timeout.
    BodyStalled,
    /// A 2xx answer larger than [`MAX_BODY_BYTES`].
    TooLarge { status: u16, seen: u64 },
}

/// A response: status, `Retry-After`, body (cut at the cap for errors).
type Exchanged = (u16, Option<Duration>, Vec<u8>);

impl PeHttp {
    pub fn new(cfg: &ClientConfig) -> Result<PeHttp, PeError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca_pem = read(&cfg.cacert, "PE CA certificate", "--cacert")?;
        let cas = Certificate::from_pem_bundle(&ca_pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                PeError::Config(format!(
                    "{}: no PEM certificate found (--cacert must be the PE CA, e.g. \
/etc/puppetlabs/puppet/ssl/certs/ca.pem)",
                    cfg.cacert.display()
                ))
            })?;
        let phase = Arc::new(Mutex::new(ConnPhase::default()));
        let mut b = Client::builder()
            .tls_certs_only(cas)
            .https_only(true)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.connect_timeout)
            .connector_layer(MarkConnect(phase.clone()))
            .user_agent(concat!("pe-analytics/", env!("CARGO_PKG_VERSION")));
        if let Some((cert, key)) = &cfg.identity {
            let mut pem = read(cert, "client certificate", "--cert")?;
            pem.push(b'\n');
            let key_pem = read(key, "private key", "--key")?;
            if String::from_utf8_lossy(&key_pem).contains("ENCRYPTED") {
                return Err(PeError::Config(format!(
                    "{}: the private key is encrypted; give an unencrypted key (Puppet's \
private_keys/<certname>.pem) with --key",
                    key.display()
                )));
            }
            pem.extend(key_pem);
            let id = Identity::from_pem(&pem).map_err(|e| {
                PeError::Config(format!(
                    "cannot use {} with {} as a client certificate and key: {e}",
                    cert.display(),
                    key.display()
                ))
            })?;
            b = b.identity(id);
        }
        if let Some(t) = &cfg.token {
            if t.expose().is_empty() || HeaderValue::from_str(t.expose()).is_err() {
                return Err(PeError::Config(
                    "the RBAC token is empty or contains characters a header cannot carry"
                        .to_string(),
                ));
            }
        }
        let client = b
            .build()
            .map_err(|e| PeError::Config(format!("cannot set up HTTPS: {e}")))?;
        // One worker thread: the connections' own tasks (which notice a
        // server closing an idle connection) keep running between requests,
        // as they did under reqwest's blocking client.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pe-http")
            .enable_all()
            .build()
            .map_err(|e| PeError::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(PeHttp {
            client,
            rt,
            phase,
            token: cfg.token.clone(),
            auth: AuthUsed {
                token: cfg.token.is_some(),
                cert: cfg.identity.is_some(),
            },
            retry: cfg.retry,
            timeout: cfg.timeout,
            connect_timeout: cfg.connect_timeout,
            sent: Cell::new(0),
            retried: Cell::new(0),
        })
    }

    /// HTTP requests sent so far (every attempt counts).
    pub fn requests_sent(&self) -> u32 {
        self.sent.get()
    }

    /// Attempts that were repeats of an earlier one.
    pub fn retries(&self) -> u32 {
        self.retried.get()
    }

    pub fn auth(&self) -> AuthUsed {
        self.auth
    }

    /// GET, retried when safe.
    pub fn get(&self, url: &str) -> Result<Answer, PeError> {
        self.send(Method::GET, url, None, true)
    }

    /// POST a JSON body. `idempotent`: repeating it has the same effect as
    /// sending it once, so it may be retried.
    pub fn post(
        &self,
        url: &str,
        body: Option<&Value>,
        idempotent: bool,
    ) -> Result<Answer, PeError> {
        self.send(Method::POST, url, body, idempotent)
    }

    fn build(&self, method: &Method, url: &str, body: Option<&Value>) -> RequestBuilder {
        let mut rb = self
            .client
            .request(method.clone(), url)
            .header("Accept", "application/json");
        if let Some(t) = &self.token {
            let mut v = HeaderValue::from_str(t.expose()).expect("checked in new()");
            v.set_sensitive(true);
            rb = rb.header("X-Authentication", v);
        }
        if let Some(b) = body {
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(b).expect("JSON serializes"));
        }
        rb
    }

    /// One request and its answer, the body streamed within the size cap.
    /// Time limits: reqwest's connect timeout for a new connection (TCP and
    /// TLS); then `timeout` for the answer, counted from the moment there is
    /// a connection ([`ConnPhase`]); then `timeout` for each read of the body.
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Exchanged, Failed> {
        *lock(&self.phase) = ConnPhase::default();
        let start = Instant::now();
        let send = self.build(method, url, body).send();
        tokio::pin!(send);
        let mut resp = loop {
            let seen = *lock(&self.phase);
            let deadline = match seen {
                ConnPhase {
                    made: Some(made), ..
                } => made + self.timeout,
                // Connecting: reqwest's connect timeout ends it; this is only a backstop.
                ConnPhase {
                    started: Some(s), ..
                } => s + self.connect_timeout + self.timeout,
                _ => start + self.timeout,
            };
            tokio::select! {
                r = &mut send => break r.map_err(|e| Failed::Net(e, false))?,
                _ = tokio::time::sleep_until(deadline.into()) => {
                    if *lock(&self.phase) == seen {
                        return Err(Failed::NoAnswer);
                    }
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let ok = (200..300).contains(&status);
        let cap = if ok {
            MAX_BODY_BYTES
        } else {
            MAX_ERROR_BODY_BYTES
        };
        if ok {
            if let Some(n) = resp.content_length().filter(|n| *n > cap as u64) {
                return Err(Failed::TooLarge { status, seen: n });
            }
        }
        let mut buf: Vec<u8> = Vec::with_capacity(
            resp.content_length()
                .map_or(8192, |n| n.min(cap as u64) as usize),
        );
        loop {
            let chunk = match tokio::time::timeout(self.timeout, resp.chunk()).await {
                Err(_) => return Err(Failed::BodyStalled),
                Ok(r) => r.map_err(|e| Failed::Net(e, true))?,
            };
            let Some(chunk) = chunk else { break };
            if buf.len() + chunk.len() > cap {
                if ok {
                    return Err(Failed::TooLarge {
                        status,
                        seen: (buf.len() + chunk.len()) as u64,
                    });
                }
                buf.extend_from_slice(&chunk[..cap - buf.len()]);
                break; // enough of an error answer to read PE's kind and msg
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((status, retry_after, buf))
    }

    fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        retryable: bool,
    ) -> Result<Answer, PeError> {
        let max = if retryable {
            self.retry.max_attempts.max(1)
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                self.retried.set(self.retried.get() + 1);
            }
            self.sent.set(self.sent.get() + 1);
            let (status, retry_after, bytes) = match self
                .rt
                .block_on(self.exchange(&method, url, body))
            {
                Ok(x) => x,
                Err(Failed::TooLarge { status, seen }) => {
                    return Err(PeError::Http(Box::new(super::error::HttpError {
                        method: method.to_string(),
                        url: url.to_string(),
                        status,
                        kind: None,
                        msg: Some(format!(
                            "the answer is larger than {} ({} and more); refusing to read it",
                            human_size(MAX_BODY_BYTES as u64),
                            human_size(seen)
                        )),
                        details: Value::Null,
                        hint: Some("is the URL a PE API? PE's answers are far smaller".to_string()),
                        attempts: attempt,
                    })))
                }
                Err(f @ (Failed::NoAnswer | Failed::BodyStalled)) => {
                    return Err(PeError::Timeout {
                        method: method.to_string(),
                        url: url.to_string(),
                        secs: self.timeout.as_secs_f64(),
                        phase: if matches!(f, Failed::NoAnswer) {
                            TimeoutPhase::Answer
                        } else {
                            TimeoutPhase::Body
                        },
                        attempts: attempt,
                    })
                }
                Err(Failed::Net(e, in_body)) => {
                    let err = self.transport(&method, url, &e, in_body, attempt);
                    let permanent = matches!(&err, PeError::Transport { hint: Some(_), .. })
                        || matches!(err, PeError::Timeout { .. });
                    if !permanent && attempt < max {
                        std::thread::sleep(self.retry.backoff(attempt, None));
                        continue;
                    }
                    return Err(err);
                }
            };
            let text = String::from_utf8_lossy(&bytes);
            if (200..300).contains(&status) {
                let body = if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).map_err(|e| {
                        PeError::Http(Box::new(super::error::HttpError {
                            method: method.to_string(),
                            url: url.to_string(),
                            status,
                            kind: None,
                            msg: Some(format!("the answer is not JSON: {e}")),
                            details: Value::Null,
                            hint: Some("is the URL a PE API (…/classifier-api)?".to_string()),
                            attempts: attempt,
                        }))
                    })?
                };
                return Ok(Answer { status, body });
            }
            if matches!(status, 429 | 502 | 503 | 504) && attempt < max {
                std::thread::sleep(self.retry.backoff(attempt, retry_after));
                continue;
            }
            return Err(PeError::from_answer(
                method.as_str(),
                url,
                status,
                &text,
                self.auth,
                attempt,
            ));
        }
    }

    /// Turns a reqwest error into a message: a timeout says which limit
    /// fired; TLS verification failures get advice (and are not retried).
    fn transport(
        &self,
        method: &Method,
        url: &str,
        e: &reqwest::Error,
        in_body: bool,
        attempts: u32,
    ) -> PeError {
        if e.is_timeout() {
            let (phase, limit) = if e.is_connect() {
                (TimeoutPhase::Connect, self.connect_timeout)
            } else if in_body {
                (TimeoutPhase::Body, self.timeout)
            } else {
                (TimeoutPhase::Answer, self.timeout)
            };
            return PeError::Timeout {
                method: method.to_string(),
                url: url.to_string(),
                secs: limit.as_secs_f64(),
                phase,
                attempts,
            };
        }
        let mut chain = Vec::new();
        let mut hint = None;
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = src {
            let text = s.to_string();
            if chain.last() != Some(&text) && !chain.iter().any(|c: &String| c.contains(&text)) {
                chain.push(text);
            }
            if let Some(tls) = find_rustls(s) {
                hint = Some(tls_advice(tls, url));
            }
            src = s.source();
        }
        PeError::Transport {
            method: method.to_string(),
            url: url.to_string(),
            detail: chain.join(": "),
            hint,
            attempts,
        }
    }
}

/// The rustls error in `e`, looking inside (nested) io::Errors, whose
/// `source()` skips the error they wrap.
fn find_rustls<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = e.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    find_rustls(inner)
}

fn tls_advice(e: &rustls::Error, url: &str) -> String {
    use rustls::{AlertDescription, CertificateError, Error};
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    match e {
        Error::InvalidCertificate(CertificateError::UnknownIssuer)
        | Error::InvalidCertificate(CertificateError::BadSignature) => {
            "the server's certificate is not signed by the CA given with --cacert: use this PE's \
CA (/etc/puppetlabs/puppet/ssl/certs/ca.pem on any PE node)"
                .to_string()
        }
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => format!(
            "the server's certificate is not valid for the host name `{host}`: use the name PE's \
certificate was issued for (the console host's certname or one of its dns_alt_names)"
        ),
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "the server's certificate has expired (or this host's clock is wrong)".to_string()
        }
        Error::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown,
        ) => "the server refused the client certificate: give a certificate signed by the PE CA \
(--cert/--key), or use an RBAC token"
            .to_string(),
        other => format!("TLS failure ({other}); check --cacert, --cert and --key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("abc123");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
        };
        for _ in 0..50 {
            let b1 = p.backoff(1, None);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = p.backoff(3, None);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            assert!(p.backoff(30, None) <= Duration::from_millis(1000));
            assert_eq!(
                p.backoff(1, Some(Duration::from_secs(60))),
                Duration::from_millis(1000)
            );
        }
    }
}
