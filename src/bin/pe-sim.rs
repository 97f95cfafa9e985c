//! pe-sim: an HTTPS simulator of the Puppet Enterprise APIs used by pe-analytics
//! (node classifier, orchestrator, status, a little RBAC). See docs/pe-sim.md.
//!
//! It deliberately shares no code with the `pe_analytics` library so that it can catch
//! the client's mistakes: every request/response shape here is written independently
//! from the PE documentation.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::Parser;
use serde_json::json;

#[path = "pe_sim/background.rs"]
mod background;
#[path = "pe_sim/classifier.rs"]
mod classifier;
#[path = "pe_sim/cli.rs"]
mod cli;
#[path = "pe_sim/orchestrator.rs"]
mod orchestrator;
#[path = "pe_sim/puppetdb.rs"]
mod puppetdb;
#[path = "pe_sim/seed.rs"]
mod seed;
#[path = "pe_sim/server.rs"]
mod server;
#[path = "pe_sim/state.rs"]
mod state;
#[path = "pe_sim/status.rs"]
mod status;
#[path = "pe_sim/tls.rs"]
mod tls;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let result = if args.stop {
        background::stop(&args)
    } else if args.print_env {
        background::print_env(&args)
    } else {
        run(args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pe-sim: {e}");
            ExitCode::from(2)
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn ensure_token(dir: &Path) -> Result<String, BoxError> {
    let path = dir.join("token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    let t = format!(
        "0{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::write(&path, format!("{t}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(t)
}

fn run(args: cli::Args) -> Result<(), BoxError> {
    let version = seed::PeVersion::parse(&args.pe_version)?;
    if !(0.0..=1.0).contains(&args.error_rate) {
        return Err("--error-rate must be between 0.0 and 1.0".into());
    }
    if args.split && args.console == args.primary {
        return Err("--split needs --console different from --primary".into());
    }
    let dir = args.state_dir.clone();
    let material = tls::ensure_material(&dir, &args.hostname, &args.primary)?;
    let token = ensure_token(&dir)?;
    let pe_conf = dir.join("pe.conf");
    if !pe_conf.exists() {
        std::fs::write(&pe_conf, seed::pe_conf(&args, version))?;
    }
    let server_config = tls::server_config(&material, &args.client_ca)?;
    let now = SystemTime::now();
    let inner = state::Inner::new(&args, version, now)?;
    let record = match &args.record {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        ),
        None => None,
    };

    // Written before the JSON line, so a reader of the line finds it.
    let _pid_file = match args.pid_path() {
        Some(p) => Some(background::PidFile::create(&p)?),
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let std_a = std::net::TcpListener::bind(("127.0.0.1", args.port))?;
        let std_b = std::net::TcpListener::bind(("127.0.0.1", args.orchestrator_port))?;
        let std_c = std::net::TcpListener::bind(("127.0.0.1", args.puppetserver_port))?;
        std_a.set_nonblocking(true)?;
        std_b.set_nonblocking(true)?;
        std_c.set_nonblocking(true)?;
        let ps_port = std_c.local_addr()?.port();
        let console_port = std_a.local_addr()?.port();
        let orch_port = std_b.local_addr()?.port();
        let host = args.hostname.clone();
        let sim = Arc::new(state::Sim {
            console_base: format!("https://{host}:{console_port}"),
            orch_base: format!("https://{host}:{orch_port}/orchestrator/v1"),
            args: args.clone(),
            version,
            token,
            inner: Mutex::new(inner),
            record: Mutex::new(record),
            connections: AtomicU64::new(0),
            jvm_start: now - Duration::from_secs(3600),
        });
        initial_runs(&sim, now);
        let a = tokio::net::TcpListener::from_std(std_a)?;
        let b = tokio::net::TcpListener::from_std(std_b)?;
        let c = tokio::net::TcpListener::from_std(std_c)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config);
        tokio::spawn(server::serve(
            sim.clone(),
            c,
            server::Listener::PuppetServer,
            acceptor.clone(),
        ));
        tokio::spawn(server::serve(
            sim.clone(),
            a,
            server::Listener::Console,
            acceptor.clone(),
        ));
        tokio::spawn(server::serve(
            sim.clone(),
            b,
            server::Listener::Orchestrator,
            acceptor,
        ));

        let abs = |p: &Path| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let line = json!({
            "classifier_url": format!("{}/classifier-api", sim.console_base),
            "orchestrator_url": sim.orch_base,
            "status_url": format!("{}/status/v1", sim.console_base),
            "rbac_url": format!("{}/rbac-api", sim.console_base),
            "orchestrator_status_url": format!("https://{host}:{orch_port}/status/v1"),
            "sim_url": format!("{}/_sim", sim.console_base),
            "puppetdb_url": sim.console_base.clone(),
            "puppetserver_url": format!("https://{host}:{ps_port}"),
            "puppetserver_port": ps_port,
            "console_port": console_port,
            "orchestrator_port": orch_port,
            "ca": abs(&material.ca),
            "cert": abs(&material.client_cert),
            "key": abs(&material.client_key),
            "unlisted_cert": abs(&material.unlisted_cert),
            "unlisted_key": abs(&material.unlisted_key),
            "token_file": abs(&dir.join("token")),
            "pe_conf": abs(&pe_conf),
            "pe_version": version.to_string(),
            "primary": sim.primary(),
            "console": sim.console_node(),
            "pid": std::process::id(),
            // The roots of the two listeners, as an admin would give them
            // (pe-analytics adds the service paths), and where the simulated
            // nodes keep their analytics-opt-out marker files.
            "console_root": sim.console_base.clone(),
            "orchestrator_root": format!("https://{host}:{orch_port}"),
            "nodes_dir": abs(&sim.nodes_dir()),
            "primary_marker": Path::new(&abs(&sim.nodes_dir()))
                .join(sim.primary())
                .join("analytics-opt-out")
                .display()
                .to_string(),
        });
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()?;
        }
        if args.daemon {
            background::detach_stdout();
        }
        wait_for_signal().await;
        orchestrator::stop_agent_runs();
        Ok::<(), BoxError>(())
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}

/// Record that the infrastructure nodes last ran 30 minutes after the seeded groups were
/// last edited (so the starting point is "in sync").
fn initial_runs(sim: &state::Sim, now: SystemTime) {
    let mut inner = sim.inner.lock().expect("lock");
    let at = now - Duration::from_secs(1800);
    for node in sim.known_nodes() {
        if !sim.connected(&node) {
            continue;
        }
        if let Ok(mut a) = orchestrator::evaluate_node(sim, &inner, &node, None) {
            a.run_at = at;
            a.run_time = seed::timestamp(at);
            sim.record_marker(&a);
            inner.reports.insert(
                node.clone(),
                state::NodeReport {
                    time: a.run_time.clone(),
                    status: "unchanged".into(),
                    noop: false,
                },
            );
            inner.applied.insert(node, a);
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
