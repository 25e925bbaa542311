//! The CI templates a project copies (`ci/templates/`, guide in `docs/ci.md`) and the install
//! script they call. The templates must validate against the published JSON Schemas of GitHub
//! workflows and GitLab CI (as `check-jsonschema` ships them, installed by
//! `ci/install-deps.sh`); their matrix steps, run as written, must turn the real output of
//! `upgrade-harness matrix` into pipelines that validate too and name scenario files that
//! exist; and `ci/install-deps.sh` must use sudo for apt-get exactly when it is not root.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const GITHUB: &str = "ci/templates/github-actions.yml";
const GITLAB: &str = "ci/templates/gitlab-ci.yml";
const GITLAB_CHILD: &str = "ci/templates/gitlab-scenarios.yml";
const GITHUB_SCHEMA: &str = "vendor.github-workflows";
const GITLAB_SCHEMA: &str = "vendor.gitlab-ci";
/// Where the GitHub template puts the generated matrix.
const GITHUB_MATRIX_EXPR: &str = "${{ fromJSON(needs.matrix.outputs.matrix) }}";
/// A name filter no scenario matches: the empty matrix.
const NO_SCENARIO: &str = "--name ^no-scenario-is-named-this$";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

fn yaml(text: &str, what: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `check-jsonschema` on PATH; `None` (reported as skipped, a failure with `CI=true`) when it
/// is not installed.
fn check_jsonschema() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("check-jsonschema"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        common::skip(
            "check-jsonschema is not on PATH (bash ci/install-deps.sh installs it)".to_string(),
        );
    }
    found
}

/// Validates `file` against one of check-jsonschema's built-in schemas; the tool's report
/// when it does not.
fn validate(tool: &Path, schema: &str, file: &Path) -> Result<(), String> {
    let out = Command::new(tool)
        .args(["--builtin-schema", schema, "--color", "never"])
        .arg(file)
        .output()
        .expect("check-jsonschema runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out))
    }
}

#[test]
fn the_github_template_matches_the_github_workflow_schema() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    if let Err(report) = validate(&tool, GITHUB_SCHEMA, &root().join(GITHUB)) {
        panic!("{GITHUB} is not a valid GitHub workflow:\n{report}");
    }
}

#[test]
fn the_gitlab_templates_match_the_gitlab_ci_schema() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    for file in [GITLAB, GITLAB_CHILD] {
        if let Err(report) = validate(&tool, GITLAB_SCHEMA, &root().join(file)) {
            panic!("{file} is not a valid GitLab CI file:\n{report}");
        }
    }
}

/// The validation can fail: a copy of each template with one wrong key or value is refused,
/// and the report names the file.
#[test]
fn a_broken_template_is_rejected() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let breaks = [
        (
            GITHUB,
            GITHUB_SCHEMA,
            "    runs-on: ubuntu-24.04",
            "    runs_on: ubuntu-24.04",
        ),
        (GITLAB, GITLAB_SCHEMA, "parallel: 4", "parallel: four"),
        (
            GITLAB_CHILD,
            GITLAB_SCHEMA,
            "when: always",
            "when: sometimes",
        ),
    ];
    for (file, schema, good, bad) in breaks {
        let template = read(file);
        assert!(
            template.contains(good),
            "{file} no longer has `{good}` to break"
        );
        let broken = dir.path().join(Path::new(file).file_name().unwrap());
        std::fs::write(&broken, template.replacen(good, bad, 1)).unwrap();
        let report = validate(&tool, schema, &broken)
            .expect_err(&format!("{file} with `{bad}` passed {schema}"));
        assert!(
            report.contains(&broken.display().to_string()),
            "the report does not name the file:\n{report}"
        );
    }
}

