//! Mesos release versions, and which of them each distribution can provide.
//!
//! Pure knowledge, no I/O. The `local` list is what PyPI publishes as `mesos.scheduler`
//! binary builds (see `real-mesos.md`); the `upstream` list is the Apache Mesos releases
//! from 0.11.0 to 1.11.0 (the release archive and the `Release Notes - Mesos - Version`
//! headings of the project's CHANGELOG).

use std::fmt;
use std::str::FromStr;

use crate::scenario::model::Distribution;

/// A Mesos release version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version (0 or 1).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl Version {
    /// A version from its three parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The release series (`1.7` for `1.7.3`), the unit the upgrade notes are written in.
    pub const fn series(self) -> Series {
        Series {
            major: self.major,
            minor: self.minor,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why a string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version of the form MAJOR.MINOR.PATCH (e.g. 1.11.0)")]
pub struct BadVersion(pub String);

impl FromStr for Version {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Version, BadVersion> {
        let bad = || BadVersion(s.to_string());
        let mut parts = s.split('.');
        let mut next = || -> Result<u32, BadVersion> {
            let part = parts.next().ok_or_else(bad)?;
            // Reject signs, spaces and leading zeros: versions are compared as written.
            if part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_digit())
                || (part.len() > 1 && part.starts_with('0'))
            {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let version = Version::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

/// A release series `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Release series in order: 0.11 .. 0.28, then 1.0 .. 1.11.
pub fn series() -> Vec<Series> {
    let mut all: Vec<Series> = (11..=28).map(|minor| Series { major: 0, minor }).collect();
    all.extend((0..=11).map(|minor| Series { major: 1, minor }));
    all
}

/// The series released right after `s`, if any (`0.28` -> `1.0`).
pub fn next_series(s: Series) -> Option<Series> {
    let all = series();
    let i = all.iter().position(|x| *x == s)?;
    all.get(i + 1).copied()
}

/// Versions the `local` distribution builds: the `mesos.scheduler` binary packages on PyPI.
pub const LOCAL: &[Version] = &[
    Version::new(1, 4, 3),
    Version::new(1, 5, 2),
    Version::new(1, 5, 3),
    Version::new(1, 6, 1),
    Version::new(1, 6, 2),
    Version::new(1, 7, 0),
    Version::new(1, 7, 1),
    Version::new(1, 7, 2),
    Version::new(1, 7, 3),
    Version::new(1, 8, 0),
    Version::new(1, 8, 1),
    Version::new(1, 9, 0),
    Version::new(1, 10, 0),
    Version::new(1, 11, 0),
];

/// Apache Mesos releases from 0.11.0 to 1.11.0 (0.11 and 0.12 were `-incubating` releases).
pub const UPSTREAM: &[Version] = &[
    Version::new(0, 11, 0),
    Version::new(0, 12, 0),
    Version::new(0, 12, 1),
    Version::new(0, 13, 0),
    Version::new(0, 14, 0),
    Version::new(0, 14, 1),
    Version::new(0, 14, 2),
    Version::new(0, 15, 0),
    Version::new(0, 16, 0),
    Version::new(0, 17, 0),
    Version::new(0, 18, 0),
    Version::new(0, 18, 1),
    Version::new(0, 18, 2),
    Version::new(0, 19, 0),
    Version::new(0, 19, 1),
    Version::new(0, 20, 0),
    Version::new(0, 20, 1),
    Version::new(0, 21, 0),
    Version::new(0, 21, 1),
    Version::new(0, 21, 2),
    Version::new(0, 22, 0),
    Version::new(0, 22, 1),
    Version::new(0, 22, 2),
    Version::new(0, 23, 0),
    Version::new(0, 23, 1),
    Version::new(0, 24, 0),
    Version::new(0, 24, 1),
    Version::new(0, 24, 2),
    Version::new(0, 25, 0),
    Version::new(0, 25, 1),
    Version::new(0, 26, 0),
    Version::new(0, 26, 1),
    Version::new(0, 26, 2),
    Version::new(0, 27, 0),
    Version::new(0, 27, 1),
    Version::new(0, 27, 2),
    Version::new(0, 28, 0),
    Version::new(0, 28, 1),
    Version::new(0, 28, 2),
    Version::new(1, 0, 0),
    Version::new(1, 0, 1),
    Version::new(1, 0, 2),
    Version::new(1, 0, 3),
    Version::new(1, 0, 4),
    Version::new(1, 1, 0),
    Version::new(1, 1, 1),
    Version::new(1, 1, 2),
    Version::new(1, 1, 3),
    Version::new(1, 2, 0),
    Version::new(1, 2, 1),
    Version::new(1, 2, 2),
    Version::new(1, 2, 3),
    Version::new(1, 3, 0),
    Version::new(1, 3, 1),
    Version::new(1, 3, 2),
    Version::new(1, 4, 0),
    Version::new(1, 4, 1),
    Version::new(1, 4, 2),
    Version::new(1, 4, 3),
    Version::new(1, 5, 0),
    Version::new(1, 5, 1),
    Version::new(1, 5, 2),
    Version::new(1, 5, 3),
    Version::new(1, 6, 0),
    Version::new(1, 6, 1),
    Version::new(1, 6, 2),
    Version::new(1, 7, 0),
    Version::new(1, 7, 1),
    Version::new(1, 7, 2),
    Version::new(1, 7, 3),
    Version::new(1, 8, 0),
    Version::new(1, 8, 1),
    Version::new(1, 9, 0),
    Version::new(1, 10, 0),
    Version::new(1, 11, 0),
];

/// The versions a distribution can provide, oldest first.
pub fn known(distribution: Distribution) -> &'static [Version] {
    match distribution {
        Distribution::Local => LOCAL,
        Distribution::Upstream => UPSTREAM,
    }
}

/// Whether `distribution` can provide `version`.
pub fn is_known(distribution: Distribution, version: Version) -> bool {
    known(distribution).binary_search(&version).is_ok()
}

/// The known versions of a distribution as one line, for help texts.
pub fn known_list(distribution: Distribution) -> String {
    known(distribution)
        .iter()
        .map(Version::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_unique() {
        for list in [LOCAL, UPSTREAM] {
            assert!(list.windows(2).all(|w| w[0] < w[1]));
        }
        // Every local build is also an upstream release.
        assert!(LOCAL.iter().all(|v| UPSTREAM.contains(v)));
        assert_eq!(LOCAL.len(), 14);
    }

    #[test]
    fn parses_strictly() {
        assert_eq!("1.11.0".parse(), Ok(Version::new(1, 11, 0)));
        for bad in [
            "1.11", "1.11.0.1", "v1.11.0", "1.011.0", "1.-1.0", "", "1..0", "1.11.0 ",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn series_follow_each_other() {
        assert_eq!(
            next_series(Series {
                major: 0,
                minor: 28
            }),
            Some(Series { major: 1, minor: 0 })
        );
        assert_eq!(
            next_series(Series {
                major: 1,
                minor: 11
            }),
            None
        );
        assert_eq!(
            next_series(Series {
                major: 0,
                minor: 11
            }),
            Some(Series {
                major: 0,
                minor: 12
            })
        );
    }
}
