//! The command line: `check`, `plan`, `schema`, `list`, `report` (here), `matrix` (`matrix`),
//! `run`, `images`, `clean` (`docker_commands`). `main` only parses and calls [`run`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

mod certify;
mod compat;
pub mod diff;
mod docker_commands;
mod exit;
mod matrix;

pub use matrix::MatrixArgs;

pub use exit::ExitCode;
use exit::EXIT_CODES;

use crate::mesos::versions;
use crate::runnable;
use crate::scenario::model::Distribution;
use crate::scenario::{self, Diagnostics, Scenario};

/// `eprintln!` without its panic when stderr is a closed pipe (`2>&1 | head -1`): nothing
/// sensible is left to do then.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
pub(crate) use note;

/// Writes `text` to stdout. `print!` panics when the reader has gone (`plan FILE | head -1`);
/// a reader that stopped reading has what it wanted, so the rest is dropped quietly and the
/// command keeps its exit code (ripgrep does the same). Any other write error (a full disk)
/// is said on stderr and fails the command as infrastructure.
pub(crate) fn out(text: &str) -> Result<(), ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            note!("error: cannot write to stdout: {e}");
            Err(ExitCode::Infrastructure)
        }
    }
}

/// The known versions of each distribution, wrapped for `--help`.
fn versions_help() -> String {
    let mut text = String::from("Known versions:\n");
    for (name, distribution) in [
        ("local", Distribution::Local),
        ("upstream", Distribution::Upstream),
    ] {
        let mut line = format!("  {name:<9}");
        for (i, v) in versions::known(distribution).iter().enumerate() {
            let word = v.to_string();
            if line.len() + word.len() + 2 > 90 {
                text.push_str(line.trim_end());
                text.push('\n');
                line = " ".repeat(11);
            } else if i > 0 {
                line.push(' ');
            }
            line.push_str(&word);
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(EXIT_CODES);
    text
}

/// Proves an Apache Mesos cluster survives an upgrade.
#[derive(Debug, Parser)]
#[command(name = "upgrade-harness", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate scenario files; report every problem of every file (exit 2 if any), warnings
    /// (exit unchanged), and each valid scenario that cannot run here or that `run` would not
    /// perform whole.
    #[command(after_help = versions_help())]
    Check {
        /// Scenario files, or folders searched recursively for `*.yaml` / `*.yml`.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the plan of a scenario: whether it runs here, nodes, images, actions and phases,
    /// in order.
    Plan {
        /// The scenario file.
        file: PathBuf,
        /// The plan `run --seed N` would run (randomized by the seed).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Print the JSON Schema of the scenario format (committed as scenarios/schema.json);
    /// with `--certify`, of the certification manifest (module-fixtures/certify.schema.json).
    Schema {
        /// The certification manifest's schema instead.
        #[arg(long)]
        certify: bool,
    },
    /// List scenarios: name, from -> to, distribution, topology, file, whether it runs here;
    /// one per line.
    List {
        /// A scenario file or a folder of them.
        #[arg(default_value = "scenarios")]
        path: PathBuf,
    },
    /// Print the CI job matrix of the scenarios: a GitHub Actions `strategy.matrix` (default),
    /// a GitLab `parallel:matrix`, or the scenario tests' names; sorted by path, each entry
    /// with the command that runs it. Filters combine; an invalid scenario file prints no
    /// matrix (exit 2).
    Matrix(matrix::MatrixArgs),
    /// Run a scenario for real: a cluster in containers at `from`, every step of the plan,
    /// invariants and checks after each phase. Results go to target/upgrade-harness/.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Leave a failed cluster up and print how to reach it.
        #[arg(long)]
        keep: bool,
        /// Where run folders go.
        #[arg(long, default_value = "target/upgrade-harness")]
        out: PathBuf,
        /// `upstream` scenarios: take Mesos VERSION from these images instead of the
        /// scenario's (`1.7.3=mesosphere/mesos:1.7.3`, several references separated by `,`;
        /// repeatable; wins over UPGRADE_HARNESS_IMAGES). Missing images are pulled.
        #[arg(long = "image", value_name = "VERSION=REF[,REF]")]
        images: Vec<String>,
        /// Randomize the plan with this seed (node order, pauses, a mixed-version framework
        /// restart, one fault); the same seed replays the same plan.
        #[arg(long)]
        seed: Option<u64>,
        /// Randomize with a fresh seed (printed first; `--seed` replays it).
        #[arg(long, conflicts_with = "seed")]
        random: bool,
    },
    /// Write the overview of the runs under DIR (`overview.md`, `overview.html`): every
    /// scenario's newest run with its status and duration, and the command that reruns the
    /// failed ones. Reads the run folders' `result.json`.
    Report {
        /// The folder of run folders.
        #[arg(default_value = "target/upgrade-harness")]
        dir: PathBuf,
        /// Only runs that finished at or after this time, in seconds since the epoch (e.g.
        /// `$(date +%s)` taken before the tests).
        #[arg(long, value_name = "UNIX_SECONDS")]
        since: Option<u64>,
    },
    /// Where the time of finished runs went: per phase, the actions, the floor (what Mesos
    /// itself needed, from its log timestamps), saving logs, judging, probing. Reads each run
    /// folder's `result.json` and phase logs (bench/speed.sh uses it).
    Timing {
        /// Run folders (each holding a `result.json`).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Print JSON instead of Markdown tables.
        #[arg(long)]
        json: bool,
    },
    /// The API drift report between two versions without an upgrade: one cluster per version
    /// (one master, one agent, one task) observed at start, cached per build so that a
    /// second call starts nothing. `--all`: the atlas of every consecutive pair of the local
    /// builds (Markdown, HTML, JSON).
    Diff {
        /// The older version (e.g. 1.7.3).
        #[arg(required_unless_present = "all")]
        from: Option<String>,
        /// The newer version (e.g. 1.8.0).
        #[arg(required_unless_present = "all")]
        to: Option<String>,
        /// Every consecutive pair of the local builds, as one atlas.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        all: bool,
        /// Print JSON instead of Markdown (a pair), or where the atlas goes (`--all`).
        #[arg(long)]
        json: bool,
        /// Where `--all` writes `atlas.md`, `atlas.html` and `atlas.json`.
        #[arg(long, default_value = "target/upgrade-harness/atlas")]
        out: PathBuf,
        /// Start fresh clusters: ignore (and do not write) cached observations.
        #[arg(long)]
        fresh: bool,
    },
    /// Print the API drift report of a run folder again, from its `observations.json` and
    /// its scenario file, with this harness's drift report and notes catalogue.
    Drift {
        /// The run folder (`target/upgrade-harness/<scenario>-<run id>`).
        folder: PathBuf,
        /// Print JSON instead of Markdown.
        #[arg(long)]
        json: bool,
    },
    /// The upgrade compatibility table of a declaration (`compat/*.yaml`): every ordered pair
    /// of a version set, per topology, run for real and cached; Markdown, HTML and JSON.
    Compat {
        /// `plan` (the expansion, no Docker) or `run`.
        #[command(subcommand)]
        command: compat::CompatCommand,
    },
    /// Certify a vendor module (`docs/modules.md`): its builds on each version alone, through
    /// each upgrade path rolling, and the negative controls, each outcome classified beside
    /// the static pre-flight's prediction; reports `<out>/<name>.md`, `.json`, `.junit.xml`.
    /// Exit 0 when every verdict is as required, 1 when one is not, 2 for an invalid
    /// manifest, 3 when something could not run.
    Certify(certify::CertifyArgs),
    /// Per-version Mesos builds and images, made from the PyPI binaries.
    Images {
        /// What to do with images.
        #[command(subcommand)]
        command: ImagesCommand,
    },
    /// Remove the containers and network of a run (e.g. one kept with `run --keep`), or sweep
    /// what dead runs left when no run id is given.
    Clean {
        /// Run id (the `upgrade-harness.run` label).
        run_id: Option<String>,
    },
}

/// `images` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build (or find) the per-version builds and the standalone images
    /// `upgrade-harness/mesos:<version>`. Without versions: every known version.
    Build {
        /// Versions, e.g. 1.11.0.
        versions: Vec<String>,
    },
}

/// Runs a parsed command line; prints results to stdout and problems to stderr.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { paths } => check(&paths),
        Command::Plan { file, seed } => plan(&file, seed),
        Command::Schema { certify: false } => {
            out(&scenario::schema::json()).err().unwrap_or(ExitCode::Ok)
        }
        Command::Schema { certify: true } => out(&crate::certify::manifest::schema_json())
            .err()
            .unwrap_or(ExitCode::Ok),
        Command::List { path } => list(&path),
        Command::Matrix(args) => matrix::matrix(args),
        Command::Run {
            file,
            keep,
            out,
            images,
            seed,
            random,
        } => docker_commands::run(&file, keep, &out, &images, seed.or(random.then(fresh_seed))),
        Command::Report { dir, since } => overview(&dir, since),
        Command::Timing { runs, json } => timing(&runs, json),
        Command::Images {
            command: ImagesCommand::Build { versions },
        } => docker_commands::images_build(&versions),
        Command::Diff {
            from,
            to,
            all,
            json,
            out,
            fresh,
        } => docker_commands::diff(from.as_deref().zip(to.as_deref()), all, json, &out, fresh),
        Command::Drift { folder, json } => drift_again(&folder, json),
        Command::Clean { run_id } => docker_commands::clean(run_id.as_deref()),
        Command::Compat { command } => compat::compat(command),
        Command::Certify(args) => certify::certify(args),
    }
}

