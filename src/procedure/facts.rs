//! Everything the plan depends on, gathered once, up front, before anything
//! is written: the pe.conf text, the classifier's groups, the PE version, the
//! orchestrator's inventory and job history, the credentials, this host.
//! Reads only (GETs); each fact keeps its error, which the preflight turns
//! into what to fix.

use super::context::Context;
use super::{Mode, Options};
use crate::enforce::plan::{detect_version, DetectedVersion};
use crate::enforce::reload::{systemd_running, ServiceManager};
use crate::files::TextFile;
use crate::pe::classifier::{self as nc, find_pe_infrastructure, Nc, CLASS};
use crate::pe::orchestrator::{job_done, InventoryItem, JobNode, Orch};
use crate::pe::PeHttp;
use serde_json::Value;

/// The facts of one command.
pub struct Facts {
    /// pe.conf as read (when that layer applies).
    pub pe_conf: Option<Result<TextFile, String>>,
    /// The classifier (when that layer applies).
    pub classifier: Option<Result<ClassifierFacts, ClassifierError>>,
    /// The PE version (when the classifier layer applies).
    pub version: Option<Result<DetectedVersion, String>>,
    /// The nodes that need a Puppet run for the classifier value to take
    /// effect (`--nodes`, else the ones PE Infrastructure names).
    pub targets: Vec<String>,
    /// The orchestrator: inventory of the targets and the job history, when
    /// Puppet runs are part of the procedure (not with `--no-run`).
    pub orchestrator: Option<Result<OrchFacts, String>>,
    /// The orchestrator API base (`…/orchestrator/v1`; empty when no
    /// connection could be configured).
    pub orchestrator_base: String,
    /// This host's certname (decides which reloads are done here).
    pub this_host: String,
    /// How services are reloaded here.
    pub service_manager: Option<ServiceManager>,
}

/// The classifier as read.
#[derive(Clone, Debug)]
pub struct ClassifierFacts {
    pub url: String,
    pub url_source: String,
    /// Credentials sent: `token`, `certificate`.
    pub auth: Vec<&'static str>,
    /// Every group (one GET; also used for overrides and targets).
    pub groups: Vec<Value>,
    /// The one PE Infrastructure group.
    pub infra: Value,
    /// HTTP requests this took (retries included), and the retries.
    pub requests: u32,
    pub retries: u32,
}

/// Why the classifier could not be read, and what was learned before.
#[derive(Clone, Debug)]
pub struct ClassifierError {
    pub message: String,
    /// The classifier's server gave no HTTP answer at all (down, hung,
    /// unreachable): the status endpoint, served by the same server, is not
    /// asked for the PE version (a second full `--timeout`).
    pub no_answer: bool,
    pub url: Option<(String, String)>,
    pub auth: Vec<&'static str>,
    pub requests: u32,
    pub retries: u32,
}

/// A job of the orchestrator's history that matters: running, or done
/// after the group's last edit.
#[derive(Clone, Debug)]
pub struct JobFacts {
    pub name: String,
    pub state: String,
    pub nodes: Vec<JobNode>,
}

#[derive(Clone, Debug)]
pub struct OrchFacts {
    pub base: String,
    /// Each target, connected to the PCP broker or not.
    pub inventory: Vec<InventoryItem>,
    /// The jobs that ran, or run, on any target since the group's last edit
    /// (newest first), with their nodes.
    pub jobs: Vec<JobFacts>,
}

impl ClassifierFacts {
    pub fn environment(&self) -> String {
        self.infra
            .get("environment")
            .and_then(Value::as_str)
            .unwrap_or("production")
            .to_string()
    }

