//! The CI job matrix of a set of scenarios (`upgrade-harness matrix`): which scenarios, by
//! filters, and the forms CI systems take them in (a GitHub Actions `strategy.matrix`, a
//! GitLab `parallel:matrix`, nextest test names). Pure: the command loads and prints.
//!
//! The scale-out is the CI system's own matrix (or nextest's `--partition`), not a scheduler
//! of ours; this module only says what the jobs are, in a deterministic order.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use regex::Regex;
use serde::Serialize;

use crate::domain::{BadVersion, Distribution, Version};
use crate::runnable;
use crate::scenario::{Scenario, TestName};

/// Most jobs one GitHub Actions matrix may generate (GitHub's documented limit).
pub const GITHUB_MAX_JOBS: usize = 256;
/// Most jobs one GitLab `parallel:matrix` may generate (GitLab's limit).
pub const GITLAB_MAX_JOBS: usize = 200;

/// One job of the matrix: one scenario file. Serialized as a GitHub `include` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The file's path below `scenarios/` without extension (`local/1.10.0-to-1.11.0`),
    /// or the path as given for a file outside a `scenarios` folder: the job's name.
    pub name: String,
    /// The scenario file, as found from the paths given.
    pub scenario: String,
    /// The scenario test's trial (`run::local::1_10_0-to-1_11_0`); `null` for a file
    /// outside a `scenarios` folder, which no scenario test runs.
    pub test: Option<String>,
    /// The version the cluster starts at.
    pub from: Version,
    /// The version it is upgraded to.
    pub to: Version,
    /// Whether `upgrade-harness run` can run it on this machine (`runnable::runnability`).
    pub runs_here: bool,
    /// The command that runs the job.
    pub command: String,
    /// Where the binaries come from (a filter, not printed).
    #[serde(skip)]
    pub distribution: Distribution,
    /// The folder below `scenarios/` (`local`), when the file is in one (a filter).
    #[serde(skip)]
    pub folder: Option<String>,
}

impl Entry {
    /// The job of the valid scenario `s` read from `path`.
    pub fn of(path: &Path, s: &Scenario) -> Entry {
        let shown = path.display().to_string();
        let test_name = TestName::of_path(path);
        let name = match &test_name {
            Some(t) if t.dir.is_empty() => file_stem(path),
            Some(t) => format!("{}/{}", t.dir, file_stem(path)),
            None => path.with_extension("").display().to_string(),
        };
        let runs_here = runnable::runnability(s, &crate::plan::plan(s))
            .runs_here
            .is_ok();
        Entry {
            name,
            command: format!("upgrade-harness run {}", shell_word(&shown)),
            scenario: shown,
            test: test_name.as_ref().map(TestName::run),
            from: s.from_version(),
            to: s.to_version(),
            runs_here,
            distribution: s.distribution.value,
            folder: test_name.map(|t| t.dir),
        }
    }
}

/// The file name without its extension, dots kept (`1.10.0-to-1.11.0`).
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `word` as one shell word: as is when it holds only characters no shell treats specially,
/// otherwise single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-/+=:,@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A closed version range `FROM..TO` (both ends inclusive), as `--range` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionRange {
    /// The lowest version in the range.
    pub from: Version,
    /// The highest version in the range.
    pub to: Version,
}

impl VersionRange {
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: Version) -> bool {
        self.from <= v && v <= self.to
    }
}

/// Why a text is not a version range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRange {
    /// No `..` between the ends.
    #[error("`{0}` is not a range FROM..TO (e.g. 1.7.0..1.11.0, both ends inclusive)")]
    Shape(String),
    /// An end is not a version.
    #[error("in the range `{range}`: {version}")]
    Version {
        /// The text given.
        range: String,
        /// The end that is not a version.
        version: BadVersion,
    },
    /// `FROM` is after `TO`: no version is in it.
    #[error("the range `{0}` is empty: its first version is after its last (write FROM..TO, lowest first)")]
    Empty(String),
}

