//! HTTPS listeners, authentication, fault injection, request recording and routing.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::state::Sim;
use super::{classifier, orchestrator, puppetdb, seed, status, tls};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// Like PE's 4433: /classifier-api, /rbac-api, /status
    Console,
    /// Like PE's 8143: /orchestrator, /status
    Orchestrator,
    /// Like PE's 8140: /status (Puppet Server's JRuby and JVM figures)
    PuppetServer,
}

/// How a request authenticated (never holds the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Token,
    TokenQuery,
    InvalidToken,
    ExpiredToken,
    Cert(String),
    UnlistedCert(String),
    None,
}

impl Auth {
    pub fn describe(&self) -> String {
        match self {
            Auth::Token => "token".into(),
            Auth::TokenQuery => "token-query".into(),
            Auth::InvalidToken => "invalid-token".into(),
            Auth::ExpiredToken => "expired-token".into(),
            Auth::Cert(cn) => format!("cert:{cn}"),
            Auth::UnlistedCert(cn) => format!("unlisted-cert:{cn}"),
            Auth::None => "none".into(),
        }
    }
}

pub enum Body {
    Json(Value),
    Text(String),
    Empty,
}

pub struct Reply {
    pub status: u16,
    pub body: Body,
    pub headers: Vec<(&'static str, String)>,
}

pub fn json_reply(status: u16, v: Value) -> Reply {
    Reply {
        status,
        body: Body::Json(v),
        headers: vec![],
    }
}

pub fn empty(status: u16) -> Reply {
    Reply {
        status,
        body: Body::Empty,
        headers: vec![],
    }
}

/// PE-shaped error body `{"kind", "msg", "details"}`.
pub fn error(status: u16, kind: &str, msg: impl Into<String>, details: Value) -> Reply {
    json_reply(
        status,
        json!({"kind": kind, "msg": msg.into(), "details": details}),
    )
}

pub struct Req {
    pub method: String,
    /// Path below the service prefix, e.g. `/v1/groups`.
    pub path: String,
    pub full_path: String,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    pub auth: Auth,
}

impl Req {
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// Parse the body as JSON (an empty body is `{}`), or a 400 malformed-request.
    pub fn json(&self) -> Result<Value, Reply> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            error(
                400,
                "malformed-request",
                "The body of the request could not be parsed as JSON.",
                json!({"body": String::from_utf8_lossy(&self.body), "error": e.to_string()}),
            )
        })
    }
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub async fn serve(
    sim: Arc<Sim>,
    listener: TcpListener,
    kind: Listener,
    acceptor: TlsAcceptor,
) -> std::io::Result<()> {
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let sim = sim.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let n = sim.connections.fetch_add(1, Ordering::SeqCst);
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            if n < sim.args.drop_connections {
                drop(stream); // close without answering
                return;
            }
            if sim.args.never_answer {
                // Hold the connection open forever without reading or answering.
                let _keep = stream;
                std::future::pending::<()>().await;
                return;
            }
            let cn = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| tls::common_name(c));
            let svc = service_fn(move |req: Request<Incoming>| {
                let sim = sim.clone();
                let cn = cn.clone();
                async move { handle(sim, kind, cn, req).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn authenticate(
    sim: &Sim,
    headers: &hyper::HeaderMap,
    query: &[(String, String)],
    cn: Option<&str>,
) -> Auth {
    let header_token = headers
        .get("x-authentication")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string());
    let (token, via_query) = match header_token {
        Some(t) => (Some(t), false),
        None => (
            query
                .iter()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.trim().to_string()),
            true,
        ),
    };
    if let Some(t) = token {
        if t != sim.token {
            return Auth::InvalidToken;
        }
        if sim.args.expired_token {
            return Auth::ExpiredToken;
        }
        return if via_query {
            Auth::TokenQuery
        } else {
            Auth::Token
        };
    }
    match cn {
        Some(cn) if sim.allowlisted(cn) => Auth::Cert(cn.to_string()),
        Some(cn) => Auth::UnlistedCert(cn.to_string()),
        None => Auth::None,
    }
}

/// Check authentication for a service; `token_only` for the orchestrator.
pub fn check_auth(auth: &Auth, token_only: bool) -> Result<(), Reply> {
    match auth {
        Auth::Token | Auth::TokenQuery => Ok(()),
        Auth::InvalidToken => Err(error(
            401,
            "puppetlabs.rbac/invalid-token",
            "The provided token is invalid or has been revoked.",
            Value::Null,
        )),
        Auth::ExpiredToken => Err(error(
            401,
            "puppetlabs.rbac/token-expired",
            "The provided token has expired.",
            Value::Null,
        )),
        Auth::Cert(_) if !token_only => Ok(()),
        Auth::Cert(cn) => Err(error(
            401,
            "puppetlabs.rbac/user-unauthenticated",
            format!("Route requires a token (X-Authentication); the client certificate {cn} is not accepted here."),
            Value::Null,
        )),
        Auth::UnlistedCert(cn) if !token_only => Err(error(
            403,
            "puppetlabs.rbac/user-unauthenticated",
            format!("The certificate {cn} is not on the allowlist (rbac-certificate-allowlist)."),
            json!({"certname": cn}),
        )),
        Auth::UnlistedCert(_) | Auth::None => Err(error(
            401,
            "puppetlabs.rbac/user-unauthenticated",
            "Route requires authentication",
            Value::Null,
        )),
    }
}

/// The connection is closed without an answer (the `drop` fault).
#[derive(Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pe-sim dropped the connection (fault)")
    }
}

