//! Orchestrator API v1 (`/orchestrator/v1/...`): inventory, deploy jobs, stop.
//!
//! Job lifecycle (D = --job-duration-ms): `new` for D/10, `ready` for D/10, `running` for
//! 8D/10, then `finished` when every node finished, else `failed`. Nodes not connected to
//! the broker become `errored` when the job starts running; `--fail-node` nodes become
//! `failed`; a node whose effective `send_analytics_data` is not a Boolean fails to
//! compile its catalog (`failed`), as the profiles' `Boolean` parameter type would.
//! `POST /command/stop` moves the job to `stopped`: nodes not yet running are `skipped`,
//! running nodes complete (with --hang-jobs they are `skipped` too).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use super::seed;
use super::server::{error, json_reply, not_found, Reply, Req};
use super::state::{Inner, Job, JobNode, NodeApplied, NodeReport, Sim};

pub fn handle(sim: &Arc<Sim>, r: &Req) -> Reply {
    let seg = r.segments();
    match (r.method.as_str(), seg.as_slice()) {
        ("GET", ["inventory"]) => {
            let items: Vec<Value> = sim
                .known_nodes()
                .iter()
                .map(|n| inventory_item(sim, n))
                .collect();
            json_reply(200, json!({"items": items}))
        }
        ("GET", ["inventory", node]) => json_reply(200, inventory_item(sim, node)),
        ("POST", ["inventory"]) => {
            let body = match r.json() {
                Ok(b) => b,
                Err(e) => return e,
            };
            let Some(nodes) = body.get("nodes").and_then(Value::as_array) else {
                return validation_error("The body must be {\"nodes\": [certname, ...]}");
            };
            let items: Vec<Value> = nodes
                .iter()
                .filter_map(Value::as_str)
                .map(|n| inventory_item(sim, n))
                .collect();
            json_reply(200, json!({"items": items}))
        }
        ("POST", ["command", "deploy"]) => deploy(sim, r),
        ("POST", ["command", "stop"]) => stop(sim, r),
        ("GET", ["jobs"]) => list_jobs(sim, r),
        ("GET", ["jobs", id]) => with_job(sim, id, |job| json_reply(200, job_json(sim, job))),
        ("GET", ["jobs", id, "nodes"]) => with_job(sim, id, |job| {
            let url = job_url(sim, job.id);
            let items: Vec<Value> = job
                .nodes
                .iter()
                .filter(|n| r.q("state").map(|s| s == n.state).unwrap_or(true))
                .map(node_json)
                .collect();
            json_reply(
                200,
                json!({
                    "next-events": {"id": format!("{url}/events?start={}", job.events.len() + 1),
                                    "event": (job.events.len() + 1).to_string()},
                    "items": items,
                }),
            )
        }),
        ("GET", ["jobs", id, "events"]) => with_job(sim, id, |job| {
            let start: usize = r.q("start").and_then(|s| s.parse().ok()).unwrap_or(1);
            let items: Vec<Value> = job
                .events
                .iter()
                .skip(start.saturating_sub(1))
                .cloned()
                .collect();
            let next = job.events.len() + 1;
            json_reply(
                200,
                json!({
                    "next-events": {"id": format!("{}/events?start={next}", job_url(sim, job.id)),
                                    "event": next.to_string()},
                    "items": items,
                }),
            )
        }),
        _ => not_found(r),
    }
}

fn validation_error(msg: &str) -> Reply {
    error(
        400,
        "puppetlabs.orchestrator/validation-error",
        msg,
        Value::Null,
    )
}

fn inventory_item(sim: &Sim, node: &str) -> Value {
    let connected = sim.connected(node);
    let mut item = json!({"name": node, "connected": connected});
    if connected {
        item["broker"] = json!(format!("pcp://{}:8142/server", sim.primary()));
        item["timestamp"] = json!(seed::timestamp(SystemTime::now()));
    }
    item
}

fn job_url(sim: &Sim, id: u64) -> String {
    format!("{}/jobs/{id}", sim.orch_base)
}

fn parse_job_id(id: &str) -> Result<u64, Reply> {
    id.parse::<u64>().map_err(|_| {
        error(
            400,
            "puppetlabs.orchestrator/validation-error",
            format!("Job id must be an integer, got {id}"),
            json!({"job": id}),
        )
    })
}

