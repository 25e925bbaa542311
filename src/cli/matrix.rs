//! `upgrade-harness matrix`: loads the scenarios, filters them and prints the CI job matrix
//! (the pure part is `crate::matrix`).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use regex::Regex;

use super::{load_all, note, out, ExitCode};
use crate::domain::{Distribution, Version};
use crate::matrix::{self, Filters, Format, VersionRange};

/// Arguments of `matrix`.
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Scenario files, or folders searched recursively for `*.yaml` / `*.yml`.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// `github`: `{"include": [...]}` on one line for `strategy.matrix: ${{ fromJSON(...) }}`;
    /// `gitlab`: a `parallel: matrix:` fragment with one `SCENARIO` value per job;
    /// `names`: the scenario tests' names (`run::local::1_10_0-to-1_11_0`), one per line.
    #[arg(long, value_enum, default_value_t = FormatArg::Github)]
    format: FormatArg,
    /// Only scenarios of this distribution.
    #[arg(long, value_enum)]
    distribution: Option<DistributionArg>,
    /// Only scenarios that `run` can run on this machine (`yes`) or that it cannot (`no`).
    #[arg(long, value_enum, value_name = "yes|no")]
    runnable: Option<YesNo>,
    /// Only upgrade paths that start or end at this version, e.g. 1.10.0.
    #[arg(long, value_name = "VERSION")]
    touching: Option<Version>,
    /// Only upgrade paths whose both versions lie in FROM..TO (both ends inclusive), e.g.
    /// 1.7.0..1.11.0.
    #[arg(long, value_name = "FROM..TO")]
    range: Option<VersionRange>,
    /// Only entries whose name (`local/1.10.0-to-1.11.0`: the path below `scenarios/`
    /// without extension) this regular expression finds.
    #[arg(long, value_name = "REGEX")]
    name: Option<Regex>,
    /// Only files in this folder: below `scenarios/` (`local`) or as a path
    /// (`scenarios/local`).
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Github,
    Gitlab,
    Names,
}

/// `--distribution`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DistributionArg {
    Local,
    Upstream,
}

/// `--runnable`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum YesNo {
    Yes,
    No,
}

/// Prints the matrix; nothing on stdout when a scenario file is invalid (a CI job list
/// that silently lacks a scenario would pass without running it).
pub(super) fn matrix(args: MatrixArgs) -> ExitCode {
    let (valid, invalid, _problems) = match load_all(&args.paths, false) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if invalid > 0 {
        note!(
            "{invalid} invalid scenario file{}: no matrix printed",
            if invalid == 1 { "" } else { "s" }
        );
        return ExitCode::InvalidInput;
    }
    let filters = Filters {
        distribution: args.distribution.map(|d| match d {
            DistributionArg::Local => Distribution::Local,
            DistributionArg::Upstream => Distribution::Upstream,
        }),
        runs_here: args.runnable.map(|r| matches!(r, YesNo::Yes)),
        touching: args.touching,
        range: args.range,
        name: args.name,
        folder: args.folder,
    };
    let format = match args.format {
        FormatArg::Github => Format::Github,
        FormatArg::Gitlab => Format::Gitlab,
        FormatArg::Names => Format::Names,
    };
    let entries = matrix::matrix(&valid, &filters);
    if entries.is_empty() {
        note!(
            "no scenario of the {} found passes the filters: the matrix is empty",
            valid.len()
        );
    }
    match matrix::render(&entries, format) {
        Ok(text) => out(&text).err().unwrap_or(ExitCode::Ok),
        Err(e) => {
            note!("error: {e}");
            ExitCode::of_matrix_error(&e)
        }
    }
}
