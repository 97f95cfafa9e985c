//! Reading and writing configuration files so that nothing is ever half
//! written: the new text goes to a temporary file beside the target, is
//! synced, and replaces the target with a rename, keeping its mode and owner.
//! A symlink is followed, so the link stays a link.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FileError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: is a directory, not a file")]
    IsDirectory { path: PathBuf },
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
    uid: u32,
    gid: u32,
}

impl TextFile {
    /// Reads `path` as UTF-8 text.
    pub fn read(path: &Path) -> Result<TextFile, FileError> {
        let io_err = |what, source: io::Error| FileError::Io {
            path: path.to_path_buf(),
            what,
            source,
        };
        let meta = match fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(FileError::NotFound {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(io_err("cannot read", e)),
        };
        if meta.is_dir() {
            return Err(FileError::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let target = fs::canonicalize(path).map_err(|e| io_err("cannot resolve", e))?;
        let bytes = fs::read(&target).map_err(|e| io_err("cannot read", e))?;
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
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }

    /// The permission bits the file had when read.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// Refuses early when the file has no write permission for anyone: the
    /// admin made it read-only on purpose, even if root could replace it.
    pub fn ensure_writable(&self) -> Result<(), FileError> {
        if self.mode & 0o222 == 0 {
            return Err(FileError::ReadOnly {
                path: self.path.clone(),
                mode: self.mode,
            });
        }
        Ok(())
    }

    /// Replaces the file's contents with `new_text` atomically, keeping mode
    /// and owner; refuses if the file changed since it was read.
    pub fn write(&self, new_text: &str) -> Result<(), FileError> {
        self.ensure_writable()?;
        let io_err = |what, source: io::Error| FileError::Io {
            path: self.path.clone(),
            what,
            source,
        };
        let dir = self.target.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".pe-analytics-")
            .tempfile_in(dir)
            .map_err(|e| io_err("cannot create a temporary file beside it", e))?;
        tmp.write_all(new_text.as_bytes())
            .map_err(|e| io_err("cannot write the temporary file", e))?;
        keep_mode_and_owner(tmp.as_file(), self.mode, self.uid, self.gid)
            .map_err(|e| io_err("cannot give the new file the old mode and owner", e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| io_err("cannot sync the temporary file", e))?;
        let now = fs::read(&self.target).map_err(|e| io_err("cannot re-read", e))?;
        if now != self.text.as_bytes() {
            return Err(FileError::ChangedOnDisk {
                path: self.path.clone(),
            });
        }
        tmp.persist(&self.target)
            .map_err(|e| io_err("cannot replace the file", e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Copies the file as read to `<file>.bak.<UTC timestamp>` beside it,
    /// with the same mode and owner; returns the backup's path.
    pub fn backup(&self, now: std::time::SystemTime) -> Result<PathBuf, FileError> {
        let stamp = humantime::format_rfc3339_seconds(now)
            .to_string()
            .replace([':', '-'], "");
        let name = format!(
            "{}.bak.{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            stamp
        );
        let backup = self.target.with_file_name(name);
        let io_err = |what, source: io::Error| FileError::Io {
            path: backup.clone(),
            what,
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&backup)
            .map_err(|e| io_err("cannot create the backup", e))?;
        keep_mode_and_owner(&file, self.mode, self.uid, self.gid)
            .map_err(|e| io_err("cannot set the backup's mode", e))?;
        file.write_all(self.text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io_err("cannot write the backup", e))?;
        Ok(backup)
    }
}

fn keep_mode_and_owner(file: &File, mode: u32, uid: u32, gid: u32) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(mode))?;
    let meta = file.metadata()?;
    if meta.uid() != uid || meta.gid() != gid {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