/// Scenario files under `paths`: files as given, folders searched recursively for `*.yaml` and
/// `*.yml` (hidden folders and `schema.*` skipped), sorted.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut files = Vec::new();
    let mut problems = Diagnostics::new(Path::new(""));
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files, &mut problems);
            files[before..].sort();
            if files.len() == before {
                problems.push(
                    scenario::Problem::file(
                        "scenario::no_files",
                        format!("no scenario files (*.yaml, *.yml) under {}", path.display()),
                    )
                    .help("pass scenario files, or folders that contain some"),
                );
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            problems.push(
                scenario::Problem::file(
                    "scenario::unreadable",
                    format!("{} does not exist", path.display()),
                )
                .help("pass scenario files, or folders that contain some"),
            );
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Diagnostics) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(scenario::Problem::file(
                "scenario::unreadable",
                format!("cannot read folder {}: {e}", dir.display()),
            ));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, files, problems);
        } else if (name.ends_with(".yaml") || name.ends_with(".yml"))
            && !name.starts_with("schema.")
        {
            files.push(path);
        }
    }
}

/// Renders diagnostics for the terminal (colours only on a terminal without `NO_COLOR`).
fn report(diagnostics: &Diagnostics) {
    let handler = miette::GraphicalReportHandler::new();
    let text = diagnostics.render_with(&handler);
    let mut err = std::io::stderr().lock();
    // Nothing sensible is left to do when stderr is gone.
    let _ = err.write_all(text.as_bytes());
}

