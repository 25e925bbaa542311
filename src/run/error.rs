//! The runner's errors, typed by kind so that the command line picks the exit code from the
//! kind (`cli::exit`) and a test can tell "Docker unreachable" without reading text.

use crate::docker;
use crate::image_builds::ImageBuildError;
use crate::images::ImagesError;
use crate::mesos::client::ClientError;
use crate::mesos::readiness::WaitError;
use crate::mesos::roles::RoleError;
use crate::mesos::scheduler::FrameworkError;
use crate::scenario::Diagnostics;

/// Why a run could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario file is invalid (exit 2).
    #[error("{}", .0.render_plain(100))]
    Invalid(Diagnostics),
    /// The scenario cannot run on this machine (reported as skipped, never passed; exit 2).
    #[error("cannot run here: {0}")]
    NotRunnable(String),
    /// A setting from the environment has a value that means nothing (exit 2); says the
    /// variable, the value and the valid values.
    #[error("{0}")]
    Setting(String),
    /// Docker unreachable, an image build failed, a node could not be created (exit 3).
    #[error(transparent)]
    Infrastructure(#[from] InfraError),
    /// Ctrl-C or SIGTERM; everything created was removed (exit 130/143).
    #[error("interrupted by {0:?}; the run's containers and network were removed")]
    Interrupted(docker::ShutdownSignal),
}

impl RunError {
    /// Whether the Docker engine could not be reached at all.
    pub fn docker_unreachable(&self) -> bool {
        matches!(
            self,
            RunError::Infrastructure(InfraError::Docker(docker::Error::Unreachable { .. }))
        )
    }

    /// The reference of an image the run needed that is absent and could not be pulled.
    pub fn unpullable_image(&self) -> Option<&str> {
        match self {
            RunError::Infrastructure(InfraError::FromImages(e)) => e.unpullable_image(),
            _ => None,
        }
    }
}

/// What went wrong around the cluster rather than in it.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The Docker layer.
    #[error(transparent)]
    Docker(#[from] docker::Error),
    /// A Mesos or ZooKeeper build.
    #[error("image build failed: {0}")]
    Images(#[from] ImagesError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A file of the run folder or of the task helpers.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A blocking build task panicked or was cancelled.
    #[error("build task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The task helper programs could not be found or prepared.
    #[error("{0}")]
    Helpers(String),
    /// A module build of the scenario could not be built or found.
    #[error("module builds: {0}")]
    Modules(String),
    /// A framework program the harness builds (`libmesos_scheduler`) could not be built.
    #[error("framework programs: {0}")]
    Frameworks(String),
    /// A version of an `upstream` scenario could not be taken from its images (among them:
    /// an image that is absent and cannot be pulled).
    #[error(transparent)]
    FromImages(#[from] ImageBuildError),
}

/// Why an action failed or a phase could not be judged. Wraps the typed errors of the
/// Docker layer, the readiness waits, the Mesos client and the test framework.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The Docker layer (a node, a process, a file in a node).
    #[error(transparent)]
    Docker(#[from] docker::Error),
    /// A wait ran out of time; says what was last seen.
    #[error(transparent)]
    Wait(#[from] WaitError),
    /// A Mesos endpoint did not answer as expected.
    #[error(transparent)]
    Mesos(#[from] ClientError),
    /// The test framework.
    #[error(transparent)]
    Framework(#[from] FrameworkError),
    /// A node's Mesos command line could not be made (version, flag names).
    #[error(transparent)]
    Flags(#[from] RoleError),
    /// The cluster is not in a state the action can work with.
    #[error("{0}")]
    Cluster(String),
    /// What the runner was doing when `source` happened.
    #[error("{context}: {source}")]
    Context {
        /// What was being done.
        context: String,
        /// What went wrong.
        #[source]
        source: Box<StepError>,
    },
}

impl From<String> for StepError {
    fn from(why: String) -> Self {
        StepError::Cluster(why)
    }
}

impl From<&str> for StepError {
    fn from(why: &str) -> Self {
        StepError::Cluster(why.to_string())
    }
}

/// Adds what the runner was doing to an error.
pub trait Context<T> {
    /// Wraps the error with `context` (evaluated only on error).
    fn context(self, context: impl FnOnce() -> String) -> Result<T, StepError>;
}

impl<T, E: Into<StepError>> Context<T> for Result<T, E> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, StepError> {
        self.map_err(|e| StepError::Context {
            context: context(),
            source: Box::new(e.into()),
        })
    }
}
