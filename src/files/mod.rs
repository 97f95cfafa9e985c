//! Reading and writing configuration files so that nothing is ever half
//! written, and nothing but a regular file is ever read or replaced.
//!
//! * Reading: only a regular file (symlinks followed) of at most
//!   [`max_file_size`] bytes (64 MiB unless `--max-file-size` /
//!   `PE_ANALYTICS_MAX_FILE_SIZE` says otherwise), checked before reading,
//!   without blocking on a FIFO or opening a device (see [`open`]).
//! * Writing: the new text goes to a private file beside the target, which
//!   gets the target's owner, extended attributes (ACLs, SELinux label) and
//!   mode before its first byte, is synced, and replaces the target with a
//!   rename (see [`replace`]). A symlink is followed, so the link stays a link.
//! * Concurrency: edits of one file by pe-analytics processes are serialised
//!   by a `flock` on it ([`lock`]); the check that the file did not change
//!   since it was read happens under that lock, so two editors never lose an
//!   update.
//! * Signals: SIGINT/SIGTERM/SIGHUP during a write remove the temporary file
//!   ([`signals`]); one left by SIGKILL is removed by the next write.
//! * Hard links: a file with several names is refused (replacing it would
//!   leave the other names with the old text; editing it in place cannot be
//!   atomic).

mod lock;
mod open;
mod replace;
pub mod signals;

pub use lock::LOCK_WAIT;
pub use open::read_regular;

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use thiserror::Error;

/// The largest pe.conf read unless told otherwise: PE's own are a few KiB;
/// anything near this is a mistake (a log, an image, `/dev/zero`).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The environment variable that overrides [`DEFAULT_MAX_FILE_SIZE`] (as the
/// `--max-file-size` flag does).
pub const MAX_FILE_SIZE_ENV: &str = "PE_ANALYTICS_MAX_FILE_SIZE";

static MAX_FILE_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// The size limit for files read with [`TextFile::read`].
pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(Ordering::Relaxed)
}

/// Sets the size limit for this process (the CLI's `--max-file-size`).
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, Ordering::Relaxed);
}

/// A size such as `64MiB`, `64M`, `1G`, `512k` or bare bytes (binary units:
/// K = KiB = 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 64MiB, 512K, 1G or bytes)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "{s:?} is not a size (e.g. 64MiB, 512K, 1G or bytes)"
            ))
        }
    };
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes == 0 {
        return Err("the size limit must be at least one byte".into());
    }
    Ok(bytes)
}

/// A byte count for people: `2.0 GiB`, `64 MiB`, `512 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} bytes")
}

#[derive(Debug, Error)]
pub enum FileError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: is a directory, not a file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: is {kind}, not a regular file; pe-analytics only reads and replaces regular files (nothing was read or written)")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path}: is {} ({size} bytes), more than the {} limit for a configuration file; nothing was read. Raise the limit with --max-file-size or PE_ANALYTICS_MAX_FILE_SIZE if this really is the file", human_size(*size), human_size(*limit))]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        source: io::Error,
    },
    #[error("{path}: not UTF-8 text (invalid byte at line {line}, column {col})")]
    NotUtf8 {
        path: PathBuf,
        line: usize,
        col: usize,
    },
    #[error("{path}: the file is read-only (mode {mode:04o}); nothing was written. Make it writable (chmod u+w) to let pe-analytics change it")]
    ReadOnly { path: PathBuf, mode: u32 },
    #[error("{path}: the file changed on disk since it was read; nothing was written. Run the command again")]
    ChangedOnDisk { path: PathBuf },
    #[error("{path}: the file has {links} hard links (names); nothing was written. Replacing it would leave the other names with the old text, and editing it in place cannot be atomic. Give it a single name first (e.g. cp -p FILE FILE.new && mv FILE.new FILE), then run the command again")]
    HardLinked { path: PathBuf, links: u64 },
    #[error("{path}: another pe-analytics is editing the file (its lock was still held after {waited_secs} s); nothing was written")]
    Locked { path: PathBuf, waited_secs: u64 },
}

/// The `flock` held on the file being edited (shared by clones).
#[derive(Debug)]
struct EditLock {
    file: File,
    meta: Metadata,
}

/// What a write did besides replacing the file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Written {
    /// Temporary files of an earlier run killed mid-write (SIGKILL), removed.
    pub removed_leftovers: Vec<PathBuf>,
}

/// A text file as read, with what is needed to write it back safely.
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The path as given (shown in messages).
    pub path: PathBuf,
    /// Where the bytes really live (symlinks resolved).
    pub target: PathBuf,
    pub text: String,
    mode: u32,
    links: u64,
    lock: Option<Arc<EditLock>>,
}

