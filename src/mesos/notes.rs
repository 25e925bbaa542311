//! The upgrade notes as data: every change the "Upgrading Mesos" notes list from 0.11 to
//! 1.10, in the project's own words, with the element an observer can see when there is one
//! (`notes/upgrade-notes.yaml`, schema `notes/schema.json`).
//!
//! The drift report classifies what the binaries changed against it: an observed change is
//! documented when a note of the version range names its element; a note of the range
//! whose element the harness observes is observed or not, with the reason when the default
//! configuration cannot show it. Matching is by element only, never by words.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{Series, Version};

/// The catalogue file, compiled in.
pub const SOURCE: &str = include_str!("../../notes/upgrade-notes.yaml");

/// The catalogue: the notes' changes, newest series first as in the notes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Format version of this file: 1.
    pub format: u32,
    /// Every change the notes list.
    pub notes: Vec<Note>,
}

/// One change of the notes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// The release series the notes file it under (`1.8`), or a release (`1.2.1`).
    pub version: String,
    /// The notes' letters: `A` added, `C` changed, `D` deprecated, `R` removed (a change
    /// can carry several, e.g. `CD`).
    pub change: String,
    /// The notes' column.
    pub category: Category,
    /// The notes' anchor (`1-8-x-linux-seccomp-isolator`), or for notes older than the
    /// overview table (before 0.25) the section (`0-20-x`).
    pub anchor: String,
    /// What changed, in the project's words.
    pub says: String,
    /// What an observer can see of it (none: nothing observable from outside).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<Element>,
    /// Why a cluster in the harness's default configuration cannot show the elements
    /// (needs an isolator, TLS, a module, a build option...), when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

/// The columns of the notes' overview table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Mesos core.
    Core,
    /// Flags.
    Flags,
    /// The framework API (protobufs, scheduler and executor API).
    FrameworkApi,
    /// The module API.
    ModuleApi,
    /// Endpoints (HTTP, and the v1 operator API).
    Endpoints,
}

/// An observable element of a change. Names may end in `*` (a prefix) and hold `*` for one
/// path part (`/slave(1)/*.json`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Element {
    /// A master or agent flag (`seccomp_config_dir`).
    Flag(String),
    /// An HTTP endpoint path (`/master/state.json`, `/slave(1)/state.json`).
    Endpoint(String),
    /// A metric name (`master/operations/*`).
    Metric(String),
    /// A field path of a state document, array elements as `*` (`/slaves/*/drain_info`).
    StateField(String),
    /// A member of an API value, `path = member` (`/slaves/*/capabilities = AGENT_DRAINING`).
    StateValue(String),
    /// A call of the v1 operator API (`GET_CONTAINERS`, `UPDATE_QUOTA`).
    V1Call(String),
    /// A field or message of the protobuf API (`TaskStatus.limitation`).
    Proto(String),
    /// A serialization trait of answers (`crate::mesos::format`): `content-type`, `slash`,
    /// `unicode`, `numbers`, `layout`, `keys`.
    Serialization(String),
    /// A step the operator must take to upgrade.
    UpgradeStep(String),
    /// An environment variable the processes read (`LIBPROCESS_SSL_VERIFY_SERVER_CERT`).
    Environment(String),
}

impl Element {
    /// The element as the report names it (`flag seccomp_config_dir`).
    pub fn describe(&self) -> String {
        let (k, v) = self.parts();
        format!("{k} {v}")
    }

    /// Kind and name.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Element::Flag(s) => ("flag", s),
            Element::Endpoint(s) => ("endpoint", s),
            Element::Metric(s) => ("metric", s),
            Element::StateField(s) => ("state field", s),
            Element::StateValue(s) => ("state value", s),
            Element::V1Call(s) => ("v1 call", s),
            Element::Proto(s) => ("proto", s),
            Element::Serialization(s) => ("serialization", s),
            Element::UpgradeStep(s) => ("upgrade step", s),
            Element::Environment(s) => ("environment", s),
        }
    }

    /// Why the drift report cannot see this kind of element at all, if it cannot. v1 calls and
    /// protobufs are seen by `upgrade-harness diff` (which reads the builds' descriptors and
    /// makes the calls); in a scenario run's report the old wording stays, so that the
    /// committed scenario snapshots stay as their real runs made them.
    pub fn unobserved_kind(&self) -> Option<&'static str> {
        match self {
            Element::V1Call(_) => Some("the v1 operator API is not probed yet"),
            Element::Proto(_) => Some("the protobuf descriptors are not read yet"),
            Element::UpgradeStep(_) => Some("an upgrade step, not an API element"),
            Element::Environment(_) => Some("environment variables are not observable"),
            _ => None,
        }
    }
}

impl Note {
    /// The series the note is filed under.
    pub fn series(&self) -> Option<Series> {
        Series::named_in(self.version.trim_end_matches(".x"))
    }

    /// Whether the note belongs to an upgrade `from` -> `to` (a later series than `from`,
    /// up to `to`'s).
    pub fn in_range(&self, from: Version, to: Version) -> bool {
        self.series()
            .is_some_and(|s| s > from.series() && s <= to.series())
    }

