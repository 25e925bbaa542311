//! The compatibility declaration (`compat/*.yaml`): a version set, the directions, the
//! topologies and which pairs each runs, and the sample CI runs. Read with the scenario
//! format's parser (same diagnostics), then validated here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::domain::Version;
use crate::images::master_ha_abi;
use crate::mesos::versions;
use crate::scenario::diagnostic::{Diagnostics, Problem, SourceFile};
use crate::scenario::model::Distribution;
use crate::scenario::model::TimeoutProblem;

/// The one format version of declarations.
pub const FORMAT: u32 = 1;

/// A compatibility declaration, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Format version: 1.
    pub format: Spanned<u32>,
    /// Name of the table: file names of its outputs and the scenario names derive from it.
    pub name: Spanned<String>,
    /// What the table is for, in words (the table's first paragraph).
    #[serde(default)]
    pub description: String,
    /// Where Mesos comes from: `local` (the project's builds of the PyPI binaries).
    pub distribution: Spanned<Distribution>,
    /// `all` (every known version of the distribution) or a list, e.g. `[1.4.3, 1.11.0]`.
    pub versions: Spanned<VersionSet>,
    /// `upgrade` (older to newer), `downgrade` (newer to older), or both.
    pub directions: Spanned<Vec<Direction>>,
    /// Long-running tasks of the harness's test framework that must survive every pair.
    #[serde(default = "default_tasks")]
    pub tasks: u32,
    /// The cluster shapes; each runs all pairs or a listed subset.
    pub topologies: Vec<Spanned<TopologyDeclaration>>,
    /// Mesos timeouts of every cell, as a scenario's `timeouts:` (the harness's short ping
    /// budget otherwise): a table runs many clusters at once, on a loaded machine.
    #[serde(default)]
    pub timeouts: crate::scenario::model::Timeouts,
    /// The cells `cargo test` / `.ci/run` run on every change, as `TOPOLOGY/FROM-to-TO`; the
    /// others are ignored trials there unless `UPGRADE_HARNESS_COMPAT=all`.
    #[serde(default)]
    pub ci: Option<Spanned<Vec<String>>>,
}

fn default_tasks() -> u32 {
    2
}

/// `versions:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum VersionSet {
    /// `all`.
    All(String),
    /// A list of versions.
    Listed(Vec<String>),
}

/// `pairs:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PairSet {
    /// `all`: every ordered pair of the versions in the declared directions.
    All(String),
    /// A list of `FROM-to-TO`.
    Listed(Vec<String>),
}

/// Which way a pair goes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `from` older than `to`.
    Upgrade,
    /// `from` newer than `to`.
    Downgrade,
}

/// One cluster shape of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyDeclaration {
    /// Short name: the test names' and the tables' (`single`, `ha`).
    pub name: Spanned<String>,
    /// ZooKeeper nodes: 1 with several masters.
    #[serde(default)]
    pub zookeeper: u32,
    /// Masters (3 for HA).
    pub masters: Spanned<u32>,
    /// Agents.
    pub agents: u32,
    /// `all`, or the pairs to run (`1.4.3-to-1.11.0`).
    pub pairs: Spanned<PairSet>,
}

/// A validated declaration.
#[derive(Debug, Clone)]
pub struct Compat {
    /// The declaration file.
    pub file: PathBuf,
    /// Its text (the generated scenarios point into it by line).
    pub source: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Versions, oldest first.
    pub versions: Vec<Version>,
    /// Directions.
    pub directions: Vec<Direction>,
    /// Tasks of the workload.
    pub tasks: u32,
    /// Topologies with their pairs, in file order.
    pub topologies: Vec<Topology>,
    /// Cells CI runs: (topology, from, to).
    pub ci: BTreeSet<(String, Version, Version)>,
    /// The `timeouts:` lines of every generated scenario (`name: value`), in order.
    pub timeouts: Vec<(String, String)>,
    /// The `modules:` block of each pair's generated scenario (YAML, ending in a newline);
    /// empty for a compatibility table (`certify` sets it).
    pub modules: std::collections::BTreeMap<(Version, Version), String>,
    /// The nodes' image holds every version of `versions` (one image for the whole table);
    /// `false`: each cell's image holds its pair only (`certify`, whose pairs are few).
    pub shared_image: bool,
}

