//! PE versions: `YEAR.RELEASE.PATCH` since 2015.2 (explicitly not semver),
//! ordered as numbers, and what each version means for the opt-out.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A PE version such as `2016.5.1` or `2021.7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeVersion {
    pub year: u32,
    pub release: u32,
    pub patch: u32,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{text:?} is not a PE version (expected YEAR.RELEASE.PATCH, e.g. 2021.7.1)")]
pub struct BadVersion {
    pub text: String,
}

impl PeVersion {
    pub const fn new(year: u32, release: u32, patch: u32) -> PeVersion {
        PeVersion {
            year,
            release,
            patch,
        }
    }

    /// The first release with `send_analytics_data` (PE 2016.4.0).
    pub const FIRST_WITH_OPT_OUT: PeVersion = PeVersion::new(2016, 4, 0);

    /// The one release whose opt-out needs a manual reload of
    /// pe-console-services and pe-puppetserver (PE docs, 2016.5).
    pub const NEEDS_RELOAD: PeVersion = PeVersion::new(2016, 5, 1);

    pub fn has_opt_out(self) -> bool {
        self >= PeVersion::FIRST_WITH_OPT_OUT
    }

    pub fn needs_reload(self) -> bool {
        self == PeVersion::NEEDS_RELOAD
    }
}

impl FromStr for PeVersion {
    type Err = BadVersion;

    /// Accepts what PE writes: `2019.8.12`, `2021.7` (patch 0), build
    /// suffixes (`2019.8.12-rc1-12-g3a4b`), a 4th component as the console
    /// services report it (`2019.8.12.0`), and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion {
            text: s.to_string(),
        };
        let trimmed = s.trim();
        let core = trimmed.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        if !(2..=4).contains(&parts.len()) {
            return Err(bad());
        }
        let number = |p: &str| -> Result<u32, BadVersion> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let year = number(parts[0])?;
        let release = number(parts[1])?;
        let patch = parts.get(2).map_or(Ok(0), |p| number(p))?;
        if let Some(fourth) = parts.get(3) {
            number(fourth)?;
        }
        // PE's version lines: 3.x before 2015, then YEAR.RELEASE.
        if year != 3 && !(2015..=2100).contains(&year) {
            return Err(bad());
        }
        Ok(PeVersion::new(year, release, patch))
    }
}

impl Ord for PeVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.year, self.release, self.patch).cmp(&(other.year, other.release, other.patch))
    }
}

impl PartialOrd for PeVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.year, self.release, self.patch)
    }
}

impl serde::Serialize for PeVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> PeVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_what_pe_writes() {
        assert_eq!(v("2019.8.12"), PeVersion::new(2019, 8, 12));
        assert_eq!(v("2021.7"), PeVersion::new(2021, 7, 0));
        assert_eq!(v("2019.8.12.0"), PeVersion::new(2019, 8, 12));
        assert_eq!(v(" 2016.5.1\n"), PeVersion::new(2016, 5, 1));
        assert_eq!(v("2019.8.12-rc1-12-g3a4b"), PeVersion::new(2019, 8, 12));
        assert_eq!(v("3.8.7"), PeVersion::new(3, 8, 7));
        for bad in [
            "",
            "2019",
            "2019.x.1",
            "1.2.3.4.5",
            "v2019.8.1",
            "2019..1",
            "12.1.1",
        ] {
            assert!(bad.parse::<PeVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn orders_numerically_not_as_text() {
        assert!(v("2019.8.12") > v("2019.8.9"));
        assert!(v("2019.10.0") > v("2019.8.12"));
        assert!(v("2021.0.0") > v("2019.8.12"));
        assert!(v("3.8.7") < v("2015.2.0"));
        assert!(!v("2016.2.1").has_opt_out() && !v("3.8.7").has_opt_out());
        assert!(v("2016.4.0").has_opt_out() && v("2023.8.0").has_opt_out());
        assert!(v("2016.5.1").needs_reload());
        assert!(!v("2016.5.2").needs_reload() && !v("2016.5.0").needs_reload());
    }
}
