//! The `pe-analytics` binary and the bundled pe.conf fixtures, for the tests
//! that run the tool on real files.

use assert_cmd::Command;
use std::fs;
use std::path::PathBuf;

/// The variables pe-analytics reads that a developer's shell may hold (for
/// example after the README's `eval "$(pe-sim --print-env ...)"`): every
/// test runs the binary without them, so the flags it gives are all there is.
pub fn ambient_vars() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| {
            k.to_str()
                .is_some_and(|k| k.starts_with("PE_ANALYTICS_") || k == "PE_RBAC_TOKEN")
        })
        .collect()
}

/// `pe-analytics`, without the ambient variables.
pub fn bin() -> Command {
    let mut c = Command::cargo_bin("pe-analytics").unwrap();
    for k in ambient_vars() {
        c.env_remove(k);
    }
    c
}

/// The same for a `std::process::Command` running pe-analytics.
pub fn isolate(c: &mut std::process::Command) -> &mut std::process::Command {
    for k in ambient_vars() {
        c.env_remove(k);
    }
    c
}

/// A fixture under `fixtures/pe.conf/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pe.conf")
        .join(name)
}

/// A copy of a fixture, as `pe.conf` in a fresh directory.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pe.conf");
    fs::copy(fixture(name), &path).unwrap();
    (dir, path)
}

/// What proves a file was not rewritten: its inode (every write is a
/// rename of a new file over it, so a rewrite, even with the same bytes,
/// gives a new inode), its mode and its bytes. Unlike mtimes, this needs no
/// sleep and no timestamp granularity.
#[derive(Debug, PartialEq, Eq)]
pub struct Untouched {
    dev: u64,
    ino: u64,
    mode: u32,
    bytes: Vec<u8>,
}

impl Untouched {
    pub fn of(path: &std::path::Path) -> Untouched {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path).unwrap();
        Untouched {
            dev: m.dev(),
            ino: m.ino(),
            mode: m.mode(),
            bytes: fs::read(path).unwrap(),
        }
    }
}
