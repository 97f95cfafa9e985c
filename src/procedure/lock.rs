//! One writing run at a time on a host: `opt-out` and `opt-in` (with the
//! classifier layer) hold an exclusive `flock(2)` on a lock file from the
//! preflight to the end of the Puppet runs, so concurrent runs of the tool
//! (cron, CI, an admin) never start two Puppet runs on a node. The lock goes
//! with the process (closed on exit, even on SIGKILL): a stale file never
//! blocks.
//!
//! Where: `--lock-file` / `PE_ANALYTICS_LOCK_FILE`; else, for root,
//! `/run/lock/pe-analytics.lock` (or `/var/lock/…` where `/run/lock` is
//! missing); for other users, `$XDG_RUNTIME_DIR/pe-analytics.lock`, else
//! `/tmp/pe-analytics-<uid>.lock`. Runs by different users therefore hold
//! different locks; between them (and between hosts) the orchestrator's job
//! list still keeps two runs off one node (see `execute`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock, held until dropped.
#[derive(Debug)]
pub struct HostLock {
    _file: File,
    pub path: PathBuf,
}

/// The default lock file for this user.
pub fn default_path() -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 {
        for dir in ["/run/lock", "/var/lock"] {
            if Path::new(dir).is_dir() {
                return Path::new(dir).join("pe-analytics.lock");
            }
        }
        return PathBuf::from("/run/pe-analytics.lock");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(d) if d.is_absolute() && d.is_dir() => d.join("pe-analytics.lock"),
        _ => std::env::temp_dir().join(format!("pe-analytics-{uid}.lock")),
    }
}

/// Takes the lock at `path`, waiting up to `timeout` for another run to
/// end; `waiting` is told once, with the other run's pid when known.
pub fn acquire(
    path: &Path,
    timeout: Duration,
    waiting: &mut dyn FnMut(&str),
) -> Result<HostLock, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot open the lock file {} ({e}); give another with --lock-file",
                path.display()
            )
        })?;
    let start = Instant::now();
    let mut told = false;
    loop {
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(format!("cannot lock {}: {err}", path.display()));
        }
        if !told {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            let holder = holder.trim();
            waiting(&format!(
                "waiting for another pe-analytics run{} to finish (lock {})",
                if holder.is_empty() {
                    String::new()
                } else {
                    format!(" (pid {holder})")
                },
                path.display()
            ));
            told = true;
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "another pe-analytics run still holds {} after {}s; nothing was written",
                path.display(),
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Who holds it, for the next one's message.
    let _ = file.set_len(0);
    let _ = (&file).write_all(format!("{}\n", std::process::id()).as_bytes());
    Ok(HostLock {
        _file: file,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.lock");
        let first = acquire(&p, Duration::from_secs(1), &mut |_| {}).unwrap();
        let mut said = Vec::new();
        let err = acquire(&p, Duration::from_millis(300), &mut |m| {
            said.push(m.to_string())
        })
        .unwrap_err();
        assert!(err.contains("still holds"), "{err}");
        assert_eq!(said.len(), 1);
        assert!(
            said[0].contains(&format!("pid {}", std::process::id())),
            "{said:?}"
        );
        drop(first);
        acquire(&p, Duration::from_millis(300), &mut |_| {}).unwrap();
    }
}
