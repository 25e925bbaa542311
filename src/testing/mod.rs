//! A folder of scenario files as tests, for this repository's `tests/scenarios.rs` and for any
//! other crate's `tests/upgrades.rs` (`harness = false`), like `trybuild` or `datatest` do.
//!
//! Each file `<folder>/<dir>/<stem>.yaml` gives two libtest-mimic trials named by
//! [`crate::scenario::TestName`] (the names `upgrade-harness matrix` prints):
//! - `plan::<dir>::<stem>`: loads and checks the scenario, plans it, and compares the plan
//!   listing with `<snapshots>/plans/<dir>/<stem>.snap`. Runs everywhere, no Docker.
//! - `run::<dir>::<stem>`: the real upgrade in Docker ([`crate::run::run_file`]). Scenarios
//!   that cannot run here are ignored with the reason (a version without an image, an
//!   `upstream` image neither present nor pullable); forced with `--ignored`, such a trial
//!   is reported ignored under `cargo test` and fails under nextest (which would show a
//!   runtime "ignored" as a pass). A passing run's normalized observations are compared with
//!   `<snapshots>/runs/<dir>/<stem>/<phase>/<node>.snap` and its API drift report with
//!   `<snapshots>/drift/<dir>/<stem>.snap`; a must-fail scenario (`expect_failure:`) must
//!   fail exactly as it says.
//!
//! and one more, `plan::no_orphaned_snapshots`: every snapshot belongs to a scenario file
//! and no `.snap.new` is pending. Run trials hold a machine-wide cluster slot ([`clusters`]).
//!
//! The smallest `tests/upgrades.rs` (docs/your-project.md has the complete setup):
//!
//! ```text
//! fn main() {
//!     upgrade_harness::testing::Scenarios::new(env!("CARGO_MANIFEST_DIR")).main()
//! }
//! ```
//!
//! The test binary is also the harness's helper programs (the node image's
//! `mesos-containerizer` and executor are links to one multi-call binary), so a crate that
//! depends on the harness needs no installed `upgrade-harness`: [`arguments`] serves a
//! helper when the binary is started under a helper's name.

pub mod clusters;
mod files;
mod images;
mod snapshots;
mod trials;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use files::ScenarioFile;
pub use libtest_mimic;
use libtest_mimic::{Arguments, Trial};
pub use trials::RunOutcome;

use crate::scenario::model::Scenario;

/// A project's own rule for its scenario files, checked by the plan trial: `Err` says what
/// is wrong.
pub type Convention = dyn Fn(&ScenarioFile, &Scenario) -> Result<(), String> + Send + Sync;

/// Whether a passing run of a file is compared with its snapshots.
pub type SnapshotRuns = dyn Fn(&ScenarioFile) -> bool + Send + Sync;

/// A folder of scenarios and where its snapshots and run folders live. Cheap to clone.
#[derive(Clone)]
pub struct Scenarios {
    root: PathBuf,
    folder: PathBuf,
    snapshots: PathBuf,
    out_root: PathBuf,
    conventions: Option<Arc<Convention>>,
    snapshot_runs: Arc<SnapshotRuns>,
}

impl Scenarios {
    /// The scenarios of the crate at `root` (pass `env!("CARGO_MANIFEST_DIR")`): files under
    /// `<root>/scenarios`, snapshots under `<root>/snapshots`, run folders under
    /// `<root>/target/upgrade-harness`.
    pub fn new(root: impl Into<PathBuf>) -> Scenarios {
        let root = root.into();
        Scenarios {
            folder: root.join(crate::scenario::test_name::SCENARIOS_FOLDER),
            snapshots: root.join("snapshots"),
            out_root: root.join("target/upgrade-harness"),
            root,
            conventions: None,
            snapshot_runs: Arc::new(|_| true),
        }
    }

    /// The folder of scenario files (relative to the root, or absolute).
    pub fn folder(mut self, folder: impl AsRef<Path>) -> Scenarios {
        self.folder = self.root.join(folder);
        self
    }

    /// The folder of snapshots (`plans/`, `runs/`, `drift/` below it).
    pub fn snapshots(mut self, folder: impl AsRef<Path>) -> Scenarios {
        self.snapshots = self.root.join(folder);
        self
    }

    /// Where run folders go.
    pub fn out_root(mut self, folder: impl AsRef<Path>) -> Scenarios {
        self.out_root = self.root.join(folder);
        self
    }

    /// A project rule every scenario file must follow, checked by its plan trial.
    pub fn conventions(
        mut self,
        rule: impl Fn(&ScenarioFile, &Scenario) -> Result<(), String> + Send + Sync + 'static,
    ) -> Scenarios {
        self.conventions = Some(Arc::new(rule));
        self
    }

    /// Which files' passing runs are compared with snapshots (default: all; must-fail runs
    /// never are).
    pub fn snapshot_runs_when(
        mut self,
        rule: impl Fn(&ScenarioFile) -> bool + Send + Sync + 'static,
    ) -> Scenarios {
        self.snapshot_runs = Arc::new(rule);
        self
    }

    /// The crate root given to [`Scenarios::new`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where run folders go.
    pub fn run_folders(&self) -> &Path {
        &self.out_root
    }

    /// Every scenario file, as `upgrade-harness check` and `matrix` find them; `Err` is the
    /// rendered diagnostics (a missing or empty folder).
    pub fn files(&self) -> Result<Vec<ScenarioFile>, String> {
        files::scenario_files(&self.root, &self.folder)
    }

