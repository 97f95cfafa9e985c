//! Ctrl-C while a job runs: SIGINT sets a flag that the poll loop checks, so
//! the job can be stopped (`/command/stop`) before the process exits.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// While alive, SIGINT sets the flag instead of killing the process.
pub struct CatchInterrupt {
    previous: libc::sighandler_t,
}

impl CatchInterrupt {
    pub fn install() -> CatchInterrupt {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let previous = unsafe { libc::signal(libc::SIGINT, handler) };
        CatchInterrupt { previous }
    }

    pub fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }
}

impl Drop for CatchInterrupt {
    fn drop(&mut self) {
        // SAFETY: restores the handler that was there before.
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}

/// Whether standard error is a terminal (progress is shown only then).
pub fn stderr_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(2) == 1 }
}