impl std::error::Error for DropConnection {}

async fn handle(
    sim: Arc<Sim>,
    kind: Listener,
    cn: Option<String>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = req.method().as_str().to_string();
    let full_path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let headers = req.headers().clone();
    let body = match Limited::new(req.into_body(), 64 << 20).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(to_response(error(
                400,
                "malformed-request",
                "request body too large or unreadable",
                Value::Null,
            )))
        }
    };

    if let Some(rest) = full_path.strip_prefix("/_sim") {
        return Ok(to_response(sim_endpoint(&sim, &method, rest, &body)));
    }

    if sim.args.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sim.args.latency_ms)).await;
    }
    let auth = authenticate(&sim, &headers, &query, cn.as_deref());
    let injected = if sim.args.error_rate > 0.0 {
        let mut inner = sim.inner.lock().expect("lock");
        if inner.rng.f64() < sim.args.error_rate {
            Some([503u16, 502, 504][inner.rng.usize(0..3)])
        } else {
            None
        }
    } else {
        None
    };
    let mut r = Req {
        method,
        path: String::new(),
        full_path: full_path.clone(),
        query,
        body,
        auth,
    };
    let reply = if let Some(code) = injected {
        error(
            code,
            "puppetlabs.pe-sim/injected-error",
            format!("pe-sim injected a {code} (--error-rate)"),
            Value::Null,
        )
    } else {
        route(&sim, kind, &mut r).await
    };
    record(&sim, kind, &r, reply.status, injected.is_some());
    if reply.status == DROP_STATUS {
        return Err(DropConnection);
    }
    Ok(to_response(reply))
}

/// A reply status that means: close the connection without answering.
pub const DROP_STATUS: u16 = 999;

async fn route(sim: &Arc<Sim>, kind: Listener, r: &mut Req) -> Reply {
    let fp = r.full_path.clone();
    let sub = |prefix: &str| -> Option<String> {
        if fp == prefix {
            Some(String::new())
        } else {
            fp.strip_prefix(prefix)
                .filter(|rest| rest.starts_with('/'))
                .map(str::to_string)
        }
    };
    if let Some(rest) = sub("/status") {
        r.path = rest;
        if let Err(e) = check_auth(&r.auth, false) {
            return e;
        }
        return status::handle(sim, kind, r);
    }
    match kind {
        Listener::Console => {
            if let Some(rest) = sub("/classifier-api") {
                r.path = rest;
                if let Err(e) = check_auth(&r.auth, false) {
                    return e;
                }
                return classifier::handle(sim, r);
            }
            if let Some(rest) = sub("/pdb/query/v4") {
                r.path = rest;
                if let Err(e) = check_auth(&r.auth, false) {
                    return e;
                }
                return puppetdb::handle(sim, r);
            }
            if let Some(rest) = sub("/rbac-api") {
                r.path = rest;
                return rbac(sim, r);
            }
        }
        Listener::Orchestrator => {
            if let Some(rest) = sub("/orchestrator/v1") {
                r.path = rest;
                if let Err(e) = check_auth(&r.auth, true) {
                    return e;
                }
                if sim
                    .inner
                    .lock()
                    .expect("lock")
                    .faults
                    .orchestrator_refuses_token
                {
                    return error(
                        401,
                        "puppetlabs.rbac/invalid-token",
                        "The provided token is invalid or has been revoked.",
                        Value::Null,
                    );
                }
                return orchestrator::handle(sim, r);
            }
        }
        Listener::PuppetServer => {}
    }
    not_found(r)
}

pub fn not_found(r: &Req) -> Reply {
    error(
        404,
        "not-found",
        "The resource could not be found.",
        json!(r.full_path),
    )
}

