//! pe.conf and the analytics setting in it: where the file is, what it says
//! (lint), what opting out or in changes (plan), and what must never be shown
//! (secrets).

pub mod lint;
pub mod plan;
pub mod secrets;

use crate::hocon::Syntax;
use std::path::Path;

/// Where PE keeps pe.conf on the primary server (PE's installer writes it
/// there; `puppet infrastructure configure` and the `puppet_enterprise::data`
/// Hiera backend read it from there).
pub const DEFAULT_PE_CONF: &str = "/etc/puppetlabs/enterprise/conf.d/pe.conf";

/// The analytics setting's key, as PE looks it up.
pub const ANALYTICS_KEY: &str = "puppet_enterprise::send_analytics_data";

/// The same key as a HOCON path expression (quoted, because of the `::`).
pub const ANALYTICS_PATH: &str = "\"puppet_enterprise::send_analytics_data\"";

/// The nested spelling people write by mistake, which PE never reads.
pub const NESTED_ANALYTICS_PATH: &str = "puppet_enterprise.send_analytics_data";

/// The HOCON dialect ruby-hocon's `parse_file` would use for `path`: JSON for
/// `.json` files, HOCON for everything else.
pub fn syntax_for(path: &Path) -> Syntax {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => Syntax::Json,
        _ => Syntax::Conf,
    }
}

/// Turns a KEY argument into a HOCON path expression. Keys are path
/// expressions as ruby-hocon takes them (`'"puppet_enterprise::x".y'`); for
/// convenience, when the argument has no double quote at all, each
/// `.`-separated element that contains `:` is quoted, so
/// `puppet_enterprise::send_analytics_data` means the single quoted key.
pub fn key_to_path(key: &str) -> String {
    if key.contains('"') || !key.contains(':') {
        return key.to_string();
    }
    key.split('.')
        .map(|element| {
            if element.contains(':') {
                format!("\"{element}\"")
            } else {
                element.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_colons_are_quoted() {
        assert_eq!(key_to_path(ANALYTICS_KEY), ANALYTICS_PATH);
        assert_eq!(
            key_to_path("puppet_enterprise::profile::master::java_args.Xmx"),
            "\"puppet_enterprise::profile::master::java_args\".Xmx"
        );
        assert_eq!(key_to_path("\"a::b\".c"), "\"a::b\".c");
        assert_eq!(key_to_path("a.b"), "a.b");
    }
}
