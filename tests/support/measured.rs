//! Runs a command as a measured process: its exit, output, wall time and
//! peak memory (from `wait4`'s rusage). One that outlives `limit` is killed
//! and fails the test (a hang must not block the suite).

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Measured {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident memory of the process, KiB.
    pub max_rss_kib: i64,
}

#[allow(clippy::zombie_processes)] // reaped by wait4 (for its rusage), or killed and waited
pub fn run(mut cmd: Command, limit: Duration) -> Measured {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let t_out = read_all(Box::new(child.stdout.take().unwrap()));
    let t_err = read_all(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let deadline = start + limit;
    let (status, rusage) = loop {
        let mut status = 0;
        // SAFETY: wait4 on our own child, WNOHANG, into locals.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break (std::process::ExitStatus::from_raw(status), ru);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    Measured {
        code: status.code(),
        signal: status.signal(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        elapsed,
        max_rss_kib: rusage.ru_maxrss,
    }
}