fn with_job(sim: &Sim, id: &str, f: impl FnOnce(&Job) -> Reply) -> Reply {
    let n = match parse_job_id(id) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let inner = sim.inner.lock().expect("lock");
    match inner.jobs.get(&n) {
        Some(job) => f(job),
        None => unknown_job(id),
    }
}

fn unknown_job(id: &str) -> Reply {
    error(
        404,
        "puppetlabs.orchestrator/unknown-job",
        format!("No job exists with id {id}"),
        json!({"job": id}),
    )
}

fn ts(t: Option<SystemTime>) -> Value {
    t.map(|t| json!(seed::timestamp(t))).unwrap_or(Value::Null)
}

fn secs_between(a: Option<SystemTime>, b: Option<SystemTime>) -> Value {
    match (a, b) {
        (Some(a), Some(b)) => json!(b.duration_since(a).unwrap_or_default().as_secs_f64()),
        _ => Value::Null,
    }
}

fn node_json(n: &JobNode) -> Value {
    json!({
        "name": n.name,
        "state": n.state,
        "start_timestamp": ts(n.start),
        "finish_timestamp": ts(n.finish),
        "duration": secs_between(n.start, n.finish),
        "timestamp": ts(n.finish.or(n.start)),
        "transaction_uuid": n.transaction_uuid,
        "details": n.details,
        "result": n.result.clone().unwrap_or(Value::Null),
    })
}

fn job_json(sim: &Sim, job: &Job) -> Value {
    let url = job_url(sim, job.id);
    let status: Vec<Value> = job
        .status_log
        .iter()
        .map(|(s, enter, exit)| json!({"state": s, "enter_time": seed::timestamp(*enter), "exit_time": ts(*exit)}))
        .collect();
    let env = job
        .options
        .get("environment")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "id": url,
        "name": job.id.to_string(),
        "state": job.state,
        "command": job.kind,
        "type": job.kind,
        "options": job.options,
        "environment": {"name": env},
        "description": job.options.get("description").cloned().unwrap_or(json!("")),
        "owner": {"id": "42bf351c-f9ec-40af-84ad-e976fec7f4bd", "login": job.owner},
        "timestamp": seed::timestamp(job.created),
        "started_timestamp": ts(job.started),
        "finished_timestamp": ts(job.finished),
        "duration": secs_between(job.started, job.finished),
        "node_count": job.nodes.len(),
        "nodes": {"id": format!("{url}/nodes")},
        "report": {"id": format!("{}/reports/{}", sim.orch_base, job.id)},
        "events": {"id": format!("{url}/events")},
        "status": status,
        "userdata": job.options.get("userdata").cloned().unwrap_or(json!({})),
    })
}

fn list_jobs(sim: &Sim, r: &Req) -> Reply {
    let inner = sim.inner.lock().expect("lock");
    let total = inner.jobs.len();
    let offset: usize = r.q("offset").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: Option<usize> = r.q("limit").and_then(|s| s.parse().ok());
    let items: Vec<Value> = inner
        .jobs
        .values()
        .rev()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|j| job_json(sim, j))
        .collect();
    json_reply(
        200,
        json!({"items": items, "pagination": {"limit": limit, "offset": offset, "total": total}}),
    )
}

