//! The `pe-analytics` command; everything it does lives in the library.

// The system allocator (mimalloc until issue 15): since runs of members
// are kept as spans, a large pe.conf is a few large buffers, not many small
// nodes. Measured whole-process (benches/commands.sh, README "Speed"),
// mimalloc was as fast on a real pe.conf and at 1 MB, faster at 10 MB, but
// held 25-40 MB more memory there (over the bound), and it is a C
// build of its own.

fn main() {
    // A closed stdout ends the command quietly, as a filter; a closed socket
    // is an I/O error like any other (see `files::signals`).
    pe_analytics::files::signals::install_sigpipe_policy();
    // SIGINT/SIGTERM/SIGHUP during a write remove the temporary file.
    pe_analytics::files::signals::install_cleanup_handlers();
    std::process::exit(pe_analytics::cli::run(std::env::args_os()));
}
