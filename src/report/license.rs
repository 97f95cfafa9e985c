//! PE's license file, `/etc/puppetlabs/license.key`.
//!
//! Format (as Puppet ships it and PE's own acceptance tests write it; the PE
//! docs only say that the `license.key` file "lists how many nodes you can
//! deploy" and goes to `/etc/puppetlabs/license.key` on the primary): a small
//! YAML mapping framed by `#` comment banners, one `key: value` per line:
//!
//! ```text
//! #######################
//! #  Begin License File #
//! #######################
//! # PUPPET ENTERPRISE LICENSE - Puppet Labs
//! uuid: f13f0fe69ad3bf67e842c8473afaf12913e14516
//! to: "Puppet Labs"
//! nodes: 5000
//! start: 2016-01-25
//! end: 2030-08-04
//! #####################
//! #  End License File #
//! #####################
//! ```
//!
//! `uuid` (the "License UUID" PE's analytics send) is absent from older
//! licenses; `start` is optional; other keys (`license_type`,
//! `support_type`, ...) are kept as they are. Without a license file PE runs
//! unlicensed (the "no license file" case, reported as such).
//!
//! The parser is strict about shape (every non-comment line must be a
//! `key: value` pair, `nodes` a whole number, dates `YYYY-MM-DD`) and never
//! panics: anything else is a [`LicenseError`] naming the line.

use serde::Serialize;
use std::fmt;

/// The default place of the license file on the primary server.
pub const DEFAULT_LICENSE_FILE: &str = "/etc/puppetlabs/license.key";

/// A parsed license file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct License {
    /// The license UUID (sent by PE's analytics); `None` in older licenses.
    pub uuid: Option<String>,
    /// Who the license is issued to.
    pub to: Option<String>,
    /// Number of licensed nodes.
    pub nodes: Option<u64>,
    /// First and last day of validity, `YYYY-MM-DD`.
    pub start: Option<String>,
    pub end: Option<String>,
    /// Any other `key: value` lines, in file order.
    pub other: Vec<(String, String)>,
}

/// Why a license file could not be read: 1-based line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LicenseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn err(line: usize, message: impl Into<String>) -> LicenseError {
    LicenseError {
        line,
        message: message.into(),
    }
}

