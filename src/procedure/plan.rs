//! `plan(facts, options)`: the whole procedure as a value, pure. The same
//! value is shown by `--dry-run` and carried out, step by step, by
//! [`super::execute`]; nothing is decided twice.

use super::applied::{proven_runs, running_on, RunProof};
use super::facts::{infrastructure_nodes, ClassifierFacts, Facts};
use super::preflight::{self, Finding};
use super::{Goal, Mode, Options};
use crate::enforce::plan::{plan_reloads, ReloadStep};
use crate::enforce::runs::job_run_command;
use crate::files::TextFile;
use crate::output::classifier::ClassifierLayerReport;
use crate::output::report::LayerReport;
use crate::pe::classifier::{
    self as nc, apply_delta, delta, key_diff, overrides, param, serial, state_of, PlannedRequest,
    CLASS,
};
use crate::pe::orchestrator::Orch;
use crate::peconf::lint::Analysis;
use crate::peconf::plan::{Edit, PlanError};
use crate::peconf::syntax_for;
use crate::peconf::PeConf;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::Path;

/// The description sent with the deploy (shown in PE's job list).
pub const JOB_DESCRIPTION: &str = "pe-analytics: analytics opt-out/opt-in";

/// One step of the procedure, as `--dry-run` shows it and the real run
/// carries it out.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Write pe.conf's new text (atomically; refused if the file changed
    /// since it was read).
    PeConf {
        path: String,
        edits: Vec<Edit>,
        backup: bool,
    },
    /// One one-key delta on a group (the analytics value, or an override
    /// removed with `--fix-overrides`), then a read-back.
    Classifier {
        group: String,
        group_id: String,
        /// `section.class.send_analytics_data`.
        key: String,
        value: Value,
        request: PlannedRequest,
    },
    /// Puppet runs on the nodes (inventory checked in the preflight; a job
    /// already running there is waited for, one that ran there since the
    /// group's last edit counted, before any deploy).
    Run {
        nodes: Vec<String>,
        environment: String,
        command: String,
        request: PlannedRequest,
        /// A job found running on these nodes: waited for first.
        #[serde(skip_serializing_if = "Option::is_none")]
        running_job: Option<String>,
    },
    Reload(ReloadStep),
}

/// A step and what must hold for it to run.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedStep {
    #[serde(flatten)]
    pub step: Step,
    pub preconditions: Vec<String>,
}

impl Step {
    /// The run step for `nodes` (also what `--no-run` leaves to do).
    pub fn run(nodes: &[String], environment: &str, orchestrator_base: &str) -> Step {
        let url = format!("{}/command/deploy", orchestrator_base.trim_end_matches('/'));
        Step::Run {
            nodes: nodes.to_vec(),
            environment: environment.to_string(),
            command: job_run_command(nodes, environment),
            request: PlannedRequest {
                method: "POST".into(),
                url,
                headers: vec![
                    "Content-Type: application/json".into(),
                    "X-Authentication: <redacted>".into(),
                ],
                body: Orch::deploy_body(environment, nodes, JOB_DESCRIPTION),
            },
            running_job: None,
        }
    }

    /// One line saying what the step would do.
    pub fn describe(&self) -> String {
        match self {
            Step::PeConf { path, edits, .. } => {
                format!("would write {path} ({} key edit(s))", edits.len())
            }
            Step::Classifier {
                group, key, value, ..
            } => format!("would set {key} = {value} in group \"{group}\" and read it back"),
            Step::Run {
                nodes,
                command,
                running_job,
                ..
            } => format!(
                "would {}run Puppet on {} (POST /command/deploy; like `{command}`) and wait for the job",
                running_job
                    .as_ref()
                    .map(|j| format!("wait for job {j}, already running there, then "))
                    .unwrap_or_default(),
                nodes.join(", ")
            ),
            Step::Reload(r) if r.local => {
                format!("would reload {} here ({}): `{}`", r.service, r.node, r.command)
            }
            Step::Reload(r) => format!(
                "would print the command to reload {} on {}: `{}`",
                r.service, r.node, r.command
            ),
        }
    }
}