    /// The plan and run trials of every file, and the orphaned-snapshots trial. Images of
    /// `upstream` scenarios are asked about only for run trials the filter selects.
    pub fn list(&self, args: &Arguments) -> Listing {
        let files = match self.files() {
            Ok(files) => files,
            Err(why) => {
                let shown = self.folder.display().to_string();
                return Listing {
                    trials: vec![Trial::test("plan::scenario_folder", move || {
                        Err(format!("{shown}: {why}").into())
                    })],
                    files: Vec::new(),
                };
            }
        };
        let mut images = images::ImageCheck::new();
        let mut listed = Vec::new();
        let mut trials = Vec::new();
        for file in files {
            // A file that does not parse still gets its plan trial, which reports the error.
            let scenario = crate::scenario::load(&file.path).ok();
            let name = file.name.run();
            let selected = match &args.filter {
                None => true,
                Some(f) if args.exact => &name == f,
                Some(f) => name.contains(f.as_str()),
            };
            let ignored = images::ignore_reason(scenario.as_ref(), &mut images, selected);
            trials.push(trials::plan_trial(self, &file));
            trials.push(trials::run_trial(
                self,
                &file,
                scenario.as_ref(),
                ignored.clone(),
            ));
            listed.push(Listed {
                file,
                scenario,
                ignored,
            });
        }
        trials.push(snapshots::orphans_trial(self, &listed));
        Listing {
            trials,
            files: listed,
        }
    }

    /// Runs `listing`'s trials (with any the caller added) and exits: 0 when all passed,
    /// 101 when one failed, 130/143 after SIGINT/SIGTERM (no new cluster starts after a
    /// signal; the runs in flight are removed).
    pub fn run(&self, args: &Arguments, listing: Listing) -> ! {
        // insta finds its workspace (config, paths in snapshot headers) from the crate whose
        // source holds the assertion, the harness: the scenarios' crate is the one meant.
        if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none() {
            std::env::set_var("INSTA_WORKSPACE_ROOT", &self.root);
        }
        if !args.list {
            clusters::stop_on_signals(clusters::OnSignal::MainExits);
            let ignored = listing.files.iter().filter(|f| f.ignored.is_some()).count();
            eprintln!(
                "scenarios in {}: {} files; {} run:: trials run real upgrades in Docker, {ignored} are ignored \
                 (each with its reason: an image not present and not pullable, a version without an image)",
                self.folder.display(),
                listing.files.len(),
                listing.files.len() - ignored,
            );
        }
        let conclusion = libtest_mimic::run(args, listing.trials);
        if let Some(signal) = clusters::stopping() {
            std::process::exit(clusters::finish(signal));
        }
        conclusion.exit();
    }

    /// The whole `main` of a `harness = false` test: [`arguments`], [`Scenarios::list`],
    /// [`Scenarios::run`].
    pub fn main(self) -> ! {
        let args = arguments();
        let listing = self.list(&args);
        self.run(&args, listing)
    }

    /// How trials run a scenario: run folders in [`Scenarios::run_folders`], no progress
    /// lines, `reach` forced when given.
    pub fn run_options(&self, reach: Option<crate::docker::Reach>) -> crate::run::RunOptions {
        crate::run::RunOptions {
            out_root: self.out_root.clone(),
            progress: false,
            reach,
            ..crate::run::RunOptions::default()
        }
    }

    /// Runs one scenario file once in a cluster slot (see [`RunOutcome`]).
    pub fn run_once(
        &self,
        path: &Path,
        opts: crate::run::RunOptions,
    ) -> Result<RunOutcome, libtest_mimic::Failed> {
        trials::run_once(path, opts)
    }

    /// The real upgrade of `file`, with its snapshots compared (what a `run::` trial does);
    /// the report when the run happened.
    pub fn real_run(
        &self,
        file: &ScenarioFile,
        reach: Option<crate::docker::Reach>,
    ) -> Result<(libtest_mimic::Completion, Option<crate::report::RunReport>), libtest_mimic::Failed>
    {
        trials::real_run(self, file, reach)
    }
}

/// What [`Scenarios::list`] made: the trials, and each file with what was decided about it.
pub struct Listing {
    /// Push your own trials here before [`Scenarios::run`].
    pub trials: Vec<Trial>,
    /// Every file, in file order.
    pub files: Vec<Listed>,
}

/// One listed file.
pub struct Listed {
    /// The file and its names.
    pub file: ScenarioFile,
    /// The scenario, when the file is valid.
    pub scenario: Option<Scenario>,
    /// Why its run trial is ignored, when it is.
    pub ignored: Option<String>,
}

/// The test binary's arguments. When the binary was started under a task helper's name (in
/// a node: it is the image's `mesos-containerizer`, executor and launcher), it is that helper
/// and exits here; otherwise it becomes the helper binary node images get (when no
/// `upgrade-harness` binary is beside it: see `run::workload::helpers::harness_binary`).
pub fn arguments() -> Arguments {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if let Some(helper) = crate::task_helpers::by_argv0(&argv0) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let vars = std::env::vars().collect();
        std::process::exit(helper.main_with(&argv0.to_string_lossy(), &args, &vars));
    }
    crate::run::this_binary_serves_helpers();
    Arguments::from_args()
}
