//! Reads each item where PE keeps it: files on the primary, PuppetDB, the
//! classifier, RBAC, the orchestrator and Puppet Server. No printing: the
//! result is a [`Gathered`] the CLI turns into the report.
//!
//! Every service is asked only for what the PE version's list needs, with
//! aggregate queries where it can (PuppetDB counts; never a node list).
//! After a request gets no answer, or its credentials are refused, the same
//! service is not asked again (it would only fail the same way), and every
//! error is kept once per cause with the service's own hint.

use super::catalog::{self, Entry, Release, Source};
use super::compute;
use super::license::{self, License};
use super::queries::{self, Query};
use super::{ItemStatus, ServiceInfo};
use crate::hocon::semantic::resolve_file;
use crate::pe::http::PeHttp;
use crate::pe::{puppetdb, PeError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the files are, and which host is the primary.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub license_file: PathBuf,
    pub product_conf: PathBuf,
    /// `--pe-version`, which beats the file.
    pub pe_version: Option<String>,
    pub pe_version_file: PathBuf,
    pub puppet_conf: PathBuf,
    pub puppetserver_conf: PathBuf,
    /// The primary server's certname (`--primary`).
    pub primary: String,
    /// This host's certname (`--certname`): files are the primary's only
    /// when this host is the primary.
    pub here: String,
}

/// A service's base URL and where it came from.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub url: String,
    pub url_source: String,
}

/// The services to ask (an `Err` is why one cannot be: a bad URL).
pub struct Endpoints {
    pub puppetdb: Result<Endpoint, String>,
    pub classifier: Result<Endpoint, String>,
    pub rbac: Result<Endpoint, String>,
    /// The orchestrator API base (`…/orchestrator/v1`).
    pub orchestrator: Result<Endpoint, String>,
    pub puppetserver: Result<Endpoint, String>,
    /// Why no connection to the console services (classifier, RBAC,
    /// orchestrator) is configured here, as `status` decides it: their items
    /// are then absent, not errors.
    pub console_not_here: Option<String>,
}

/// One gathered item: how it stands, its value, where it came from.
#[derive(Clone, Debug)]
pub struct Computed {
    pub status: ItemStatus,
    pub value: Value,
    pub source: String,
    pub detail: Option<String>,
}

fn ok(value: Value, source: impl Into<String>) -> Computed {
    Computed {
        status: ItemStatus::Ok,
        value,
        source: source.into(),
        detail: None,
    }
}

fn not(status: ItemStatus, source: impl Into<String>, detail: impl Into<String>) -> Computed {
    Computed {
        status,
        value: Value::Null,
        source: source.into(),
        detail: Some(detail.into()),
    }
}

/// Everything the report needs.
pub struct Gathered {
    pub items: BTreeMap<&'static str, Computed>,
    /// The PE version, and where it came from.
    pub pe_version: Option<(String, String)>,
    pub services: Vec<ServiceInfo>,
    /// One line per cause (with its hint), in the order met.
    pub errors: Vec<String>,
}

/// One error cause of one service: the first occurrence and what else it hit.
struct Cause {
    key: String,
    headline: String,
    hint: Option<String>,
    more: Vec<String>,
}

/// A service being asked: counts its requests, keeps its error causes, and
/// stops asking after it did not answer or refused the credentials.
struct Svc<'a> {
    name: &'static str,
    label: &'static str,
    endpoint: Option<Endpoint>,
    http: Option<&'a PeHttp>,
    unusable: Option<String>,
    stopped: Option<String>,
    requests: u32,
    causes: Vec<Cause>,
}