/// A cache entry is found only under the paths it was saved with: every job that restores the
/// Mesos builds names the path and the key the build job saves them under.
#[test]
fn the_github_jobs_restore_the_builds_the_build_job_saves() {
    let workflow = yaml(&read(GITHUB), GITHUB);
    let jobs = workflow["jobs"].as_object().expect("jobs");
    let cache_steps: Vec<(&str, &Value)> = jobs
        .iter()
        .flat_map(|(name, job)| {
            job["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |step| (name.as_str(), step))
        })
        .filter(|(_, step)| {
            step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache/"))
                && step["with"]["key"]
                    .as_str()
                    .is_some_and(|k| k.contains("builds_key"))
        })
        .collect();
    let saved: Vec<&Value> = cache_steps
        .iter()
        .filter(|(job, step)| {
            *job == "build"
                && step["uses"]
                    .as_str()
                    .unwrap()
                    .starts_with("actions/cache/save")
        })
        .map(|(_, step)| &step["with"])
        .collect();
    assert_eq!(saved.len(), 1, "the build job saves the builds once");
    let restoring: BTreeSet<&str> = cache_steps
        .iter()
        .filter(|(job, _)| *job != "build")
        .map(|(job, _)| *job)
        .collect();
    assert_eq!(restoring, BTreeSet::from(["compat", "scenario", "tests"]));
    for (job, step) in &cache_steps {
        assert_eq!(step["with"]["path"], saved[0]["path"], "job {job}: {step}");
        if *job != "build" {
            assert_eq!(
                step["with"]["key"], "${{ needs.build.outputs.builds_key }}",
                "job {job}: {step}"
            );
        }
    }
    assert_eq!(
        workflow["jobs"]["build"]["outputs"]["builds_key"],
        "${{ steps.select.outputs.builds_key }}"
    );
}

/// The child pipeline is a file of its own: its builds cache, image, services and variables
/// must stay those of the parent, or its jobs would miss the cache the build job saved.
#[test]
fn the_gitlab_child_pipeline_shares_the_parents_cache_and_setup() {
    let parent = yaml(&read(GITLAB), GITLAB);
    let child = yaml(&read(GITLAB_CHILD), GITLAB_CHILD);
    let builds = &parent["build"]["cache"][0];
    assert_eq!(builds["key"], parent[".mesos-builds-key"], "{builds}");
    for (what, ours, theirs) in [
        (
            "builds cache key",
            &child["scenario"]["cache"]["key"],
            &builds["key"],
        ),
        (
            "builds cache paths",
            &child["scenario"]["cache"]["paths"],
            &builds["paths"],
        ),
        (
            "tests cache key",
            &parent["tests"]["cache"]["key"],
            &builds["key"],
        ),
        (
            "image",
            &child["default"]["image"],
            &parent["default"]["image"],
        ),
        (
            "services",
            &child["default"]["services"],
            &parent["default"]["services"],
        ),
    ] {
        assert!(!theirs.is_null(), "{GITLAB} has no {what}");
        assert_eq!(
            ours, theirs,
            "{what} differs between {GITLAB_CHILD} and {GITLAB}"
        );
    }
    for (name, value) in child["variables"].as_object().expect("child variables") {
        assert_eq!(
            Some(value),
            parent["variables"].get(name),
            "variable {name} differs between {GITLAB_CHILD} and {GITLAB}"
        );
    }
}

/// A folder to run a template's script in, as a CI job's checkout would be: the scenarios,
/// the child pipeline template, and the harness in `bin/`, also on PATH.
struct Checkout {
    dir: tempfile::TempDir,
}

impl Checkout {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let link = |from: PathBuf, to: &str| {
            let to = dir.path().join(to);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(from, to).unwrap();
        };
        link(root().join("scenarios"), "scenarios");
        link(root().join(GITLAB_CHILD), GITLAB_CHILD);
        link(harness().into(), "bin/upgrade-harness");
        Checkout { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `script` with bash (`-eo pipefail`, as both CI systems do) in the checkout.
    fn run(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .args(["-eo", "pipefail", "-c", script])
            .current_dir(self.path())
            .env("PATH", path)
            .envs(env.iter().copied())
            .output()
            .expect("bash runs")
    }
}

fn harness() -> &'static str {
    env!("CARGO_BIN_EXE_upgrade-harness")
}

/// Whether this build has `upgrade-harness matrix` (issue 12, item 2); skipped, with the
/// reason, when not.
fn has_matrix_command() -> bool {
    let out = Command::new(harness())
        .args(["matrix", "--help"])
        .output()
        .expect("the harness runs");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        common::skip(format!(
            "this build of the harness has no `matrix` command (`matrix --help`: {})",
            stderr.lines().next().unwrap_or("no output").trim()
        ));
        return false;
    }
    true
}