    /// A `puppet_enterprise` parameter of PE Infrastructure, as text.
    pub fn host_param(&self, k: &str) -> Option<String> {
        self.infra
            .get("classes")
            .and_then(|c| c.get(CLASS))
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub fn last_edited(&self) -> Option<String> {
        self.infra
            .get("last_edited")
            .and_then(Value::as_str)
            .map(str::to_string)
    }
}

/// The nodes PE Infrastructure names for the runs: `puppet_master_host` and
/// `console_host`, and the nodes pinned to PE Master and PE Console,
/// deduplicated; host parameters that are still interpolations are skipped.
pub fn infrastructure_nodes(groups: &[Value], infra: &Value) -> Vec<String> {
    let pe = infra.get("classes").and_then(|c| c.get(CLASS));
    let mut found: Vec<String> = ["puppet_master_host", "console_host"]
        .iter()
        .filter_map(|k| pe.and_then(|p| p.get(*k)).and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    for name in ["PE Master", "PE Console"] {
        if let Some(g) = groups.iter().find(|g| nc::group_name(g) == name) {
            found.extend(nc::pinned(g));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for h in found {
        if !h.contains("%{") && !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

/// Gathers the facts `opts` needs.
pub fn gather(ctx: &Context, opts: &Options) -> Facts {
    let pe_conf = opts.pe_conf.as_ref().map(|p| {
        // A real run is going to write pe.conf: take its edit lock before
        // reading, so another pe-analytics editing it is waited for and
        // its result is what this run edits (issue 14).
        if opts.mode == Mode::Apply {
            TextFile::read_for_edit(p)
        } else {
            TextFile::read(p)
        }
        .map_err(|e| e.to_string())
    });
    let mut facts = Facts {
        pe_conf,
        classifier: None,
        version: None,
        targets: opts.nodes.clone(),
        orchestrator: None,
        // Only with the classifier layer: resolving the connection looks up
        // this host's certname (puppet.conf, DNS, maybe `puppet`), which the
        // pe.conf layer alone never needs.
        orchestrator_base: match opts.classifier {
            true => ctx.orchestrator_base().unwrap_or_default(),
            false => String::new(),
        },
        this_host: String::new(),
        service_manager: None,
    };
    if !opts.classifier {
        return facts;
    }
    let cl = read_classifier(ctx);
    if let Ok(c) = &cl {
        if facts.targets.is_empty() {
            facts.targets = infrastructure_nodes(&c.groups, &c.infra);
        }
    }
    let last_edited = cl.as_ref().ok().and_then(ClassifierFacts::last_edited);
    facts.classifier = Some(cl);
    if opts.mode == super::Mode::Check {
        return facts;
    }
    let unanswered = facts
        .classifier
        .as_ref()
        .is_some_and(|c| c.as_ref().is_err_and(|e| e.no_answer));
    let v = if unanswered {
        Err(
            "not asked: the console services' server, which also serves the status endpoint, \
did not answer the classifier (see above)"
                .to_string(),
        )
    } else {
        version(ctx, opts)
    };
    // This host's certname decides which 2016.5.1 reloads are done here; it
    // is looked up (a `puppet` process, where no --certname is given) only
    // when such reloads can be part of the plan.
    let reloads_possible = !opts.no_reload
        && v.as_ref()
            .map(|d| d.version.is_none_or(|x| x.needs_reload()))
            .unwrap_or(false);
    facts.this_host = match &ctx.given_certname {
        Some(c) => c.clone(),
        None if reloads_possible => ctx.this_host().to_string(),
        None => String::new(),
    };
    facts.version = Some(v);
    facts.service_manager =
        ServiceManager::find(std::env::var_os("PATH").as_deref(), systemd_running());
    if !opts.no_run && facts.classifier.as_ref().is_some_and(|c| c.is_ok()) {
        facts.orchestrator = Some(read_orchestrator(
            ctx,
            &facts.targets,
            last_edited.as_deref(),
        ));
    }
    facts
}

fn read_classifier(ctx: &Context) -> Result<ClassifierFacts, ClassifierError> {
    let fail = |message: String, url: Option<(String, String)>| ClassifierError {
        message,
        no_answer: false,
        url,
        auth: Vec::new(),
        requests: 0,
        retries: 0,
    };
    let conn = ctx
        .connection()
        .map_err(|e| fail(format!("classifier: {e}"), None))?;
    let url = (
        conn.classifier_url.value.clone(),
        conn.classifier_url.source.clone(),
    );
    let http = ctx
        .http()
        .map_err(|e| fail(format!("classifier: {e}"), Some(url.clone())))?;
    let auth = auth_of(http);
    let api = Nc {
        http,
        base: url.0.clone(),
    };
    let (before, retried) = (http.requests_sent(), http.retries());
    let mut no_answer = false;
    let read = api
        .groups()
        .map_err(|e| {
            no_answer = e.no_answer();
            format!("classifier: {e}")
        })
        .and_then(|groups| {
            let infra = find_pe_infrastructure(&groups)
                .map_err(|m| format!("classifier: {m}"))?
                .clone();
            Ok((groups, infra))
        });
    let requests = http.requests_sent() - before;
    let retries = http.retries() - retried;
    match read {
        Ok((groups, infra)) => Ok(ClassifierFacts {
            url: url.0,
            url_source: url.1,
            auth,
            groups,
            infra,
            requests,
            retries,
        }),
        Err(message) => Err(ClassifierError {
            message,
            no_answer,
            url: Some(url),
            auth,
            requests,
            retries,
        }),
    }
}

pub fn auth_of(http: &PeHttp) -> Vec<&'static str> {
    let mut auth = Vec::new();
    if http.auth().token {
        auth.push("token");
    }
    if http.auth().cert {
        auth.push("certificate");
    }
    auth
}

/// `--pe-version`, the version file, else the console services' status.
/// The status endpoint is served by the classifier's own server: when it
/// gives no answer at all (down, hung, unreachable), the classifier will not
/// answer either, so this is an error at once instead of a second full
/// timeout spent on the classifier (issue 14).
pub fn version(ctx: &Context, opts: &Options) -> Result<DetectedVersion, String> {
    let mut unreachable = None;
    let detected = detect_version(opts.pe_version.as_deref(), &opts.pe_version_file, || {
        let url = ctx.status_url()?;
        let http = ctx.http()?;
        let a = http.get(&url).map_err(|e| {
            let m = e.to_string();
            if e.no_answer() {
                unreachable = Some(e);
            }
            m
        })?;
        let body = a.body.get("classifier-service").unwrap_or(&a.body);
        let v = body
            .get("service_version")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{url}: no service_version"))?;
        Ok((v.to_string(), crate::peconf::secrets::mask_url(&url)))
    });
    if let Some(e) = unreachable {
        return Err(format!("PE version (status API): {e}"));
    }
    detected
}

/// The orchestrator, read with the token: every target's connection to the
/// PCP broker (`GET /inventory/<node>`: an authenticated read, so a refused
/// token shows here, before anything is written) and the jobs that matter.
fn read_orchestrator(
    ctx: &Context,
    targets: &[String],
    last_edited: Option<&str>,
) -> Result<OrchFacts, String> {
    let base = ctx.orchestrator_base()?;
    let http = ctx.http()?;
    if !http.auth().token {
        return Err(
            "the orchestrator accepts only an RBAC token, and none was given (--token-file, \
PE_RBAC_TOKEN, or `puppet-access login` for ~/.puppetlabs/token)"
                .to_string(),
        );
    }
    let orch = Orch {
        http,
        base: base.clone(),
    };
    let mut inventory = Vec::new();
    for t in targets {
        inventory.push(
            orch.inventory_node(t)
                .map_err(|e| format!("orchestrator: {e}"))?,
        );
    }
    let jobs =
        relevant_jobs(&orch, targets, last_edited).map_err(|e| format!("orchestrator: {e}"))?;
    Ok(OrchFacts {
        base,
        inventory,
        jobs,
    })
}

/// The jobs of the last 50 that touch `targets` and either still run or
/// finished after `since` (all running ones when `since` is unknown).
pub fn relevant_jobs(
    orch: &Orch,
    targets: &[String],
    since: Option<&str>,
) -> Result<Vec<JobFacts>, crate::pe::PeError> {
    let mut out = Vec::new();
    for job in orch.recent_jobs(50)? {
        let Some(name) = job.get("name").and_then(Value::as_str) else {
            continue;
        };
        let state = job
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let running = !job_done(&state);
        let finished_after = match (job.get("finished_timestamp").and_then(Value::as_str), since) {
            (Some(f), Some(s)) => super::timestamp::later(f, s).unwrap_or(false),
            _ => false,
        };
        if !running && !finished_after {
            continue;
        }
        // The scope's nodes, when the job lists them, spare a request.
        let scope: Option<Vec<&str>> = job
            .pointer("/options/scope/nodes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        if scope.is_some_and(|s| !s.iter().any(|n| targets.iter().any(|t| t == n))) {
            continue;
        }
        let nodes = orch.job_nodes(name)?;
        if nodes.iter().any(|n| targets.contains(&n.name)) {
            out.push(JobFacts {
                name: name.to_string(),
                state,
                nodes,
            });
        }
    }
    Ok(out)
}
