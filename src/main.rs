//! The `pe-analytics` command; everything it does lives in the library.

/// mimalloc instead of the system allocator: the HOCON tree is many small
/// nodes, and glibc's malloc/free were a fifth of the time of an edit on a
/// large pe.conf (benches/hocon.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // A closed stdout ends the command quietly, as a filter; a closed socket
    // is an I/O error like any other (see `files::signals`).
    pe_analytics::files::signals::install_sigpipe_policy();
    // SIGINT/SIGTERM/SIGHUP during a write remove the temporary file.
    pe_analytics::files::signals::install_cleanup_handlers();
    std::process::exit(pe_analytics::cli::run(std::env::args_os()));
}