impl FromStr for VersionRange {
    type Err = BadRange;

    fn from_str(s: &str) -> Result<VersionRange, BadRange> {
        let (from, to) = s
            .split_once("..")
            .ok_or_else(|| BadRange::Shape(s.to_string()))?;
        let version = |text: &str| {
            text.parse::<Version>()
                .map_err(|version| BadRange::Version {
                    range: s.to_string(),
                    version,
                })
        };
        let range = VersionRange {
            from: version(from)?,
            to: version(to)?,
        };
        if range.from > range.to {
            return Err(BadRange::Empty(s.to_string()));
        }
        Ok(range)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.from, self.to)
    }
}

/// Which scenarios go into the matrix; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only scenarios of this distribution.
    pub distribution: Option<Distribution>,
    /// Only scenarios that run here (`true`) or that do not (`false`).
    pub runs_here: Option<bool>,
    /// Only paths that start or end at this version.
    pub touching: Option<Version>,
    /// Only paths whose both ends lie in this range.
    pub range: Option<VersionRange>,
    /// Only entries whose name (`local/1.10.0-to-1.11.0`) this pattern finds.
    pub name: Option<Regex>,
    /// Only files in this folder: a folder below `scenarios/` (`local`) or a path
    /// (`scenarios/local`).
    pub folder: Option<PathBuf>,
}

impl Filters {
    /// Whether `e` passes every filter.
    pub fn admits(&self, e: &Entry) -> bool {
        self.distribution.is_none_or(|d| e.distribution == d)
            && self.runs_here.is_none_or(|r| e.runs_here == r)
            && self.touching.is_none_or(|v| e.from == v || e.to == v)
            && self
                .range
                .is_none_or(|r| r.contains(e.from) && r.contains(e.to))
            && self.name.as_ref().is_none_or(|re| re.is_match(&e.name))
            && self.folder.as_deref().is_none_or(|dir| in_folder(e, dir))
    }
}

/// Whether the entry's file lies in `dir`, named below `scenarios/` or as a path.
fn in_folder(e: &Entry, dir: &Path) -> bool {
    let dir = normal(dir);
    let below_scenarios = e
        .folder
        .as_deref()
        .is_some_and(|folder| Path::new(folder).starts_with(&dir));
    below_scenarios || normal(Path::new(&e.scenario)).starts_with(&dir)
}

/// `path` without `.` components, so that `./scenarios/local` and `scenarios/local/` match.
fn normal(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The matrix of `scenarios` (valid ones, with their files) under `filters`, sorted by path.
pub fn matrix(scenarios: &[(PathBuf, Scenario)], filters: &Filters) -> Vec<Entry> {
    let mut sorted: Vec<&(PathBuf, Scenario)> = scenarios.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .into_iter()
        .map(|(path, s)| Entry::of(path, s))
        .filter(|e| filters.admits(e))
        .collect()
}

/// The forms the matrix is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"include": [...]}` on one line, for `strategy.matrix: ${{ fromJSON(...) }}`.
    Github,
    /// `parallel: matrix: - SCENARIO: [...]`, a fragment of a GitLab CI job.
    Gitlab,
    /// One nextest/libtest test name per line.
    Names,
}

/// Why a matrix cannot be printed in a format.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// More jobs than the CI system takes in one matrix.
    #[error("{count} jobs are more than {system} takes in one matrix ({max}); narrow it with --folder, --range or --name, or spread the scenario tests with `cargo nextest run --partition hash:K/N`")]
    TooManyJobs {
        /// The CI system.
        system: &'static str,
        /// Jobs asked for.
        count: usize,
        /// Its limit.
        max: usize,
    },
    /// Files that no scenario test runs have no test name.
    #[error("no scenario test runs {0}: it is not in a `scenarios` folder, so it has no test name (--format github or gitlab list it)")]
    NoTestName(String),
    /// The YAML serializer refused the GitLab form.
    #[error("cannot write the GitLab matrix as YAML: {0}")]
    Yaml(#[from] serde_saphyr::SerializeError),
}