/// Valid scenarios with their files, the number of invalid files, the number of problems.
pub(crate) type Loaded = (Vec<(PathBuf, Scenario)>, usize, usize);

/// Loads every scenario under `paths`, reporting problems (and warnings, with `warn`) as it
/// goes; returns the valid ones, the number of invalid files and of problems (warnings not
/// counted). Fails when the paths themselves are wrong.
pub(crate) fn load_all(paths: &[PathBuf], warn: bool) -> Result<Loaded, ExitCode> {
    let files = match scenario_files(paths) {
        Ok(files) => files,
        Err(d) => {
            report(&d);
            let n = d.problems.len();
            note!(
                "{n} problem{} with the paths given",
                if n == 1 { "" } else { "s" }
            );
            return Err(ExitCode::InvalidInput);
        }
    };
    let (mut valid, mut invalid, mut problems) = (Vec::new(), 0, 0);
    for file in files {
        match scenario::load_with_warnings(&file) {
            Ok(loaded) => {
                if warn {
                    report(&loaded.warnings);
                }
                valid.push((file, loaded.scenario));
            }
            Err(d) => {
                report(&d);
                invalid += 1;
                problems += d.problems.len();
            }
        }
    }
    Ok((valid, invalid, problems))
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let (valid, invalid, problems) = match load_all(paths, true) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let total = valid.len() + invalid;
    // What `run` would refuse or leave out, before the verdict line.
    for (file, s) in &valid {
        let runnability = runnable::runnability(s, &crate::plan::plan(s));
        if runnability.is_notable() {
            if let Err(code) = out(&format!("{}: {}\n", file.display(), runnability.one_line())) {
                return code;
            }
        }
    }
    if invalid == 0 && problems == 0 {
        let plural = if total == 1 { "" } else { "s" };
        out(&format!("{total} scenario{plural} valid\n"))
            .err()
            .unwrap_or(ExitCode::Ok)
    } else {
        note!(
            "{invalid} of {total} scenario files invalid ({problems} problem{})",
            if problems == 1 { "" } else { "s" }
        );
        ExitCode::InvalidInput
    }
}

/// `upgrade-harness report [DIR]`: writes the overview and says where, with the counts.
fn overview(dir: &Path, since: Option<u64>) -> ExitCode {
    let since = since.map(crate::report::overview::since_epoch);
    match crate::report::overview::write_overview(dir, since) {
        Ok(o) => {
            let failed = o.failed().count();
            out(&format!(
                "{}: {} passed, {failed} failed; wrote {} and {}\n",
                dir.display(),
                o.runs.len() - failed,
                dir.join("overview.md").display(),
                dir.join("overview.html").display()
            ))
            .err()
            .unwrap_or(ExitCode::Ok)
        }
        Err(e) => {
            let e = exit::CommandError::from(e);
            note!("error: {e}");
            e.exit_code()
        }
    }
}

fn timing(runs: &[PathBuf], json: bool) -> ExitCode {
    let mut times = Vec::new();
    for folder in runs {
        match crate::timing::read_run(folder) {
            Ok(t) => times.push(t),
            Err(e) => {
                note!("error: {e} (give run folders holding a result.json, e.g. target/upgrade-harness/<scenario>-<run id>)");
                return ExitCode::InvalidInput;
            }
        }
    }
    let text = if json {
        serde_json::to_string_pretty(&times).unwrap_or_default() + "\n"
    } else {
        times
            .iter()
            .map(crate::timing::render)
            .collect::<Vec<_>>()
            .join("\n")
    };
    out(&text).err().unwrap_or(ExitCode::Ok)
}

