//! The documented upgrade procedures of the upgrade notes, normalized to the step vocabulary.
//!
//! Source: `seed/upgrades.md` ("In order to upgrade a running cluster" sections), normalized
//! as in the table "Documented procedures, normalized" of `mesos-facts.md`. The notes document
//! one release series at a time (0.11 -> 0.12, ..., 0.28 -> 1.0); for 1.x they give no numbered
//! steps, and the six-step order of 0.22+ is used and called *inferred*.

use crate::domain::StepKind::{self, *};
use crate::mesos::versions::{next_series, Series, Version};

/// The six-step order of the notes from 0.22 -> 0.23 to 0.28 -> 1.0; also the inferred
/// order for 1.x paths.
pub const SIX_STEPS: &[StepKind] = &[
    RebuildModules,
    UpgradeMasters,
    UpgradeAgents,
    UpgradeSchedulers,
    RestartSchedulers,
    UpgradeExecutors,
];

/// The five-step order of 0.19 -> 0.20 .. 0.21 -> 0.22 (no modules yet); also 0.18 -> 0.19.
const FIVE_STEPS: &[StepKind] = &[
    UpgradeMasters,
    UpgradeAgents,
    UpgradeSchedulers,
    RestartSchedulers,
    UpgradeExecutors,
];

/// 0.15 -> 0.16 and 0.16 -> 0.17: schedulers before agents.
const SCHEDULERS_BEFORE_AGENTS: &[StepKind] = &[
    UpgradeMasters,
    UpgradeSchedulers,
    RestartSchedulers,
    UpgradeAgents,
    UpgradeExecutors,
];

/// The documented step orders (one or more variants) for the upgrade from series `from`
/// to the next series; `None` when the notes give no numbered steps.
pub fn documented_from(from: Series) -> Option<&'static [&'static [StepKind]]> {
    let steps: &'static [&'static [StepKind]] = match (from.major, from.minor) {
        (0, 11) => &[&[UpgradeAgents, UpgradeMasters]],
        (0, 12) => &[&[
            UpgradeMasters,
            UpgradeSchedulers,
            RestartSchedulers,
            InstallAgentBinaries,
            RestartAgents,
            UpgradeExecutors,
        ]],
        (0, 13) => &[&[
            UpgradeMasters,
            UpgradeExecutors,
            InstallAgentBinaries,
            RestartAgentsWithFlag,
            UpgradeSchedulers,
            SetFrameworkCheckpoint,
            RestartSchedulers,
            RestartMasters,
            RestartAgents,
        ]],
        (0, 14) => &[&[
            InstallMasterBinaries,
            RestartMastersWithFlag,
            UpgradeAgents,
            UpgradeExecutors,
            UpgradeSchedulers,
            RestartSchedulers,
            RestartMastersWithFlag,
        ]],
        (0, 15) | (0, 16) => &[SCHEDULERS_BEFORE_AGENTS],
        (0, 17) => &[
            // Agents without cgroups isolation.
            &[
                UpgradeMasters,
                UpgradeSchedulers,
                RestartSchedulers,
                InstallAgentBinaries,
                RestartAgents,
                UpgradeExecutors,
            ],
            // Agents with cgroups isolation: one mountpoint per controller needs a reboot.
            &[
                UpgradeMasters,
                UpgradeSchedulers,
                RestartSchedulers,
                InstallAgentBinaries,
                ReconfigureAgentCgroupsMounts,
                RebootAgents,
                RestartAgents,
                UpgradeExecutors,
            ],
        ],
        (0, 18..=21) => &[FIVE_STEPS],
        (0, 22..=28) => &[SIX_STEPS],
        _ => return None,
    };
    Some(steps)
}

/// What the notes say about the order of steps for one `from -> to` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Procedure {
    /// Numbered steps for this path: one or more documented variants.
    Documented {
        /// The series path, e.g. `0.17 -> 0.18`.
        path: String,
        /// The documented orders (0.17 -> 0.18 has two).
        variants: &'static [&'static [StepKind]],
    },
    /// The notes give no numbered steps (1.x paths); the six-step order of 0.22+ applies.
    Inferred,
    /// Neither: the path is a downgrade, or spans several series before 1.x.
    None {
        /// Why, as a sentence fragment.
        why: String,
    },
}

/// The procedure for upgrading from `from` to `to`.
pub fn procedure(from: Version, to: Version) -> Procedure {
    if to <= from {
        return Procedure::None {
            why: "the upgrade notes document no downgrade procedure".into(),
        };
    }
    let (f, t) = (from.series(), to.series());
    if next_series(f) == Some(t) {
        if let Some(variants) = documented_from(f) {
            return Procedure::Documented {
                path: format!("{f} -> {t}"),
                variants,
            };
        }
    }
    if f.major >= 1 {
        return Procedure::Inferred;
    }
    if f == t {
        return Procedure::None {
            why: format!("the upgrade notes give no procedure within the {f} series"),
        };
    }
    Procedure::None {
        why: format!(
            "the upgrade notes document one release series at a time; {f} -> {t} spans several"
        ),
    }
}

/// Step names joined by `, `.
pub fn describe(steps: &[StepKind]) -> String {
    steps
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn every_series_before_1_0_is_documented() {
        let mut s = Series {
            major: 0,
            minor: 11,
        };
        while s.major == 0 {
            assert!(documented_from(s).is_some(), "{s}");
            s = next_series(s).unwrap();
        }
    }

    #[test]
    fn paths() {
        assert!(
            matches!(procedure(v("0.17.0"), v("0.18.2")), Procedure::Documented { variants, .. } if variants.len() == 2)
        );
        assert!(
            matches!(procedure(v("0.28.2"), v("1.0.0")), Procedure::Documented { variants, .. } if variants == [SIX_STEPS])
        );
        assert_eq!(procedure(v("1.10.0"), v("1.11.0")), Procedure::Inferred);
        assert_eq!(procedure(v("1.4.3"), v("1.11.0")), Procedure::Inferred);
        assert!(matches!(
            procedure(v("0.20.0"), v("0.25.0")),
            Procedure::None { .. }
        ));
        assert!(matches!(
            procedure(v("1.11.0"), v("1.10.0")),
            Procedure::None { .. }
        ));
    }
}