impl<'a> Svc<'a> {
    fn new(
        name: &'static str,
        label: &'static str,
        endpoint: &Result<Endpoint, String>,
        http: &Result<&'a PeHttp, String>,
    ) -> Svc<'a> {
        let (endpoint, e1) = match endpoint {
            Ok(e) => (Some(e.clone()), None),
            Err(e) => (None, Some(e.clone())),
        };
        let (http, e2) = match http {
            Ok(h) => (Some(*h), None),
            Err(e) => (None, Some(e.clone())),
        };
        Svc {
            name,
            label,
            endpoint,
            http,
            unusable: e1.or(e2),
            stopped: None,
            requests: 0,
            causes: Vec::new(),
        }
    }

    fn base(&self) -> &str {
        self.endpoint.as_ref().map(|e| e.url.as_str()).unwrap_or("")
    }

    /// GET `path` below the base (`query` URL-encoded into it). The error
    /// is the item's detail.
    fn get(&mut self, path: &str, query: &[(&str, String)]) -> Result<Value, String> {
        let base = self.base().to_string();
        self.get_below(&base, path, query)
    }

    /// GET `path` below `base`: the service's base or another root of the
    /// same server (e.g. its status API).
    fn get_below(
        &mut self,
        base: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, String> {
        if let Some(e) = &self.unusable {
            return Err(format!("{} not asked: {e}", self.label));
        }
        if let Some(s) = &self.stopped {
            return Err(s.clone());
        }
        let http = self.http.expect("a client when usable");
        let shown = format!("{base}{path}");
        let url = reqwest::Url::parse_with_params(&shown, query)
            .map_err(|e| format!("{}: {shown}: not a URL ({e})", self.label))?;
        let before = http.requests_sent();
        let res = http.get(url.as_str());
        self.requests += http.requests_sent() - before;
        match res {
            Ok(a) => Ok(a.body),
            Err(e) => {
                let headline = e
                    .to_string()
                    .split("\n  hint: ")
                    .next()
                    .unwrap_or_default()
                    .replace(url.as_str(), &shown);
                let key = cause_key(&e);
                match self.causes.iter_mut().find(|c| c.key == key) {
                    Some(c) => c.more.push(path.to_string()),
                    None => self.causes.push(Cause {
                        key,
                        headline: format!("{}: {headline}", self.label),
                        hint: self.hint(&e),
                        more: Vec::new(),
                    }),
                }
                let no_answer = matches!(e, PeError::Transport { .. } | PeError::Timeout { .. });
                let refused = matches!(e.status(), Some(401 | 403));
                if no_answer || refused {
                    self.stopped = Some(format!(
                        "not asked: {} {} an earlier request ({path})",
                        self.label,
                        if no_answer {
                            "did not answer"
                        } else {
                            "refused the credentials of"
                        }
                    ));
                }
                Err(format!("{}: {headline}", self.label))
            }
        }
    }

    fn hint(&self, e: &PeError) -> Option<String> {
        match self.name {
            "puppetdb" => puppetdb::hint(e, self.base()),
            _ => service_hint(self.label, self.name, e),
        }
    }

    fn info(&self) -> ServiceInfo {
        ServiceInfo {
            service: self.name,
            url: self.base().to_string(),
            url_source: self
                .endpoint
                .as_ref()
                .map(|e| e.url_source.clone())
                .unwrap_or_default(),
            requests: self.requests,
            error: self.unusable.clone(),
        }
    }

    fn error_lines(&self) -> Vec<String> {
        self.causes
            .iter()
            .map(|c| {
                let mut s = c.headline.clone();
                if !c.more.is_empty() {
                    s.push_str(&format!(
                        " (the same for {} more request{}: {})",
                        c.more.len(),
                        if c.more.len() == 1 { "" } else { "s" },
                        c.more.join(", ")
                    ));
                }
                if let Some(h) = &c.hint {
                    s.push_str(&format!("\n  hint: {h}"));
                }
                s
            })
            .collect()
    }
}

/// What makes two errors the same cause: the status and PE's kind, or the
/// transport failure.
fn cause_key(e: &PeError) -> String {
    match e {
        PeError::Http(h) => format!("{} {}", h.status, h.kind.as_deref().unwrap_or("")),
        PeError::Transport { detail, .. } => format!("transport {detail}"),
        PeError::Timeout { .. } => "timeout".into(),
        PeError::Config(m) => format!("config {m}"),
    }
}

/// Advice for the services other than PuppetDB: PE's own (allowlist,
/// token) for 401/403, where to look otherwise.
fn service_hint(label: &str, name: &str, e: &PeError) -> Option<String> {
    let flag = match name {
        "classifier" => "--classifier-url (or --server)",
        "rbac" => "--classifier-url's host (RBAC is on the console's port 4433)",
        "orchestrator" => "--orchestrator-url (port 8143)",
        _ => "--puppetserver-url (port 8140)",
    };
    match e {
        PeError::Transport { .. } | PeError::Timeout { .. } => Some(format!(
            "is {label} running and reachable? Check {flag}; raise --timeout for a slow answer"
        )),
        PeError::Http(h) if h.status == 404 => Some(format!("not found: check {flag}")),
        PeError::Http(h) if h.status == 401 && name == "orchestrator" => Some(
            "the orchestrator takes only an RBAC token (--token-file, PE_RBAC_TOKEN, ~/.puppetlabs/token), \
not a certificate"
                .into(),
        ),
        PeError::Http(h) => h.hint.clone(),
        PeError::Config(_) => None,
    }
}

fn on_primary(inp: &Inputs) -> bool {
    inp.here == inp.primary
}

fn missing_file(inp: &Inputs, path: &Path, what: &str) -> String {
    if on_primary(inp) {
        format!("no {what} at {}", path.display())
    } else {
        format!(
            "no {what} at {} on this host ({}); it is on the primary, {}: run the report there",
            path.display(),
            inp.here,
            inp.primary
        )
    }
}

