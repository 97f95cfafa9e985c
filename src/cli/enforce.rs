//! After the classifier layer: the Puppet runs that apply the change and the
//! reloads PE 2016.5.1 needs, following one plan ([`crate::enforce::plan`])
//! that `--dry-run` prints and the real run carries out.

use super::args::EnforceArgs;
use super::connection_args::ClassifierLayer;
use super::Failure;
use crate::enforce::plan::{
    self, detect_version, DetectedVersion, ReloadStep, ReloadsReport, Step,
};
use crate::enforce::reload::{systemd_running, ServiceManager};
use crate::enforce::runs::{self, job_run_command, PollBackoff, RunOutcome, RunSettings};
use crate::enforce::signal::stderr_is_tty;
use crate::output::classifier::ClassifierLayerReport;
use crate::output::report::{Layer, PlanReport};
use crate::output::Exit;
use crate::pe::config::{self, Connection, Host};
use crate::pe::orchestrator::{api_base, Orch};
use crate::pe::PeHttp;
use serde_json::Value;
use std::time::SystemTime;

/// What the enforcement needs from the connection: an HTTP client (separate
/// from the classifier layer's, so its request counts stay its own).
pub struct Ctx {
    pub conn: Option<Connection>,
    pub http: Option<PeHttp>,
    pub this_host: String,
}

impl Ctx {
    pub fn new(layer: &ClassifierLayer, enforce_certname: Option<&str>) -> Ctx {
        // `--certname` is this host's certname everywhere it is needed (the
        // default client certificate and URLs too), so it also spares the
        // slow `puppet config print certname`.
        let host = Host::current_with_certname(enforce_certname);
        let conn = config::resolve(&layer.connection.requested(), &host).ok();
        let http = conn
            .as_ref()
            .and_then(|c| PeHttp::new(&c.client_config()).ok());
        let this_host = enforce_certname
            .map(str::to_string)
            .unwrap_or_else(|| host.certname().to_string());
        Ctx {
            conn,
            http,
            this_host,
        }
    }

    /// The console services' status URL, next to the classifier's.
    fn status_url(&self) -> Option<String> {
        let c = self.conn.as_ref()?;
        let base = c.classifier_url.value.trim_end_matches('/');
        let root = base.strip_suffix("/classifier-api").unwrap_or(base);
        Some(format!("{root}/status/v1/services/classifier-service"))
    }

    pub fn version(&self, e: &EnforceArgs) -> Result<DetectedVersion, Failure> {
        self.version_from(e.pe_version.as_deref(), &e.pe_version_file)
    }

    pub fn version_from(
        &self,
        flag: Option<&str>,
        file: &std::path::Path,
    ) -> Result<DetectedVersion, Failure> {
        // The status endpoint is served by the classifier's own server: when
        // it gives no answer at all (down, hung, unreachable), the classifier
        // will not answer either, so stop now with that error instead of
        // spending a second full timeout on the classifier (issue 14).
        let mut unreachable = None;
        let detected = detect_version(flag, file, || {
            let url = self.status_url().ok_or("no PE connection configured")?;
            let http = self.http.as_ref().ok_or("no PE connection configured")?;
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
            return Err(Failure::error(format!("PE version (status API): {e}")));
        }
        detected.map_err(Failure::error)
    }
}

/// Refuses PE versions without the opt-out parameter.
pub fn refuse_old(v: &DetectedVersion) -> Result<(), Failure> {
    match v.version {
        Some(ver) if !ver.has_opt_out() => Err(Failure::error(format!(
            "PE {ver} (from {}) has no analytics opt-out: the parameter \
puppet_enterprise::send_analytics_data was introduced in PE 2016.4.0. Upgrade PE first; nothing was changed",
            v.source
        ))),
        _ => Ok(()),
    }
}

/// Text lines of the enforcement: stdout, stderr.
#[derive(Default)]
pub struct Lines {
    pub out: Vec<String>,
    pub err: Vec<String>,
}

fn group_field(rep: &ClassifierLayerReport, key: &str) -> Option<String> {
    rep.group
        .as_ref()?
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s.trim_end_matches('Z').split('+').next()?)
        .ok()
        .or_else(|| humantime::parse_rfc3339(s).ok())
}

