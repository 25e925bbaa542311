//! The vendor's certification manifest (`module-fixtures/certify.yaml`): the module, its
//! builds per Mesos version, how to see that it works, the upgrade paths to certify and the
//! negative controls. Read with the scenario format's parser (same diagnostics: file, line,
//! column, field, what would be valid), then validated here. Its JSON Schema is committed as
//! `module-fixtures/certify.schema.json` (`upgrade-harness schema --certify`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::domain::Version;
use crate::mesos::versions;
use crate::modules::{Fixture, FIXTURE_MODULE_NAME};
use crate::scenario::diagnostic::{Diagnostics, Problem, SourceFile};
use crate::scenario::model::TimeoutProblem;
use crate::scenario::model::{Distribution, ModuleKind, ModuleProof, ModuleRole, Timeouts};

/// The one format version of manifests.
pub const FORMAT: u32 = 1;

/// Most masters or agents of the certification cluster.
const MAX_NODES: u32 = 5;

/// A certification manifest, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Format version: 1.
    #[schemars(with = "u32")]
    pub format: Spanned<u32>,
    /// Name of the certification: its reports are `<out>/<name>.md`, `.json`, `.junit.xml`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9_.-]+$"))]
    pub name: Spanned<String>,
    /// What is certified, in words (the report's first paragraph).
    #[serde(default)]
    pub description: String,
    /// The module: its name, kind, the nodes that load it, its parameters and its proof.
    #[schemars(with = "ModuleDeclaration")]
    pub module: Spanned<ModuleDeclaration>,
    /// The module's builds: a fixture of the harness, or the vendor's file per version.
    #[schemars(with = "Builds")]
    pub builds: Spanned<Builds>,
    /// The upgrade paths: `FROM-to-TO` (`1.10.0-to-1.11.0`), or
    /// `{ every_pair: { from: 1.4.3, to: 1.7.3 } }` (every consecutive pair of the known
    /// versions in that range). Every version a path touches is also certified alone.
    #[schemars(with = "Vec<PathDeclaration>", length(min = 1))]
    pub paths: Spanned<Vec<Spanned<PathDeclaration>>>,
    /// The cluster of each path (default one master, two agents).
    #[serde(default)]
    #[schemars(with = "Option<ClusterShape>")]
    pub topology: Option<Spanned<ClusterShape>>,
    /// Long-running tasks of the harness's test framework that must survive each path.
    #[serde(default = "default_tasks")]
    pub tasks: u32,
    /// Mesos timeouts of each path's cluster, as a scenario's `timeouts:`.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// The negative controls: what must be refused.
    #[serde(default)]
    pub controls: Controls,
}

fn default_tasks() -> u32 {
    2
}

/// `module:`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleDeclaration {
    /// The module's name: the global symbol of its library, as listed in `--modules`.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: Spanned<String>,
    /// The kind it declares (`Anonymous`; `Hook` for hooks, activated with `--hooks`).
    #[schemars(with = "ModuleKind")]
    pub kind: Spanned<ModuleKind>,
    /// Which nodes load it: `master`, `agents`, or both.
    #[schemars(with = "Vec<ModuleRole>", length(min = 1))]
    pub roles: Spanned<Vec<ModuleRole>>,
    /// The module's parameters (`--modules` `parameters`), as key: value.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What shows that it works on a node: a file it writes (an absolute path in the node).
    #[schemars(with = "ModuleProof")]
    pub proof: Spanned<ModuleProof>,
}

/// `builds:`: exactly one of `fixture` and `files`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Builds {
    /// A fixture module of the harness, built per version from its own source (`touch`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub fixture: Option<Spanned<String>>,
    /// The vendor's library per Mesos version, relative to the manifest
    /// (`"1.11.0": lib/1.11.0/libexample.so`): every version a path touches needs one.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub files: BTreeMap<String, Spanned<String>>,
}

/// One entry of `paths:`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PathDeclaration {
    /// `FROM-to-TO`.
    Pair(String),
    /// Every consecutive pair of the known versions from `from` to `to`.
    Range {
        /// `{ from, to }`.
        every_pair: VersionRange,
    },
}

/// `every_pair:`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRange {
    /// The oldest version.
    pub from: String,
    /// The newest version.
    pub to: String,
}