/// A YAML scalar as it appears in the file: quotes removed, a trailing
/// ` # comment` dropped from plain scalars.
fn scalar(raw: &str, line: usize) -> Result<String, LicenseError> {
    let v = raw.trim();
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            let Some(end) = rest.find(q) else {
                return Err(err(line, format!("unterminated {q}-quoted value")));
            };
            let after = rest[end + 1..].trim();
            if !after.is_empty() && !after.starts_with('#') {
                return Err(err(line, "text after a quoted value"));
            }
            return Ok(rest[..end].to_string());
        }
    }
    let v = match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    };
    Ok(v.to_string())
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Parses the text of a license file.
pub fn parse(text: &str) -> Result<License, LicenseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lic = License::default();
    let mut seen: Vec<String> = Vec::new();
    let mut any = false;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line == "---" || line == "..." {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(err(
                n,
                "expected `key: value` (a license file has lines such as `nodes: 100`)",
            ));
        };
        let key = k.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(err(n, "expected `key: value` with a one-word key"));
        }
        if !v.is_empty() && !v.starts_with([' ', '\t']) {
            return Err(err(n, "expected a blank after `:`"));
        }
        if seen.iter().any(|s| s == key) {
            return Err(err(n, format!("`{key}` is given twice")));
        }
        seen.push(key.to_string());
        let value = scalar(v, n)?;
        any = true;
        match key {
            "uuid" => lic.uuid = Some(value).filter(|s| !s.is_empty()),
            "to" => lic.to = Some(value),
            "nodes" => {
                let nodes = value.parse::<u64>().map_err(|_| {
                    err(
                        n,
                        "`nodes` must be a whole number of licensed nodes (e.g. `nodes: 100`)",
                    )
                })?;
                lic.nodes = Some(nodes);
            }
            "start" | "end" => {
                if !is_date(&value) {
                    return Err(err(n, format!("`{key}` must be a date, YYYY-MM-DD")));
                }
                if key == "start" {
                    lic.start = Some(value);
                } else {
                    lic.end = Some(value);
                }
            }
            _ => lic.other.push((key.to_string(), value)),
        }
    }
    if !any {
        return Err(err(
            text.lines().count().max(1),
            "no `key: value` lines: this is not a PE license file",
        ));
    }
    if lic.nodes.is_none() {
        return Err(err(
            text.lines().count().max(1),
            "no `nodes:` line (the number of licensed nodes)",
        ));
    }
    Ok(lic)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODERN: &str =
        "#######################\n#  Begin License File #\n#######################\n\
# PUPPET ENTERPRISE LICENSE - Puppet Labs\nuuid: f13f0fe69ad3bf67e842c8473afaf12913e14516\n\
to: \"Puppet Labs\"\nnodes: 5000\nend: 2030-08-04\n#####################\n#  End License File #\n\
#####################\n";

    const OLDER: &str =
        "#######################\n#  Begin License File #\n#######################\n\
# PUPPET ENTERPRISE LICENSE - Puppet Labs\nto: qa\nnodes: 100\nstart: 2016-03-31\nend: 2026-03-31\n\
#####################\n#  End License File #\n#####################\n";

    #[test]
    fn parses_a_license_with_uuid() {
        let l = parse(MODERN).unwrap();
        assert_eq!(
            l.uuid.as_deref(),
            Some("f13f0fe69ad3bf67e842c8473afaf12913e14516")
        );
        assert_eq!(l.to.as_deref(), Some("Puppet Labs"));
        assert_eq!(l.nodes, Some(5000));
        assert_eq!(l.start, None);
        assert_eq!(l.end.as_deref(), Some("2030-08-04"));
    }

    #[test]
    fn parses_an_older_license_without_uuid() {
        let l = parse(OLDER).unwrap();
        assert_eq!(l.uuid, None);
        assert_eq!(l.to.as_deref(), Some("qa"));
        assert_eq!(l.nodes, Some(100));
        assert_eq!(l.start.as_deref(), Some("2016-03-31"));
    }

    #[test]
    fn unicode_crlf_bom_other_keys_and_comments() {
        let t = "\u{feff}# PUPPET ENTERPRISE LICENSE\r\nto: 中国 日本भारत Việt العراق\r\nnodes: 90 # ninety\r\n\
license_type: Subscription\r\nsupport_type: 'PE Premium'\r\nstart: 2016-01-25\r\nend: 2035-06-13\r\n";
        let l = parse(t).unwrap();
        assert_eq!(l.to.as_deref(), Some("中国 日本भारत Việt العراق"));
        assert_eq!(l.nodes, Some(90));
        assert_eq!(
            l.other,
            vec![
                ("license_type".to_string(), "Subscription".to_string()),
                ("support_type".to_string(), "PE Premium".to_string())
            ]
        );
    }

    #[test]
    fn malformed_files_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("nodes: 10\nthis is not yaml\n", 2, "key: value"),
            ("to: x\nnodes: lots\n", 2, "whole number"),
            ("nodes: -5\n", 1, "whole number"),
            ("nodes: 10\nend: 2030-13-01\n", 2, "YYYY-MM-DD"),
            ("nodes: 10\nstart: tomorrow\n", 2, "YYYY-MM-DD"),
            ("nodes: 10\nnodes: 20\n", 2, "twice"),
            ("to: \"unterminated\nnodes: 1\n", 1, "unterminated"),
            ("to: \"a\" b\nnodes: 1\n", 1, "after a quoted"),
            ("nodes:10\n", 1, "blank after"),
            ("two words: x\nnodes: 1\n", 1, "one-word key"),
            ("# only comments\n#####\n", 2, "not a PE license file"),
            ("", 1, "not a PE license file"),
            ("to: someone\nend: 2030-01-01\n", 2, "no `nodes:`"),
            ("\u{0}\u{1}binary: \u{ff}\n", 1, "no `nodes:`"),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"ab: #\"'\n\r-0123456789\t\xc3\xa9";
        for _ in 0..2000 {
            let len = rng.usize(0..60);
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
