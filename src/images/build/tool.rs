//! Running the build's tools (binutils, compilers, `ldd`).

use std::process::Command;

use crate::images::error::{tail, ImagesError};

/// Runs a tool for the build of `what` (a version, or "ZooKeeper"); a missing tool becomes
/// one sentence naming the Debian package, a failure the command and its output's tail.
pub(in crate::images) fn run_tool(
    what: &str,
    cmd: &mut Command,
    package: &str,
) -> Result<std::process::Output, ImagesError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let shown = std::iter::once(program.clone())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ImagesError::ToolMissing {
                tool: program.clone(),
                package: package.to_string(),
                detail: e.to_string(),
            }
        } else {
            ImagesError::Tool {
                version: what.into(),
                command: tail(&shown, 300),
                stderr_tail: e.to_string(),
            }
        }
    })?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        if text.trim().is_empty() {
            text = String::from_utf8_lossy(&out.stdout).into_owned();
        }
        return Err(ImagesError::Tool {
            version: what.into(),
            command: tail(&shown, 300),
            stderr_tail: tail(&format!("{} ({})", text, out.status), 800),
        });
    }
    Ok(out)
}
