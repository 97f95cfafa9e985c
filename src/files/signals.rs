//! Signals and the files being written.
//!
//! * SIGINT, SIGTERM, SIGHUP while a temporary file exists: the handler
//!   removes every registered temporary file, then lets the signal end the
//!   process as it would have (default disposition, re-raised), so an
//!   interrupted write leaves the target with its old text and no
//!   `.pe-analytics-*` file beside it.
//! * SIGPIPE ([`install_sigpipe_policy`]): a closed standard output (or
//!   error) ends the process quietly, killed by SIGPIPE like any Unix filter
//!   (`pe-analytics conf set --stdout ... | head`); a closed socket is not a
//!   reason to die: the write fails with EPIPE and the HTTP client reports it
//!   as an ordinary I/O error.
//!
//! The registry is a fixed array of byte buffers guarded by atomics: a
//! signal handler may only touch what is async-signal-safe (atomics,
//! `unlink`, `poll`, `signal`, `raise`), never the allocator or a lock.

use std::cell::UnsafeCell;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

const SLOTS: usize = 16;
const MAX_PATH: usize = 4096;
const FREE: u8 = 0;
const WRITING: u8 = 1;
const ACTIVE: u8 = 2;

struct Slot {
    state: AtomicU8,
    path: UnsafeCell<[u8; MAX_PATH]>,
}

// SAFETY: `path` is only written by the thread that moved `state` from FREE
// to WRITING, and only read (by handlers) while `state` is ACTIVE.
unsafe impl Sync for Slot {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    state: AtomicU8::new(FREE),
    path: UnsafeCell::new([0; MAX_PATH]),
};
static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];

/// The signals after which a temporary file must not stay behind.
const TERMINATING: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// A temporary file's place in the registry; dropping it forgets the file
/// (it was renamed into place, or removed).
pub(super) struct Registered(Option<usize>);

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            REGISTRY[i].state.store(FREE, Ordering::SeqCst);
        }
    }
}

/// Remembers `path` for removal by the signal handlers. A path that does not
/// fit (over 4 KiB) or a full registry only loses that protection.
pub(super) fn register(path: &Path) -> Registered {
    install_cleanup_handlers();
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return Registered(None);
    };
    let bytes = c.as_bytes_with_nul();
    if bytes.len() > MAX_PATH {
        return Registered(None);
    }
    for (i, slot) in REGISTRY.iter().enumerate() {
        if slot
            .state
            .compare_exchange(FREE, WRITING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            // SAFETY: this thread owns the slot (WRITING); handlers skip it.
            unsafe { (&mut *slot.path.get())[..bytes.len()].copy_from_slice(bytes) };
            slot.state.store(ACTIVE, Ordering::SeqCst);
            return Registered(Some(i));
        }
    }
    Registered(None)
}

/// Removes every registered temporary file (async-signal-safe).
fn remove_registered() {
    for slot in &REGISTRY {
        if slot.state.load(Ordering::SeqCst) == ACTIVE {
            // SAFETY: an ACTIVE slot holds a NUL-terminated path.
            unsafe { libc::unlink((*slot.path.get()).as_ptr().cast()) };
        }
    }
}

extern "C" fn on_terminating_signal(sig: libc::c_int) {
    remove_registered();
    // SAFETY: signal and raise are async-signal-safe; the signal is blocked
    // while this handler runs, so it is delivered (with the default action:
    // the process ends as if no handler had been there) when it returns.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs the clean-up handlers once, over the default disposition only:
/// a signal the parent ignores (`nohup`) stays ignored, and a handler the
/// program set itself stays.
pub fn install_cleanup_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for sig in TERMINATING {
            // SAFETY: sigaction with a null new action only reads the current one;
            // the handler installed is async-signal-safe (see above).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                    continue;
                }
                if old.sa_sigaction != libc::SIG_DFL {
                    continue;
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_terminating_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut());
            }
        }
    });
}

/// While alive, the terminating signals are held back (delivered when it
/// drops), so that creating-and-registering or renaming-and-forgetting a
/// temporary file is never cut in the middle.
pub(super) struct Held {
    old: libc::sigset_t,
}

impl Held {
    pub(super) fn new() -> Held {
        // SAFETY: plain signal-mask manipulation of this thread.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in TERMINATING {
                libc::sigaddset(&mut set, sig);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            Held { old }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// Whether `fd` is a pipe or socket whose reader has gone (async-signal-safe).
fn reader_gone(fd: libc::c_int) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll on one valid pollfd, no waiting.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n == 1 && p.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

extern "C" fn on_sigpipe(_: libc::c_int) {
    if reader_gone(1) || reader_gone(2) {
        remove_registered();
        // SAFETY: async-signal-safe; ends the process by SIGPIPE, as a filter.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
    // Otherwise a socket broke: return, and the write fails with EPIPE.
}

/// SIGPIPE for the CLI (see the module's doc). Rust ignores SIGPIPE, so
/// `print!` to a closed pipe panics; resetting it to the default for the
/// whole process (as this program once did) made a server that closes its
/// connection kill the process silently, exit 141. A handler does both
/// right: it is called for every EPIPE and looks at which end is closed.
pub fn install_sigpipe_policy() {
    // SAFETY: the handler is async-signal-safe (poll, unlink, signal, raise).
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = on_sigpipe as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut new.sa_mask);
        libc::sigaction(libc::SIGPIPE, &new, std::ptr::null_mut());
    }
}