/// The pe.conf layer as planned.
#[derive(Clone, Debug)]
pub struct PeConfPlan {
    pub file: TextFile,
    pub report: LayerReport,
    /// The new text (when it changes).
    pub after: Option<String>,
}

/// A classifier write as planned.
#[derive(Clone, Debug)]
pub struct ClassifierWrite {
    /// The group as read (the first delta carries its serial).
    pub group: Value,
    pub section: String,
    pub class: String,
    pub value: Option<Value>,
    /// Index in the report's `overrides` (an override removal).
    pub override_index: Option<usize>,
}

/// Whether Puppet must run, and why.
#[derive(Clone, Debug, Serialize)]
pub struct RunsDecision {
    pub needed: bool,
    pub reason: String,
    /// Runs of the targets since the group's last edit found in the job
    /// history (they make a run unnecessary).
    pub proven: Vec<RunProof>,
}

/// The procedure.
#[derive(Clone, Debug)]
pub struct Plan {
    pub goal: Goal,
    pub mode: Mode,
    pub pe_conf: Option<PeConfPlan>,
    pub classifier: Option<ClassifierLayerReport>,
    /// The classifier writes, in the order of their steps.
    pub writes: Vec<ClassifierWrite>,
    pub steps: Vec<PlannedStep>,
    /// Steps left for later (`--no-run`), with why.
    pub deferred: Vec<PlannedStep>,
    pub runs: Option<RunsDecision>,
    /// The preflight: what was checked, and what blocks the plan.
    pub findings: Vec<Finding>,
    /// The environment and the primary/console nodes (for the runs and reloads).
    pub environment: String,
}

impl Plan {
    /// A preflight finding forbids running the plan.
    pub fn blocked(&self) -> bool {
        self.findings.iter().any(Finding::blocks)
    }

