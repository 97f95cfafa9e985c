//! The `pe-analytics` binary and the bundled pe.conf fixtures, for the tests
//! that run the tool on real files.

use assert_cmd::Command;
use std::fs;
use std::path::PathBuf;

pub fn bin() -> Command {
    Command::cargo_bin("pe-analytics").unwrap()
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