/// `topology:`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterShape {
    /// ZooKeeper nodes: 1 with several masters.
    #[serde(default)]
    pub zookeeper: u32,
    /// Masters, upgraded one at a time.
    pub masters: u32,
    /// Agents, upgraded one at a time after the masters.
    pub agents: u32,
}

/// `controls:`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// Per path, a real rolling upgrade that leaves the `from` build in place
    /// (`rebuild_modules` skipped): the upgraded master must refuse it.
    #[serde(default)]
    pub stale_from_build: bool,
    /// Bad builds, each tried on every certified version alone: each must get its `expect`.
    #[serde(default)]
    #[schemars(with = "Vec<ControlBuild>")]
    pub builds: Vec<Spanned<ControlBuild>>,
}

/// One bad build of `controls.builds`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlBuild {
    /// Its name in the reports (`wrong-version`).
    pub name: String,
    /// A fixture of the harness (`newer-version`, `wrong-api`, `unknown-kind`,
    /// `incompatible`, `create-null`). Give this or `files`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub fixture: Option<Spanned<String>>,
    /// The bad library per version, relative to the manifest. Give this or `fixture`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub files: BTreeMap<String, Spanned<String>>,
    /// The outcome it must get (default `rejected_at_load`).
    #[serde(default = "default_expect")]
    pub expect: Class,
}

fn default_expect() -> Class {
    Class::RejectedAtLoad
}

/// What became of a module in a run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The loader refused it (its text).
    RejectedAtLoad,
    /// It loaded and `create()` failed.
    CreateFailed,
    /// A node died of a signal or exited without a loader message.
    Crashed,
    /// It loaded, but its proof never appeared.
    LoadedNoProof,
    /// It loaded and its proof appeared on every node at every start.
    Works,
    /// The run failed for a reason that is not the module (a task lost, a check failed).
    RunFailed,
    /// The run could not be made (Docker, a build).
    NotRun,
}