/// For each target: whether the orchestrator's job history shows a
/// successful run of it after `since` (`Some(true)`), or nothing tells (`None`:
/// no edit time recorded, or no such job found: absence proves nothing, a
/// scheduled agent run may have applied it).
pub fn applied_since(
    orch: &Orch,
    targets: &[String],
    since: Option<&str>,
) -> Vec<(String, Option<bool>)> {
    let since = since.and_then(parse_time);
    let mut result: Vec<(String, Option<bool>)> =
        targets.iter().map(|t| (t.clone(), None)).collect();
    let Some(since) = since else {
        return result;
    };
    let Ok(jobs) = orch.recent_jobs(50) else {
        return result;
    };
    for job in jobs {
        let when = job
            .get("finished_timestamp")
            .and_then(Value::as_str)
            .and_then(parse_time);
        if when.is_none_or(|w| w <= since) {
            continue;
        }
        let Some(name) = job.get("name").and_then(Value::as_str) else {
            continue;
        };
        let Ok(nodes) = orch.job_nodes(name) else {
            continue;
        };
        for n in nodes.iter().filter(|n| n.ok()) {
            let fin = n.finish_timestamp.as_deref().and_then(parse_time);
            if fin.is_some_and(|f| f > since) {
                if let Some(r) = result.iter_mut().find(|(t, _)| t == &n.name) {
                    r.1 = Some(true);
                }
            }
        }
    }
    result
}

/// A `plan` entry for runs that could not be carried out: what remains.
fn not_executed(targets: &[String], env: &str, reason: &str) -> Layer {
    Layer::Plan(Box::new(PlanReport {
        layer: "plan",
        steps: vec![Step::run(targets, env)],
        reason: reason.to_string(),
        executed: false,
    }))
}

pub struct Outcome {
    pub exit: Exit,
    pub layers: Vec<Layer>,
    pub lines: Lines,
}

impl Outcome {
    /// The runs could not be started: exit 4, `message` on stderr, and the
    /// run still to do in the report, with `reason`.
    fn runs_not_started(&mut self, message: String, targets: &[String], env: &str, reason: &str) {
        self.exit = Exit::Enforce;
        self.lines.err.push(message);
        self.layers.push(not_executed(targets, env, reason));
    }
}

