//! The one error type of the Docker layer.
//!
//! Messages are lowercase fragments that read after "failed to ...", except
//! [`Error::Unreachable`], which is a whole sentence because the binary shows
//! it alone (and maps it to its own exit code).

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong in the Docker layer. Field names say what
/// they hold; the messages show them.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine did not answer a ping (or the address is malformed).
    #[error("cannot reach the Docker engine at {host}: {cause}; start Docker or set DOCKER_HOST")]
    Unreachable { host: String, cause: String },

    /// A Docker API call failed; `action` says what we were doing.
    #[error("{action}: {source}")]
    Api {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },

    /// The engine rejected or failed an image build; `log` is the build output tail.
    #[error("build image {reference}: {message}{}", log_suffix(log))]
    Build {
        reference: String,
        message: String,
        log: String,
    },

    /// Reading an input of an image build or of node-init failed.
    #[error("read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Two image inputs disagree about what a path is.
    #[error("merge image inputs: {path} is a directory in one input and a file in {input}")]
    LayerConflict { path: String, input: PathBuf },

    /// gcc is needed to build node-init and is not installed.
    #[error("compile node-init: `{gcc}` not found ({cause}); install gcc and static glibc (apt-get install gcc libc6-dev) or set CC")]
    CompilerMissing { gcc: String, cause: String },

    /// gcc ran and failed.
    #[error("compile node-init with {gcc}: {stderr}")]
    Compile { gcc: String, stderr: String },

    /// No /24 of the harness range is free on this engine.
    #[error("find a free /24 subnet in {range}: all candidates overlap existing networks or were rejected (last: {last})")]
    NoFreeSubnet { range: String, last: String },

    /// A node name that this run never created.
    #[error("find node {node} in run {run}: no such node")]
    UnknownNode { run: String, node: String },

    /// A node-level command (node-init or any argv) exited non-zero.
    #[error("run {argv:?} on node {node}: exit code {code}: {stderr}")]
    Command {
        node: String,
        argv: Vec<String>,
        code: i64,
        stderr: String,
    },

    /// node-init answered something we do not understand.
    #[error("understand node-init on node {node}: unexpected answer {answer:?} to {command}")]
    Protocol {
        node: String,
        command: String,
        answer: String,
    },

    /// A wait ran out of time; `last_seen` is the last observed state.
    #[error("wait for {what} on node {node}: not done after {:.1}s; last seen: {last_seen}", waited.as_secs_f64())]
    Timeout {
        node: String,
        what: String,
        waited: Duration,
        last_seen: String,
    },

    /// A process that will never report an exit status (absent, lost).
    #[error("wait for process {process} on node {node} to exit: no exit status will come; it is {state}")]
    NoExitStatus {
        node: String,
        process: String,
        state: String,
    },

    /// An image is not on the engine and pulling it failed (no registry, no such tag, no
    /// credentials); `cause` is the engine's word.
    #[error(
        "image {reference} is not present on this Docker engine and cannot be pulled: {cause}"
    )]
    Pull { reference: String, cause: String },

    /// Invalid input to the API (names, addresses).
    #[error("{0}")]
    Invalid(String),
}

/// The build output tail, on its own lines, when there is any.
fn log_suffix(log: &str) -> String {
    if log.trim().is_empty() {
        String::new()
    } else {
        format!("\nbuild output (last lines):\n{}", log.trim_end())
    }
}

/// Result of the Docker layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps a bollard error with what we were doing.
pub(crate) fn api(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Error {
    let action = action.into();
    move |source| Error::Api { action, source }
}