/// A seed for `run --random`: the clock's nanoseconds.
fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}

fn plan(file: &Path, seed: Option<u64>) -> ExitCode {
    match scenario::load_with_warnings(file) {
        Ok(loaded) => {
            report(&loaded.warnings);
            out(&plan_text_with(&loaded.scenario, seed))
                .err()
                .unwrap_or(ExitCode::Ok)
        }
        Err(d) => {
            report(&d);
            ExitCode::InvalidInput
        }
    }
}

/// The plan listing with, under its first line, whether it runs here and what `run` would
/// skip (the listing itself stays what `tests/scenarios.rs` snapshots).
pub fn plan_text(s: &Scenario) -> String {
    plan_text_with(s, None)
}

/// [`plan_text`] of the plan randomized by `seed`.
pub fn plan_text_with(s: &Scenario, seed: Option<u64>) -> String {
    let plan = crate::plan::plan_with(s, seed);
    let runnability = runnable::runnability(s, &plan);
    let mut header = runnability.verdict();
    if !runnability.skipped.is_empty() {
        header.push_str("; `run` would not perform:");
        for skip in &runnability.skipped {
            header.push_str(&format!("\n  {skip}"));
        }
    }
    let listing = plan.to_string();
    match listing.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{header}\n{rest}"),
        None => format!("{listing}\n{header}\n"),
    }
}

/// One line per scenario, columns aligned; the last column says whether it runs here.
pub fn list_lines(scenarios: &[(PathBuf, Scenario)]) -> Vec<String> {
    let rows: Vec<[String; 6]> = scenarios
        .iter()
        .map(|(path, s)| {
            let t = &s.topology;
            let topology = format!(
                "{} master{}, {} agent{}, {} zk",
                t.masters.value,
                if t.masters.value == 1 { "" } else { "s" },
                t.agents.value,
                if t.agents.value == 1 { "" } else { "s" },
                t.zookeeper_count()
            );
            let distribution = match s.distribution.value {
                Distribution::Local => "local",
                Distribution::Upstream => "upstream",
            };
            [
                s.name.value.clone(),
                format!("{} -> {}", s.from.value, s.to.value),
                distribution.to_string(),
                topology,
                path.display().to_string(),
                list_runs_here(&runnable::runnability(s, &crate::plan::plan(s))),
            ]
        })
        .collect();
    let mut widths = [0; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// `runs here: yes`, `runs here: yes, skips <step>, <step>` or `runs here: no: <reason>`.
fn list_runs_here(r: &runnable::Runnability) -> String {
    if r.runs_here.is_err() || r.skipped.is_empty() {
        return r.verdict();
    }
    let what: Vec<&str> = r.skipped.iter().map(|s| s.what.as_str()).collect();
    format!("{}, skips {}", r.verdict(), what.join(", "))
}

fn list(path: &Path) -> ExitCode {
    // A listing, not a review: `check` shows the warnings.
    let (valid, invalid, problems) = match load_all(&[path.to_path_buf()], false) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    for line in list_lines(&valid) {
        if let Err(code) = out(&format!("{line}\n")) {
            return code;
        }
    }
    if invalid == 0 && problems == 0 {
        ExitCode::Ok
    } else {
        note!(
            "{invalid} invalid scenario file{} not listed",
            if invalid == 1 { "" } else { "s" }
        );
        ExitCode::InvalidInput
    }
}

/// `upgrade-harness drift FOLDER`.
fn drift_again(folder: &Path, json: bool) -> ExitCode {
    let read = |name: &str| -> Result<serde_json::Value, String> {
        let path = folder.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let report = read("result.json").and_then(|result| {
        let file = result
            .get("file")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("{}: no `file`", folder.join("result.json").display()))?
            .to_string();
        let scenario = scenario::load::load(Path::new(&file))
            .map_err(|d| d.render_with(&miette::GraphicalReportHandler::new()))?;
        let obs: crate::observation::Observations =
            serde_json::from_value(read("observations.json")?).map_err(|e| e.to_string())?;
        let apis = crate::drift::scenario_apis(&scenario, &crate::images::BuildOptions::default())?;
        Ok(crate::drift::drift(
            &scenario,
            &obs,
            apis.as_ref().map(|(a, b)| (a, b)),
        ))
    });
    match report {
        Ok(d) => out(&if json { d.json() + "\n" } else { d.markdown() })
            .err()
            .unwrap_or(ExitCode::Ok),
        Err(e) => {
            note!("error: {e}");
            ExitCode::InvalidInput
        }
    }
}
