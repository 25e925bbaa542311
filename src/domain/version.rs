//! Mesos release versions, parsed once from the scenario's text and typed everywhere after.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

impl Series {
    /// The series a text names: `1.0`, or the series of a version `1.10.0`.
    pub fn named_in(text: &str) -> Option<Series> {
        if let Ok(v) = text.parse::<Version>() {
            return Some(v.series());
        }
        let (major, minor) = text.split_once('.')?;
        let number = |p: &str| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        Some(Series {
            major: number(major)?,
            minor: number(minor)?,
        })
    }
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

impl Version {
    /// Whether this is `major.minor` or later.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// Read back from reports and observations as written (`1.11.0`).
impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Reports and JSON show a version as it is written (`1.11.0`).
impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `version == "1.11.0"`: compares with the written form (convenient in tests and checks).
impl PartialEq<&str> for Version {
    fn eq(&self, other: &&str) -> bool {
        other.parse::<Version>().is_ok_and(|v| v == *self)
    }
}