impl Class {
    /// `rejected at load`, ..., as in the reports.
    pub fn words(self) -> &'static str {
        match self {
            Class::RejectedAtLoad => "rejected at load",
            Class::CreateFailed => "create failed",
            Class::Crashed => "crashed",
            Class::LoadedNoProof => "loaded, no proof",
            Class::Works => "works",
            Class::RunFailed => "run failed (not the module)",
            Class::NotRun => "not run",
        }
    }

    /// The class of a node's outcome.
    pub fn of(outcome: &crate::mesos::modules::ModuleOutcome) -> Class {
        use crate::mesos::modules::ModuleOutcome as O;
        match outcome {
            O::RejectedAtLoad(_) => Class::RejectedAtLoad,
            O::CreateFailed(_) => Class::CreateFailed,
            O::Crashed(_) => Class::Crashed,
            O::LoadedNoProof(_) => Class::LoadedNoProof,
            O::Works(_) => Class::Works,
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

/// Where a module's builds come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildSource {
    /// A harness fixture, built per version.
    Fixture(Fixture),
    /// The vendor's files per version (absolute paths).
    Files(BTreeMap<Version, PathBuf>),
}

/// A validated bad build.
#[derive(Debug, Clone)]
pub struct Control {
    /// Name.
    pub name: String,
    /// Its builds.
    pub source: BuildSource,
    /// The class it must get.
    pub expect: Class,
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Certification {
    /// The manifest file.
    pub file: PathBuf,
    /// Its text.
    pub source: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The module's name.
    pub module: String,
    /// Its kind.
    pub kind: ModuleKind,
    /// The nodes that load it.
    pub roles: Vec<ModuleRole>,
    /// Its parameters.
    pub parameters: BTreeMap<String, String>,
    /// The file that proves it works.
    pub proof_file: String,
    /// Its builds.
    pub builds: BuildSource,
    /// The paths, in file order.
    pub paths: Vec<(Version, Version)>,
    /// Every version a path touches, oldest first.
    pub versions: Vec<Version>,
    /// ZooKeeper nodes, masters, agents of each path's cluster.
    pub shape: (u32, u32, u32),
    /// Tasks of the workload.
    pub tasks: u32,
    /// `timeouts:` lines (`name: value`).
    pub timeouts: Vec<(String, String)>,
    /// Whether each path has a stale-build control.
    pub stale_from_build: bool,
    /// The bad builds.
    pub controls: Vec<Control>,
}

/// `1.4.3-to-1.11.0`.
pub fn path_name(from: Version, to: Version) -> String {
    crate::compat::declaration::pair_name(from, to)
}

/// Reads, parses and validates a manifest.
pub fn load(path: &Path) -> Result<Certification, Diagnostics> {
    let text = crate::scenario::load::read(path)?;
    parse(path, &text)
}

/// Parses and validates `text`, the content of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Certification, Diagnostics> {
    let file = SourceFile::new(path.display().to_string(), text);
    let m: ManifestFile = crate::scenario::load::parse_yaml(
        path,
        &file,
        "a certification manifest needs `format: 1`, `name`, `module`, `builds` and `paths`; \
         see module-fixtures/certify.yaml",
    )?;
    let mut v = Validator {
        file: &file,
        out: Diagnostics::new(path),
        dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
    };
    let c = v.validate(path, text, m);
    if v.out.is_empty() {
        Ok(c)
    } else {
        v.out.sort();
        Err(v.out)
    }
}

struct Validator<'a> {
    file: &'a SourceFile,
    out: Diagnostics,
    dir: PathBuf,
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

    fn version(&mut self, at_: &Spanned<impl Sized>, field: &str, text: &str) -> Option<Version> {
        let known = versions::known(Distribution::Local);
        match text.trim().parse::<Version>() {
            Ok(v) if known.contains(&v) => Some(v),
            _ => {
                self.problem(
                    at_,
                    "certify::unknown_version",
                    field,
                    format!("`{text}` is not a known local Mesos build"),
                    format!("known: {}", versions::known_list(Distribution::Local)),
                );
                None
            }
        }
    }

    /// `fixture` or `files` of `field`, resolved.
    fn source(
        &mut self,
        at: &Spanned<impl Sized>,
        field: &str,
        fixture: &Option<Spanned<String>>,
        files: &BTreeMap<String, Spanned<String>>,
    ) -> Option<BuildSource> {
        match (fixture, files.is_empty()) {
            (Some(f), true) => match Fixture::from_name(&f.value) {
                Some(x) => Some(BuildSource::Fixture(x)),
                None => {
                    self.problem(
                        f,
                        "certify::unknown_fixture",
                        &format!("{field}.fixture"),
                        format!("`{}` is not a fixture module", f.value),
                        format!("fixtures: {}", Fixture::names()),
                    );
                    None
                }
            },
            (None, false) => {
                let mut out = BTreeMap::new();
                for (version, file) in files {
                    let Some(v) = self.version(file, &format!("{field}.files"), version) else {
                        continue;
                    };
                    let p = self.dir.join(&file.value);
                    if !p.is_file() {
                        self.problem(
                            file,
                            "certify::no_file",
                            &format!("{field}.files.{version}"),
                            format!("no file {}", p.display()),
                            "give the library's path relative to the manifest".into(),
                        );
                        continue;
                    }
                    out.insert(v, std::path::absolute(&p).unwrap_or(p));
                }
                Some(BuildSource::Files(out))
            }
            _ => {
                self.problem(
                    at,
                    "certify::one_build_source",
                    field,
                    format!("`{field}` needs exactly one of `fixture` and `files`"),
                    format!(
                        "write `fixture: touch` (fixtures: {}) or `files: {{ \"1.11.0\": lib/1.11.0/libexample.so }}`",
                        Fixture::names()
                    ),
                );
                None
            }
        }
    }

    fn validate(&mut self, path: &Path, text: &str, m: ManifestFile) -> Certification {
        if m.format.value != FORMAT {
            self.problem(
                &m.format,
                "certify::bad_format",
                "format",
                format!("unsupported `format: {}`", m.format.value),
                format!("this upgrade-harness reads `format: {FORMAT}` only"),
            );
        }
        let name_ok = !m.name.value.is_empty()
            && m.name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !name_ok {
            self.problem(
                &m.name,
                "certify::bad_name",
                "name",
                format!("invalid `name: {:?}`", m.name.value),
                "letters, digits, `-`, `_` and `.` only: it names the report files".into(),
            );
        }
        let module = &m.module.value;
        let symbol_ok = module
            .name
            .value
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
            && !module.name.value.is_empty();
        if !symbol_ok {
            self.problem(
                &module.name,
                "certify::bad_module_name",
                "module.name",
                format!("`{}` is not a C symbol", module.name.value),
                "the module's name is the global symbol its library exports, e.g. org_example_touch".into(),
            );
        }
        if module.roles.value.is_empty() {
            self.problem(
                &module.roles,
                "certify::no_role",
                "module.roles",
                "no node loads the module".into(),
                "write [master], [agents] or [master, agents]".into(),
            );
        }
        if !module.proof.value.file.starts_with('/') {
            self.problem(
                &module.proof,
                "certify::relative_proof",
                "module.proof.file",
                format!("`{}` is not an absolute path", module.proof.value.file),
                "name the file the module writes in the node, e.g. /tmp/example.created".into(),
            );
        }
        // Paths.
        let known = versions::known(Distribution::Local);
        let mut paths: Vec<(Version, Version)> = Vec::new();
        if m.paths.value.is_empty() {
            self.problem(
                &m.paths,
                "certify::no_path",
                "paths",
                "no path to certify".into(),
                "list at least one, e.g. `- 1.10.0-to-1.11.0`".into(),
            );
        }
        for (i, p) in m.paths.value.iter().enumerate() {
            let field = format!("paths[{i}]");
            let pairs: Vec<(Version, Version)> = match &p.value {
                PathDeclaration::Pair(text) => {
                    let Some((a, b)) = text.split_once("-to-") else {
                        self.problem(
                            p,
                            "certify::bad_path",
                            &field,
                            format!("`{text}` is not FROM-to-TO"),
                            "write e.g. 1.10.0-to-1.11.0, or { every_pair: { from: 1.4.3, to: 1.7.3 } }".into(),
                        );
                        continue;
                    };
                    match (self.version(p, &field, a), self.version(p, &field, b)) {
                        (Some(a), Some(b)) => vec![(a, b)],
                        _ => continue,
                    }
                }
                PathDeclaration::Range { every_pair } => {
                    let f = format!("{field}.every_pair");
                    match (
                        self.version(p, &format!("{f}.from"), &every_pair.from),
                        self.version(p, &format!("{f}.to"), &every_pair.to),
                    ) {
                        (Some(a), Some(b)) if a >= b => {
                            self.problem(
                                p,
                                "certify::not_an_upgrade",
                                &f,
                                format!("every_pair from {a} to {b} holds no upgrade"),
                                "the older version first: `every_pair: { from: 1.7.0, to: 1.7.3 }`"
                                    .into(),
                            );
                            continue;
                        }
                        (Some(a), Some(b)) => {
                            let inside: Vec<Version> = known
                                .iter()
                                .copied()
                                .filter(|v| a <= *v && *v <= b)
                                .collect();
                            inside.windows(2).map(|w| (w[0], w[1])).collect()
                        }
                        _ => continue,
                    }
                }
            };
            for (a, b) in pairs {
                if a >= b {
                    self.problem(
                        p,
                        "certify::not_an_upgrade",
                        &field,
                        format!("{a} -> {b} is not an upgrade"),
                        "certify upgrades only: the older version first".into(),
                    );
                } else if paths.contains(&(a, b)) {
                    self.problem(
                        p,
                        "certify::duplicate_path",
                        &field,
                        format!("{} is listed twice", path_name(a, b)),
                        "list each path once".into(),
                    );
                } else {
                    paths.push((a, b));
                }
            }
        }
        let mut versions: Vec<Version> = paths.iter().flat_map(|(a, b)| [*a, *b]).collect();
        versions.sort();
        versions.dedup();
        // Builds.
        let builds = self.source(
            &m.builds,
            "builds",
            &m.builds.value.fixture,
            &m.builds.value.files,
        );
        match &builds {
            Some(BuildSource::Fixture(f)) => {
                if module.name.value != FIXTURE_MODULE_NAME
                    || module.kind.value != ModuleKind::Anonymous
                {
                    self.problem(
                        &module.name,
                        "certify::fixture_module",
                        "module.name",
                        format!(
                            "the fixture `{f}` is the Anonymous module `{FIXTURE_MODULE_NAME}`"
                        ),
                        format!("write `name: {FIXTURE_MODULE_NAME}` and `kind: Anonymous`"),
                    );
                }
                if !module.parameters.contains_key("file") {
                    self.problem(
                        &m.module,
                        "certify::fixture_parameter",
                        "module.parameters",
                        "the fixture writes the file named by its parameter `file`, which is missing".into(),
                        "write `parameters: { file: /tmp/x }` and `proof: { file: /tmp/x }`".into(),
                    );
                }
            }
            Some(BuildSource::Files(files)) => {
                let missing: Vec<String> = versions
                    .iter()
                    .filter(|v| !files.contains_key(v))
                    .map(|v| v.to_string())
                    .collect();
                if !missing.is_empty() {
                    self.problem(
                        &m.builds,
                        "certify::missing_build",
                        "builds.files",
                        format!("no build for {}", missing.join(", ")),
                        "every version a path touches needs the module's build for it".into(),
                    );
                }
            }
            None => {}
        }
        // Topology.
        let (zk, masters, agents) = match &m.topology {
            Some(t) => (t.value.zookeeper, t.value.masters, t.value.agents),
            None => (0, 1, 2),
        };
        if let Some(t) = &m.topology {
            if masters == 0 || masters > MAX_NODES || agents == 0 || agents > MAX_NODES {
                self.problem(
                    t,
                    "certify::bad_topology",
                    "topology",
                    format!("{masters} masters and {agents} agents"),
                    format!("1 to {MAX_NODES} masters and 1 to {MAX_NODES} agents"),
                );
            }
            if (masters > 1) != (zk == 1) || zk > 1 {
                self.problem(
                    t,
                    "certify::bad_zookeeper",
                    "topology.zookeeper",
                    format!("{zk} ZooKeeper nodes with {masters} masters"),
                    "several masters elect through one ZooKeeper node (`zookeeper: 1`); one master needs none".into(),
                );
            }
        }
        // Controls.
        let mut controls = Vec::new();
        for (i, c) in m.controls.builds.iter().enumerate() {
            let field = format!("controls.builds[{i}]");
            if controls.iter().any(|x: &Control| x.name == c.value.name) {
                self.problem(
                    c,
                    "certify::duplicate_control",
                    &format!("{field}.name"),
                    format!("`{}` is named twice", c.value.name),
                    "give each control its own name".into(),
                );
            }
            if matches!(
                c.value.expect,
                Class::Works | Class::RunFailed | Class::NotRun
            ) {
                self.problem(
                    c,
                    "certify::bad_expect",
                    &format!("{field}.expect"),
                    format!("a negative control cannot expect `{}`", c.value.expect),
                    "rejected_at_load, create_failed, crashed or loaded_no_proof".into(),
                );
            }
            if let Some(source) = self.source(c, &field, &c.value.fixture, &c.value.files) {
                controls.push(Control {
                    name: c.value.name.clone(),
                    source,
                    expect: c.value.expect,
                });
            }
        }
        // In the scenario format's field order: the ping count right after the ping timeout.
        let (timeouts, problems) = m.timeouts.lines();
        for problem in problems {
            match problem {
                TimeoutProblem::Duration(name, value, e) => self.problem(
                    value,
                    "certify::bad_duration",
                    &format!("timeouts.{name}"),
                    format!("invalid `timeouts.{name}`: {e}"),
                    "write it as Mesos flags take it: `15secs`, `500ms`, `2mins`".into(),
                ),
                TimeoutProblem::NoPings(n) => self.problem(
                    n,
                    "certify::bad_ping_count",
                    "timeouts.max_agent_ping_timeouts",
                    "`timeouts.max_agent_ping_timeouts` must be at least 1".into(),
                    "Mesos's default is 5".into(),
                ),
            }
        }
        Certification {
            file: path.to_path_buf(),
            source: text.to_string(),
            name: m.name.value.clone(),
            description: m.description.trim().to_string(),
            module: module.name.value.clone(),
            kind: module.kind.value,
            roles: module.roles.value.clone(),
            parameters: module.parameters.clone(),
            proof_file: module.proof.value.file.clone(),
            builds: builds.unwrap_or(BuildSource::Files(BTreeMap::new())),
            paths,
            versions,
            shape: (zk, masters, agents),
            tasks: m.tasks,
            timeouts,
            stale_from_build: m.controls.stale_from_build,
            controls,
        }
    }
}

/// The JSON Schema of the manifest, pretty-printed, with a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ManifestFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