fn deploy(sim: &Arc<Sim>, r: &Req) -> Reply {
    let body = match r.json() {
        Ok(b) => b,
        Err(e) => return e,
    };
    if !body.is_object() {
        return validation_error("The body must be a JSON object");
    }
    let Some(env) = body.get("environment").and_then(Value::as_str) else {
        return validation_error("environment is required and must be a string");
    };
    let enforce = body
        .get("enforce_environment")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if body.get("noop").and_then(Value::as_bool) == Some(true)
        && body.get("no_noop").and_then(Value::as_bool) == Some(true)
    {
        return validation_error("noop and no_noop cannot both be true");
    }
    if env.is_empty() && (enforce || !sim.version.at_least(2019, 7, 0)) {
        return error(
            400,
            "puppetlabs.orchestrator/empty-environment",
            "An environment must be specified",
            json!({"environment": env}),
        );
    }
    if !env.is_empty() && !seed::environments().iter().any(|e| e == env) {
        return error(
            404,
            "puppetlabs.orchestrator/unknown-environment",
            format!("Unknown environment {env}"),
            json!({"environment": env}),
        );
    }
    let Some(scope) = body.get("scope").and_then(Value::as_object) else {
        return validation_error("scope is required");
    };
    if scope.len() != 1 {
        return validation_error(
            "scope must have exactly one of nodes, query, node_group, application, whole_environment",
        );
    }
    let mut inner = sim.inner.lock().expect("lock");
    let mut nodes: Vec<String> = Vec::new();
    if let Some(list) = scope.get("nodes") {
        let Some(list) = list.as_array() else {
            return validation_error("scope.nodes must be an array of certnames");
        };
        for n in list {
            let Some(n) = n.as_str() else {
                return validation_error("scope.nodes must be an array of certnames");
            };
            if !nodes.iter().any(|x| x == n) {
                nodes.push(n.to_string());
            }
        }
    } else if let Some(gid) = scope.get("node_group").and_then(Value::as_str) {
        if inner.group(gid).is_none() {
            return error(
                404,
                "puppetlabs.orchestrator/unknown-group",
                format!("Unknown node group {gid}"),
                json!({"node_group": gid}),
            );
        }
        for n in sim.known_nodes() {
            let facts = node_facts(sim);
            if let Ok(c) = inner.classify(&n, &facts, &json!({})) {
                if c["groups"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|x| x == gid))
                {
                    nodes.push(n);
                }
            }
        }
    } else if scope.contains_key("query") {
        return error(
            400,
            "puppetlabs.orchestrator/puppetdb-error",
            "pe-sim has no PuppetDB; use scope.nodes",
            Value::Null,
        );
    } else {
        return validation_error("pe-sim supports scope.nodes and scope.node_group only");
    }
    if nodes.is_empty() {
        return error(
            400,
            "puppetlabs.orchestrator/empty-target",
            "The scope resolves to no nodes",
            json!({"scope": scope}),
        );
    }
    let now = SystemTime::now();
    let id = inner.next_job;
    inner.next_job += 1;
    let mut job = Job {
        id,
        kind: "deploy".into(),
        owner: "admin".into(),
        state: String::new(),
        options: body.clone(),
        created: now,
        started: None,
        finished: None,
        nodes: nodes
            .iter()
            .map(|n| JobNode {
                name: n.clone(),
                state: "new".into(),
                start: None,
                finish: None,
                details: json!({}),
                result: None,
                transaction_uuid: uuid::Uuid::new_v4().to_string(),
            })
            .collect(),
        status_log: Vec::new(),
        events: Vec::new(),
    };
    job.set_state("new", now);
    inner.jobs.insert(id, job);
    drop(inner);
    tokio::spawn(run_job(sim.clone(), id));
    json_reply(
        202,
        json!({"job": {"id": job_url(sim, id), "name": id.to_string()}}),
    )
}

fn node_facts(sim: &Sim) -> Value {
    json!({"aio_agent_version": "7.20.0", "pe_server_version": sim.version.to_string()})
}

async fn run_job(sim: Arc<Sim>, id: u64) {
    let d = sim.args.job_duration_ms;
    tokio::time::sleep(Duration::from_millis(d / 10)).await;
    if !advance(&sim, id, |job, now| job.set_state("ready", now)) {
        return;
    }
    tokio::time::sleep(Duration::from_millis(d / 10)).await;
    let started = advance(&sim, id, |job, now| {
        job.set_state("running", now);
        job.started = Some(now);
        for i in 0..job.nodes.len() {
            let name = job.nodes[i].name.clone();
            if !sim.connected(&name) {
                let n = &mut job.nodes[i];
                n.state = "errored".into();
                n.start = Some(now);
                n.finish = Some(now);
                n.details =
                    json!({"message": format!("Node {name} is not connected to the PCP broker")});
                job.push_event(
                    "node_errored",
                    Some(&name),
                    &format!("Error running puppet on {name}: not connected"),
                    now,
                );
            } else {
                let n = &mut job.nodes[i];
                n.state = "running".into();
                n.start = Some(now);
                job.push_event(
                    "node_running",
                    Some(&name),
                    &format!("Started puppet run on {name} ..."),
                    now,
                );
            }
        }
    });
    if !started || sim.args.hang_jobs {
        return;
    }
    if let Some(program) = sim.args.agent_command.clone() {
        run_real(sim, id, program).await;
        return;
    }
    tokio::time::sleep(Duration::from_millis(d - 2 * (d / 10))).await;
    let mut inner = sim.inner.lock().expect("lock");
    let now = SystemTime::now();
    let Some(mut job) = inner.jobs.remove(&id) else {
        return;
    };
    if job.is_done() {
        inner.jobs.insert(id, job);
        return;
    }
    for i in 0..job.nodes.len() {
        if job.nodes[i].state == "running" {
            complete_node(&sim, &mut inner, &mut job, i, now, None);
        }
    }
    finish_job(&mut job, now);
    inner.jobs.insert(id, job);
}