/// `{"include": [...]}`.
#[derive(Serialize)]
struct GithubMatrix<'a> {
    include: &'a [Entry],
}

/// `parallel: {matrix: [{SCENARIO: [...]}]}`.
#[derive(Serialize)]
struct GitlabJob {
    parallel: GitlabParallel,
}

#[derive(Serialize)]
struct GitlabParallel {
    matrix: Vec<GitlabVariables>,
}

/// One item of `parallel:matrix`: a job per value of `SCENARIO`.
#[derive(Serialize)]
struct GitlabVariables {
    #[serde(rename = "SCENARIO")]
    scenario: Vec<String>,
}

/// The matrix in `format`, ending with a newline.
pub fn render(entries: &[Entry], format: Format) -> Result<String, MatrixError> {
    match format {
        Format::Github => {
            limit(entries, "GitHub Actions", GITHUB_MAX_JOBS)?;
            let json = serde_json::to_string(&GithubMatrix { include: entries })
                .expect("plain data serializes to JSON");
            Ok(format!("{json}\n"))
        }
        Format::Gitlab => {
            limit(entries, "GitLab", GITLAB_MAX_JOBS)?;
            let job = GitlabJob {
                parallel: GitlabParallel {
                    matrix: vec![GitlabVariables {
                        scenario: entries.iter().map(|e| e.scenario.clone()).collect(),
                    }],
                },
            };
            Ok(serde_saphyr::to_string(&job)?)
        }
        Format::Names => entries
            .iter()
            .map(|e| match &e.test {
                Some(test) => Ok(format!("{test}\n")),
                None => Err(MatrixError::NoTestName(e.scenario.clone())),
            })
            .collect(),
    }
}

