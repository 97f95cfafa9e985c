//! The semantic layer (`semantic::resolve`, which the opt-out/opt-in
//! verification runs on every file it edits) must not panic on any input.
//! It hands the text to the third-party `hocon-parser` crate, so this target
//! also fuzzes that crate through the only door the tool opens to it.
#![no_main]

mod altstack;

use libfuzzer_sys::fuzz_target;
use pe_analytics::hocon::semantic::resolve;
use pe_analytics::hocon::Syntax;

fuzz_target!(|data: &[u8]| {
    altstack::install();
    let text = String::from_utf8_lossy(data);
    let _ = resolve(&text, Syntax::Conf);
    let _ = resolve(&text, Syntax::Json);
});
