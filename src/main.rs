//! The `pe-analytics` command; everything it does lives in the library.

/// mimalloc instead of the system allocator: the HOCON tree is many small
/// nodes, and glibc's malloc/free were a fifth of the time of an edit on a
/// large pe.conf (benches/hocon.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    restore_sigpipe();
    std::process::exit(pe_analytics::cli::run(std::env::args_os()));
}

/// Rust ignores SIGPIPE, so writing to a closed pipe (`pe-analytics conf set
/// --stdout ... | head`) made `print!` panic. Like other Unix filters, end
/// quietly instead, killed by the signal, as the shell expects.
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
