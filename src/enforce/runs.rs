//! Puppet runs through the orchestrator: check the inventory, deploy, poll
//! the job with backoff until it is done or the deadline passes, stop it on
//! Ctrl-C, and give a verdict per node.

use super::signal::CatchInterrupt;
use crate::pe::orchestrator::{job_done, InventoryItem, JobNode, Orch};
use crate::pe::PeError;
use crate::procedure::applied::RunProof;
use crate::procedure::Progress;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Poll intervals: start short (small jobs finish in seconds), grow by half
/// each time, never above `cap`, never past the deadline.
#[derive(Clone, Copy, Debug)]
pub struct PollBackoff {
    pub first: Duration,
    pub cap: Duration,
}

impl Default for PollBackoff {
    fn default() -> Self {
        PollBackoff {
            first: Duration::from_millis(250),
            cap: Duration::from_secs(5),
        }
    }
}

impl PollBackoff {
    pub fn next(&self, previous: Option<Duration>) -> Duration {
        match previous {
            None => self.first,
            Some(p) => (p + p / 2).min(self.cap),
        }
    }
}

/// How one enforcement run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Every target ran Puppet successfully.
    Ok,
    /// The job ended, and some node did not run successfully.
    Failed,
    /// The deadline passed; the job was stopped.
    Timeout,
    /// Ctrl-C; the job was stopped.
    Interrupted,
    /// No target could run (none connected).
    NotConnected,
}

/// The `runs` entry of the JSON report's `layers`.
#[derive(Clone, Debug, Serialize)]
pub struct RunsReport {
    pub layer: &'static str,
    pub targets: Vec<String>,
    pub environment: String,
    pub inventory: Vec<InventoryItem>,
    pub job: Option<String>,
    pub job_state: Option<String>,
    pub nodes: Vec<JobNode>,
    pub outcome: RunOutcome,
    /// Nodes whose run did not succeed (or did not happen).
    pub remaining: Vec<String>,
    /// The command that runs Puppet on `remaining` later.
    pub command: Option<String>,
    pub stopped: bool,
    /// Nodes not done when the deadline passed or Ctrl-C came (before the stop).
    pub still_running: Vec<String>,
    pub waited_secs: f64,
    /// Targets not deployed because the job history shows a successful run
    /// of theirs since the group's last edit (a job of someone else's, or
    /// one that was running and was waited for).
    pub counted: Vec<RunProof>,
    /// Jobs found running on the targets and waited for before deploying.
    pub waited_for: Vec<String>,
}

/// `puppet job run --nodes a,b --environment env`.
pub fn job_run_command(nodes: &[String], environment: &str) -> String {
    format!(
        "puppet job run --nodes {} --environment {environment}",
        nodes.join(",")
    )
}

pub struct RunSettings {
    pub wait_timeout: Duration,
    pub poll: PollBackoff,
}

/// An empty report of runs on `targets` (filled by [`run`]).
pub fn report(targets: &[String], environment: &str, inventory: &[InventoryItem]) -> RunsReport {
    RunsReport {
        layer: "runs",
        targets: targets.to_vec(),
        environment: environment.to_string(),
        inventory: inventory.to_vec(),
        job: None,
        job_state: None,
        nodes: Vec::new(),
        outcome: RunOutcome::Ok,
        remaining: Vec::new(),
        command: None,
        stopped: false,
        still_running: Vec::new(),
        waited_secs: 0.0,
        counted: Vec::new(),
        waited_for: Vec::new(),
    }
}

