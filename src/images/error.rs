//! Errors of the per-version builds: each message says what went wrong and
//! what to do about it.

use std::path::PathBuf;

/// Why a per-version Mesos build failed.
#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    #[error(
        "unknown Mesos version {version}: the PyPI builds exist for {known}; pick one of those"
    )]
    UnknownVersion { version: String, known: String },

    #[error("pip is not usable (`{python} -m pip` failed: {detail}); install it with `apt-get install -y python3-pip` or set the python interpreter in BuildOptions")]
    PipMissing { python: String, detail: String },

    #[error("pip did not reveal the download URL of mesos.scheduler=={version}.linux-x86_64; check network access to the package index (pip said: {output_tail})")]
    PipNoUrl {
        version: String,
        output_tail: String,
    },

    #[error("downloading {url} failed: {detail}; check network access to files.pythonhosted.org (or your pip mirror) and retry")]
    Download { url: String, detail: String },

    #[error("the tarball of Mesos {version} has SHA-256 {actual} but the pinned one is {expected}; the file was deleted, retry the download and if it persists the package index serves a different file")]
    ChecksumMismatch {
        version: String,
        expected: String,
        actual: String,
    },

    #[error("{tool} is not available ({detail}); install it with `apt-get install -y {package}`")]
    ToolMissing {
        tool: String,
        package: String,
        detail: String,
    },

    #[error("the Debian library {file} needed by Mesos {version} is missing from {dir}; install it with `apt-get install -y {package}`")]
    LibraryMissing {
        version: String,
        file: String,
        dir: PathBuf,
        package: String,
    },

    #[error("libmesos of {version} needs {soname}, which the build knows no source for; add it to the library table in src/images/versions.rs")]
    UnknownLibrary { version: String, soname: String },

    #[error("{path} of the Mesos {version} tarball was not found; the package layout changed, update src/images/versions.rs")]
    SoNotInTarball { version: String, path: String },

    #[error("the FlagsBase offset inside slave::Flags of Mesos {version} could not be derived from the disassembly of slave::Flags::Flags(): {detail}; the build refuses to guess, extend the extraction in src/images/elf/flags_base.rs")]
    FlagsOffset { version: String, detail: String },

    #[error("libmesos {version} does not export {missing} symbol(s) the launcher was compiled to call with MESOS_AGENT_ABI={abi}: {symbols}; fix the version's AgentAbi in src/images/versions.rs")]
    MissingMesosSymbols {
        version: String,
        abi: u32,
        missing: usize,
        symbols: String,
    },

    #[error("the launcher of Mesos {version} failed its self-check (layout facts or library loading); output: {output_tail}")]
    SelfCheck {
        version: String,
        output_tail: String,
    },

    #[error("`{command}` failed while building Mesos {version}: {stderr_tail}")]
    Tool {
        version: String,
        command: String,
        stderr_tail: String,
    },

    #[error(
        "{action} {path} failed: {source}; check permissions and free space in the cache directory"
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ImagesError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ImagesError {
        let path = path.into();
        move |source| ImagesError::Io {
            action,
            path,
            source,
        }
    }
}

/// The last `max` characters of a tool's output, on one line.
pub(crate) fn tail(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    let start = trimmed.len().saturating_sub(max);
    let mut start = start;
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    let t = &trimmed[start..];
    let prefix = if start > 0 { "..." } else { "" };
    format!("{prefix}{}", t.replace('\n', " | "))
}
