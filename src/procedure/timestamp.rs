//! Timestamps from PE's APIs and PuppetDB: RFC 3339 with any offset
//! (`Z`, `+02:00`, `-05:00`) and any fraction of a second, compared as
//! instants. Parsed by the `time` crate, not by hand: a dropped offset
//! misjudges a run by hours.

use std::time::SystemTime;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The instant `s` names, or `None` when it is not RFC 3339.
pub fn parse(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// `SystemTime` as RFC 3339 in UTC (for messages).
pub fn format(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "?".to_string())
}

/// Whether `a` is strictly later than `b`, both RFC 3339; `None` when either
/// does not parse.
pub fn later(a: &str, b: &str) -> Option<bool> {
    Some(parse(a)? > parse(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_honoured() {
        // The same instant in three spellings.
        let z = parse("2026-11-29T10:00:00Z").unwrap();
        assert_eq!(parse("2026-11-29T12:00:00+02:00").unwrap(), z);
        assert_eq!(parse("2026-11-29T05:00:00-05:00").unwrap(), z);
        assert_eq!(parse("2026-11-29T10:00:00.000Z").unwrap(), z);
        // -05:00 is five hours later than the same wall time in UTC.
        assert_eq!(
            later("2026-11-29T10:00:00-05:00", "2026-11-29T14:59:59Z"),
            Some(true)
        );
        assert_eq!(
            later("2026-11-29T10:00:00+05:00", "2026-11-29T06:00:00Z"),
            Some(false)
        );
        assert_eq!(
            later("2026-11-29T10:00:00.5Z", "2026-11-29T10:00:00.25Z"),
            Some(true)
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-11-29 10:00:00"), None);
        assert_eq!(format(z), "2026-11-29T10:00:00Z");
    }
}
