//! Mesos release versions, and which of them each distribution can provide.
//!
//! Pure knowledge, no I/O. The `local` list is what PyPI publishes as `mesos.scheduler`
//! binary builds (see `real-mesos.md`); the `upstream` list is the Apache Mesos releases
//! from 0.11.0 to 1.11.0 (the release archive and the `Release Notes - Mesos - Version`
//! headings of the project's CHANGELOG).

use crate::domain::Distribution;
pub use crate::domain::{next_series, series, BadVersion, Series, Version};

/// Versions the `local` distribution builds: the `mesos.scheduler` binary packages on PyPI,
/// derived from the build table (`crate::images::versions::VERSIONS`), the one list.
static LOCAL: std::sync::LazyLock<Vec<Version>> = std::sync::LazyLock::new(|| {
    crate::images::known_versions()
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect()
});

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
        Distribution::Local => &LOCAL,
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
        for list in [&LOCAL[..], UPSTREAM] {
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