/// A validated topology.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Name.
    pub name: String,
    /// Line of the declaration where it is written.
    pub line: usize,
    /// ZooKeeper nodes.
    pub zookeeper: u32,
    /// Masters.
    pub masters: u32,
    /// Agents.
    pub agents: u32,
    /// The ordered pairs it runs, in table order (by `from`, then `to`).
    pub pairs: Vec<(Version, Version)>,
    /// The scenario's `mistakes:` (a negative control of `certify`); empty in a table.
    pub mistakes: Vec<String>,
}

/// Maximum masters and agents of a topology: a table runs hundreds of clusters.
const MAX_NODES: u32 = 5;

/// `1.4.3-to-1.11.0`.
pub fn pair_name(from: Version, to: Version) -> String {
    format!("{from}-to-{to}")
}

fn parse_pair(text: &str) -> Option<(Version, Version)> {
    let (a, b) = text.split_once("-to-")?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Reads, parses and validates a declaration.
pub fn load(path: &Path) -> Result<Compat, Diagnostics> {
    let text = crate::scenario::load::read(path)?;
    parse(path, &text)
}

/// Parses and validates `text`, the content of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Compat, Diagnostics> {
    let file = SourceFile::new(path.display().to_string(), text);
    let d: Declaration = crate::scenario::load::parse_yaml(
        path,
        &file,
        "a compatibility declaration needs `format: 1`, `name`, `distribution`, `versions`, \
         `directions` and `topologies`; see compat/ for an example",
    )?;
    let mut v = Validator {
        file: &file,
        out: Diagnostics::new(path),
    };
    let compat = v.validate(path, text, d);
    if v.out.is_empty() {
        Ok(compat)
    } else {
        v.out.sort();
        Err(v.out)
    }
}

struct Validator<'a> {
    file: &'a SourceFile,
    out: Diagnostics,
}