/// A small part of RBAC: token minting and validation.
fn rbac(sim: &Sim, r: &Req) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/auth/token") => {
            let body = match r.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let login = body.get("login").and_then(Value::as_str);
            let password = body.get("password").and_then(Value::as_str);
            if login == Some("admin") && password == Some("pe-sim-password") {
                json_reply(200, json!({"token": sim.token}))
            } else {
                error(
                    401,
                    "puppetlabs.rbac/user-unauthenticated",
                    "The username or password is incorrect.",
                    Value::Null,
                )
            }
        }
        ("GET", "/v1/roles") => {
            if let Err(e) = check_auth(&r.auth, false) {
                return e;
            }
            json_reply(200, rbac_roles(sim))
        }
        ("POST", "/v2/auth/token/authenticate") => {
            let body = match r.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            match body.get("token").and_then(Value::as_str) {
                Some(t) if t.trim() == sim.token && sim.args.expired_token => error(
                    403,
                    "puppetlabs.rbac/token-expired",
                    "The provided token has expired.",
                    Value::Null,
                ),
                Some(t) if t.trim() == sim.token => json_reply(
                    200,
                    json!({"login": "admin", "id": "42bf351c-f9ec-40af-84ad-e976fec7f4bd", "display_name": "Administrator", "role_ids": [1]}),
                ),
                _ => error(
                    400,
                    "puppetlabs.rbac/invalid-token",
                    "The provided token was invalid.",
                    Value::Null,
                ),
            }
        }
        _ => not_found(r),
    }
}

/// RBAC's roles: PE's defaults (Project Deployers from 2019.8), then
/// `--rbac-custom-roles` roles with a user each and, when there are any, one
/// custom role nobody has.
fn rbac_roles(sim: &Sim) -> Value {
    let mut names = vec!["Administrators", "Operators", "Viewers", "Code Deployers"];
    if sim.version.at_least(2019, 8, 0) {
        names.push("Project Deployers");
    }
    let admin = "42bf351c-f9ec-40af-84ad-e976fec7f4bd";
    let mut roles: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"id": i + 1, "display_name": n, "description": "", "permissions": [],
                   "user_ids": if i == 0 { json!([admin]) } else { json!([]) }, "group_ids": []})
        })
        .collect();
    let n = sim.args.rbac_custom_roles;
    for i in 0..n {
        roles.push(
            json!({"id": 100 + i, "display_name": format!("Custom role {i}"), "description": "",
            "permissions": [], "user_ids": [uuid::Uuid::new_v4().to_string()], "group_ids": []}),
        );
    }
    if n > 0 {
        roles.push(
            json!({"id": 99, "display_name": "Unused role", "description": "",
            "permissions": [], "user_ids": [], "group_ids": []}),
        );
    }
    Value::Array(roles)
}

fn sim_endpoint(sim: &Sim, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut inner = sim.inner.lock().expect("lock");
    match (method, path) {
        ("GET", "/faults") => json_reply(200, json!(inner.faults)),
        ("POST", "/faults") => match serde_json::from_slice::<super::state::Faults>(body) {
            Ok(f) => {
                inner.faults = f;
                json_reply(200, json!(inner.faults))
            }
            Err(e) => error(400, "malformed-request", e.to_string(), Value::Null),
        },
        ("POST", "/agent-run") => {
            let node = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("node").and_then(Value::as_str).map(str::to_string));
            match node {
                Some(n) => {
                    let out = orchestrator::scheduled_run(sim, &mut inner, &n);
                    json_reply(200, out)
                }
                None => error(
                    400,
                    "malformed-request",
                    "give {\"node\": NAME}",
                    Value::Null,
                ),
            }
        }
        ("GET", "/requests") => json_reply(200, Value::Array(inner.requests.clone())),
        ("POST", "/reset-requests") => {
            inner.requests.clear();
            empty(204)
        }
        ("GET", "/nodes") => json_reply(200, json!(inner.applied)),
        ("GET", "/groups") => json_reply(200, json!(inner.groups)),
        _ => error(404, "not-found", "unknown /_sim endpoint", json!(path)),
    }
}

fn record(sim: &Sim, kind: Listener, r: &Req, status: u16, injected: bool) {
    let body: Value = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()))
    };
    // Never record the token value: drop it from the query.
    let query: serde_json::Map<String, Value> = r
        .query
        .iter()
        .map(|(k, v)| {
            let v = if k == "token" {
                "<redacted>".to_string()
            } else {
                v.clone()
            };
            (k.clone(), Value::String(v))
        })
        .collect();
    let mut inner = sim.inner.lock().expect("lock");
    inner.seq += 1;
    let entry = json!({
        "seq": inner.seq,
        "time": seed::timestamp(SystemTime::now()),
        "listener": match kind {
            Listener::Console => "console",
            Listener::Orchestrator => "orchestrator",
            Listener::PuppetServer => "puppetserver",
        },
        "method": r.method,
        "path": r.full_path,
        "query": query,
        "body": body,
        "auth": r.auth.describe(),
        "status": status,
        "injected_fault": injected,
    });
    if let Some(f) = sim.record.lock().expect("lock").as_mut() {
        let _ = writeln!(f, "{entry}");
        let _ = f.flush();
    }
    inner.requests.push(entry);
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = Response::builder().status(status);
    for (k, v) in &reply.headers {
        b = b.header(*k, v);
    }
    let body = match reply.body {
        Body::Json(v) => {
            b = b.header("content-type", "application/json;charset=utf-8");
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        Body::Text(t) => {
            b = b.header("content-type", "text/plain;charset=utf-8");
            Bytes::from(t)
        }
        Body::Empty => Bytes::new(),
    };
    b.body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