fn finish_job(job: &mut Job, now: SystemTime) {
    let all_ok = job.nodes.iter().all(|n| n.state == "finished");
    job.finished = Some(now);
    job.set_state(if all_ok { "finished" } else { "failed" }, now);
    let id = job.id;
    job.push_event("job_finished", None, &format!("Finished job {id}"), now);
}

/// --agent-command: run the real agent for each running node, one after the other, and
/// record each outcome as soon as it is known. A job stopped meanwhile keeps its
/// `stopped` state (the run in progress still completes, as a real agent run would).
async fn run_real(sim: Arc<Sim>, id: u64, program: std::path::PathBuf) {
    let (names, env, noop) = {
        let inner = sim.inner.lock().expect("lock");
        let Some(job) = inner.jobs.get(&id) else {
            return;
        };
        let enforce = job
            .options
            .get("enforce_environment")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let env = if enforce {
            job.options
                .get("environment")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        } else {
            String::new()
        };
        let noop = job.options.get("noop").and_then(Value::as_bool) == Some(true);
        let names: Vec<String> = job
            .nodes
            .iter()
            .filter(|n| n.state == "running")
            .map(|n| n.name.clone())
            .collect();
        (names, env, noop)
    };
    let log_dir = sim.args.state_dir.join("agent-runs");
    let timeout = Duration::from_secs(sim.args.agent_timeout_secs);
    for name in names {
        if sim
            .inner
            .lock()
            .expect("lock")
            .jobs
            .get(&id)
            .is_none_or(Job::is_done)
        {
            return;
        }
        let outcome = if sim.args.fail_node.iter().any(|f| f == &name) {
            Err(format!(
                "Error: Could not run Puppet on {name}: simulated failure (--fail-node)"
            ))
        } else {
            let (program, name, env, log_dir) =
                (program.clone(), name.clone(), env.clone(), log_dir.clone());
            tokio::task::spawn_blocking(move || {
                agent_run(&program, &name, id, &env, noop, &log_dir, timeout)
            })
            .await
            .unwrap_or_else(|e| Err(format!("Error: the agent run could not be awaited: {e}")))
        };
        let mut inner = sim.inner.lock().expect("lock");
        let now = SystemTime::now();
        let Some(mut job) = inner.jobs.remove(&id) else {
            return;
        };
        if !job.is_done() {
            if let Some(i) = job
                .nodes
                .iter()
                .position(|n| n.name == name && n.state == "running")
            {
                complete_node(&sim, &mut inner, &mut job, i, now, Some(outcome));
            }
        }
        inner.jobs.insert(id, job);
    }
    let mut inner = sim.inner.lock().expect("lock");
    if let Some(job) = inner.jobs.get_mut(&id) {
        if !job.is_done() {
            finish_job(job, SystemTime::now());
        }
    }
}