    /// The blockers, as one message.
    pub fn blockers(&self) -> Option<String> {
        let b: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.blocks())
            .map(|f| {
                // Messages that already name their check ("classifier: GET
                // ...") are not prefixed twice.
                let prefix = format!("{}: ", f.check);
                let m = f.message.strip_prefix(&prefix).unwrap_or(&f.message);
                format!("{prefix}{m}")
            })
            .collect();
        (!b.is_empty()).then(|| b.join("; "))
    }

    /// Overrides that defeat the goal and are not removed by the plan.
    pub fn defeating_overrides(&self) -> usize {
        self.classifier
            .as_ref()
            .map(|c| {
                c.overrides
                    .iter()
                    .enumerate()
                    .filter(|(i, o)| {
                        o.defeats && !self.writes.iter().any(|w| w.override_index == Some(*i))
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Something would change (written, or run).
    pub fn pending(&self) -> bool {
        !self.steps.is_empty()
    }
}

/// An engine error with the file's name in front (`pe.conf:3:7: ...`).
pub fn located(path: &Path, e: &crate::hocon::HoconError) -> String {
    format!("{}:{e}", path.display())
}

fn plan_failure(path: &Path, e: PlanError) -> String {
    match e {
        PlanError::Hocon(h) if h.is_syntax() => located(path, &h),
        other => format!("{}: {other}", path.display()),
    }
}

fn layer_report(
    path: &Path,
    before: &Analysis,
    after: &Analysis,
    edits: &[Edit],
    diff: String,
) -> LayerReport {
    LayerReport {
        layer: "pe.conf",
        path: path.display().to_string(),
        state: before.state,
        value: before.value.clone(),
        line: before.line,
        state_after: after.state,
        changes: edits.to_vec(),
        diff,
        written: false,
        backup: None,
        findings: before.findings.clone(),
    }
}

/// The pe.conf layer: the edits (or, for `check`, only the analysis). The
/// file is parsed once ([`PeConf`]): the lint, the edits, the diff and the
/// check before writing all work on that parse.
fn plan_pe_conf(file: &TextFile, goal: Goal, mode: Mode) -> Result<PeConfPlan, String> {
    let path = file.path.clone();
    let conf = PeConf::parse(&file.text, syntax_for(&path)).map_err(|e| located(&path, &e))?;
    if mode == Mode::Check {
        let analysis = conf.analysis();
        return Ok(PeConfPlan {
            file: file.clone(),
            report: layer_report(&path, analysis, analysis, &[], String::new()),
            after: None,
        });
    }
    let change = match goal {
        Goal::OptOut => conf.opt_out(),
        Goal::OptIn { explicit } => conf.opt_in(explicit),
    }
    .map_err(|e| plan_failure(&path, e))?;
    let planned = &change.planned;
    let diff =
        crate::output::diff::unified(&path.display().to_string(), &planned.before, &planned.after);
    let after = planned.changed().then(|| planned.after.render());
    Ok(PeConfPlan {
        file: file.clone(),
        report: layer_report(&path, &change.before, &change.after, &planned.edits, diff),
        after,
    })
}

fn request(c: &ClassifierFacts, id: &str, delta: &Value) -> PlannedRequest {
    let mut headers = vec!["Content-Type: application/json".to_string()];
    if c.auth.contains(&"token") {
        headers.push("X-Authentication: <redacted>".to_string());
    }
    PlannedRequest {
        method: "POST".into(),
        url: format!("{}/v1/groups/{id}", c.url),
        headers,
        body: delta.clone(),
    }
}

/// The classifier layer: its report (before and, as planned, after) and
/// the writes.
fn plan_classifier(
    c: &ClassifierFacts,
    goal: Goal,
    opts: &Options,
) -> (
    ClassifierLayerReport,
    Vec<ClassifierWrite>,
    Vec<PlannedStep>,
) {
    let infra = &c.infra;
    let id = nc::group_id(infra).to_string();
    let mut rep = ClassifierLayerReport::new(c.url.clone(), c.url_source.clone());
    rep.auth = c.auth.clone();
    rep.nc_requests = c.requests;
    rep.retries = c.retries;
    let mut group = json!({
        "id": id, "name": nc::group_name(infra), "environment": c.environment(),
        "serial_number": serial(infra),
    });
    for (k, v) in [
        ("last_edited", c.last_edited()),
        ("puppet_master_host", c.host_param("puppet_master_host")),
        ("console_host", c.host_param("console_host")),
    ] {
        if let Some(v) = v {
            group[k] = json!(v);
        }
    }
    rep.group = Some(group);
    let current = param(infra, "classes", CLASS).cloned();
    rep.state = Some(state_of(current.as_ref()));
    rep.value = Some(current.clone().unwrap_or(Value::Null));
    rep.run_puppet_on = infrastructure_nodes(&c.groups, infra);
    rep.overrides = overrides(&c.groups, goal);
    let needs = goal.needs_change(current.as_ref());
    let mut writes = Vec::new();
    let mut steps = Vec::new();
    let mut diff = String::new();
    let mut push = |group: &Value,
                    section: &str,
                    class: &str,
                    value: Option<Value>,
                    override_index: Option<usize>,
                    rep: &mut ClassifierLayerReport| {
        let d = delta(section, class, value.clone(), serial(group));
        diff.push_str(&key_diff(group, &apply_delta(group, &d)));
        let req = request(c, nc::group_id(group), &d);
        rep.requests.push(req.clone());
        steps.push(PlannedStep {
            step: Step::Classifier {
                group: nc::group_name(group).to_string(),
                group_id: nc::group_id(group).to_string(),
                key: format!("{section}.{class}.{}", nc::PARAM),
                value: value.clone().unwrap_or(Value::Null),
                request: req,
            },
            preconditions: vec![format!(
                "group \"{}\" unchanged since it was read{}",
                nc::group_name(group),
                serial(group)
                    .map(|s| format!(" (serial_number {s}; a 409 means re-read and resend)"))
                    .unwrap_or_default()
            )],
        });
        writes.push(ClassifierWrite {
            group: group.clone(),
            section: section.to_string(),
            class: class.to_string(),
            value,
            override_index,
        });
    };
    if needs {
        push(infra, "classes", CLASS, goal.wanted(), None, &mut rep);
    }
    if opts.fix_overrides && opts.mode != Mode::Check {
        let ovs = rep.overrides.clone();
        for (i, o) in ovs.iter().enumerate().filter(|(_, o)| o.defeats) {
            if let Some(g) = c.groups.iter().find(|g| nc::group_id(g) == o.group_id) {
                push(g, &o.section, &o.class, None, Some(i), &mut rep);
            }
        }
    }
    rep.diff = diff;
    let after = if needs { goal.wanted() } else { current };
    if opts.mode == Mode::Check {
        rep.state_after = rep.state;
        rep.value_after = rep.value.clone();
    } else {
        rep.state_after = Some(state_of(after.as_ref()));
        rep.value_after = Some(after.unwrap_or(Value::Null));
    }
    let defeating = rep.overrides.iter().filter(|o| o.defeats).count();
    rep.compliant = !needs && defeating == 0;
    (rep, writes, steps)
}

/// Whether runs are needed after the classifier layer, and why.
fn decide_runs(facts: &Facts, c: &ClassifierFacts, writes: bool, opts: &Options) -> RunsDecision {
    let targets = &facts.targets;
    let since = c.last_edited();
    let decision = |needed: bool, reason: String, proven: Vec<RunProof>| RunsDecision {
        needed,
        reason,
        proven,
    };
    if writes {
        return decision(true, "the classifier is changed".into(), Vec::new());
    }
    let Some(Ok(orch)) = &facts.orchestrator else {
        let why = match (&facts.orchestrator, opts.no_run) {
            (_, true) => "--no-run: the job history was not read".to_string(),
            (Some(Err(e)), _) => e.clone(),
            _ => "the orchestrator was not asked".to_string(),
        };
        return decision(
            true,
            format!("whether a run applied the value is unknown ({why})"),
            Vec::new(),
        );
    };
    let proven = proven_runs(&orch.jobs, targets, since.as_deref());
    let missing: Vec<&str> = targets
        .iter()
        .filter(|t| !proven.iter().any(|p| &p.node == *t))
        .map(String::as_str)
        .collect();
    let since_text = since.clone().unwrap_or_default();
    if missing.is_empty() && !targets.is_empty() {
        return decision(
            false,
            format!(
                "the orchestrator's job history shows a successful run of {} since the group's last edit ({since_text})",
                targets.join(", ")
            ),
            proven,
        );
    }
    if since.is_none() {
        return decision(
            true,
            "the classifier records no edit time (PE < 2018.1): whether a run applied the value is unknown"
                .into(),
            proven,
        );
    }
    decision(
        true,
        format!(
            "no successful orchestrator run of {} since the group's last edit ({since_text})",
            missing.join(", ")
        ),
        proven,
    )
}

/// The plan: pure over `facts` and `opts`.
pub fn plan(facts: &Facts, opts: &Options) -> Plan {
    let goal = opts.goal;
    let mut p = Plan {
        goal,
        mode: opts.mode,
        pe_conf: None,
        classifier: None,
        writes: Vec::new(),
        steps: Vec::new(),
        deferred: Vec::new(),
        runs: None,
        findings: Vec::new(),
        environment: "production".into(),
    };
    let mut pe_conf_error = None;
    if let Some(read) = &facts.pe_conf {
        match read
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|f| plan_pe_conf(f, goal, opts.mode))
        {
            Ok(pc) => {
                if let Some(_after) = &pc.after {
                    p.steps.push(PlannedStep {
                        step: Step::PeConf {
                            path: pc.report.path.clone(),
                            edits: pc.report.changes.clone(),
                            backup: opts.backup,
                        },
                        preconditions: vec![format!(
                            "{} unchanged on disk since it was read, and writable",
                            pc.report.path
                        )],
                    });
                }
                p.pe_conf = Some(pc);
            }
            Err(e) => pe_conf_error = Some(e),
        }
    }
    let mut classifier_error = None;
    let mut cf: Option<&ClassifierFacts> = None;
    match &facts.classifier {
        Some(Ok(c)) => {
            let (rep, writes, steps) = plan_classifier(c, goal, opts);
            p.environment = c.environment();
            p.classifier = Some(rep);
            p.writes = writes;
            p.steps.extend(steps);
            cf = Some(c);
        }
        Some(Err(e)) => {
            let mut rep = ClassifierLayerReport::new(
                e.url.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
                e.url.as_ref().map(|u| u.1.clone()).unwrap_or_default(),
            );
            rep.auth = e.auth.clone();
            rep.nc_requests = e.requests;
            rep.retries = e.retries;
            if e.url.is_some() {
                p.classifier = Some(rep);
            }
            classifier_error = Some(e.message.clone());
        }
        None => {}
    }
    let orch_base = facts.orchestrator_base.clone();
    if let (Some(c), true) = (cf, opts.mode != Mode::Check) {
        let decision = decide_runs(facts, c, !p.writes.is_empty(), opts);
        if decision.needed && !facts.targets.is_empty() {
            let mut run = Step::run(&facts.targets, &p.environment, &orch_base);
            if let (Step::Run { running_job, .. }, Some(Ok(o))) = (&mut run, &facts.orchestrator) {
                *running_job = running_on(&o.jobs, &facts.targets)
                    .first()
                    .map(|j| j.name.clone());
            }
            let mut enforcement = vec![PlannedStep {
                step: run,
                preconditions: vec![
                    "every earlier step succeeded".into(),
                    format!(
                        "the orchestrator accepts the token and {} connected (checked in the preflight)",
                        facts.targets.join(", ")
                    ),
                ],
            }];
            if !opts.no_reload {
                let version = facts
                    .version
                    .as_ref()
                    .and_then(|v| v.as_ref().ok())
                    .and_then(|v| v.version);
                let primary = c
                    .host_param("puppet_master_host")
                    .or_else(|| facts.targets.first().cloned())
                    .unwrap_or_default();
                let console = c
                    .host_param("console_host")
                    .unwrap_or_else(|| primary.clone());
                for r in plan_reloads(
                    version,
                    &primary,
                    &console,
                    &facts.this_host,
                    facts.service_manager.as_ref(),
                ) {
                    enforcement.push(PlannedStep {
                        preconditions: vec!["the runs succeeded on every node".into()],
                        step: Step::Reload(r),
                    });
                }
            }
            if opts.no_run {
                p.deferred = enforcement;
            } else {
                p.steps.extend(enforcement);
            }
        }
        p.runs = Some(decision);
    }
    p.findings = preflight::check(facts, &p, opts, pe_conf_error, classifier_error);
    p
}

#[cfg(test)]
mod tests {
    //! `plan` over recorded facts (tests/data/procedure: the groups pe-sim
    //! answered), no network.
    use super::*;
    use crate::enforce::plan::DetectedVersion;
    use crate::enforce::reload::ServiceManager;
    use crate::enforce::version::PeVersion;
    use crate::pe::classifier::find_pe_infrastructure;
    use crate::pe::orchestrator::{InventoryItem, JobNode};
    use crate::procedure::facts::{JobFacts, OrchFacts};
    use std::path::PathBuf;
    use std::time::Duration;

    const MONO: &str = include_str!("../../tests/data/procedure/groups-2021.7.1-mono.json");
    const SPLIT: &str = include_str!("../../tests/data/procedure/groups-2016.5.1-split.json");
    const PRIMARY: &str = "primary.example.test";
    const ORCH: &str = "https://pe.test:8143/orchestrator/v1";

    fn opts() -> Options {
        Options {
            goal: Goal::OptOut,
            mode: Mode::Apply,
            verdict_only: false,
            pe_conf: None,
            classifier: true,
            fix_overrides: false,
            nodes: Vec::new(),
            no_run: false,
            no_reload: false,
            backup: false,
            wait_timeout: Duration::from_secs(60),
            pe_version: None,
            pe_version_file: PathBuf::from("/nonexistent"),
            lock_file: None,
        }
    }

    /// Facts as gathered against the recorded groups, with `value` set on
    /// PE Infrastructure, every target connected and no job in the history.
    fn facts(groups: &str, version: &str, value: Option<Value>) -> Facts {
        let mut groups: Vec<Value> = serde_json::from_str(groups).unwrap();
        for g in groups
            .iter_mut()
            .filter(|g| g["name"] == "PE Infrastructure")
        {
            if let Some(v) = &value {
                g["classes"]["puppet_enterprise"]["send_analytics_data"] = v.clone();
            }
        }
        let infra = find_pe_infrastructure(&groups).unwrap().clone();
        let targets = infrastructure_nodes(&groups, &infra);
        Facts {
            pe_conf: None,
            classifier: Some(Ok(ClassifierFacts {
                url: "https://pe.test:4433/classifier-api".into(),
                url_source: "--classifier-url".into(),
                auth: vec!["token"],
                groups,
                infra,
                requests: 1,
                retries: 0,
            })),
            version: Some(Ok(DetectedVersion {
                version: Some(version.parse::<PeVersion>().unwrap()),
                source: "--pe-version".into(),
                note: None,
            })),
            orchestrator: Some(Ok(OrchFacts {
                base: ORCH.into(),
                inventory: targets
                    .iter()
                    .map(|t| InventoryItem {
                        name: t.clone(),
                        connected: true,
                    })
                    .collect(),
                jobs: Vec::new(),
            })),
            targets,
            orchestrator_base: ORCH.into(),
            this_host: PRIMARY.into(),
            service_manager: Some(ServiceManager::Service(PathBuf::from("/usr/sbin/service"))),
        }
    }

    fn kinds(steps: &[PlannedStep]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match &s.step {
                Step::PeConf { .. } => "pe.conf".to_string(),
                Step::Classifier { key, .. } => format!("classifier {key}"),
                Step::Run { nodes, .. } => format!("run {}", nodes.join(",")),
                Step::Reload(r) => format!(
                    "reload {} on {}{}",
                    r.service,
                    r.node,
                    if r.local { " here" } else { "" }
                ),
            })
            .collect()
    }

    #[test]
    fn a_change_is_a_write_then_a_run() {
        let f = facts(MONO, "2021.7.1", None);
        let p = plan(&f, &opts());
        assert!(!p.blocked(), "{:?}", p.findings);
        assert_eq!(
            kinds(&p.steps),
            [
                "classifier classes.puppet_enterprise.send_analytics_data",
                "run primary.example.test"
            ]
        );
        let Step::Classifier { request, .. } = &p.steps[0].step else {
            unreachable!()
        };
        let serial =
            f.classifier.as_ref().unwrap().as_ref().unwrap().infra["serial_number"].clone();
        assert_eq!(
            request.body,
            json!({"serial_number": serial, "classes": {"puppet_enterprise": {"send_analytics_data": false}}})
        );
        let Step::Run { request, .. } = &p.steps[1].step else {
            unreachable!()
        };
        assert_eq!(request.url, format!("{ORCH}/command/deploy"));
        assert_eq!(request.body["scope"]["nodes"], json!([PRIMARY]));
        assert!(p.pending());
    }

    #[test]
    fn no_run_when_the_job_history_proves_one_after_the_last_edit() {
        let mut f = facts(MONO, "2021.7.1", Some(json!(false)));
        let edited = f
            .classifier
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .last_edited()
            .unwrap();
        let job = |start: &str| JobFacts {
            name: "7".into(),
            state: "finished".into(),
            nodes: vec![JobNode {
                name: PRIMARY.into(),
                state: "finished".into(),
                result: Some("unchanged".into()),
                message: None,
                start_timestamp: Some(start.into()),
                finish_timestamp: Some(start.into()),
            }],
        };
        if let Some(Ok(o)) = f.orchestrator.as_mut() {
            o.jobs = vec![job("2099-01-01T00:00:00Z")];
        }
        let p = plan(&f, &opts());
        assert!(p.steps.is_empty(), "{:?}", kinds(&p.steps));
        let r = p.runs.as_ref().unwrap();
        assert!(!r.needed && r.reason.contains("job history"), "{r:?}");
        assert!(!p.pending());
        // A run that started before the edit proves nothing.
        if let Some(Ok(o)) = f.orchestrator.as_mut() {
            o.jobs = vec![job("2000-01-01T00:00:00Z")];
        }
        let p = plan(&f, &opts());
        assert_eq!(kinds(&p.steps), ["run primary.example.test"]);
        assert!(
            p.runs.as_ref().unwrap().reason.contains(&edited),
            "{:?}",
            p.runs
        );
    }

    #[test]
    fn split_2016_5_1_reloads_here_and_prints_for_the_console() {
        let f = facts(SPLIT, "2016.5.1", None);
        let p = plan(&f, &opts());
        assert!(!p.blocked(), "{:?}", p.findings);
        assert_eq!(
            kinds(&p.steps),
            [
                "classifier classes.puppet_enterprise.send_analytics_data",
                "run primary.example.test,console.example.test",
                "reload pe-console-services on console.example.test",
                "reload pe-puppetserver on primary.example.test here",
            ]
        );
        // No serial before 2018.1: the delta carries none.
        let Step::Classifier { request, .. } = &p.steps[0].step else {
            unreachable!()
        };
        assert!(request.body.get("serial_number").is_none());
        // --no-run: the run and reloads are left for later, not planned.
        let mut o = opts();
        o.no_run = true;
        let mut f2 = facts(SPLIT, "2016.5.1", None);
        f2.orchestrator = None;
        let p = plan(&f2, &o);
        assert!(!p.blocked(), "{:?}", p.findings);
        assert_eq!(kinds(&p.steps).len(), 1);
        assert_eq!(kinds(&p.deferred).len(), 3);
        // --nodes replaces the targets.
        let mut f3 = facts(SPLIT, "2016.5.1", None);
        f3.targets = vec!["console.example.test".into()];
        let p = plan(&f3, &opts());
        assert_eq!(kinds(&p.steps)[1], "run console.example.test");
    }

    fn blockers(p: &Plan) -> Vec<&'static str> {
        p.findings
            .iter()
            .filter(|f| f.blocks())
            .map(|f| f.check)
            .collect()
    }

    #[test]
    fn the_preflight_blocks_what_cannot_run() {
        let mut f = facts(MONO, "2021.7.1", None);
        f.orchestrator = Some(Err(
            "orchestrator: HTTP 401 (puppetlabs.rbac/invalid-token)".into(),
        ));
        let p = plan(&f, &opts());
        assert_eq!(blockers(&p), ["orchestrator"]);
        assert!(p.blockers().unwrap().contains("--no-run"));
        // Opting out of the runs lifts it.
        let mut o = opts();
        o.no_run = true;
        assert!(!plan(&f, &o).blocked());

        let mut f = facts(MONO, "2021.7.1", None);
        if let Some(Ok(o)) = f.orchestrator.as_mut() {
            o.inventory[0].connected = false;
        }
        assert_eq!(blockers(&plan(&f, &opts())), ["targets"]);

        let mut f = facts(MONO, "2021.7.1", None);
        f.version = Some(Ok(DetectedVersion {
            version: None,
            source: "unknown".into(),
            note: Some("status endpoint: HTTP 404".into()),
        }));
        assert_eq!(blockers(&plan(&f, &opts())), ["pe-version"]);
        let mut o = opts();
        o.no_reload = true;
        assert!(!plan(&f, &o).blocked());

        let f = facts(MONO, "2016.2.1", None);
        assert_eq!(blockers(&plan(&f, &opts())), ["pe-version"]);

        // 2016.5.1, the primary is this host, and no way to reload here.
        let mut f = facts(SPLIT, "2016.5.1", None);
        f.service_manager = None;
        assert_eq!(blockers(&plan(&f, &opts())), ["reloads"]);
    }

    #[test]
    fn pe_conf_is_planned_first_and_a_read_only_file_blocks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        std::fs::write(&path, "{\n  \"a::b\": 1\n}\n").unwrap();
        let mut f = facts(MONO, "2021.7.1", None);
        f.pe_conf = Some(Ok(TextFile::read(&path).unwrap()));
        let p = plan(&f, &opts());
        assert_eq!(kinds(&p.steps)[0], "pe.conf");
        assert!(p
            .pe_conf
            .as_ref()
            .unwrap()
            .report
            .diff
            .contains("+  \"puppet_enterprise::send_analytics_data\": false"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        f.pe_conf = Some(Ok(TextFile::read(&path).unwrap()));
        assert_eq!(blockers(&plan(&f, &opts())), ["pe.conf"]);
    }
}