/// Waits until job `job` is done or `deadline` passes (Ctrl-C ends the
/// wait too); its last state.
pub fn wait_for(
    orch: &Orch,
    job: &str,
    deadline: Instant,
    poll: PollBackoff,
    progress: &mut dyn Progress,
) -> Option<String> {
    let catch = CatchInterrupt::install();
    let start = Instant::now();
    let mut interval = None;
    loop {
        let state = orch.job_state(job).ok();
        if state.as_deref().is_some_and(job_done) || catch.interrupted() {
            progress.job_done();
            return state;
        }
        progress.job(job, state.as_deref(), 0, 0, start.elapsed());
        let now = Instant::now();
        if now >= deadline {
            progress.job_done();
            return state;
        }
        let wait = poll.next(interval).min(deadline - now);
        interval = Some(wait);
        let until = Instant::now() + wait;
        while Instant::now() < until && !catch.interrupted() {
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
    }
}

/// Runs Puppet on `targets` and waits; `rep` is the report so far (from
/// [`report`]), `inventory` the preflight's. `Err` only when the
/// orchestrator refused or lost the deploy (no job known to have started).
pub fn run(
    orch: &Orch,
    mut rep: RunsReport,
    targets: &[String],
    description: &str,
    settings: &RunSettings,
    progress: &mut dyn Progress,
) -> Result<RunsReport, PeError> {
    let start = Instant::now();
    let environment = rep.environment.clone();
    let inventory = rep.inventory.clone();
    let connected = |n: &String| inventory.iter().any(|i| &i.name == n && i.connected);
    let (runnable, unconnected): (Vec<String>, Vec<String>) =
        targets.iter().cloned().partition(connected);
    if runnable.is_empty() {
        rep.outcome = RunOutcome::NotConnected;
        finish(&mut rep, &unconnected, start);
        return Ok(rep);
    }
    // Catch Ctrl-C from before the job exists, so that a job started by the
    // deploy below is always stopped.
    let catch = CatchInterrupt::install();
    let body = Orch::deploy_body(&environment, &runnable, description);
    let job = orch.deploy(&body)?;
    rep.job = Some(job.clone());
    let deadline = start + settings.wait_timeout;
    let mut interval = None;
    let mut state;
    let mut polled_nodes: Vec<JobNode> = Vec::new();
    loop {
        // A failing poll is retried (PeHttp retries GETs); a persistent one
        // ends in the deadline, not in a lost job.
        state = orch.job_state(&job).ok();
        if state.as_deref().is_some_and(job_done) {
            break;
        }
        if progress.wants_job_progress() {
            if let Ok(n) = orch.job_nodes(&job) {
                polled_nodes = n;
            }
            let done = polled_nodes.iter().filter(|n| n.done()).count();
            progress.job(
                &job,
                state.as_deref(),
                done,
                polled_nodes.len(),
                start.elapsed(),
            );
        }
        if catch.interrupted() {
            rep.outcome = RunOutcome::Interrupted;
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            rep.outcome = RunOutcome::Timeout;
            break;
        }
        let wait = settings.poll.next(interval).min(deadline - now);
        interval = Some(wait);
        // Sleep in slices so Ctrl-C is noticed at once.
        let until = Instant::now() + wait;
        while Instant::now() < until && !catch.interrupted() {
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
    }
    progress.job_done();
    if matches!(rep.outcome, RunOutcome::Timeout | RunOutcome::Interrupted) {
        if let Ok(n) = orch.job_nodes(&job) {
            polled_nodes = n;
        }
        rep.still_running = runnable
            .iter()
            .filter(|t| !polled_nodes.iter().any(|n| &n.name == *t && n.done()))
            .cloned()
            .collect();
        rep.stopped = orch.stop(&job).is_ok();
        state = orch.job_state(&job).ok().or(state);
    }
    drop(catch);
    rep.job_state = state;
    rep.nodes = orch.job_nodes(&job).unwrap_or(polled_nodes);
    let mut remaining = unconnected;
    for t in &runnable {
        match rep.nodes.iter().find(|n| &n.name == t) {
            Some(n) if n.ok() => {}
            _ => remaining.push(t.clone()),
        }
    }
    if rep.outcome == RunOutcome::Ok && !remaining.is_empty() {
        rep.outcome = RunOutcome::Failed;
    }
    finish(&mut rep, &remaining, start);
    Ok(rep)
}

fn finish(rep: &mut RunsReport, remaining: &[String], start: Instant) {
    rep.remaining = remaining.to_vec();
    rep.command = (!remaining.is_empty()).then(|| job_run_command(remaining, &rep.environment));
    rep.waited_secs = (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
}

fn running(rep: &RunsReport) -> String {
    if rep.still_running.is_empty() {
        "no node".to_string()
    } else {
        rep.still_running.join(", ")
    }
}

/// Lines saying what happened to each node, and what remains to be done.
pub fn describe(rep: &RunsReport) -> Vec<String> {
    let mut out = Vec::new();
    for i in rep.inventory.iter().filter(|i| !i.connected) {
        out.push(format!(
            "runs: {} is not connected to the orchestrator (PCP broker): check pxp-agent on it",
            i.name
        ));
    }
    for t in &rep.targets {
        if !rep.inventory.iter().any(|i| &i.name == t) {
            out.push(format!("runs: {t} is not in the orchestrator's inventory"));
        }
    }
    for j in &rep.waited_for {
        out.push(format!(
            "runs: job {j} was already running on the targets: waited for it before deploying"
        ));
    }
    for c in &rep.counted {
        out.push(format!(
            "runs: {}: ok: ran successfully since the group's last edit (job {}, {}); not run again",
            c.node, c.job, c.at
        ));
    }
    if let Some(job) = &rep.job {
        out.push(format!(
            "runs: job {job} {}",
            match rep.outcome {
                RunOutcome::Timeout => format!(
                    "did not finish within --wait-timeout ({:.0}s); still running then: {}; stop {}",
                    rep.waited_secs,
                    running(rep),
                    if rep.stopped { "requested" } else { "FAILED" }
                ),
                RunOutcome::Interrupted => format!(
                    "interrupted (Ctrl-C); still running then: {}; stop {}",
                    running(rep),
                    if rep.stopped { "requested" } else { "FAILED" }
                ),
                _ => format!(
                    "ended {}",
                    rep.job_state.as_deref().unwrap_or("in an unknown state")
                ),
            }
        ));
    }
    for n in &rep.nodes {
        let verdict = if n.ok() { "ok" } else { "FAILED" };
        // The state and result add to the verdict only where they say more
        // than it (not "FAILED: failed (failed)").
        let says_more = |s: &str| n.ok() || s != "failed";
        let mut line = format!("runs: {}: {verdict}", n.name);
        if says_more(&n.state) {
            line.push_str(&format!(": {}", n.state));
        }
        if let Some(r) = n
            .result
            .as_deref()
            .filter(|r| *r != n.state && says_more(r))
        {
            line.push_str(&format!(" ({r})"));
        }
        if !n.ok() {
            if let Some(m) = &n.message {
                line.push_str(&format!(": {m}"));
            }
            if rep.still_running.contains(&n.name) {
                line.push_str(" (was still running when the job was stopped)");
            }
        }
        out.push(line);
    }
    if let Some(c) = &rep.command {
        out.push(format!(
            "runs: still to do: run Puppet on {} (e.g. `{c}`)",
            rep.remaining.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_backoff_grows_to_the_cap() {
        let b = PollBackoff::default();
        let mut d = None;
        let mut seen = Vec::new();
        for _ in 0..12 {
            let n = b.next(d);
            seen.push(n);
            d = Some(n);
        }
        assert_eq!(seen[0], Duration::from_millis(250));
        assert_eq!(seen[1], Duration::from_millis(375));
        assert_eq!(*seen.last().unwrap(), Duration::from_secs(5));
    }

    #[test]
    fn command_for_later() {
        assert_eq!(
            job_run_command(&["a".into(), "b".into()], "production"),
            "puppet job run --nodes a,b --environment production"
        );
    }
}