/// PIDs of the --agent-command runs in progress, stopped when pe-sim exits.
static AGENT_PIDS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// SIGTERM every agent run still in progress (pe-sim is shutting down).
pub fn stop_agent_runs() {
    let pids = AGENT_PIDS.lock().map(|p| p.clone()).unwrap_or_default();
    for pid in pids {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) on a child we spawned and have not reaped yet.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

/// Run `program <node>` (a real `puppet agent -t` for that node). Ok(changed) on exit 0
/// or 2, else Err(reason) made of the run's `Error:` lines.
fn agent_run(
    program: &std::path::Path,
    node: &str,
    job: u64,
    env: &str,
    noop: bool,
    log_dir: &std::path::Path,
    timeout: Duration,
) -> Result<bool, String> {
    let safe: String = node
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let log = log_dir.join(format!("{job}-{safe}.log"));
    let open = || -> std::io::Result<(std::fs::File, std::fs::File)> {
        std::fs::create_dir_all(log_dir)?;
        let f = std::fs::File::create(&log)?;
        let g = f.try_clone()?;
        Ok((f, g))
    };
    let (out, err) = open().map_err(|e| format!("Error: cannot write {}: {e}", log.display()))?;
    let mut child = std::process::Command::new(program)
        .arg(node)
        .env("PE_SIM_JOB", job.to_string())
        .env("PE_SIM_ENVIRONMENT", env)
        .env("PE_SIM_NOOP", if noop { "1" } else { "0" })
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("Error: cannot start {}: {e}", program.display()))?;
    let pid = child.id();
    if let Ok(mut p) = AGENT_PIDS.lock() {
        p.push(pid);
    }
    let start = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(_) => break None,
        }
    };
    if let Ok(mut p) = AGENT_PIDS.lock() {
        p.retain(|&x| x != pid);
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let code = status.and_then(|s| s.code());
    match code {
        Some(0) => Ok(false),
        Some(2) => Ok(true),
        _ => {
            let reason = run_errors(&text);
            let how = match (status, code) {
                (None, _) => format!("the run was killed after {}s", timeout.as_secs()),
                (Some(_), Some(c)) => format!("puppet agent exited with status {c}"),
                (Some(_), None) => "puppet agent was killed by a signal".to_string(),
            };
            Err(if reason.is_empty() {
                format!("Error: {how}")
            } else {
                format!("{reason} ({how})")
            })
        }
    }
}

/// The `Error:` lines of an agent run's output, without colour codes and without the
/// Facter noise of containers (`/proc/1/environ` is not readable there).
pub fn run_errors(output: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in output.lines() {
        let mut clean = String::with_capacity(line.len());
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // CSI: ESC [ params final-byte
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
                continue;
            }
            clean.push(c);
        }
        let t = clean.trim();
        if t.starts_with("Error:")
            && !t.contains("/proc/1/environ")
            && !lines.iter().any(|l| l == t)
        {
            lines.push(t.to_string());
        }
    }
    let mut s = lines.join("; ");
    if s.len() > 2000 {
        let mut cut = 2000;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(" ...");
    }
    s
}

/// A scheduled agent run on `node`, outside the orchestrator (no job): what
/// it applied goes to `/_sim/nodes` and to PuppetDB's catalog and report.
pub fn scheduled_run(sim: &Sim, inner: &mut Inner, node: &str) -> Value {
    let now = SystemTime::now();
    match evaluate_node(sim, inner, node, None) {
        Ok(mut a) => {
            let changed = inner
                .applied
                .get(node)
                .is_none_or(|p| p.analytics_opt_out_file != a.analytics_opt_out_file);
            a.run_at = now;
            a.run_time = seed::timestamp(now);
            inner.reports.insert(
                node.to_string(),
                NodeReport {
                    time: a.run_time.clone(),
                    status: if changed { "changed" } else { "unchanged" }.into(),
                    noop: false,
                },
            );
            sim.record_marker(&a);
            inner.applied.insert(node.to_string(), a);
            json!({"node": node, "status": if changed { "changed" } else { "unchanged" }})
        }
        Err(msg) => {
            inner.reports.insert(
                node.to_string(),
                NodeReport {
                    time: seed::timestamp(now),
                    status: "failed".into(),
                    noop: false,
                },
            );
            json!({"node": node, "status": "failed", "error": msg})
        }
    }
}

/// Apply `f` to a job that is not done; false if the job is gone or done.
fn advance(sim: &Sim, id: u64, f: impl FnOnce(&mut Job, SystemTime)) -> bool {
    let mut inner = sim.inner.lock().expect("lock");
    match inner.jobs.get_mut(&id) {
        Some(job) if !job.is_done() => {
            f(job, SystemTime::now());
            true
        }
        _ => false,
    }
}

