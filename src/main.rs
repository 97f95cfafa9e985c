//! The `pe-analytics` command; everything it does lives in the library.

fn main() {
    std::process::exit(pe_analytics::cli::run(std::env::args_os()));
}
