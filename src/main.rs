//! The `pe-analytics` command; everything it does lives in the library.

// The system allocator (mimalloc until issue 15): since runs of members
// are kept as spans, a large pe.conf is a few large buffers, not many small
// nodes. Measured whole-process (benches/commands.sh, README "Speed"),
// mimalloc was as fast on a real pe.conf and at 1 MB, faster at 10 MB, but
// held 25-40 MB more memory there (over the bound), and it is a C
// build of its own.

/// Lets the few large buffers of a command (the file, the text to write,
/// the tree's runs: each about the file's size) come from the heap and be
/// reused once freed, instead of glibc's default of a fresh `mmap` for each
/// buffer over 128 KiB, whose every page is faulted in (and zeroed) anew.
/// Measured whole-process (`benches/commands.sh`): `opt-out` on a 1 MB
/// pe.conf 11.2 -> 10.0 ms (best of 100), peak memory unchanged.
#[cfg(target_env = "gnu")]
fn reuse_large_buffers() {
    // SAFETY: mallopt only sets allocator parameters; called before any
    // thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

#[cfg(not(target_env = "gnu"))]
fn reuse_large_buffers() {}

fn main() {
    reuse_large_buffers();
    // A closed stdout ends the command quietly, as a filter; a closed socket
    // is an I/O error like any other (see `files::signals`).
    pe_analytics::files::signals::install_sigpipe_policy();
    // SIGINT/SIGTERM/SIGHUP during a write remove the temporary file.
    pe_analytics::files::signals::install_cleanup_handlers();
    std::process::exit(pe_analytics::cli::run(std::env::args_os()));
}
