//! Opening a file that must be a regular file of bounded size, without ever
//! blocking on a FIFO or touching a device: the kind is checked with `stat`
//! before opening (opening a device node may have side effects), the open is
//! non-blocking (a FIFO swapped in meanwhile cannot hang it), and the kind
//! and size are checked again on the opened descriptor (`fstat`), which is
//! what is then read.

use super::FileError;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a file that is not a regular file is, for messages.
fn kind_of(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Refuses anything but a regular file no larger than `limit`.
pub(super) fn check(shown: &Path, meta: &Metadata, limit: u64) -> Result<(), FileError> {
    match kind_of(meta) {
        None => {}
        Some("a directory") => {
            return Err(FileError::IsDirectory {
                path: shown.to_path_buf(),
            })
        }
        Some(kind) => {
            return Err(FileError::NotRegular {
                path: shown.to_path_buf(),
                kind,
            })
        }
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            path: shown.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

fn io_err<'a>(shown: &'a Path, what: &'static str) -> impl FnOnce(io::Error) -> FileError + 'a {
    move |source| FileError::Io {
        path: shown.to_path_buf(),
        what,
        source,
    }
}

/// Opens `path` (symlinks followed) for reading: a regular file of at most
/// `limit` bytes, checked before and after opening. `shown` names it in
/// errors.
pub(super) fn open_regular(
    path: &Path,
    shown: &Path,
    limit: u64,
) -> Result<(File, Metadata), FileError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FileError::NotFound {
                path: shown.to_path_buf(),
            })
        }
        Err(e) => return Err(io_err(shown, "cannot read")(e)),
    };
    check(shown, &meta, limit)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io_err(shown, "cannot open"))?;
    let meta = file.metadata().map_err(io_err(shown, "cannot read"))?;
    check(shown, &meta, limit)?;
    Ok((file, meta))
}

/// Reads the whole file from its start, refusing more than `limit` bytes
/// (the file may grow between the size check and the read).
pub(super) fn read_capped(
    mut file: &File,
    shown: &Path,
    size_hint: u64,
    limit: u64,
) -> Result<Vec<u8>, FileError> {
    file.seek(SeekFrom::Start(0))
        .map_err(io_err(shown, "cannot read"))?;
    let mut bytes = Vec::with_capacity(size_hint.min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(shown, "cannot read"))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: shown.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Whether the file holds exactly `expected`, read from its start a block at
/// a time (the check before a write: no second copy of a large file is
/// made, and reading stops at the first difference).
pub(super) fn holds(mut file: &File, shown: &Path, expected: &[u8]) -> Result<bool, FileError> {
    file.seek(SeekFrom::Start(0))
        .map_err(io_err(shown, "cannot read"))?;
    let mut block = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        let n = match file.read(&mut block) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(shown, "cannot read")(e)),
        };
        if n == 0 {
            return Ok(at == expected.len());
        }
        if expected.get(at..at + n) != Some(&block[..n]) {
            return Ok(false);
        }
        at += n;
    }
}

/// Reads a small file (a certificate, a key, a token) that must be a regular
/// file of at most `limit` bytes: a FIFO, a device or `/dev/zero` given by
/// mistake is refused instead of hanging or filling memory.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let (file, meta) = open_regular(path, path, limit)?;
    read_capped(&file, path, meta.len(), limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_only_the_exact_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        // Over one block, so a difference in the last block is read.
        let text: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &text).unwrap();
        let file = File::open(&path).unwrap();
        assert!(holds(&file, &path, &text).unwrap());
        let mut last_changed = text.clone();
        *last_changed.last_mut().unwrap() = b'!';
        assert!(!holds(&file, &path, &last_changed).unwrap());
        assert!(!holds(&file, &path, &text[..text.len() - 1]).unwrap());
        let mut longer = text.clone();
        longer.push(b'x');
        assert!(!holds(&file, &path, &longer).unwrap());
        assert!(!holds(&file, &path, b"").unwrap());
    }
}
