//! Has the value reached the nodes? Proof from the orchestrator's job
//! history: a successful run of the node that started after the group's
//! last edit compiled its catalog with the value (a run that started before
//! the edit may have compiled the old one). Absence proves nothing: a
//! scheduled agent run is no job; PuppetDB's reports show those
//! ([`super::status`]).

use super::facts::JobFacts;
use super::timestamp;
use serde::Serialize;

/// A node's successful run after the last edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunProof {
    pub node: String,
    pub job: String,
    /// When that run started (or finished, when PE gives no start).
    pub at: String,
}

/// For each of `targets`, the newest proof in `jobs` that it ran
/// successfully after `since`; none without `since` (PE before 2018.1
/// records no edit time, so no run can be shown to be later).
pub fn proven_runs(jobs: &[JobFacts], targets: &[String], since: Option<&str>) -> Vec<RunProof> {
    let Some(since) = since else {
        return Vec::new();
    };
    let mut out: Vec<RunProof> = Vec::new();
    for t in targets {
        let found = jobs.iter().find_map(|j| {
            j.nodes.iter().find_map(|n| {
                let at = n
                    .start_timestamp
                    .as_deref()
                    .or(n.finish_timestamp.as_deref())?;
                (n.name == *t && n.ok() && timestamp::later(at, since) == Some(true)).then(|| {
                    RunProof {
                        node: t.clone(),
                        job: j.name.clone(),
                        at: at.to_string(),
                    }
                })
            })
        });
        out.extend(found);
    }
    out
}

/// Jobs still running on any of `targets`.
pub fn running_on<'a>(jobs: &'a [JobFacts], targets: &[String]) -> Vec<&'a JobFacts> {
    jobs.iter()
        .filter(|j| !crate::pe::orchestrator::job_done(&j.state))
        .filter(|j| j.nodes.iter().any(|n| targets.contains(&n.name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::orchestrator::JobNode;

    fn node(name: &str, state: &str, start: &str) -> JobNode {
        JobNode {
            name: name.into(),
            state: state.into(),
            result: Some(
                if state == "finished" {
                    "changed"
                } else {
                    "failed"
                }
                .into(),
            ),
            message: None,
            start_timestamp: Some(start.into()),
            finish_timestamp: Some(start.into()),
        }
    }

    #[test]
    fn only_successful_runs_started_after_the_edit_count() {
        let jobs = vec![
            JobFacts {
                name: "2".into(),
                state: "failed".into(),
                nodes: vec![
                    node("a", "finished", "2026-01-01T10:00:05+01:00"),
                    node("b", "failed", "2026-01-01T10:00:05Z"),
                ],
            },
            JobFacts {
                name: "1".into(),
                state: "finished".into(),
                nodes: vec![node("c", "finished", "2026-01-01T08:59:59Z")],
            },
        ];
        let t: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        // a's run (09:00:05Z) is after the 09:00:00Z edit; b failed; c before.
        let p = proven_runs(&jobs, &t, Some("2026-01-01T09:00:00Z"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].node.as_str(), p[0].job.as_str()), ("a", "2"));
        assert!(proven_runs(&jobs, &t, None).is_empty());
        assert!(running_on(&jobs, &t).is_empty());
    }
}