impl TextFile {
    /// Reads `path` as UTF-8 text (a regular file within [`max_file_size`]).
    pub fn read(path: &Path) -> Result<TextFile, FileError> {
        let target = resolve(path)?;
        let limit = max_file_size();
        let (file, meta) = open::open_regular(&target, path, limit)?;
        Self::from_open(path, target, &file, &meta, None)
    }

    /// Like [`TextFile::read`], for a command that is going to write the
    /// file: takes the edit lock first and holds it until the value (and
    /// its clones) are dropped, so a concurrent pe-analytics waits for this
    /// edit and then works on its result instead of failing or losing it.
    pub fn read_for_edit(path: &Path) -> Result<TextFile, FileError> {
        let target = resolve(path)?;
        let limit = max_file_size();
        let (file, meta) = lock::lock_exclusive(&target, path, limit)?;
        let lock = Arc::new(EditLock {
            file,
            meta: meta.clone(),
        });
        Self::from_open(path, target, &lock.file, &meta, Some(lock.clone()))
    }

    fn from_open(
        path: &Path,
        target: PathBuf,
        file: &File,
        meta: &Metadata,
        lock: Option<Arc<EditLock>>,
    ) -> Result<TextFile, FileError> {
        let bytes = open::read_capped(file, path, meta.len(), max_file_size())?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let col = valid
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            FileError::NotUtf8 {
                path: path.to_path_buf(),
                line,
                col,
            }
        })?;
        Ok(TextFile {
            path: path.to_path_buf(),
            target,
            text,
            mode: meta.permissions().mode() & 0o7777,
            links: meta.nlink(),
            lock,
        })
    }

    /// The permission bits the file had when read.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// Refuses early what a write would refuse: a file with no write
    /// permission for anyone (the admin made it read-only on purpose, even
    /// if root could replace it), or with several hard links.
    pub fn ensure_writable(&self) -> Result<(), FileError> {
        if self.mode & 0o222 == 0 {
            return Err(FileError::ReadOnly {
                path: self.path.clone(),
                mode: self.mode,
            });
        }
        if self.links > 1 {
            return Err(FileError::HardLinked {
                path: self.path.clone(),
                links: self.links,
            });
        }
        Ok(())
    }

    fn io_err(&self, what: &'static str) -> impl FnOnce(io::Error) -> FileError + '_ {
        move |source| FileError::Io {
            path: self.path.clone(),
            what,
            source,
        }
    }

    /// The edit lock: the one taken by [`TextFile::read_for_edit`], or a new one.
    fn edit_lock(&self) -> Result<Arc<EditLock>, FileError> {
        if let Some(l) = &self.lock {
            return Ok(l.clone());
        }
        let (file, meta) = lock::lock_exclusive(&self.target, &self.path, max_file_size())?;
        Ok(Arc::new(EditLock { file, meta }))
    }

    fn dir(&self) -> &Path {
        self.target.parent().unwrap_or(Path::new("."))
    }

    fn name(&self) -> &std::ffi::OsStr {
        self.target.file_name().unwrap_or_default()
    }

    /// Replaces the file's contents with `new_text` atomically, keeping mode,
    /// owner and extended attributes; refuses if the file changed since it
    /// was read (checked under the edit lock).
    pub fn write(&self, new_text: &str) -> Result<Written, FileError> {
        self.ensure_writable()?;
        let lock = self.edit_lock()?;
        // Under the lock: the path must still name the locked file, with the
        // text that was read.
        let now = std::fs::metadata(&self.target).map_err(self.io_err("cannot re-read"))?;
        let changed = || FileError::ChangedOnDisk {
            path: self.path.clone(),
        };
        if !lock::same_inode(&now, &lock.meta) {
            return Err(changed());
        }
        let meta = lock
            .file
            .metadata()
            .map_err(self.io_err("cannot re-read"))?;
        open::check(&self.path, &meta, max_file_size())?;
        if meta.nlink() > 1 {
            return Err(FileError::HardLinked {
                path: self.path.clone(),
                links: meta.nlink(),
            });
        }
        if !open::holds(&lock.file, &self.path, self.text.as_bytes())? {
            return Err(changed());
        }
        let removed_leftovers = replace::remove_leftovers(self.dir(), self.name());
        let mut temp = replace::create(self.dir(), self.name())
            .map_err(self.io_err("cannot create a temporary file beside it"))?;
        temp.fill_like(&meta, &lock.file, new_text.as_bytes())
            .map_err(|e| FileError::Io {
                path: self.path.clone(),
                what: e.what,
                source: e.source,
            })?;
        temp.persist(&self.target)
            .map_err(self.io_err("cannot replace the file"))?;
        if let Ok(d) = File::open(self.dir()) {
            let _ = d.sync_all();
        }
        Ok(Written { removed_leftovers })
    }

    /// Copies the file as read to `<file>.bak.<UTC timestamp>` beside it,
    /// with the same mode, owner and extended attributes from its first
    /// byte; the name appears only once the copy is complete. Returns the
    /// backup's path.
    pub fn backup(&self, now: std::time::SystemTime) -> Result<PathBuf, FileError> {
        let stamp = humantime::format_rfc3339_seconds(now)
            .to_string()
            .replace([':', '-'], "");
        let name = format!("{}.bak.{}", self.name().to_string_lossy(), stamp);
        let backup = self.target.with_file_name(name);
        let io_err = |what, source: io::Error| FileError::Io {
            path: backup.clone(),
            what,
            source,
        };
        let lock = self.edit_lock()?;
        let meta = lock
            .file
            .metadata()
            .map_err(|e| io_err("cannot read the file", e))?;
        let mut temp = replace::create(self.dir(), self.name())
            .map_err(|e| io_err("cannot create the backup", e))?;
        temp.fill_like(&meta, &lock.file, self.text.as_bytes())
            .map_err(|e| io_err(e.what, e.source))?;
        temp.link_as(&backup)
            .map_err(|e| io_err("cannot create the backup", e))?;
        Ok(backup)
    }
}

