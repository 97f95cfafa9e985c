//! Carries out a plan: exactly its steps, in order, each reported through
//! [`Progress`] as soon as its layer is known. A failing step stops the
//! ones after it (the Puppet runs stop the reloads); the outcome says which
//! ran, which failed and what remains.

use super::applied::{proven_runs, running_on};
use super::context::Context;
use super::facts::{relevant_jobs, Facts};
use super::outcome::{Outcome, StepState};
use super::plan::{Plan, PlannedStep, Step, JOB_DESCRIPTION};
use super::{Mode, Options};
use crate::enforce::plan::{ReloadStep, ReloadsReport};
use crate::enforce::runs::{self, job_run_command, PollBackoff, RunOutcome, RunSettings};
use crate::output::report::{Layer, PlanReport};
use crate::output::Exit;
use crate::pe::classifier::{self as nc, param, serial, state_of, write_param, Nc, CLASS};
use crate::pe::orchestrator::Orch;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

/// Where the procedure reports while it runs. The library never prints; the
/// command line shows these as they come (text) or not at all (JSON).
pub trait Progress {
    /// A layer's result is known.
    fn layer(&mut self, _layer: &Layer) {}
    /// A diagnostic: a note or a warning.
    fn note(&mut self, _message: &str) {}
    /// Whether [`Progress::job`] is shown (it costs a request per poll).
    fn wants_job_progress(&self) -> bool {
        false
    }
    /// A job being waited for: its state, nodes done of all, time waited.
    fn job(
        &mut self,
        _job: &str,
        _state: Option<&str>,
        _done: usize,
        _of: usize,
        _waited: Duration,
    ) {
    }
    /// The wait for a job ended.
    fn job_done(&mut self) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

/// The plan as it stands when nothing is executed (dry run, `check`, or a
/// preflight that found a blocker).
pub fn not_executed(plan: &Plan, opts: &Options) -> Outcome {
    let mut out = Outcome::new(opts, plan);
    if let Some(pc) = &plan.pe_conf {
        out.layers.push(Layer::PeConf(pc.report.clone()));
    }
    if let Some(c) = &plan.classifier {
        out.layers.push(Layer::Classifier(Box::new(c.clone())));
    }
    if plan.classifier.is_some() && plan.runs.is_some() && opts.mode == Mode::DryRun {
        out.layers.push(plan_layer(plan));
    }
    out.finish_not_executed(plan);
    out
}

/// The `plan` layer: the runs and reloads still to do (or why none).
fn plan_layer(plan: &Plan) -> Layer {
    let enforcement: Vec<PlannedStep> = plan
        .steps
        .iter()
        .chain(plan.deferred.iter())
        .filter(|s| matches!(s.step, Step::Run { .. } | Step::Reload(_)))
        .cloned()
        .collect();
    let reason = if !plan.deferred.is_empty() {
        "--no-run".to_string()
    } else {
        plan.runs
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default()
    };
    Layer::Plan(Box::new(PlanReport {
        layer: "plan",
        steps: enforcement,
        reason,
        executed: false,
    }))
}

/// Executes `plan` (which must not be blocked).
pub fn execute(
    plan: &Plan,
    facts: &Facts,
    ctx: &Context,
    opts: &Options,
    progress: &mut dyn Progress,
) -> Outcome {
    let mut out = Outcome::new(opts, plan);
    let steps = &plan.steps;
    let mut i = 0;

    // pe.conf.
    if let Some(pc) = &plan.pe_conf {
        let mut rep = pc.report.clone();
        if let Some(PlannedStep {
            step: Step::PeConf { .. },
            ..
        }) = steps.get(i)
        {
            let after = pc.after.clone().unwrap_or_default();
            let written = (|| -> Result<crate::files::Written, String> {
                pc.file.ensure_writable().map_err(|e| e.to_string())?;
                if opts.backup {
                    let b = pc
                        .file
                        .backup(SystemTime::now())
                        .map_err(|e| e.to_string())?;
                    rep.backup = Some(b.display().to_string());
                }
                pc.file.write(&after).map_err(|e| e.to_string())
            })();
            match written {
                Ok(w) => {
                    rep.written = true;
                    for p in &w.removed_leftovers {
                        progress.note(&format!(
                            "removed {}, left by an earlier run that was killed while writing",
                            p.display()
                        ));
                    }
                    out.step(i, StepState::Done, None);
                }
                Err(e) => {
                    out.step(i, StepState::Failed, Some(e.clone()));
                    out.layers.push(Layer::PeConf(rep));
                    return out.fail(Exit::Error, e, i + 1);
                }
            }
            i += 1;
        }
        progress.layer(&Layer::PeConf(rep.clone()));
        out.layers.push(Layer::PeConf(rep));
    }

    // The classifier writes.
    let mut last_edited = None;
    if let (Some(rep0), Some(Ok(cf))) = (&plan.classifier, &facts.classifier) {
        let mut rep = rep0.clone();
        last_edited = cf.last_edited();
        let http = ctx.http().expect("the classifier was read with it");
        let api = Nc {
            http,
            base: cf.url.clone(),
        };
        for w in &plan.writes {
            debug_assert!(matches!(
                steps.get(i),
                Some(PlannedStep {
                    step: Step::Classifier { .. },
                    ..
                })
            ));
            let (sent, retried) = (http.requests_sent(), http.retries());
            let result = write_param(&api, &w.group, &w.section, &w.class, w.value.clone());
            rep.nc_requests += http.requests_sent() - sent;
            rep.retries += http.retries() - retried;
            match result {
                Ok(log) => {
                    rep.verified = true;
                    rep.written |= log.written;
                    rep.conflicts += log.conflicts;
                    rep.updated_classes |= log.updated_classes;
                    for u in &log.uncertain {
                        let n = format!(
                            "note: the write got no clean answer ({u}); the group was read back to see what it holds"
                        );
                        progress.note(&n);
                        out.notes.push(n);
                    }
                    if log.conflicts > 0 {
                        let n = format!(
                            "note: the group was changed by someone else meanwhile ({} conflict(s)); re-read{}",
                            log.conflicts,
                            if log.written { " and re-applied" } else { ": it already held the value, so this run wrote nothing" }
                        );
                        progress.note(&n);
                        out.notes.push(n);
                    }
                    if log.updated_classes {
                        let n = format!(
                            "note: the classifier's class cache was stale; refreshed it (POST /v1/update-classes?environment={})",
                            plan.environment
                        );
                        progress.note(&n);
                        out.notes.push(n);
                    }
                    match w.override_index {
                        Some(oi) => {
                            if let Some(o) = rep.overrides.get_mut(oi) {
                                o.removed = true;
                            }
                        }
                        None => {
                            let now = param(&log.group_after, "classes", CLASS).cloned();
                            rep.state_after = Some(state_of(now.as_ref()));
                            rep.value_after = Some(now.unwrap_or(Value::Null));
                            if let Some(g) = rep.group.as_mut() {
                                g["serial_number"] = json!(serial(&log.group_after));
                            }
                            if let Some(le) =
                                log.group_after.get("last_edited").and_then(Value::as_str)
                            {
                                last_edited = Some(le.to_string());
                            }
                        }
                    }
                    out.step(
                        i,
                        StepState::Done,
                        (!log.written).then(|| {
                            "the group already held the value (someone else's change)".to_string()
                        }),
                    );
                }
                Err(e) => {
                    let msg = format!("classifier: {e}");
                    out.step(i, StepState::Failed, Some(msg.clone()));
                    out.layers.push(Layer::Classifier(Box::new(rep)));
                    let msg = if out.wrote_pe_conf() {
                        format!("{msg} (pe.conf was changed; the classifier was not)")
                    } else {
                        msg
                    };
                    return out.fail(Exit::Error, msg, i + 1);
                }
            }
            i += 1;
        }
        let remaining = rep
            .overrides
            .iter()
            .filter(|o| o.defeats && !o.removed)
            .count();
        let value_ok = !plan
            .goal
            .needs_change(rep.value_after.as_ref().filter(|v| !v.is_null()));
        rep.compliant = value_ok && remaining == 0;
        for o in rep.overrides.iter().filter(|o| o.defeats && !o.removed) {
            let n = override_warning(o, plan.goal, opts.fix_overrides);
            progress.note(&n);
            out.notes.push(n);
        }
        if remaining > 0 {
            out.raise(Exit::Pending);
        }
        progress.layer(&Layer::Classifier(Box::new(rep.clone())));
        out.layers.push(Layer::Classifier(Box::new(rep)));
    }

    // The runs.
    let run_step = match steps.get(i) {
        Some(PlannedStep {
            step: Step::Run {
                nodes, environment, ..
            },
            ..
        }) => Some((nodes.clone(), environment.clone())),
        _ => None,
    };
    let Some((nodes, environment)) = run_step else {
        if plan.classifier.is_some() && plan.runs.is_some() {
            let l = plan_layer(plan);
            progress.layer(&l);
            out.layers.push(l);
        }
        out.finish();
        return out;
    };
    let run_index = i;
    i += 1;
    let inventory = match &facts.orchestrator {
        Some(Ok(o)) => o.inventory.clone(),
        _ => Vec::new(),
    };
    let http = ctx.http().expect("checked in the preflight");
    let orch = Orch {
        http,
        base: facts.orchestrator_base.clone(),
    };
    let settings = RunSettings {
        wait_timeout: opts.wait_timeout,
        poll: PollBackoff::default(),
    };
    let deadline = Instant::now() + opts.wait_timeout;
    let mut rep = runs::report(&nodes, &environment, &inventory);
    let started = (|| {
        // Before deploying: a job already running on these nodes is waited
        // for (never two runs at once), and one that ran them successfully
        // since the group's last edit is counted instead of a new run.
        let jobs = relevant_jobs(&orch, &nodes, last_edited.as_deref())?;
        let running: Vec<String> = running_on(&jobs, &nodes)
            .iter()
            .map(|j| j.name.clone())
            .collect();
        let jobs = if running.is_empty() {
            jobs
        } else {
            for j in &running {
                progress.note(&format!(
                    "runs: job {j} is already running on {}: waiting for it first",
                    nodes.join(", ")
                ));
                runs::wait_for(&orch, j, deadline, settings.poll, progress);
            }
            rep.waited_for = running;
            relevant_jobs(&orch, &nodes, last_edited.as_deref())?
        };
        rep.counted = proven_runs(&jobs, &nodes, last_edited.as_deref());
        let remaining: Vec<String> = nodes
            .iter()
            .filter(|n| !rep.counted.iter().any(|c| &c.node == *n))
            .cloned()
            .collect();
        if remaining.is_empty() {
            return Ok(rep.clone());
        }
        let left = SettingsLeft(deadline);
        runs::run(
            &orch,
            rep.clone(),
            &remaining,
            JOB_DESCRIPTION,
            &RunSettings {
                wait_timeout: left.remaining(),
                poll: settings.poll,
            },
            progress,
        )
    })();
    let runs = match started {
        Ok(r) => r,
        Err(e) => {
            let cmd = job_run_command(&nodes, &environment);
            let msg =
                format!("the orchestrator could not start the runs: {e}; still to do: `{cmd}`");
            out.step(run_index, StepState::Failed, Some(msg.clone()));
            let l = Layer::Plan(Box::new(PlanReport {
                layer: "plan",
                steps: plan.steps[run_index..].to_vec(),
                reason: format!("the orchestrator could not start the runs: {e}"),
                executed: false,
            }));
            progress.layer(&l);
            out.layers.push(l);
            return out.fail(Exit::Enforce, msg, i);
        }
    };
    let ok = runs.outcome == RunOutcome::Ok;
    out.step(
        run_index,
        if ok {
            StepState::Done
        } else {
            StepState::Failed
        },
        (!ok).then(|| runs_failure(&runs)),
    );
    if !ok {
        out.raise(Exit::Enforce);
        out.error_once(format!(
            "the change was made but the Puppet runs did not succeed: {}",
            runs_failure(&runs)
        ));
    }
    progress.layer(&Layer::Runs(Box::new(runs.clone())));
    out.layers.push(Layer::Runs(Box::new(runs)));

    // The reloads.
    let mut reloads: Vec<ReloadStep> = Vec::new();
    let mut not_done = None;
    while let Some(PlannedStep {
        step: Step::Reload(r),
        ..
    }) = steps.get(i)
    {
        let mut r = r.clone();
        if !ok {
            out.step(
                i,
                StepState::Skipped,
                Some("the runs did not all succeed".into()),
            );
            not_done = Some("the runs did not all succeed".to_string());
        } else if r.local {
            let result = match &facts.service_manager {
                Some(m) => m.reload(r.service),
                None => Err("neither systemctl nor service is on PATH".to_string()),
            };
            match result {
                Ok(()) => {
                    r.done = true;
                    out.step(i, StepState::Done, None);
                }
                Err(msg) => {
                    out.raise(Exit::Enforce);
                    out.error_once(format!(
                        "the change was made but reloading {} here failed: {msg}; still to do: `{}`",
                        r.service, r.command
                    ));
                    out.step(i, StepState::Failed, Some(msg.clone()));
                    r.error = Some(msg);
                }
            }
        } else {
            out.step(
                i,
                StepState::Done,
                Some("printed: to run on that host".into()),
            );
        }
        reloads.push(r);
        i += 1;
    }
    let version = match &facts.version {
        Some(Ok(v)) => v.clone(),
        _ => crate::enforce::plan::DetectedVersion {
            version: None,
            source: "unknown".into(),
            note: None,
        },
    };
    let l = Layer::Reloads(Box::new(ReloadsReport {
        layer: "reloads",
        pe_version: version,
        this_host: facts.this_host.clone(),
        reloads,
        not_done,
    }));
    progress.layer(&l);
    out.layers.push(l);
    out.finish();
    out
}

struct SettingsLeft(Instant);
impl SettingsLeft {
    fn remaining(&self) -> Duration {
        self.0
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    }
}

fn runs_failure(r: &runs::RunsReport) -> String {
    let what = match r.outcome {
        RunOutcome::Ok => "ok",
        RunOutcome::Failed => "a run failed",
        RunOutcome::Timeout => "the job did not finish within --wait-timeout and was stopped",
        RunOutcome::Interrupted => "interrupted (Ctrl-C); the job was stopped",
        RunOutcome::NotConnected => "no target was connected to the orchestrator",
    };
    match &r.command {
        Some(c) => format!("{what}; still to do on {}: `{c}`", r.remaining.join(", ")),
        None => what.to_string(),
    }
}

/// The warning for an override that defeats the goal.
pub fn override_warning(o: &nc::Override, goal: super::Goal, fixing: bool) -> String {
    format!(
        "warning: group \"{}\" ({}) sets {}.{}.{} = {}, which defeats the {} on the nodes it classifies{}",
        o.group,
        o.group_id,
        o.section,
        o.class,
        nc::PARAM,
        o.value,
        goal.command(),
        if fixing {
            " (--fix-overrides would remove it)"
        } else {
            "; remove it with --fix-overrides"
        }
    )
}