/// Every `matrix.<field>` the text reads.
fn matrix_fields(text: &str) -> BTreeSet<String> {
    text.match_indices("matrix.")
        .map(|(at, m)| {
            text[at + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|f| !f.is_empty() && f != "outputs")
        .collect()
}

/// The `matrix` step of the GitHub template, run as written, against the real scenarios: its
/// outputs, read from `$GITHUB_OUTPUT`.
fn github_matrix_step(filter: &str) -> (Value, String) {
    let workflow = yaml(&read(GITHUB), GITHUB);
    let steps = workflow["jobs"]["matrix"]["steps"]
        .as_array()
        .expect("the matrix job has steps");
    let script = steps
        .iter()
        .find(|s| s["id"] == "matrix")
        .and_then(|s| s["run"].as_str())
        .expect("the matrix job has a step `matrix` that runs a script");
    let checkout = Checkout::new();
    let output = checkout.path().join("github-output");
    let summary = checkout.path().join("github-step-summary");
    let out = checkout.run(
        script,
        &[
            ("MATRIX_FILTER", filter),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert!(
        out.status.success(),
        "the matrix step failed:\n{}",
        text(&out)
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    let get = |key: &str| {
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no output `{key}` in:\n{outputs}"))
            .to_string()
    };
    let matrix: Value = serde_json::from_str(&get("matrix"))
        .unwrap_or_else(|e| panic!("output `matrix` is not JSON ({e}):\n{outputs}"));
    (matrix, get("count"))
}

#[test]
fn the_github_matrix_step_drives_the_scenario_job() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    if !has_matrix_command() {
        return;
    }
    let (matrix, count) = github_matrix_step("");
    let entries = matrix["include"].as_array().expect("an `include` list");
    assert!(!entries.is_empty(), "no scenario runs here: {matrix}");
    assert_eq!(count, entries.len().to_string());

    let template = read(GITHUB);
    let workflow = yaml(&template, GITHUB);
    let job = &workflow["jobs"]["scenario"];
    let used = matrix_fields(&serde_json::to_string(job).unwrap());
    assert!(
        used.contains("scenario"),
        "the scenario job reads no matrix.scenario"
    );
    for entry in entries {
        for field in &used {
            assert!(
                entry.get(field).is_some(),
                "the scenario job reads matrix.{field}, which {entry} lacks"
            );
        }
        let file = entry["scenario"].as_str().unwrap();
        assert!(root().join(file).is_file(), "{file} is not a scenario file");
    }
    assert!(
        job["if"]
            .as_str()
            .is_some_and(|c| c.contains("needs.matrix.outputs.count != '0'")),
        "the scenario job must not start on an empty matrix (GitHub refuses it)"
    );

    // The workflow as GitHub expands it for this matrix is still a valid workflow.
    assert!(template.contains(GITHUB_MATRIX_EXPR));
    let expanded = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
    std::fs::write(
        expanded.path(),
        template.replace(GITHUB_MATRIX_EXPR, &matrix.to_string()),
    )
    .unwrap();
    if let Err(report) = validate(&tool, GITHUB_SCHEMA, expanded.path()) {
        panic!("{GITHUB} with the generated matrix is not a valid workflow:\n{report}");
    }

    let (empty, count) = github_matrix_step(NO_SCENARIO);
    assert_eq!(empty["include"].as_array().map(Vec::len), Some(0));
    assert_eq!(count, "0");
}

/// Whether a shell script reads `$name` or `${name}` (not merely a longer name that starts
/// with it).
fn reads_variable(script: &str, name: &str) -> bool {
    script.contains(&format!("${{{name}}}"))
        || script.match_indices(&format!("${name}")).any(|(at, m)| {
            !script[at + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The GitLab template's matrix job script, run as written: the child pipeline it writes.
fn gitlab_child_pipeline(filter: &str) -> (tempfile::TempDir, PathBuf) {
    let pipeline = yaml(&read(GITLAB), GITLAB);
    let script: Vec<&str> = pipeline["matrix"]["script"]
        .as_array()
        .expect("the matrix job has a script")
        .iter()
        .map(|line| line.as_str().expect("script lines are strings"))
        .collect();
    let checkout = Checkout::new();
    let out = checkout.run(&script.join("\n"), &[("MATRIX_FILTER", filter)]);
    assert!(
        out.status.success(),
        "the matrix job failed:\n{}",
        text(&out)
    );
    let child = checkout.path().join("scenarios-pipeline.yml");
    assert!(
        child.is_file(),
        "the matrix job wrote no scenarios-pipeline.yml"
    );
    (checkout.dir, child)
}

#[test]
fn the_gitlab_matrix_job_writes_a_valid_child_pipeline() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    if !has_matrix_command() {
        return;
    }
    let (_dir, child) = gitlab_child_pipeline("");
    if let Err(report) = validate(&tool, GITLAB_SCHEMA, &child) {
        panic!("the generated child pipeline is not valid GitLab CI:\n{report}");
    }
    let pipeline = yaml(
        &std::fs::read_to_string(&child).unwrap(),
        "the child pipeline",
    );
    assert_eq!(pipeline["scenario"]["extends"], ".scenario-matrix");
    let rows = pipeline[".scenario-matrix"]["parallel"]["matrix"]
        .as_array()
        .expect("`.scenario-matrix` has `parallel: matrix`");
    let script = serde_json::to_string(&pipeline["scenario"]["script"]).unwrap();
    let mut files = 0;
    for row in rows {
        let row = row.as_object().expect("a matrix row is a mapping");
        for variable in row.keys() {
            assert!(
                reads_variable(&script, variable),
                "the scenario job does not read ${variable}: {script}"
            );
        }
        let scenarios = row["SCENARIO"].as_array().expect("SCENARIO is a list");
        for file in scenarios {
            let file = file.as_str().unwrap();
            assert!(root().join(file).is_file(), "{file} is not a scenario file");
            files += 1;
        }
    }
    assert!(files > 0, "no scenario in the child pipeline");

    let (_dir, child) = gitlab_child_pipeline(NO_SCENARIO);
    if let Err(report) = validate(&tool, GITLAB_SCHEMA, &child) {
        panic!("the child pipeline of an empty matrix is not valid GitLab CI:\n{report}");
    }
    let pipeline = yaml(
        &std::fs::read_to_string(&child).unwrap(),
        "the child pipeline",
    );
    assert!(pipeline.get("scenario").is_none(), "{pipeline}");
    assert!(pipeline.get("no-scenario").is_some(), "{pipeline}");
}

/// Runs `ci/install-deps.sh` with stand-ins for every command it calls (nothing is
/// installed): `id -u` answers `uid`, every package is missing, `sudo` is there or not, and
/// the stand-ins log what ran. Returns the script's output and the log.
fn install_deps_with(uid: u32, with_sudo: bool) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("log");
    let script = read("ci/install-deps.sh");
    let version = script
        .lines()
        .find_map(|l| l.strip_prefix("check_jsonschema_version="))
        .expect("install-deps.sh pins check_jsonschema_version");
    let real = |name: &str| {
        ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{name} not found in /usr/bin or /bin"))
    };
    let bash = real("bash");
    let stub = |name: &str, body: &str| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!{}\n{body}\n", bash.display())).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).unwrap();
    };
    let logs = |what: &str| format!("echo \"{what}\" >> '{}'", log.display());
    stub("id", &format!("[ \"$1\" = -u ] && echo {uid}"));
    stub("dpkg", "exit 1");
    stub(
        "apt-get",
        &logs("apt-get $* (as ${SUDO_USER:-root}, DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset})"),
    );
    if with_sudo {
        stub("sudo", "SUDO_USER=tester exec \"$@\"");
    }
    stub(
        "check-jsonschema",
        &format!("echo 'check-jsonschema, version {version}'"),
    );
    for tool in ["cargo-nextest", "cargo-insta"] {
        stub(tool, "exit 0");
    }
    stub("cargo", &logs("cargo $*"));
    stub("rustup", "echo clippy-x86_64-unknown-linux-gnu");
    for name in ["env", "grep"] {
        std::os::unix::fs::symlink(real(name), bin.join(name)).unwrap();
    }
    let out = Command::new(bash)
        .arg(root().join("ci/install-deps.sh"))
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", dir.path())
        .output()
        .expect("bash runs");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    (out, log)
}

#[test]
fn install_deps_uses_sudo_for_apt_get_when_not_root() {
    let (out, log) = install_deps_with(1000, true);
    assert!(out.status.success(), "{}", text(&out));
    let runs: Vec<&str> = log.lines().filter(|l| l.starts_with("apt-get")).collect();
    assert_eq!(runs.len(), 2, "apt-get update and install expected:\n{log}");
    assert!(runs[0].starts_with("apt-get update"), "{log}");
    assert!(runs[1].starts_with("apt-get install -y"), "{log}");
    for run in &runs {
        assert!(
            run.contains("(as tester,"),
            "apt-get ran without sudo: {run}"
        );
    }
    assert!(
        runs[1].ends_with("DEBIAN_FRONTEND=noninteractive)"),
        "DEBIAN_FRONTEND lost through sudo: {}",
        runs[1]
    );
    assert!(
        runs[1].contains(" jq ") && runs[1].contains(" zookeeper "),
        "{log}"
    );
}

#[test]
fn install_deps_runs_apt_get_directly_as_root() {
    let (out, log) = install_deps_with(0, true);
    assert!(out.status.success(), "{}", text(&out));
    let runs: Vec<&str> = log.lines().filter(|l| l.starts_with("apt-get")).collect();
    assert_eq!(runs.len(), 2, "apt-get update and install expected:\n{log}");
    for run in &runs {
        assert!(
            run.contains("(as root,"),
            "apt-get went through sudo as root: {run}"
        );
    }
    assert!(
        !log.contains("cargo install"),
        "installed tools again:\n{log}"
    );
}

#[test]
fn install_deps_without_root_or_sudo_says_what_it_needs() {
    let (out, log) = install_deps_with(1000, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(log.is_empty(), "ran something:\n{log}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs root") && stderr.contains("sudo") && stderr.contains("zookeeper"),
        "{stderr}"
    );
}
