//! The test data bundled in `tests/data/` (see its README): the HOCON
//! conformance corpora and the ruby-hocon oracle script. Everything a test
//! reads lives in the repository; a missing file fails the test loudly.

use std::path::PathBuf;

/// `tests/data/<rel>`; panics when it does not exist, so a test can never
/// pass by silently checking nothing.
pub fn data(rel: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    assert!(
        path.exists(),
        "test data {} is missing: it belongs in the repository (tests/data/)",
        path.display()
    );
    path
}
