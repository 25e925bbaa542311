//! `upgrade-harness certify MANIFEST`: vendor module certification (`crate::certify`).

use std::path::PathBuf;

use clap::Args;
use regex::Regex;

use super::{note, report, ExitCode};
use crate::certify::{self, CertifyOptions, Class};
use crate::run::RunOptions;

/// The default report folder.
const DEFAULT_OUT: &str = "target/upgrade-harness/certify";

/// `certify`.
#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// The manifest (`module-fixtures/certify.yaml`).
    file: PathBuf,
    /// Where the reports go.
    #[arg(long, default_value = DEFAULT_OUT)]
    out: PathBuf,
    /// Clusters at once for the paths (default: `UPGRADE_HARNESS_MAX_CLUSTERS`, else 4).
    #[arg(long)]
    jobs: Option<usize>,
    /// Only the paths whose name (`1.10.0-to-1.11.0`) this regular expression finds (and
    /// their versions and controls).
    #[arg(long, value_name = "REGEX")]
    only: Option<Regex>,
    /// Run every path again, ignoring cached path results.
    #[arg(long)]
    fresh: bool,
}

/// Runs `certify`.
pub fn certify(args: CertifyArgs) -> ExitCode {
    let c = match certify::load(&args.file) {
        Ok(c) => c,
        Err(d) => {
            report(&d);
            return ExitCode::InvalidInput;
        }
    };
    // Clusters at once: `--jobs`, within the machine-wide cap shared with test runs.
    let jobs = match crate::run::slots::max_clusters_setting() {
        Ok(cap) => args.jobs.unwrap_or(cap),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidInput;
        }
    };
    let run = RunOptions::default();
    let opts = CertifyOptions {
        out: args.out.clone(),
        work: run.out_root.join("certify-work").join(&c.name),
        cache: run.build.cache_dir.join("certify"),
        run,
        jobs,
        only: args.only.clone(),
        fresh: args.fresh,
    };
    let mut command = format!("upgrade-harness certify {}", args.file.display());
    if args.out.as_path() != std::path::Path::new(DEFAULT_OUT) {
        command.push_str(&format!(" --out {}", args.out.display()));
    }
    if let Some(only) = &args.only {
        command.push_str(&format!(" --only '{only}'"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime can be built");
    if let Err(e) = rt.block_on(crate::docker::Engine::connect()) {
        note!("error: {e}");
        return ExitCode::Infrastructure;
    }
    let progress = |line: String| note!("{line}");
    match rt.block_on(certify::certify(&c, &opts, command, &progress)) {
        Ok(done) => {
            let cert = &done.certificate;
            let [md, _, _] = certify::run::report_paths(&opts.out, &c.name);
            let as_required = cert.entries.iter().filter(|e| e.passed()).count();
            let disagree = cert
                .entries
                .iter()
                .filter(|e| e.agrees == Some(false))
                .count();
            note!(
                "certify {}: {} of {} verdicts as required, {} pre-flight disagreement(s), in {:.0} s; report: {}",
                c.name,
                as_required,
                cert.entries.len(),
                disagree,
                cert.seconds,
                md.display()
            );
            if let Some(signal) = done.interrupted {
                return ExitCode::of_signal(signal);
            }
            if cert.entries.iter().any(|e| e.outcome == Class::NotRun) {
                ExitCode::Infrastructure
            } else if cert.passed() {
                ExitCode::Ok
            } else {
                ExitCode::CheckFailed
            }
        }
        Err(e) => {
            note!("error: {e}");
            ExitCode::Infrastructure
        }
    }
}