fn limit(entries: &[Entry], system: &'static str, max: usize) -> Result<(), MatrixError> {
    if entries.len() > max {
        return Err(MatrixError::TooManyJobs {
            system,
            count: entries.len(),
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid scenario at `from -> to`; `masters > 1` brings a ZooKeeper node.
    fn scenario(from: &str, to: &str, distribution: &str, masters: u32) -> Scenario {
        let zookeeper = if masters > 1 { ", zookeeper: 1" } else { "" };
        // The 0.x notes number their steps; 1.x paths take the inferred six.
        let order = if from.starts_with("0.") {
            "documented"
        } else {
            "inferred"
        };
        let text = format!(
            "format: 1\nname: t\nfrom: {from}\nto: {to}\ndistribution: {distribution}\n\
             topology: {{ masters: {masters}, agents: 1{zookeeper} }}\norder: {order}\n\
             steps: [rebuild_modules, upgrade_masters, upgrade_agents, upgrade_schedulers, restart_schedulers, upgrade_executors]\n"
        );
        crate::scenario::load::parse_and_validate(Path::new("t.yaml"), &text)
            .unwrap_or_else(|d| panic!("{}", d.render_plain(100)))
    }

    fn set() -> Vec<(PathBuf, Scenario)> {
        vec![
            // Given out of order: the matrix sorts by path.
            (
                PathBuf::from("scenarios/local/1.9.0-to-1.10.0.yaml"),
                scenario("1.9.0", "1.10.0", "local", 1),
            ),
            (
                PathBuf::from("scenarios/local/1.10.0-to-1.11.0.yaml"),
                scenario("1.10.0", "1.11.0", "local", 1),
            ),
            (
                PathBuf::from("scenarios/local-ha/1.10.0-to-1.11.0.yaml"),
                scenario("1.10.0", "1.11.0", "local", 3),
            ),
            (
                PathBuf::from("scenarios/seed/0.28.0-to-1.0.0.yaml"),
                scenario("0.28.0", "1.0.0", "upstream", 1),
            ),
        ]
    }

    fn names(filters: &Filters) -> Vec<String> {
        matrix(&set(), filters)
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    #[test]
    fn an_entry_names_its_file_test_versions_and_command() {
        let set = set();
        let e = Entry::of(&set[1].0, &set[1].1);
        assert_eq!(e.name, "local/1.10.0-to-1.11.0");
        assert_eq!(e.scenario, "scenarios/local/1.10.0-to-1.11.0.yaml");
        assert_eq!(e.test.as_deref(), Some("run::local::1_10_0-to-1_11_0"));
        assert_eq!(
            (e.from, e.to),
            (Version::new(1, 10, 0), Version::new(1, 11, 0))
        );
        assert!(e.runs_here);
        assert_eq!(
            e.command,
            "upgrade-harness run scenarios/local/1.10.0-to-1.11.0.yaml"
        );
        let upstream = Entry::of(&set[3].0, &set[3].1);
        assert!(!upstream.runs_here);
        let outside = Entry::of(Path::new("/tmp/my tests/a.yaml"), &set[0].1);
        assert_eq!(outside.test, None);
        assert_eq!(outside.name, "/tmp/my tests/a");
        assert_eq!(
            outside.command,
            "upgrade-harness run '/tmp/my tests/a.yaml'"
        );
    }

    #[test]
    fn without_filters_every_scenario_in_path_order() {
        assert_eq!(
            names(&Filters::default()),
            // Paths compare folder by folder: `local/` before `local-ha/`.
            [
                "local/1.10.0-to-1.11.0",
                "local/1.9.0-to-1.10.0",
                "local-ha/1.10.0-to-1.11.0",
                "seed/0.28.0-to-1.0.0"
            ]
        );
    }

    #[test]
    fn each_filter_keeps_only_what_it_names() {
        let only = |f: Filters| names(&f);
        assert_eq!(
            only(Filters {
                distribution: Some(Distribution::Upstream),
                ..Filters::default()
            }),
            ["seed/0.28.0-to-1.0.0"]
        );
        assert_eq!(
            only(Filters {
                runs_here: Some(false),
                ..Filters::default()
            }),
            ["seed/0.28.0-to-1.0.0"]
        );
        assert_eq!(
            only(Filters {
                touching: Some(Version::new(1, 10, 0)),
                ..Filters::default()
            }),
            [
                "local/1.10.0-to-1.11.0",
                "local/1.9.0-to-1.10.0",
                "local-ha/1.10.0-to-1.11.0"
            ]
        );
        assert_eq!(
            only(Filters {
                range: Some("1.0.0..1.10.0".parse().unwrap()),
                ..Filters::default()
            }),
            ["local/1.9.0-to-1.10.0"],
            "both ends of a path must lie in the range"
        );
        assert_eq!(
            only(Filters {
                name: Some(Regex::new("^local/").unwrap()),
                ..Filters::default()
            }),
            ["local/1.10.0-to-1.11.0", "local/1.9.0-to-1.10.0"]
        );
        for folder in ["local", "scenarios/local", "./scenarios/local/"] {
            assert_eq!(
                only(Filters {
                    folder: Some(PathBuf::from(folder)),
                    ..Filters::default()
                }),
                ["local/1.10.0-to-1.11.0", "local/1.9.0-to-1.10.0"],
                "--folder {folder} (and not local-ha)"
            );
        }
    }

    #[test]
    fn filters_combine() {
        let f = Filters {
            runs_here: Some(true),
            touching: Some(Version::new(1, 11, 0)),
            folder: Some(PathBuf::from("local-ha")),
            ..Filters::default()
        };
        assert_eq!(names(&f), ["local-ha/1.10.0-to-1.11.0"]);
        let none = Filters {
            distribution: Some(Distribution::Upstream),
            runs_here: Some(true),
            ..Filters::default()
        };
        assert_eq!(names(&none), Vec::<String>::new());
    }

    #[test]
    fn ranges_are_inclusive_and_bad_ones_say_why() {
        let r: VersionRange = "1.7.0..1.11.0".parse().unwrap();
        assert!(r.contains(Version::new(1, 7, 0)) && r.contains(Version::new(1, 11, 0)));
        assert!(!r.contains(Version::new(1, 6, 2)));
        assert_eq!(r.to_string(), "1.7.0..1.11.0");
        let err = |s: &str| s.parse::<VersionRange>().unwrap_err().to_string();
        assert_eq!(
            err("1.7.0"),
            "`1.7.0` is not a range FROM..TO (e.g. 1.7.0..1.11.0, both ends inclusive)"
        );
        assert_eq!(
            err("1.7..1.11.0"),
            "in the range `1.7..1.11.0`: `1.7` is not a version of the form MAJOR.MINOR.PATCH (e.g. 1.11.0)"
        );
        assert!(err("1.11.0..1.7.0").contains("is empty"));
        assert!(err("1.7.0...1.8.0").contains("`.1.8.0` is not a version"));
    }

    #[test]
    fn github_form_is_one_line_of_json_with_an_include_list() {
        let entries = matrix(&set(), &Filters::default());
        let text = render(&entries, Format::Github).unwrap();
        assert_eq!(text.lines().count(), 1);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let include = json["include"].as_array().unwrap();
        assert_eq!(include.len(), 4);
        assert_eq!(
            include[0],
            serde_json::json!({
                "name": "local/1.10.0-to-1.11.0",
                "scenario": "scenarios/local/1.10.0-to-1.11.0.yaml",
                "test": "run::local::1_10_0-to-1_11_0",
                "from": "1.10.0",
                "to": "1.11.0",
                "runs_here": true,
                "command": "upgrade-harness run scenarios/local/1.10.0-to-1.11.0.yaml"
            })
        );
    }

    /// What GitLab reads back from the fragment.
    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Job {
        parallel: Parallel,
    }
    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Parallel {
        matrix: Vec<std::collections::BTreeMap<String, Vec<String>>>,
    }

    #[test]
    fn gitlab_form_parses_back_to_one_scenario_variable() {
        let entries = matrix(&set(), &Filters::default());
        let text = render(&entries, Format::Gitlab).unwrap();
        assert!(text.starts_with("parallel:\n  matrix:\n"), "{text}");
        let job: Job = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(job.parallel.matrix.len(), 1, "{text}");
        let scenarios: Vec<&str> = entries.iter().map(|e| e.scenario.as_str()).collect();
        assert_eq!(job.parallel.matrix[0]["SCENARIO"], scenarios, "{text}");
    }

    #[test]
    fn names_form_is_one_test_per_line_and_refuses_files_without_one() {
        let entries = matrix(&set(), &Filters::default());
        assert_eq!(
            render(&entries, Format::Names).unwrap(),
            "run::local::1_10_0-to-1_11_0\nrun::local::1_9_0-to-1_10_0\n\
             run::local-ha::1_10_0-to-1_11_0\nrun::seed::0_28_0-to-1_0_0\n"
        );
        let set = set();
        let outside = [Entry::of(Path::new("/tmp/a.yaml"), &set[0].1)];
        assert!(matches!(
            render(&outside, Format::Names),
            Err(MatrixError::NoTestName(file)) if file == "/tmp/a.yaml"
        ));
    }

    #[test]
    fn more_jobs_than_a_ci_system_takes_are_refused() {
        let set = set();
        let one = Entry::of(&set[0].0, &set[0].1);
        let many = vec![one; GITLAB_MAX_JOBS + 1];
        assert!(render(&many, Format::Github).is_ok());
        let err = render(&many, Format::Gitlab).unwrap_err().to_string();
        assert!(
            err.starts_with("201 jobs are more than GitLab takes in one matrix (200)"),
            "{err}"
        );
        let too_many = vec![many[0].clone(); GITHUB_MAX_JOBS + 1];
        assert!(matches!(
            render(&too_many, Format::Github),
            Err(MatrixError::TooManyJobs {
                count: 257,
                max: 256,
                ..
            })
        ));
    }
}