/// The runs and reloads after the classifier layer. `dry_run`: plan only.
pub fn after_classifier(
    ctx: &Ctx,
    e: &EnforceArgs,
    rep: &ClassifierLayerReport,
    version: &DetectedVersion,
    dry_run: bool,
    json: bool,
) -> Outcome {
    let mut out = Outcome {
        exit: Exit::Ok,
        layers: Vec::new(),
        lines: Lines::default(),
    };
    let targets: Vec<String> = if e.nodes.is_empty() {
        rep.run_puppet_on.clone()
    } else {
        e.nodes.clone()
    };
    let env = group_field(rep, "environment").unwrap_or_else(|| "production".into());
    let primary = group_field(rep, "puppet_master_host")
        .or_else(|| targets.first().cloned())
        .unwrap_or_default();
    let console = group_field(rep, "console_host").unwrap_or_else(|| primary.clone());
    if targets.is_empty() {
        out.lines
            .err
            .push("runs: no node to run Puppet on (give --nodes)".into());
        return out;
    }
    let orch_http = ctx.http.as_ref();
    let orch = ctx.conn.as_ref().zip(orch_http).map(|(c, http)| Orch {
        http,
        base: api_base(&c.orchestrator_url.value),
    });

    // Do runs need to happen? After a write, always; otherwise when the job
    // history does not prove that every target ran since the group's last edit.
    let (needed, reason) = if e.no_run {
        (false, "--no-run".to_string())
    } else if rep.written || (dry_run && !rep.requests.is_empty()) {
        (true, "the classifier was changed".to_string())
    } else {
        let since = group_field(rep, "last_edited");
        let applied = match &orch {
            Some(o) if !dry_run || since.is_some() => applied_since(o, &targets, since.as_deref()),
            _ => targets.iter().map(|t| (t.clone(), None)).collect(),
        };
        let missing: Vec<&str> = applied
            .iter()
            .filter(|(_, a)| *a != Some(true))
            .map(|(t, _)| t.as_str())
            .collect();
        if missing.is_empty() {
            (
                false,
                format!(
                    "the orchestrator's job history shows a successful run of {} since the group's last edit ({})",
                    targets.join(", "),
                    since.unwrap_or_default()
                ),
            )
        } else if since.is_none() {
            (
                true,
                "the classifier records no edit time (PE < 2018.1): whether a run applied the value is unknown"
                    .to_string(),
            )
        } else {
            (
                true,
                format!(
                    "no successful orchestrator run of {} since the group's last edit ({})",
                    missing.join(", "),
                    since.unwrap_or_default()
                ),
            )
        }
    };

    let manager = ServiceManager::find(std::env::var_os("PATH").as_deref(), systemd_running());
    let reload_steps: Vec<ReloadStep> = if e.no_reload {
        Vec::new()
    } else {
        plan::plan_reloads(
            version.version,
            &primary,
            &console,
            &ctx.this_host,
            manager.as_ref(),
        )
    };
    if version.version.is_none() {
        out.lines.err.push(format!(
            "note: PE version unknown ({}); give --pe-version if this is PE 2016.5.1, which needs reloads after the runs",
            version.note.clone().unwrap_or_default()
        ));
    }
    let mut steps = Vec::new();
    if needed {
        steps.push(Step::run(&targets, &env));
        steps.extend(reload_steps.iter().cloned().map(Step::Reload));
    }

    if dry_run || !needed {
        if dry_run {
            for s in &steps {
                out.lines.err.push(format!("plan: {}", s.describe()));
            }
            if !needed {
                out.lines
                    .err
                    .push(format!("runs: no Puppet run needed: {reason}"));
            }
            if needed {
                out.exit = Exit::Pending;
            }
        } else if e.no_run {
            let mut later = vec![Step::run(&targets, &env)];
            later.extend(reload_steps.iter().cloned().map(Step::Reload));
            out.lines.err.push(format!(
                "next: run Puppet on {} for the change to take effect: `{}`",
                targets.join(" and "),
                job_run_command(&targets, &env)
            ));
            for r in &reload_steps {
                out.lines.err.push(format!(
                    "next: then, on {}, reload {}: `{}`",
                    r.node, r.service, r.command
                ));
            }
            steps = later;
        } else {
            out.lines
                .err
                .push(format!("runs: no Puppet run needed: {reason}"));
        }
        out.layers.push(Layer::Plan(Box::new(PlanReport {
            layer: "plan",
            steps,
            reason,
            executed: false,
        })));
        return out;
    }

    // The real run.
    let Some(orch) = orch else {
        out.runs_not_started(
            format!(
                "runs: cannot reach the orchestrator (no connection could be configured); run Puppet yourself: `{}`",
                job_run_command(&targets, &env)
            ),
            &targets,
            &env,
            "no orchestrator connection could be configured",
        );
        return out;
    };
    if !ctx.http.as_ref().is_some_and(|h| h.auth().token) {
        out.runs_not_started(
            format!(
                "runs: the orchestrator needs an RBAC token (--token-file, PE_RBAC_TOKEN or `puppet-access login`); \
still to do: `{}`",
                job_run_command(&targets, &env)
            ),
            &targets,
            &env,
            "the orchestrator needs an RBAC token",
        );
        return out;
    }
    let settings = RunSettings {
        wait_timeout: e.wait_timeout,
        poll: PollBackoff::default(),
        progress: !json && stderr_is_tty(),
    };
    let runs = match runs::run(
        &orch,
        &targets,
        &env,
        "pe-analytics: analytics opt-out/opt-in",
        &settings,
    ) {
        Ok(r) => r,
        Err(err) => {
            out.runs_not_started(
                format!(
                    "runs: the orchestrator could not start the runs: {err}\nstill to do: `{}`",
                    job_run_command(&targets, &env)
                ),
                &targets,
                &env,
                &format!("the orchestrator could not start the runs: {err}"),
            );
            return out;
        }
    };
    let lines = runs::describe(&runs);
    let ok = runs.outcome == RunOutcome::Ok;
    if ok {
        out.lines.out.extend(lines);
    } else {
        out.lines.err.extend(lines);
        out.exit = Exit::Enforce;
    }
    out.layers.push(Layer::Runs(Box::new(runs)));

    let mut reloads = reload_steps;
    if !reloads.is_empty() {
        if !ok {
            out.lines.err.push(format!(
                "reloads: not done because the runs did not all succeed; after them, run: {}",
                reloads
                    .iter()
                    .map(|r| format!("`{}` (on {})", r.command, r.node))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            for r in reloads.iter_mut() {
                if r.local {
                    let result = match &manager {
                        Some(m) => m.reload(r.service),
                        None => Err("neither systemctl nor service is on PATH".to_string()),
                    };
                    match result {
                        Ok(()) => {
                            r.done = true;
                            out.lines.out.push(format!(
                                "reloads: reloaded {} here (`{}`)",
                                r.service, r.command
                            ));
                        }
                        Err(msg) => {
                            out.exit = Exit::Enforce;
                            out.lines.err.push(format!(
                                "reloads: reloading {} here failed: {msg}; still to do: `{}`",
                                r.service, r.command
                            ));
                            r.error = Some(msg);
                        }
                    }
                } else {
                    out.lines.out.push(format!(
                        "reloads: PE 2016.5.1: reload {} on {} (not this host): `{}`",
                        r.service, r.node, r.command
                    ));
                }
            }
        }
    }
    out.layers.push(Layer::Reloads(Box::new(ReloadsReport {
        layer: "reloads",
        pe_version: version.clone(),
        this_host: ctx.this_host.clone(),
        reloads,
    })));
    out
}
