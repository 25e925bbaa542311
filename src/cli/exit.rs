//! The exit codes of every command, chosen from the kind of outcome in one place.

use crate::docker::{self, ShutdownSignal};
use crate::images::ImagesError;
use crate::matrix::MatrixError;
use crate::report::overview::OverviewError;
use crate::report::RunReport;
use crate::run::RunError;

/// Exit codes of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything passed.
    Ok = 0,
    /// A check of a run failed.
    CheckFailed = 1,
    /// A scenario file (or other input) is invalid.
    InvalidInput = 2,
    /// The infrastructure failed: Docker unreachable, an image build failed.
    Infrastructure = 3,
    /// Stopped by Ctrl-C (128 + SIGINT), after removing what the run created.
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + SIGTERM), after removing what the run created.
    Terminated = 143,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

impl ExitCode {
    /// A run that gave a verdict: 0 when everything passed, 1 when a check, an invariant or
    /// an action failed. A cleanup problem after the verdict does not change it.
    pub fn of_report(report: &RunReport) -> ExitCode {
        if report.as_expected() {
            ExitCode::Ok
        } else {
            ExitCode::CheckFailed
        }
    }

    /// A run that gave no verdict, by the kind of error.
    pub fn of_run_error(e: &RunError) -> ExitCode {
        match e {
            RunError::Invalid(_) | RunError::NotRunnable(_) | RunError::Setting(_) => {
                ExitCode::InvalidInput
            }
            RunError::Infrastructure(_) => ExitCode::Infrastructure,
            RunError::Interrupted(signal) => ExitCode::of_signal(*signal),
        }
    }

    /// A matrix that cannot be printed: the jobs asked for do not fit the format (exit 2);
    /// the YAML writer failing is ours (exit 3).
    pub fn of_matrix_error(e: &MatrixError) -> ExitCode {
        match e {
            MatrixError::TooManyJobs { .. } | MatrixError::NoTestName(_) => ExitCode::InvalidInput,
            MatrixError::Yaml(_) => ExitCode::Infrastructure,
        }
    }

    /// Stopped by a signal, after removing what the run created: 128 + the signal's number.
    pub fn of_signal(signal: ShutdownSignal) -> ExitCode {
        match signal {
            ShutdownSignal::Interrupt => ExitCode::Interrupted,
            ShutdownSignal::Terminate => ExitCode::Terminated,
        }
    }
}

/// For `--help`.
pub(super) const EXIT_CODES: &str =
    "Exit codes: 0 ok, 1 a check failed, 2 invalid input, 3 infrastructure, 130/143 interrupted.";

/// Why a command other than `run` (`images build`, `clean`, `report`) failed; its kind picks the code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// What was asked for does not exist (an unknown version, an unknown run id): exit 2.
    #[error("{0}")]
    Invalid(String),
    /// The Docker engine or one of its calls: exit 3.
    #[error(transparent)]
    Docker(#[from] docker::Error),
    /// A Mesos build: exit 3.
    #[error(transparent)]
    Images(#[from] ImagesError),
    /// The overview of runs: a folder that is not there is exit 2, reading or writing exit 3.
    #[error(transparent)]
    Overview(#[from] OverviewError),
}

impl CommandError {
    /// The exit code of this kind of failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Invalid(_) => ExitCode::InvalidInput,
            CommandError::Overview(OverviewError::NoFolder(_)) => ExitCode::InvalidInput,
            CommandError::Docker(_) | CommandError::Images(_) | CommandError::Overview(_) => {
                ExitCode::Infrastructure
            }
        }
    }
}