/// What a Puppet run on `node` would apply now.
pub fn evaluate_node(
    sim: &Sim,
    inner: &Inner,
    node: &str,
    job_env: Option<&str>,
) -> Result<NodeApplied, String> {
    let c = inner
        .classify(node, &node_facts(sim), &json!({}))
        .map_err(|e| format!("Classification failed: {}", e["msg"]))?;
    let empty = Map::new();
    let classes = c["classes"].as_object().unwrap_or(&empty);
    let config = c
        .get("config_data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let lookup = |class: &str| -> Option<Value> {
        classes
            .get(class)
            .and_then(|p| p.get("send_analytics_data"))
            .or_else(|| config.get(class).and_then(|p| p.get("send_analytics_data")))
            .cloned()
    };
    let pe_val = lookup("puppet_enterprise").unwrap_or(json!(true));
    let mut profiles = Map::new();
    let v = sim.version;
    let mut managers = Vec::new();
    let master = "puppet_enterprise::profile::master";
    let console = "puppet_enterprise::profile::console";
    if classes.contains_key(master) && v.at_least(2018, 1, 0) {
        let val = lookup(master).unwrap_or_else(|| pe_val.clone());
        profiles.insert(master.into(), val.clone());
        managers.push(val);
    }
    if classes.contains_key(console) {
        let val = lookup(console).unwrap_or_else(|| pe_val.clone());
        profiles.insert(console.into(), val.clone());
        if !v.at_least(2018, 1, 0) || node != sim.primary() {
            managers.push(val);
        }
    }
    if classes.contains_key("puppet_enterprise::profile::master") || classes.contains_key(console) {
        for (class, val) in std::iter::once(("puppet_enterprise", &pe_val))
            .chain(profiles.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if !val.is_boolean() {
                return Err(format!(
                    "Error: Could not retrieve catalog from remote server: Error 500 on SERVER: Server Error: \
                     Evaluation Error: Class[{}]: parameter 'send_analytics_data' expects a Boolean value, got {}",
                    super::puppetdb::title_case(class),
                    if val.is_string() { "String" } else { "Any" }
                ));
            }
        }
    }
    let now = SystemTime::now();
    let env = match job_env {
        Some(e) if !e.is_empty() => e.to_string(),
        _ => c["environment"]
            .as_str()
            .unwrap_or("production")
            .to_string(),
    };
    Ok(NodeApplied {
        node: node.to_string(),
        run_time: seed::timestamp(now),
        run_at: now,
        job: None,
        environment: env,
        groups: c["groups"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        send_analytics_data: pe_val,
        profiles,
        analytics_opt_out_file: managers.iter().any(|m| m == &json!(false)),
        transaction_uuid: uuid::Uuid::new_v4().to_string(),
    })
}

/// Finish a running node's Puppet run: simulated when `real` is None, else with the
/// outcome of a real agent run (Ok(changed) or Err(reason)).
fn complete_node(
    sim: &Sim,
    inner: &mut Inner,
    job: &mut Job,
    i: usize,
    now: SystemTime,
    real: Option<Result<bool, String>>,
) {
    let name = job.nodes[i].name.clone();
    let enforce = job
        .options
        .get("enforce_environment")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let job_env = job.options.get("environment").and_then(Value::as_str);
    let env_for_run = if enforce { job_env } else { None };
    let noop = job.options.get("noop").and_then(Value::as_bool) == Some(true);
    let mut real_changed = None;
    let outcome = match real {
        Some(Err(msg)) => Err(msg),
        Some(Ok(changed)) => {
            real_changed = Some(changed);
            // What the node now has, as far as the classification says (for /_sim/nodes);
            // the real run succeeded, so a simulated verdict does not override it.
            Ok(evaluate_node(sim, inner, &name, env_for_run).ok())
        }
        None if sim.args.fail_node.iter().any(|f| f == &name) => Err(format!(
            "Error: Could not run Puppet on {name}: simulated failure (--fail-node)"
        )),
        None => evaluate_node(sim, inner, &name, env_for_run).map(Some),
    };
    let event: (&str, String);
    let node = &mut job.nodes[i];
    node.finish = Some(now);
    match outcome {
        Ok(applied) => {
            let prev = inner.applied.get(&name);
            let changed = real_changed.unwrap_or(match (prev, &applied) {
                (Some(p), Some(a)) => p.analytics_opt_out_file != a.analytics_opt_out_file,
                _ => true,
            });
            node.state = "finished".into();
            node.details = json!({
                "message": format!("Finished puppet run on {name} - Success!"),
                "report-url": format!("https://{}/#/cm/report/{}", sim.args.hostname, node.transaction_uuid),
            });
            let changed_count = if changed && !noop { 1 } else { 0 };
            node.result = Some(json!({
                "status": if noop { "unchanged" } else if changed { "changed" } else { "unchanged" },
                "environment": applied.as_ref().map(|a| a.environment.clone())
                    .unwrap_or_else(|| env_for_run.unwrap_or("production").to_string()),
                "configuration_version": now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs().to_string(),
                "noop": {"noop": noop, "no_noop": false},
                "metrics": {"total": 710, "changed": changed_count, "failed": 0, "skipped": 0,
                            "restarted": changed_count, "out_of_sync": if changed { 1 } else { 0 },
                            "scheduled": 0, "failed_to_restart": 0, "corrective_change": 0},
            }));
            event = (
                "node_finished",
                format!("Finished puppet run on {name} - Success!"),
            );
            inner.reports.insert(
                name.clone(),
                NodeReport {
                    time: seed::timestamp(now),
                    status: if changed && !noop {
                        "changed"
                    } else {
                        "unchanged"
                    }
                    .into(),
                    noop,
                },
            );
            if let Some(mut applied) = applied.filter(|_| !noop) {
                applied.job = Some(job.id.to_string());
                applied.transaction_uuid = node.transaction_uuid.clone();
                applied.run_time = seed::timestamp(now);
                applied.run_at = now;
                inner
                    .check_ins
                    .entry(name.clone())
                    .or_default()
                    .push(json!({
                        "time": applied.run_time,
                        "transaction_uuid": applied.transaction_uuid,
                        "explanation": {"groups": applied.groups, "job": applied.job},
                    }));
                if real_changed.is_none() {
                    sim.record_marker(&applied);
                }
                inner.applied.insert(name.clone(), applied);
            }
        }
        Err(msg) => {
            node.state = "failed".into();
            node.details = json!({"message": msg});
            node.result = Some(json!({
                "status": "failed",
                "error": msg,
                "metrics": {"total": 0, "changed": 0, "failed": 1, "skipped": 0, "restarted": 0,
                            "out_of_sync": 0, "scheduled": 0, "failed_to_restart": 0, "corrective_change": 0},
            }));
            event = ("node_failed", format!("Error running puppet on {name}"));
            inner.reports.insert(
                name.clone(),
                NodeReport {
                    time: seed::timestamp(now),
                    status: "failed".into(),
                    noop,
                },
            );
        }
    }
    job.push_event(event.0, Some(&name), &event.1, now);
}

fn stop(sim: &Sim, r: &Req) -> Reply {
    let body = match r.json() {
        Ok(b) => b,
        Err(e) => return e,
    };
    let id_str = match body.get("job") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return validation_error("The body must be {\"job\": \"<job id>\"}"),
    };
    let id = match parse_job_id(&id_str) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let mut inner = sim.inner.lock().expect("lock");
    let Some(mut job) = inner.jobs.remove(&id) else {
        return unknown_job(&id_str);
    };
    let now = SystemTime::now();
    if !job.is_done() {
        job.set_state("stopping", now);
        for i in 0..job.nodes.len() {
            match job.nodes[i].state.as_str() {
                "new" | "ready" => {
                    let name = job.nodes[i].name.clone();
                    let n = &mut job.nodes[i];
                    n.state = "skipped".into();
                    n.details = json!({"message": "Skipped: the job was stopped"});
                    job.push_event("node_skipped", Some(&name), &format!("Skipped {name}"), now);
                }
                "running" if sim.args.hang_jobs || sim.args.agent_command.is_some() => {
                    let name = job.nodes[i].name.clone();
                    let n = &mut job.nodes[i];
                    n.state = "skipped".into();
                    n.finish = Some(now);
                    n.details =
                        json!({"message": "The job was stopped while the run was in progress"});
                    job.push_event("node_skipped", Some(&name), &format!("Skipped {name}"), now);
                }
                "running" => complete_node(sim, &mut inner, &mut job, i, now, None),
                _ => {}
            }
        }
        job.finished = Some(now);
        job.set_state("stopped", now);
        job.push_event("job_aborted", None, &format!("Job {id} was stopped"), now);
    }
    let count = |s: &str| job.nodes.iter().filter(|n| n.state == s).count();
    let reply = json!({"job": {
        "id": job_url(sim, id), "name": id.to_string(),
        "nodes": {"new": count("new") + count("ready"), "running": count("running"),
                  "failed": count("failed"), "errored": count("errored"),
                  "skipped": count("skipped"), "finished": count("finished")}
    }});
    inner.jobs.insert(id, job);
    json_reply(202, reply)
}
