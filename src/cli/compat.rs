//! `upgrade-harness compat plan|run DECLARATION`: the compatibility table (`crate::compat`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use regex::Regex;

use super::{note, out, report, ExitCode};
use crate::compat::{self, CompatOptions, Outcome};
use crate::run::RunOptions;

/// `compat` subcommands.
#[derive(Debug, Subcommand)]
pub enum CompatCommand {
    /// Print the expansion of a declaration: every cell with its test name and whether CI
    /// runs it; with CELL (`single/1.4.3-to-1.11.0`), that cell's generated scenario and its
    /// plan. No Docker.
    Plan {
        /// The declaration (`compat/real-1x.yaml`).
        file: PathBuf,
        /// One cell: `TOPOLOGY/FROM-to-TO`.
        cell: Option<String>,
    },
    /// Run the cells that have no cached result and write the table (`<out>/<name>.md`,
    /// `.html`, `.json`, and a page per failed cell). Exit 0 when every cell passed, 1 when
    /// one failed or was refused, 3 when one could not run.
    Run(RunArgs),
}

/// `compat run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The declaration (`compat/real-1x.yaml`).
    file: PathBuf,
    /// Where the table goes; its JSON there is read back as the cache.
    #[arg(long, default_value = "target/upgrade-harness/compat")]
    out: PathBuf,
    /// Clusters at once (default: `UPGRADE_HARNESS_MAX_CLUSTERS`, else 4); never more than
    /// the machine-wide cap that test runs share, whatever this says.
    #[arg(long)]
    jobs: Option<usize>,
    /// Only the cells whose name (`single/1.4.3-to-1.11.0`) this regular expression finds.
    #[arg(long, value_name = "REGEX")]
    only: Option<Regex>,
    /// Run the failed and refused cells again, even when cached (a cell whose outcome
    /// changes is marked flaky in the table).
    #[arg(long)]
    rerun_failed: bool,
    /// Run every selected cell, ignoring cached results.
    #[arg(long)]
    fresh: bool,
}

/// Runs a `compat` subcommand.
pub fn compat(command: CompatCommand) -> ExitCode {
    match command {
        CompatCommand::Plan { file, cell } => plan(&file, cell.as_deref()),
        CompatCommand::Run(args) => run(args),
    }
}

fn load(file: &std::path::Path) -> Result<compat::Compat, ExitCode> {
    compat::load(file).map_err(|d| {
        report(&d);
        ExitCode::InvalidInput
    })
}

fn plan(file: &std::path::Path, cell: Option<&str>) -> ExitCode {
    let c = match load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cells = compat::cells(&c);
    let Some(wanted) = cell else {
        let mut text = format!(
            "compat {}: {} cells ({} run by CI on every change)\n",
            c.name,
            cells.len(),
            cells.iter().filter(|x| x.ci).count()
        );
        for x in &cells {
            text.push_str(&format!(
                "{:<28} {:<40}{}\n",
                x.id(),
                x.test_name(),
                if x.ci { " ci" } else { "" }
            ));
        }
        return out(&text).err().unwrap_or(ExitCode::Ok);
    };
    let Some(x) = cells.iter().find(|x| x.id() == wanted) else {
        note!(
            "error: {wanted} is not a cell of {}; `upgrade-harness compat plan {}` lists them",
            file.display(),
            file.display()
        );
        return ExitCode::InvalidInput;
    };
    let text = compat::scenario_text(&c, x);
    let path = PathBuf::from(format!("{}::{}", file.display(), x.id()));
    match crate::scenario::load::parse_and_validate(&path, &text) {
        Ok(s) => out(&format!("{text}\n{}", crate::plan::plan(&s)))
            .err()
            .unwrap_or(ExitCode::Ok),
        Err(d) => {
            report(&d);
            ExitCode::Infrastructure
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let c = match load(&args.file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // Clusters at once: `--jobs`, within the machine-wide cap shared with test runs.
    let cap = match crate::run::slots::max_clusters_setting() {
        Ok(cap) => cap,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidInput;
        }
    };
    let jobs = args.jobs.unwrap_or(cap);
    let run = RunOptions::default();
    let opts = CompatOptions {
        out: args.out.clone(),
        work: run.out_root.join("compat-scenarios").join(&c.name),
        cache: run.build.cache_dir.join("compat"),
        run,
        jobs,
        only: args.only.clone(),
        rerun_failed: args.rerun_failed,
        fresh: args.fresh,
    };
    let command = format!(
        "upgrade-harness compat run {}{}",
        args.file.display(),
        if args.out.as_path() == std::path::Path::new("target/upgrade-harness/compat") {
            String::new()
        } else {
            format!(" --out {}", args.out.display())
        }
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    // Docker first: an unreachable engine is one sentence, before anything else.
    if let Err(e) = rt.block_on(crate::docker::Engine::connect()) {
        note!("error: {e}");
        return ExitCode::Infrastructure;
    }
    let started = std::time::Instant::now();
    let progress = |line: String| note!("{line}");
    match rt.block_on(compat::run_table(&c, &opts, command, &progress)) {
        Ok(done) => {
            let [md, _, _] = compat::run::table_paths(&opts.out, &c.name);
            let count = |o: Outcome| done.table.cells.iter().filter(|x| x.outcome == o).count();
            note!(
                "compat {}: {} cells ({} run now, {} cached) in {:.0} s: {} passed, {} failed, {} refused, {} not run; table: {}",
                c.name,
                done.table.cells.len(),
                done.ran,
                done.cached,
                started.elapsed().as_secs_f64(),
                count(Outcome::Passed),
                count(Outcome::Failed),
                count(Outcome::Refused),
                count(Outcome::NotRun),
                md.display()
            );
            if let Some(signal) = done.interrupted {
                note!("interrupted: the table holds the cells that finished; run the same command to go on");
                return ExitCode::of_signal(signal);
            }
            let selected =
                |x: &&compat::CellResult| args.only.as_ref().is_none_or(|r| r.is_match(&x.cell));
            let cells: Vec<_> = done.table.cells.iter().filter(selected).collect();
            if cells.iter().any(|x| x.outcome == Outcome::NotRun) {
                ExitCode::Infrastructure
            } else if cells.iter().any(|x| x.outcome != Outcome::Passed) {
                ExitCode::CheckFailed
            } else {
                ExitCode::Ok
            }
        }
        Err(e) => {
            note!("error: {e}");
            ExitCode::Infrastructure
        }
    }
}
