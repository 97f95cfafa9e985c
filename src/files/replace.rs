//! New files beside a target (the replacement text, a backup): created
//! private (mode 0600, `O_EXCL`, never following a link) in the target's own
//! directory, so on its file system, then given the target's owner, extended
//! attributes (ACLs, SELinux label, ...) and mode, and only then written. No
//! byte of it is ever readable by anyone the target does not allow. Until it
//! is renamed or linked into place it is registered for removal on
//! SIGINT/SIGTERM/SIGHUP, and removed on any error (a full disk included).
//!
//! Names: `.pe-analytics-<target name>.<16 hex digits>`. A file of that
//! shape can only be left by a process that died without running any code
//! (SIGKILL, power loss); the next write of the same target, under the
//! target's lock, removes it ([`remove_leftovers`]).

use super::signals::{self, Held, Registered};
use rustix::fs::{fchmod, fchown, fgetxattr, flistxattr, fsetxattr, Gid, Mode, Uid, XattrFlags};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub(super) const PREFIX: &str = ".pe-analytics-";

/// The leftover-name prefix for a target: `.pe-analytics-<name>.`, the name
/// cut so that the whole stays within the usual 255-byte limit.
fn prefix_for(target_name: &OsStr) -> OsString {
    let mut name = target_name.as_bytes().to_vec();
    name.truncate(200);
    let mut p = PREFIX.as_bytes().to_vec();
    p.extend(name);
    p.push(b'.');
    OsString::from_vec(p)
}

/// A private new file beside the target; removed when dropped unless
/// [`Temp::persist`] or [`Temp::link_as`] put it in place.
pub(super) struct Temp {
    pub(super) path: PathBuf,
    pub(super) file: File,
    registered: Option<Registered>,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.registered.is_some() {
            let _held = Held::new();
            let _ = fs::remove_file(&self.path);
            self.registered = None;
        }
    }
}

/// Creates `.pe-analytics-<name>.<random>` in `dir`, mode 0600.
pub(super) fn create(dir: &Path, target_name: &OsStr) -> io::Result<Temp> {
    let prefix = prefix_for(target_name);
    for _ in 0..100 {
        let mut name = prefix.clone();
        name.push(format!("{:016x}", fastrand::u64(..)));
        let path = dir.join(name);
        // Registered before it exists, both under held signals: a signal
        // can never find the file created and not yet registered.
        let held = Held::new();
        let registered = signals::register(&path);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => {
                drop(held);
                return Ok(Temp {
                    path,
                    file,
                    registered: Some(registered),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                drop(registered);
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary file name",
    ))
}

/// Why making a new file like the old one failed: the step, and the error.
pub(super) struct StepError {
    pub(super) what: &'static str,
    pub(super) source: io::Error,
}

fn step<T>(what: &'static str, r: io::Result<T>) -> Result<T, StepError> {
    r.map_err(|source| StepError { what, source })
}

impl Temp {
    /// Gives the file `like`'s owner, extended attributes and mode (in that
    /// order: a chown clears set-id bits, and copying an ACL sets mode bits),
    /// then writes `bytes` and syncs them.
    pub(super) fn fill_like(
        &mut self,
        like: &Metadata,
        xattr_source: &File,
        bytes: &[u8],
    ) -> Result<(), StepError> {
        let mine = step("cannot read the new file", self.file.metadata())?;
        if mine.uid() != like.uid() || mine.gid() != like.gid() {
            step(
                "cannot give the new file the old owner",
                fchown(
                    &self.file,
                    Some(Uid::from_raw(like.uid())),
                    Some(Gid::from_raw(like.gid())),
                )
                .map_err(io::Error::from),
            )?;
        }
        copy_xattrs(xattr_source, &self.file)?;
        step(
            "cannot give the new file the old mode",
            fchmod(&self.file, Mode::from_raw_mode(like.mode() & 0o7777)).map_err(io::Error::from),
        )?;
        step("cannot write the new file", self.file.write_all(bytes))?;
        step("cannot sync the new file", self.file.sync_all())?;
        Ok(())
    }

    /// Renames the file over `target` (atomic); it is then no temporary.
    pub(super) fn persist(mut self, target: &Path) -> io::Result<()> {
        let _held = Held::new();
        fs::rename(&self.path, target)?;
        self.registered = None;
        Ok(())
    }

    /// Links the file as `name` (refusing an existing name), then removes the
    /// temporary name: `name` never exists half written.
    pub(super) fn link_as(self, name: &Path) -> io::Result<()> {
        fs::hard_link(&self.path, name)?;
        Ok(()) // dropping `self` removes the temporary name
    }
}

/// Copies every extended attribute (`user.*`, `security.*` such as the
/// SELinux label, `system.posix_acl_*`, `trusted.*`) of `from` to `to`.
/// One that cannot be copied is an error: a file that silently lost its ACL
/// may be unreadable by the service it is for, or readable by others.
fn copy_xattrs(from: &File, to: &File) -> Result<(), StepError> {
    let names = match list_xattrs(from) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => return Ok(()),
        Err(e) => {
            return Err(StepError {
                what: "cannot list the extended attributes",
                source: e,
            })
        }
    };
    for name in names {
        let value = step("cannot read an extended attribute", get_xattr(from, &name))?;
        if get_xattr(to, &name).ok().as_deref() == Some(value.as_slice()) {
            continue; // e.g. the SELinux label the new file already got
        }
        fsetxattr(to, name.as_slice(), &value, XattrFlags::empty()).map_err(|e| StepError {
            what: "cannot copy an extended attribute (ACL, SELinux label, ...) to the new file",
            source: io::Error::other(format!("{}: {e}", String::from_utf8_lossy(&name))),
        })?;
    }
    Ok(())
}

fn list_xattrs(f: &File) -> io::Result<Vec<Vec<u8>>> {
    let mut buf = vec![0u8; 1024];
    loop {
        match flistxattr(f, &mut buf[..]) {
            Ok(n) => {
                return Ok(buf[..n]
                    .split(|b| *b == 0)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect())
            }
            Err(e) if e == rustix::io::Errno::RANGE && buf.len() < 1 << 20 => {
                buf.resize(buf.len() * 4, 0)
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn get_xattr(f: &File, name: &[u8]) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        match fgetxattr(f, name, &mut buf[..]) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(e) if e == rustix::io::Errno::RANGE && buf.len() < 1 << 20 => {
                buf.resize(buf.len() * 4, 0)
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Removes the temporary files a killed earlier run left for `target_name`
/// in `dir` (regular files only, never a link); called with the target's
/// lock held, when no other pe-analytics can be writing one. Returns what
/// was removed.
pub(super) fn remove_leftovers(dir: &Path, target_name: &OsStr) -> Vec<PathBuf> {
    let prefix = prefix_for(target_name);
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.as_bytes().strip_prefix(prefix.as_bytes()) else {
            continue;
        };
        if rest.len() != 16 || !rest.iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let path = entry.path();
        let is_file = fs::symlink_metadata(&path)
            .map(|m| m.file_type().is_file())
            .unwrap_or(false);
        if is_file && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}