/// The license file: parsed, absent, or an error (`FILE:LINE: message`).
pub fn read_license(path: &Path) -> Result<Option<License>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "{}: cannot read the license file: {e}",
                path.display()
            ))
        }
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{}: the license file is not UTF-8 text (at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    license::parse(&text)
        .map(Some)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))
}

/// `--pe-version`, else the first line of the version file; `None` when absent.
pub fn read_pe_version(
    flag: Option<&str>,
    file: &Path,
) -> Result<Option<(String, String)>, String> {
    if let Some(v) = flag {
        return Ok(Some((v.to_string(), "--pe-version".into())));
    }
    match std::fs::read_to_string(file) {
        Ok(t) => Ok(t
            .lines()
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (s.to_string(), file.display().to_string()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

/// `YEAR.RELEASE` of a PE version string.
pub fn release_of(version: &str) -> Option<Release> {
    let mut it = version.trim().split(['.', '-']);
    let y = it.next()?.parse().ok()?;
    let r = it.next()?.parse().ok()?;
    Some((y, r))
}

/// A HOCON file of PE's, resolved; `None` when absent.
fn read_hocon(path: &Path) -> Result<Option<Value>, String> {
    if !path.exists() {
        return Ok(None);
    }
    resolve_file(path)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

struct Ctx<'a> {
    inp: &'a Inputs,
    wanted: Vec<&'static Entry>,
    items: BTreeMap<&'static str, Computed>,
    errors: Vec<String>,
}

impl Ctx<'_> {
    fn wants(&self, id: &str) -> bool {
        self.wanted.iter().any(|e| e.id == id)
    }
    fn wants_any(&self, ids: &[&str]) -> bool {
        ids.iter().any(|i| self.wants(i))
    }
    fn set(&mut self, id: &'static str, c: Computed) {
        if self.wants(id) {
            self.items.insert(id, c);
        }
    }
    fn fail(&mut self, id: &'static str, source: &str, e: String) {
        self.set(id, not(ItemStatus::Error, source, e));
    }
}

/// Reads every item of the list for the PE version found (the latest list
/// when none is found). `http` is the client for every service (the same
/// CA and credentials), or why there is none.
pub fn gather(inp: &Inputs, ends: &Endpoints, http: Result<&PeHttp, String>) -> Gathered {
    let mut nc = Svc::new("classifier", "the classifier", &ends.classifier, &http);
    let mut version = read_pe_version(inp.pe_version.as_deref(), &inp.pe_version_file);
    if matches!(version, Ok(None)) && ends.console_not_here.is_none() {
        // No flag and no version file (the report runs off the primary, or
        // the file is gone): the console services say which PE they are, as
        // opt-out's version detection asks them.
        version = Ok(status_version(&mut nc));
    }
    let release = match &version {
        Ok(Some((v, _))) => release_of(v).unwrap_or(catalog::PAGES.last().expect("pages").from),
        _ => catalog::PAGES.last().expect("pages").from,
    };
    let mut cx = Ctx {
        inp,
        wanted: catalog::items_for(release),
        items: BTreeMap::new(),
        errors: Vec::new(),
    };
    files(&mut cx, &version);
    let mut pdb = Svc::new("puppetdb", "PuppetDB", &ends.puppetdb, &http);
    let mut rbac = Svc::new("rbac", "RBAC", &ends.rbac, &http);
    let mut orch = Svc::new(
        "orchestrator",
        "the orchestrator",
        &ends.orchestrator,
        &http,
    );
    let mut ps = Svc::new("puppetserver", "Puppet Server", &ends.puppetserver, &http);
    from_puppetdb(&mut cx, &mut pdb);
    match &ends.console_not_here {
        Some(why) => console_absent(&mut cx, why),
        None => {
            from_classifier(&mut cx, &mut nc);
            from_rbac(&mut cx, &mut rbac);
            let token = http.as_ref().ok().is_some_and(|h| h.auth().token);
            from_orchestrator(&mut cx, &mut orch, token);
        }
    }
    from_puppetserver(&mut cx, &mut ps);
    let mut services = Vec::new();
    let mut errors = cx.errors;
    for s in [&pdb, &nc, &rbac, &orch, &ps] {
        errors.extend(s.error_lines());
        // A service that could not be set up, and whose items needed it:
        // its error once (the same client error is every service's).
        let unusable = s.unusable.as_ref().filter(|e| {
            cx.items.values().any(|c| {
                c.status == ItemStatus::Error
                    && c.detail.as_deref().is_some_and(|d| d.contains(e.as_str()))
            })
        });
        if let Some(e) = unusable {
            if !errors.iter().any(|l| l.ends_with(e.as_str())) {
                errors.push(format!("{}: {e}", s.label));
            }
        }
        if s.requests > 0 || !s.causes.is_empty() || unusable.is_some() {
            services.push(s.info());
        }
    }
    Gathered {
        items: cx.items,
        pe_version: version.ok().flatten(),
        services,
        errors,
    }
}

/// The console services' `service_version` (e.g. `2019.8.12.0`, shown as
/// `2019.8.12`) and the status URL it came from; `None` when they do not say
/// (the classifier's own items then carry the error, if any).
fn status_version(nc: &mut Svc) -> Option<(String, String)> {
    let base = nc.base().trim_end_matches('/').to_string();
    let root = base
        .strip_suffix("/classifier-api")
        .unwrap_or(&base)
        .to_string();
    let path = "/status/v1/services/classifier-service";
    let body = nc.get_below(&root, path, &[]).ok()?;
    let body = body.get("classifier-service").unwrap_or(&body);
    let v: crate::enforce::version::PeVersion =
        body.get("service_version")?.as_str()?.parse().ok()?;
    Some((v.to_string(), format!("{root}{path}")))
}

fn files(cx: &mut Ctx, version: &Result<Option<(String, String)>, String>) {
    let inp = cx.inp;
    let lic = inp.license_file.display().to_string();
    match read_license(&inp.license_file) {
        Ok(Some(l)) => {
            match l.uuid {
                Some(u) => cx.set("license_uuid", ok(json!(u), &lic)),
                None => cx.set(
                    "license_uuid",
                    not(
                        ItemStatus::Absent,
                        &lic,
                        "the license file has no uuid (an older license)",
                    ),
                ),
            }
            let mut c = ok(json!(l.nodes), &lic);
            c.detail = l.end.map(|e| format!("license valid until {e}"));
            cx.set("licensed_nodes", c);
        }
        Ok(None) => {
            let why = missing_file(inp, &inp.license_file, "license file");
            cx.set("license_uuid", not(ItemStatus::Absent, &lic, &why));
            cx.set("licensed_nodes", not(ItemStatus::Absent, &lic, why));
        }
        Err(e) => {
            cx.errors.push(e.clone());
            cx.fail("license_uuid", &lic, e.clone());
            cx.fail("licensed_nodes", &lic, e);
        }
    }

    let src = format!("{} (product.name)", inp.product_conf.display());
    match read_hocon(&inp.product_conf) {
        Ok(Some(v)) => match v.pointer("/product/name") {
            Some(Value::Object(n)) if n.get("artifact-id").is_some_and(Value::is_string) => {
                let mut c = ok(n["artifact-id"].clone(), src);
                c.detail = n
                    .get("group-id")
                    .and_then(Value::as_str)
                    .map(|g| format!("group-id {g}"));
                cx.set("product_name", c);
            }
            _ => cx.set(
                "product_name",
                not(
                    ItemStatus::Absent,
                    src,
                    format!(
                        "{} sets no product.name {{group-id, artifact-id}}",
                        inp.product_conf.display()
                    ),
                ),
            ),
        },
        Ok(None) => cx.set(
            "product_name",
            not(
                ItemStatus::Absent,
                src,
                missing_file(inp, &inp.product_conf, "Puppet Server product.conf"),
            ),
        ),
        Err(e) => {
            cx.errors.push(e.clone());
            cx.fail("product_name", &src, e);
        }
    }

    let vsrc = inp.pe_version_file.display().to_string();
    match version {
        Ok(Some((v, s))) => cx.set("pe_version", ok(json!(v), s)),
        Ok(None) => cx.set(
            "pe_version",
            not(
                ItemStatus::Absent,
                &vsrc,
                missing_file(inp, &inp.pe_version_file, "pe_version file"),
            ),
        ),
        Err(e) => {
            cx.errors.push(e.clone());
            cx.fail("pe_version", &vsrc, e.clone());
        }
    }

    if cx.wants("autosign_type") {
        let src = format!("{} (autosign)", inp.puppet_conf.display());
        match std::fs::read_to_string(&inp.puppet_conf) {
            Ok(text) => {
                let confdir = inp.puppet_conf.parent().unwrap_or(Path::new("/"));
                let t = compute::autosign_type(&text, confdir, |p| {
                    use std::os::unix::fs::PermissionsExt;
                    let m = std::fs::metadata(p).ok()?;
                    Some(m.is_file() && m.permissions().mode() & 0o111 != 0)
                });
                cx.set("autosign_type", ok(json!(t), src));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let why = missing_file(inp, &inp.puppet_conf, "puppet.conf");
                cx.set("autosign_type", not(ItemStatus::Absent, src, why));
            }
            Err(e) => {
                let e = format!("{}: {e}", inp.puppet_conf.display());
                cx.errors.push(e.clone());
                cx.fail("autosign_type", &src, e);
            }
        }
    }
}

fn pdb_query(pdb: &mut Svc, q: &Query) -> Result<Value, String> {
    pdb.get(&q.path(), &[("query", q.ast.to_string())])
}

fn from_puppetdb(cx: &mut Ctx, pdb: &mut Svc) {
    let wanted_pdb = cx
        .wanted
        .iter()
        .any(|e| matches!(e.source, Source::PuppetDb | Source::PrimaryFacts))
        || cx.wants("aws_marketplace_name");
    if !wanted_pdb {
        return;
    }
    let primary = cx.inp.primary.clone();
    let src = |q: &Query| format!("PuppetDB {}", q.path());

    // The primary's facts.
    let fq = queries::node_facts(
        &primary,
        &[
            "os",
            "networking",
            "ipaddress",
            "virtual",
            "cloud",
            "az_metadata",
            "ec2_metadata",
        ],
    );
    let facts = pdb_query(pdb, &fq).and_then(|a| queries::read_node_facts(&a));
    let ip_why = catalog::entry("primary_public_ip")
        .map(|e| match e.source {
            Source::Nowhere(w) => w,
            _ => "",
        })
        .unwrap_or("");
    let fsrc = format!("{} (facts of {primary})", src(&fq));
    match &facts {
        Ok(f) if f.is_empty() => {
            let why = format!(
                "PuppetDB has no facts for {primary} (give the primary's certname with --primary)"
            );
            for id in ["primary_os", "primary_on_azure", "primary_hypervisor"] {
                cx.set(id, not(ItemStatus::Absent, &fsrc, &why));
            }
            cx.set(
                "primary_public_ip",
                not(ItemStatus::NotComputable, &fsrc, ip_why),
            );
        }
        Ok(f) => {
            cx.set(
                "primary_os",
                match queries::os_of(f) {
                    Some(os) => ok(json!(os), &fsrc),
                    None => not(
                        ItemStatus::Absent,
                        &fsrc,
                        format!("{primary} has no os fact"),
                    ),
                },
            );
            cx.set("primary_on_azure", ok(json!(compute::on_azure(f)), &fsrc));
            cx.set(
                "primary_hypervisor",
                match compute::hypervisor(f) {
                    Some(h) => ok(json!(h), format!("{fsrc}: virtual")),
                    None => not(
                        ItemStatus::Absent,
                        &fsrc,
                        format!("{primary} has no virtual fact"),
                    ),
                },
            );
            let why = match compute::own_ip(f) {
                Some(ip) => match compute::is_public(&ip) {
                    Some(false) => format!(
                        "{ip_why}; the primary's own address, {ip}, is private, so it is not what \
that server sees"
                    ),
                    _ => format!(
                        "{ip_why}; the primary's own address is {ip}, which is what that server \
sees only if no proxy or NAT is in between"
                    ),
                },
                None => ip_why.to_string(),
            };
            cx.set(
                "primary_public_ip",
                not(ItemStatus::NotComputable, &fsrc, why),
            );
            if !compute::on_aws(f) {
                let why = format!(
                    "{primary} is not on AWS (no cloud.provider aws or ec2_metadata fact), so PE \
was not installed from an AWS Marketplace image"
                );
                for id in ["aws_marketplace_name", "aws_billing_mode"] {
                    cx.set(id, not(ItemStatus::NotApplicable, &fsrc, &why));
                }
            }
        }
        Err(e) => {
            for id in ["primary_os", "primary_on_azure", "primary_hypervisor"] {
                cx.fail(id, &fsrc, e.clone());
            }
            cx.set(
                "primary_public_ip",
                not(ItemStatus::NotComputable, &fsrc, ip_why),
            );
        }
    }

    // Every node: counts PuppetDB computes.
    let nq = queries::active_nodes();
    let total = pdb_query(pdb, &nq).and_then(|a| queries::read_node_count(&a));
    match &total {
        Ok(n) => cx.set("nodes_in_deployment", ok(json!(n), src(&nq))),
        Err(e) => cx.fail("nodes_in_deployment", &src(&nq), e.clone()),
    }
    let with_total = |r: Result<Value, String>| -> Result<u64, String> {
        let t = total.clone()?;
        r.map(|_| t)
    };
    let oq = queries::os_counts();
    match pdb_query(pdb, &oq).and_then(|a| queries::read_os_counts(&a)) {
        Ok(rows) => match with_total(Ok(Value::Null)) {
            Ok(t) => cx.set("agent_os", ok(compute::os_with_unknown(&rows, t), src(&oq))),
            Err(e) => cx.fail("agent_os", &src(&oq), e),
        },
        Err(e) => cx.fail("agent_os", &src(&oq), e),
    }
    for (id, fact) in [
        ("agent_versions", "puppetversion"),
        ("aio_agent_versions", "aio_agent_version"),
    ] {
        if !cx.wants(id) {
            continue;
        }
        let q = queries::fact_value_counts(fact);
        let s = format!("{} (fact {fact})", src(&q));
        match pdb_query(pdb, &q)
            .and_then(|a| queries::read_value_counts(&a))
            .and_then(|rows| Ok((rows, with_total(Ok(Value::Null))?)))
        {
            Ok((rows, t)) => cx.set(id, ok(compute::with_unknown(&rows, t), s)),
            Err(e) => cx.fail(id, &s, e),
        }
    }
    if cx.wants("agents_on_cloud") {
        let (aq, gq, vq) = (
            queries::on_azure(),
            queries::on_gcp(),
            queries::nodes_with_fact("virtual"),
        );
        let s = format!(
            "{} (cloud.provider, az_metadata, gce) and {} (virtual)",
            src(&aq),
            src(&vq)
        );
        let counts = (|| {
            let a = queries::read_node_count(&pdb_query(pdb, &aq)?)?;
            let g = queries::read_node_count(&pdb_query(pdb, &gq)?)?;
            let v = queries::read_node_count(&pdb_query(pdb, &vq)?)?;
            Ok::<_, String>((a, g, v, total.clone()?))
        })();
        match counts {
            Ok((a, g, v, t)) => {
                let mut c = ok(compute::cloud_counts(a, g, v, t), s);
                c.detail =
                    Some("unknown: nodes without a virtual fact (Facter did not report)".into());
                cx.set("agents_on_cloud", c);
            }
            Err(e) => cx.fail("agents_on_cloud", &s, e),
        }
    }
    if cx.wants_any(&[
        "mcollective_in_use",
        "pe_patch_nodes",
        "public_module_classes",
    ]) {
        let q = queries::class_counts();
        let s = format!("{} (classes in the nodes' catalogs)", src(&q));
        match pdb_query(pdb, &q).and_then(|a| queries::read_value_counts(&a)) {
            Ok(rows) => {
                let m =
                    compute::class_nodes(&rows, "Puppet_enterprise::Profile::Mcollective::Agent");
                let mut c = ok(json!(m > 0), &s);
                c.detail = Some(format!(
                    "{m} nodes have puppet_enterprise::profile::mcollective::agent"
                ));
                cx.set("mcollective_in_use", c);
                cx.set(
                    "pe_patch_nodes",
                    ok(json!(compute::class_nodes(&rows, "Pe_patch")), &s),
                );
                let mut c = ok(compute::module_classes(&rows), &s);
                c.detail = Some(
                    "every class outside PE's own modules and Puppet's Settings and main: PE sends \
those of modules published on the Forge, which it decides against the Forge's list"
                        .into(),
                );
                cx.set("public_module_classes", c);
            }
            Err(e) => {
                for id in [
                    "mcollective_in_use",
                    "pe_patch_nodes",
                    "public_module_classes",
                ] {
                    cx.fail(id, &s, e.clone());
                }
            }
        }
    }
    if cx.wants("pe_patch_nodes_needing_patches") {
        let q = queries::nodes_needing_patches();
        let s = format!("{} (pe_patch.package_update_count > 0)", src(&q));
        match pdb_query(pdb, &q).and_then(|a| queries::read_node_count(&a)) {
            Ok(n) => cx.set("pe_patch_nodes_needing_patches", ok(json!(n), s)),
            Err(e) => cx.fail("pe_patch_nodes_needing_patches", &s, e),
        }
    }
}

/// No console connection here: the classifier's, RBAC's and the
/// orchestrator's items are absent, with why.
fn console_absent(cx: &mut Ctx, why: &str) {
    let ids: Vec<(&'static str, &'static str)> = cx
        .wanted
        .iter()
        .filter_map(|e| match e.source {
            Source::Classifier => Some((e.id, "classifier")),
            Source::Rbac => Some((e.id, "RBAC")),
            Source::Orchestrator => Some((e.id, "orchestrator")),
            _ => None,
        })
        .collect();
    for (id, src) in ids {
        cx.set(id, not(ItemStatus::Absent, src, why));
    }
}

fn from_classifier(cx: &mut Ctx, nc: &mut Svc) {
    if !cx.wants_any(&["node_groups", "ha_replicas"]) {
        return;
    }
    let s = format!("classifier {}/v1/groups", nc.base());
    match nc.get("/v1/groups", &[]) {
        Ok(groups) => {
            match compute::group_count(&groups) {
                Ok(n) => cx.set("node_groups", ok(json!(n), &s)),
                Err(e) => {
                    cx.errors.push(format!("the classifier: {e}"));
                    cx.fail("node_groups", &s, e)
                }
            }
            let r = compute::replicas(&groups);
            let mut c = ok(
                json!(r.len()),
                format!("{s} (group \"{}\")", compute::REPLICA_GROUP),
            );
            if !r.is_empty() {
                c.detail = Some(r.join(", "));
            }
            cx.set("ha_replicas", c);
        }
        Err(e) => {
            cx.fail("node_groups", &s, e.clone());
            cx.fail("ha_replicas", &s, e);
        }
    }
}

fn from_rbac(cx: &mut Ctx, rbac: &mut Svc) {
    if !cx.wants("non_default_roles") {
        return;
    }
    let s = format!("RBAC {}/v1/roles", rbac.base());
    match rbac
        .get("/v1/roles", &[])
        .and_then(|r| compute::custom_roles_in_use(&r))
    {
        Ok(n) => {
            let mut c = ok(json!(n), s);
            c.detail = Some(format!(
                "roles other than {} that have a user or a group",
                compute::DEFAULT_ROLES.join(", ")
            ));
            cx.set("non_default_roles", c);
        }
        Err(e) => cx.fail("non_default_roles", &s, e),
    }
}

const ORCH_FIGURES: [&str; 5] = [
    "orchestrator_job_nodes",
    "orchestrator_job_nodes_mean",
    "orchestrator_job_nodes_max",
    "orchestrator_job_nodes_min",
    "orchestrator_jobs",
];

/// Jobs are listed newest first, a page at a time, until one older than
/// the orchestrator's start.
const JOB_PAGE: usize = 100;

fn from_orchestrator(cx: &mut Ctx, orch: &mut Svc, token: bool) {
    let ids: Vec<&'static str> = cx
        .wanted
        .iter()
        .filter(|e| e.source == Source::Orchestrator)
        .map(|e| e.id)
        .collect();
    if ids.is_empty() {
        return;
    }
    let s = format!("orchestrator {}/jobs", orch.base());
    if !token {
        let why = "needs an RBAC token (--token-file, PE_RBAC_TOKEN, ~/.puppetlabs/token): the \
orchestrator takes no certificate";
        for id in ids {
            cx.set(id, not(ItemStatus::Absent, &s, why));
        }
        return;
    }
    // Its start, from its status service (on the same port, /status/v1).
    let base = orch.base().to_string();
    let origin = base
        .strip_suffix("/orchestrator/v1")
        .unwrap_or(&base)
        .to_string();
    let start = orch
        .get_below(
            &origin,
            "/status/v1/services/status-service",
            &[("level", "debug".into())],
        )
        .and_then(|st| {
            compute::start_time(&st).ok_or_else(|| {
                "the orchestrator's status-service gives no start time \
(status.experimental.jvm-metrics.start-time-ms at level debug)"
                    .to_string()
            })
        });
    let jobs = start.and_then(|start| {
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let page = orch.get(
                "/jobs",
                &[
                    ("limit", JOB_PAGE.to_string()),
                    ("offset", offset.to_string()),
                    ("order_by", "timestamp".into()),
                    ("order", "desc".into()),
                ],
            )?;
            let (jobs, total) = compute::read_jobs(&page)?;
            let n = jobs.len();
            let older = jobs.iter().any(|j| j.created < start);
            all.extend(jobs.into_iter().filter(|j| j.created >= start));
            offset += n;
            if older || n < JOB_PAGE || total.is_some_and(|t| offset as u64 >= t) {
                return Ok::<_, String>((all, start));
            }
        }
    });
    match jobs {
        Ok((jobs, start)) => {
            let since = humantime::format_rfc3339_seconds(start);
            let src = format!("{s} (jobs since the orchestrator's start, {since})");
            for (id, v) in ORCH_FIGURES.iter().zip(compute::job_figures(&jobs)) {
                cx.set(id, ok(v, &src));
            }
            for id in ids {
                if let Some(v) = compute::per_job(id, &jobs) {
                    cx.set(id, ok(v, &src));
                }
            }
        }
        Err(e) => {
            for id in ids {
                cx.fail(id, &s, e.clone());
            }
        }
    }
}

fn from_puppetserver(cx: &mut Ctx, ps: &mut Svc) {
    let ids: Vec<&'static str> = cx
        .wanted
        .iter()
        .filter(|e| {
            matches!(
                e.source,
                Source::PuppetServerStatus | Source::PuppetServerConf
            )
        })
        .map(|e| e.id)
        .collect();
    if ids.is_empty() {
        return;
    }
    let s = format!("Puppet Server {}/status/v1/services?level=debug", ps.base());
    let figures = ps
        .get("/status/v1/services", &[("level", "debug".into())])
        .and_then(|v| compute::server_figures(&v));
    let mut pool: Option<Value> = None;
    match figures {
        Ok(f) => {
            for (id, v) in f {
                if id == "jruby_instances" {
                    pool = Some(v.clone());
                }
                let mut c = ok(v.clone(), &s);
                if id.starts_with("jvm_heap") {
                    c.detail = v.as_u64().map(|b| format!("{} MiB", b / (1024 * 1024)));
                }
                cx.set(id, c);
            }
        }
        Err(e) => {
            for id in &ids {
                if catalog::entry(id).is_some_and(|e| e.source == Source::PuppetServerStatus) {
                    cx.fail(id, &s, e.clone());
                }
            }
        }
    }
    let inp = cx.inp;
    let conf = &inp.puppetserver_conf;
    let csrc = |k: &str| format!("{} (jruby-puppet.{k})", conf.display());
    match read_hocon(conf) {
        Ok(Some(v)) => {
            let get = |k: &str| v.pointer(&format!("/jruby-puppet/{k}")).cloned();
            match get("max-active-instances") {
                Some(n) => cx.set("jruby_max_active", ok(n, csrc("max-active-instances"))),
                None => {
                    let mut c = ok(
                        pool.clone().unwrap_or(Value::Null),
                        csrc("max-active-instances"),
                    );
                    c.detail = Some(
                        "not set: Puppet Server's default (CPUs - 1, at most 4), the pool size its status shows"
                            .into(),
                    );
                    cx.set("jruby_max_active", c);
                }
            }
            let mut c = ok(
                get("max-requests-per-instance").unwrap_or(json!(0)),
                csrc("max-requests-per-instance"),
            );
            if get("max-requests-per-instance").is_none() {
                c.detail = Some("not set: Puppet Server's default, 0 (no limit)".into());
            }
            cx.set("jruby_max_requests", c);
        }
        Ok(None) => {
            let why = missing_file(inp, conf, "Puppet Server configuration");
            cx.set(
                "jruby_max_active",
                not(ItemStatus::Absent, csrc("max-active-instances"), &why),
            );
            cx.set(
                "jruby_max_requests",
                not(ItemStatus::Absent, csrc("max-requests-per-instance"), why),
            );
        }
        Err(e) => {
            cx.errors.push(e.clone());
            cx.fail("jruby_max_active", &csrc("max-active-instances"), e.clone());
            cx.fail("jruby_max_requests", &csrc("max-requests-per-instance"), e);
        }
    }
}

/// Fills in what the gatherer does not read: the items that cannot be
/// computed from outside, and PE's not-collected list.
pub fn complete(entry: &Entry, got: Option<&Computed>) -> Computed {
    if let Some(c) = got {
        return c.clone();
    }
    match entry.source {
        Source::Nowhere(why) => not(ItemStatus::NotComputable, where_kept(entry), why),
        Source::NotCollected => not(
            ItemStatus::NotCollected,
            "PE documentation",
            "PE's documentation: the console does not collect user inputs",
        ),
        _ => not(ItemStatus::Absent, where_kept(entry), "not gathered"),
    }
}

fn where_kept(e: &Entry) -> &'static str {
    match e.section {
        catalog::Section::Console => "PE console (browser)",
        catalog::Section::BackupRestore => "puppet-backup",
        catalog::Section::Installer => "PE installer",
        catalog::Section::AwsMarketplace => "AWS Marketplace image",
        _ if e.id.starts_with("cm_") => "Code Manager",
        _ if e.id.starts_with("patch_") => "patching task runs",
        _ if e.id.starts_with("job_") => "orchestrator",
        _ => "Puppet's analytics server",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_of_versions() {
        assert_eq!(release_of("2021.7.1"), Some((2021, 7)));
        assert_eq!(release_of("2019.8"), Some((2019, 8)));
        assert_eq!(release_of("2016.5.1-rc1"), Some((2016, 5)));
        assert_eq!(release_of("x"), None);
    }

    #[test]
    fn items_not_gathered_say_why() {
        let e = catalog::entry("restore_scope").unwrap();
        let c = complete(e, None);
        assert_eq!(c.status, ItemStatus::NotComputable);
        assert!(c.detail.unwrap().contains("puppet-backup"));
        let e = catalog::entry("user_names").unwrap();
        assert_eq!(complete(e, None).status, ItemStatus::NotCollected);
    }

    #[test]
    fn same_cause_same_key() {
        let a = PeError::from_answer("GET", "u1", 403, "{}", Default::default(), 1);
        let b = PeError::from_answer("GET", "u2", 403, "{}", Default::default(), 1);
        assert_eq!(cause_key(&a), cause_key(&b));
        let c = PeError::from_answer("GET", "u2", 500, "{}", Default::default(), 1);
        assert_ne!(cause_key(&a), cause_key(&c));
    }
}