    /// Whether a change in the report's category (`added`, `changed`, `deprecated`,
    /// `removed`) is what the note's letters say: a deprecation never documents a removal,
    /// an addition never a removal.
    pub fn letters_allow(&self, category: &str) -> bool {
        let has = |c: char| self.change.contains(c);
        match category {
            "added" => has('A') || has('C'),
            "removed" => has('R') || has('C'),
            "deprecated" => has('D'),
            _ => has('C') || has('A') || has('D'),
        }
    }

    /// The note as the report names it: `1.8 A 1-8-x-linux-seccomp-isolator`.
    pub fn reference(&self) -> String {
        format!("{} {} #{}", self.version, self.change, self.anchor)
    }
}

/// Whether `name` matches an element name: exact, a `*` for one `/`-separated part, or a
/// trailing `*` for any rest.
pub fn matches(pattern: &str, name: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("/*") {
        if name.starts_with(&format!("{prefix}/")) && !prefix.contains('*') {
            return true;
        }
    }
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), name.split('/').collect());
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| part_matches(p, n))
}

fn part_matches(p: &str, n: &str) -> bool {
    match p.split_once('*') {
        None => p == n,
        Some((head, tail)) => {
            n.len() >= head.len() + tail.len() && n.starts_with(head) && n.ends_with(tail)
        }
    }
}

/// The catalogue (parsed once).
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: std::sync::LazyLock<Catalogue> = std::sync::LazyLock::new(|| {
        serde_saphyr::from_str(SOURCE).expect("notes/upgrade-notes.yaml parses (tests check it)")
    });
    &CATALOGUE
}

/// The JSON Schema of the catalogue (committed as `notes/schema.json`).
pub fn schema() -> String {
    let schema = schemars::schema_for!(Catalogue);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_every_note_is_well_formed() {
        let c: Catalogue = serde_saphyr::from_str(SOURCE).expect("catalogue parses");
        assert_eq!(c.format, 1);
        assert!(c.notes.len() > 100, "{} notes", c.notes.len());
        for n in &c.notes {
            let s = n.series();
            assert!(
                s.is_some_and(|s| crate::domain::series().contains(&s)),
                "{}: version {} is no release series 0.11 .. 1.10",
                n.anchor,
                n.version
            );
            assert!(
                !n.change.is_empty() && n.change.chars().all(|c| "ACDR".contains(c)),
                "{}: change {:?} is not made of A, C, D, R",
                n.anchor,
                n.change
            );
            assert!(!n.says.trim().is_empty(), "{}: says nothing", n.anchor);
            assert!(
                n.anchor
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "{}: an anchor is made of letters, digits and -",
                n.anchor
            );
            for e in &n.elements {
                let (_, name) = e.parts();
                assert!(!name.trim().is_empty(), "{}: empty element", n.anchor);
                if let Element::StateValue(v) = e {
                    assert!(
                        v.contains(" = "),
                        "{}: state_value is `path = member`",
                        n.anchor
                    );
                }
                if let Element::Endpoint(p) | Element::StateField(p) = e {
                    assert!(p.starts_with('/'), "{}: {p} is no path", n.anchor);
                }
                // Matched against the descriptors' full names without their package
                // (`drift::protos::note_names`): `TaskStatus.limitation`.
                if let Element::Proto(p) = e {
                    assert!(
                        !p.starts_with("mesos.")
                            && p.split('.').all(|part| {
                                !part.is_empty()
                                    && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                            }),
                        "{}: proto {p} is not `Message.field` without the package",
                        n.anchor
                    );
                }
                // Matched against `Call.Type` values and the calls' probe names.
                if let Element::V1Call(c) = e {
                    assert!(
                        c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                        "{}: v1_call {c} is not a Call.Type value",
                        n.anchor
                    );
                }
            }
        }
        // Every series the notes describe an upgrade to, 0.12 .. 1.10, has a note (there
        // are no notes for 1.11, and 0.11 is where they start).
        for s in crate::domain::series() {
            if s == (Series {
                major: 1,
                minor: 11,
            }) || s
                == (Series {
                    major: 0,
                    minor: 11,
                })
            {
                continue;
            }
            assert!(
                c.notes.iter().any(|n| n.series() == Some(s)),
                "no note for {s}"
            );
        }
    }

    #[test]
    fn the_committed_schema_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/notes/schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        if committed != schema() {
            if std::env::var_os("UPDATE_SCHEMA").is_some() {
                std::fs::write(path, schema()).expect("writes notes/schema.json");
            } else {
                panic!("notes/schema.json is stale: rerun with UPDATE_SCHEMA=1");
            }
        }
    }

    #[test]
    fn element_names_match_by_part() {
        assert!(matches("/slave(1)/*.json", "/slave(1)/state.json"));
        assert!(!matches("/slave(1)/*.json", "/slave(1)/state"));
        assert!(matches(
            "master/operations/*",
            "master/operations/create/total"
        ));
        assert!(matches("/slaves/*/drain_info", "/slaves/*/drain_info"));
        assert!(!matches("/master/state", "/master/state.json"));
        let v = |s: &str| s.parse::<Version>().unwrap();
        let note = Note {
            version: "1.8.x".into(),
            change: "D".into(),
            category: Category::Endpoints,
            anchor: "x".into(),
            says: "x".into(),
            elements: vec![],
            needs: None,
        };
        assert!(note.in_range(v("1.7.3"), v("1.8.0")));
        assert!(!note.in_range(v("1.8.0"), v("1.8.1")));
        assert!(!note.letters_allow("removed"));
    }
}