impl Validator<'_> {
    fn problem<T>(
        &mut self,
        at: &Spanned<T>,
        code: &'static str,
        field: &str,
        message: String,
        help: String,
    ) {
        let p = Problem::at(
            self.file,
            self.file.span_of(&at.referenced),
            code,
            field,
            message,
        )
        .help(help);
        self.out.push(p);
    }

    fn validate(&mut self, path: &Path, text: &str, d: Declaration) -> Compat {
        if d.format.value != FORMAT {
            self.problem(
                &d.format,
                "compat::bad_format",
                "format",
                format!("unsupported `format: {}`", d.format.value),
                format!("this upgrade-harness reads `format: {FORMAT}` only"),
            );
        }
        let name_ok = !d.name.value.is_empty()
            && d.name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !name_ok {
            self.problem(
                &d.name,
                "compat::bad_name",
                "name",
                format!("invalid `name: {:?}`", d.name.value),
                "letters, digits, `-`, `_` and `.` only: it names files".into(),
            );
        }
        let distribution = d.distribution.value;
        if distribution != Distribution::Local {
            self.problem(
                &d.distribution,
                "compat::bad_distribution",
                "distribution",
                "a compatibility table runs `distribution: local` only".into(),
                "the table runs hundreds of clusters from the project's own builds; `upstream` \
                 images are run one scenario at a time (scenarios/seed/)"
                    .into(),
            );
        }
        let known = versions::known(Distribution::Local);
        let versions: Vec<Version> = match &d.versions.value {
            VersionSet::All(word) if word == "all" => known.to_vec(),
            VersionSet::All(other) => {
                self.problem(
                    &d.versions,
                    "compat::bad_versions",
                    "versions",
                    format!("`versions: {other}` is neither `all` nor a list"),
                    format!(
                        "write `all` or a list such as [1.4.3, 1.11.0]; known: {}",
                        versions::known_list(Distribution::Local)
                    ),
                );
                Vec::new()
            }
            VersionSet::Listed(list) => {
                let mut out = Vec::new();
                for text in list {
                    match text.parse::<Version>() {
                        Ok(v) if known.contains(&v) => {
                            if out.contains(&v) {
                                self.problem(
                                    &d.versions,
                                    "compat::duplicate_version",
                                    "versions",
                                    format!("{v} is listed twice"),
                                    "list each version once".into(),
                                );
                            }
                            out.push(v)
                        }
                        _ => self.problem(
                            &d.versions,
                            "compat::unknown_version",
                            "versions",
                            format!("`{text}` is not a known local build"),
                            format!("known: {}", versions::known_list(Distribution::Local)),
                        ),
                    }
                }
                out.sort();
                out
            }
        };
        if versions.len() == 1 {
            self.problem(
                &d.versions,
                "compat::too_few_versions",
                "versions",
                "one version makes no pair".into(),
                "list at least two versions".into(),
            );
        }
        let mut directions = d.directions.value.clone();
        directions.sort();
        directions.dedup();
        if directions.is_empty() {
            self.problem(
                &d.directions,
                "compat::no_direction",
                "directions",
                "no direction given".into(),
                "write [upgrade], [downgrade] or [upgrade, downgrade]".into(),
            );
        }
        if d.topologies.is_empty() {
            self.out.push(
                Problem::file("compat::no_topology", "no `topologies` given")
                    .help("give at least one, e.g. `- { name: single, masters: 1, agents: 2, pairs: all }`"),
            );
        }
        let all_pairs: Vec<(Version, Version)> = versions
            .iter()
            .flat_map(|a| versions.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| {
                a != b
                    && directions.contains(&if a < b {
                        Direction::Upgrade
                    } else {
                        Direction::Downgrade
                    })
            })
            .collect();
        let mut topologies = Vec::new();
        let mut names = BTreeSet::new();
        for (i, t) in d.topologies.iter().enumerate() {
            let field = |f: &str| format!("topologies[{i}].{f}");
            let t_decl = &t.value;
            let name = t_decl.name.value.clone();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.problem(
                    &t_decl.name,
                    "compat::bad_name",
                    &field("name"),
                    format!("invalid topology name {name:?}"),
                    "letters, digits, `-` and `_`: it is part of test names".into(),
                );
            } else if !names.insert(name.clone()) {
                self.problem(
                    &t_decl.name,
                    "compat::duplicate_topology",
                    &field("name"),
                    format!("topology `{name}` is declared twice"),
                    "give each topology its own name".into(),
                );
            }
            let masters = t_decl.masters.value;
            if masters == 0
                || masters > MAX_NODES
                || t_decl.agents == 0
                || t_decl.agents > MAX_NODES
            {
                self.problem(
                    &t_decl.masters,
                    "compat::bad_topology",
                    &field("masters"),
                    format!("{masters} masters and {} agents", t_decl.agents),
                    format!("1 to {MAX_NODES} masters and 1 to {MAX_NODES} agents"),
                );
            }
            if masters > 1 && t_decl.zookeeper != 1 {
                self.problem(
                    &t_decl.masters,
                    "compat::ha_needs_zookeeper",
                    &field("zookeeper"),
                    format!("{masters} masters need `zookeeper: 1`"),
                    "several masters elect their leader through ZooKeeper: add `zookeeper: 1`"
                        .into(),
                );
            }
            let pairs = match &t_decl.pairs.value {
                PairSet::All(word) if word == "all" => all_pairs.clone(),
                PairSet::All(other) => {
                    self.problem(
                        &t_decl.pairs,
                        "compat::bad_pairs",
                        &field("pairs"),
                        format!("`pairs: {other}` is neither `all` nor a list"),
                        "write `all` or a list such as [1.4.3-to-1.11.0]".into(),
                    );
                    Vec::new()
                }
                PairSet::Listed(list) => {
                    let mut out = Vec::new();
                    for text in list {
                        match parse_pair(text) {
                            Some(p) if all_pairs.contains(&p) => {
                                if !out.contains(&p) {
                                    out.push(p)
                                }
                            }
                            Some((a, b)) => self.problem(
                                &t_decl.pairs,
                                "compat::pair_not_in_table",
                                &field("pairs"),
                                format!("`{text}` is not a pair of this table"),
                                format!("both versions must be in `versions` and {} must be in `directions`", if a < b { "upgrade" } else if a > b { "downgrade" } else { "the two versions must differ; and its direction" }),
                            ),
                            None => self.problem(&t_decl.pairs, "compat::bad_pair", &field("pairs"), format!("`{text}` is not a pair"), "write FROM-to-TO, e.g. 1.4.3-to-1.11.0".into()),
                        }
                    }
                    out.sort();
                    out
                }
            };
            if masters > 1 {
                let without: Vec<String> = versions
                    .iter()
                    .filter(|v| master_ha_abi(&v.to_string()) == 0)
                    .map(|v| v.to_string())
                    .collect();
                if pairs.iter().any(|(a, b)| {
                    master_ha_abi(&a.to_string()) == 0 || master_ha_abi(&b.to_string()) == 0
                }) {
                    self.problem(
                        &t_decl.pairs,
                        "compat::no_ha_build",
                        &field("pairs"),
                        format!(
                            "several masters need HA builds; {} have none",
                            without.join(", ")
                        ),
                        "leave those versions out of this topology's pairs".into(),
                    );
                }
            }
            topologies.push(Topology {
                name,
                line: self
                    .file
                    .line_column(self.file.span_of(&t.referenced).map_or(0, |s| s.offset()))
                    .0,
                zookeeper: t_decl.zookeeper,
                masters,
                agents: t_decl.agents,
                pairs,
                mistakes: Vec::new(),
            });
        }
        // In the scenario format's field order: the ping count right after the ping timeout.
        let (timeouts, problems) = d.timeouts.lines();
        for problem in problems {
            match problem {
                TimeoutProblem::Duration(name, value, e) => self.problem(
                    value,
                    "compat::bad_duration",
                    &format!("timeouts.{name}"),
                    format!("invalid `timeouts.{name}`: {e}"),
                    "write it as Mesos flags take it: `15secs`, `500ms`, `2mins`".into(),
                ),
                TimeoutProblem::NoPings(n) => self.problem(
                    n,
                    "compat::bad_ping_count",
                    "timeouts.max_agent_ping_timeouts",
                    "`timeouts.max_agent_ping_timeouts` must be at least 1".into(),
                    "Mesos's default is 5".into(),
                ),
            }
        }
        let mut ci = BTreeSet::new();
        let no_ci = Spanned::new(
            Vec::new(),
            serde_saphyr::Location::UNKNOWN,
            serde_saphyr::Location::UNKNOWN,
        );
        let ci_list = d.ci.as_ref().unwrap_or(&no_ci);
        for entry in &ci_list.value {
            let parsed = entry
                .split_once('/')
                .and_then(|(t, p)| Some((t, parse_pair(p)?)));
            match parsed {
                Some((t, (a, b))) if topologies.iter().any(|x| x.name == t && x.pairs.contains(&(a, b))) => {
                    ci.insert((t.to_string(), a, b));
                }
                _ => self.problem(
                    ci_list,
                    "compat::bad_ci_cell",
                    "ci",
                    format!("`{entry}` is not a cell of this table"),
                    "write TOPOLOGY/FROM-to-TO naming a topology and one of its pairs, e.g. single/1.4.3-to-1.11.0".into(),
                ),
            }
        }
        Compat {
            file: path.to_path_buf(),
            source: text.to_string(),
            name: d.name.value,
            description: d.description.trim().to_string(),
            versions,
            directions,
            tasks: d.tasks,
            topologies,
            ci,
            timeouts,
            modules: Default::default(),
            shared_image: true,
        }
    }
}
