//! `--print-env` and `--stop`: pe-sim as a background process for a demo
//! in one command, `eval "$(pe-sim --print-env --state-dir DIR)"`.
//!
//! The foreground process starts a copy of itself (`--daemon`) in a new
//! session, with stdin from /dev/null, stderr to DIR/pe-sim.log and stdout
//! piped back; it reads the copy's JSON line, prints the `export` lines and
//! exits. The copy holds none of the caller's descriptors, so the shell's
//! `$(...)` ends as soon as the lines are printed; it writes its pid file
//! before the JSON line and removes it when it stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::Args;
use crate::BoxError;

/// How long the background copy may take to print its JSON line (it may
/// have to make an RSA key first).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `--stop` waits for the process to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// pe-analytics' environment variables, in the order printed.
const VARS: &[(&str, &str)] = &[
    ("PE_ANALYTICS_CLASSIFIER_URL", "console_root"),
    ("PE_ANALYTICS_ORCHESTRATOR_URL", "orchestrator_root"),
    ("PE_ANALYTICS_PUPPETDB_URL", "puppetdb_url"),
    ("PE_ANALYTICS_PUPPETSERVER_URL", "puppetserver_url"),
    ("PE_ANALYTICS_CACERT", "ca"),
    ("PE_ANALYTICS_CERT", "cert"),
    ("PE_ANALYTICS_KEY", "key"),
    ("PE_ANALYTICS_TOKEN_FILE", "token_file"),
    ("PE_ANALYTICS_CERTNAME", "primary"),
    ("PE_ANALYTICS_MARKER_FILE", "primary_marker"),
];

/// `'...'` for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `export` lines for the simulator described by `info` (its JSON line).
pub fn env_lines(info: &Value) -> Result<String, BoxError> {
    let mut out = String::new();
    for (var, field) in VARS {
        let v = info[field]
            .as_str()
            .ok_or_else(|| format!("the JSON line has no {field}"))?;
        out.push_str(&format!("export {var}={}\n", quote(v)));
    }
    out.push_str(&format!("export PE_SIM_PID={}\n", info["pid"]));
    Ok(out)
}

/// Whether `pid` is a live pe-sim process (not a reused pid).
fn is_pe_sim(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    if pid <= 0 || unsafe { libc::kill(pid, 0) } != 0 {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            c.split(|b| *b == 0)
                .next()
                .is_some_and(|argv0| argv0.ends_with(b"pe-sim"))
        })
        .unwrap_or(false)
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `--print-env`: start the background copy, print the export lines.
pub fn print_env(args: &Args) -> Result<(), BoxError> {
    let dir = &args.state_dir;
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    let pid_path = args.pid_path().expect("--print-env has a pid file");
    let pid_path = if pid_path.is_relative() {
        std::env::current_dir()?.join(pid_path)
    } else {
        pid_path
    };
    if let Some(pid) = read_pid(&pid_path).filter(|p| is_pe_sim(*p)) {
        return Err(format!(
            "pe-sim already runs for {} (pid {pid}, {}); stop it with `pe-sim --stop --state-dir {}`, \
or give another --state-dir",
            dir.display(),
            pid_path.display(),
            dir.display()
        )
        .into());
    }
    let log_path = dir.join("pe-sim.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let mut child_args: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--print-env")
        .collect();
    child_args.push("--daemon".into());
    if args.pid_file.is_none() {
        child_args.push("--pid-file".into());
        child_args.push(pid_path.clone().into());
    }
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(&child_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; it only detaches the child
        // from this terminal's session, so Ctrl-C and hang-ups there do not
        // reach the background simulator.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let got = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(got);
    });
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        other => {
            let _ = child.kill();
            let _ = child.wait();
            let mut log_text = String::new();
            let _ =
                std::fs::File::open(&log_path).and_then(|mut f| f.read_to_string(&mut log_text));
            let why = match other {
                Err(_) => format!("no answer within {}s", START_TIMEOUT.as_secs()),
                _ => "it exited before it was ready".to_string(),
            };
            let tail: Vec<&str> = log_text.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "the background pe-sim did not start ({why}); {}:\n{}",
                log_path.display(),
                tail.join("\n")
            )
            .into());
        }
    };
    let info: Value = serde_json::from_str(&line)?;
    let lines = env_lines(&info)?;
    let mut out = std::io::stdout().lock();
    out.write_all(lines.as_bytes())?;
    out.flush()?;
    eprintln!(
        "pe-sim: PE {} (primary {}) serves in the background, pid {} (log {}); stop it with: \
pe-sim --stop --state-dir {}",
        info["pe_version"].as_str().unwrap_or("?"),
        info["primary"].as_str().unwrap_or("?"),
        info["pid"],
        log_path.display(),
        dir.display()
    );
    let pe_conf = Path::new("/etc/puppetlabs/enterprise/conf.d/pe.conf");
    if pe_conf.exists() {
        eprintln!(
            "pe-sim: note: this host has {}; without --classifier, `pe-analytics opt-out` would \
edit it too",
            pe_conf.display()
        );
    }
    Ok(())
}

/// `--stop`: SIGTERM to the pid in the pid file, then wait for it to exit.
pub fn stop(args: &Args) -> Result<(), BoxError> {
    let pid_path: PathBuf = args.pid_path().expect("--stop has a pid file");
    let Some(pid) = read_pid(&pid_path) else {
        eprintln!(
            "pe-sim: not running for {} (no pid in {})",
            args.state_dir.display(),
            pid_path.display()
        );
        return Ok(());
    };
    if !is_pe_sim(pid) {
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return Err(format!(
                "pid {pid} in {} is not a pe-sim process; not stopping it",
                pid_path.display()
            )
            .into());
        }
        let _ = std::fs::remove_file(&pid_path);
        eprintln!(
            "pe-sim: was not running (stale {} removed)",
            pid_path.display()
        );
        return Ok(());
    }
    // SAFETY: SIGTERM to a process checked above to be pe-sim.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let start = Instant::now();
    while is_pe_sim(pid) {
        if start.elapsed() > STOP_TIMEOUT {
            return Err(format!(
                "pe-sim (pid {pid}) did not stop within {}s",
                STOP_TIMEOUT.as_secs()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(&pid_path);
    eprintln!("pe-sim: stopped (pid {pid})");
    Ok(())
}

/// Writes the pid file (and removes it when dropped).
pub struct PidFile(PathBuf);

impl PidFile {
    pub fn create(path: &Path) -> Result<PidFile, BoxError> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: a later pe-sim may have taken the file over.
        if read_pid(&self.0) == Some(std::process::id() as i32) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// In the background copy: nothing more goes to stdout once the JSON line
/// is out (the reader has gone).
pub fn detach_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::unix::io::AsRawFd;
        // SAFETY: both descriptors are open; dup2 replaces fd 1 atomically.
        unsafe {
            libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
