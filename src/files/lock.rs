//! The advisory lock that serialises edits of one file by pe-analytics
//! processes: `flock` on the file itself. A file replaced by rename is a new
//! inode, so after waiting for the lock the path is checked to still name the
//! locked inode; if another editor replaced it meanwhile, the new file is
//! locked instead. No lock file is left behind, and a process that dies
//! (even by SIGKILL) releases its lock.

use super::open::open_regular;
use super::FileError;
use rustix::fs::{flock, FlockOperation};
use std::fs::{self, File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long to wait for another pe-analytics that holds the lock (its edit
/// is a read, a plan and a write: well under a second on any pe.conf).
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Whether two stats name the same inode.
pub(super) fn same_inode(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Locks `target` (a regular file; symlinks already resolved) exclusively;
/// the lock lasts as long as the returned descriptor.
pub(super) fn lock_exclusive(
    target: &Path,
    shown: &Path,
    limit: u64,
) -> Result<(File, Metadata), FileError> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let (file, _) = open_regular(target, shown, limit)?;
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {
                    if Instant::now() >= deadline {
                        return Err(FileError::Locked {
                            path: shown.to_path_buf(),
                            waited_secs: LOCK_WAIT.as_secs(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => {
                    return Err(FileError::Io {
                        path: shown.to_path_buf(),
                        what: "cannot lock",
                        source: e.into(),
                    })
                }
            }
        }
        let locked = file.metadata().map_err(|e| FileError::Io {
            path: shown.to_path_buf(),
            what: "cannot read",
            source: e,
        })?;
        match fs::metadata(target) {
            Ok(now) if same_inode(&now, &locked) => return Ok((file, locked)),
            // Replaced (or removed and re-created) while we waited: lock anew.
            _ => continue,
        }
    }
}