/// The file behind `path`, symlinks resolved; errors name `path`.
fn resolve(path: &Path) -> Result<PathBuf, FileError> {
    std::fs::canonicalize(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => FileError::NotFound {
            path: path.to_path_buf(),
        },
        _ => FileError::Io {
            path: path.to_path_buf(),
            what: "cannot resolve",
            source: e,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, Permissions};

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size(" 1G ").unwrap(), 1 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        for bad in [
            "",
            "0",
            "-1",
            "1.5G",
            "12 parsecs",
            "99999999999999999999",
            "18446744073709551615G",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human_size(2 << 30), "2 GiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(12), "12 bytes");
    }

    #[test]
    fn fifos_are_refused_without_blocking_and_stay() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pe.conf");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = TextFile::read(&fifo).unwrap_err();
        assert!(
            matches!(e, FileError::NotRegular { kind, .. } if kind.contains("FIFO")),
            "{e}"
        );
        let e = TextFile::read_for_edit(&fifo).unwrap_err();
        assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }

    #[test]
    fn hard_links_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        fs::write(&path, "a: 1\n").unwrap();
        fs::hard_link(&path, dir.path().join("other-name.conf")).unwrap();
        let file = TextFile::read(&path).unwrap();
        let e = file.write("a: 2\n").unwrap_err();
        assert!(matches!(e, FileError::HardLinked { links: 2, .. }), "{e}");
        assert!(e.to_string().contains("2 hard links"), "{e}");
        assert!(file.ensure_writable().is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "a: 1\n");
    }

    #[test]
    fn a_killed_runs_leftover_is_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        fs::write(&path, "a: 1\n").unwrap();
        let leftover = dir.path().join(".pe-analytics-pe.conf.0123456789abcdef");
        fs::write(&leftover, "a: 2 (half").unwrap();
        // Not ours: another file's leftover, and a name of another shape.
        let other = dir.path().join(".pe-analytics-other.conf.0123456789abcdef");
        fs::write(&other, "x").unwrap();
        let odd = dir.path().join(".pe-analytics-pe.conf.keep");
        fs::write(&odd, "x").unwrap();
        let file = TextFile::read(&path).unwrap();
        let written = file.write("a: 2\n").unwrap();
        assert_eq!(written.removed_leftovers, vec![leftover.clone()]);
        assert!(!leftover.exists() && other.exists() && odd.exists());
    }

    #[test]
    fn the_size_limit_is_checked_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        let f = fs::File::create(&path).unwrap();
        f.set_len(DEFAULT_MAX_FILE_SIZE + 1).unwrap();
        let e = TextFile::read(&path).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("64 MiB limit"), "{e}");
    }

    #[test]
    fn write_keeps_mode_and_follows_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        fs::write(&real, "a: 1\n").unwrap();
        fs::set_permissions(&real, Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("pe.conf");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let file = TextFile::read(&link).unwrap();
        file.write("a: 2\n").unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "a: 2\n");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no temporary file is left behind");
    }

    #[test]
    fn write_refuses_when_the_file_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        fs::write(&path, "a: 1\n").unwrap();
        let file = TextFile::read(&path).unwrap();
        fs::write(&path, "a: 3\n").unwrap();
        assert!(matches!(
            file.write("a: 2\n"),
            Err(FileError::ChangedOnDisk { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "a: 3\n");
    }

    #[test]
    fn not_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pe.conf");
        fs::write(&path, b"a: 1\nb: \xff\n").unwrap();
        match TextFile::read(&path) {
            Err(FileError::NotUtf8 { line, col, .. }) => assert_eq!((line, col), (2, 4)),
            other => panic!("{other:?}"),
        }
    }
}
