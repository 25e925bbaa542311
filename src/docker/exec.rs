//! Running commands in nodes (`docker exec`), and node-init modes.

use std::path::PathBuf;
use std::time::Duration;

use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error::{api, Error, Result};
use super::node_init::PATH_IN_NODE;
use super::run::Run;

/// What a command printed and how it exited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code (-1 when the engine did not report one).
    pub code: i64,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (lossy, trimmed), for error messages.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

impl Run {
    /// Runs `argv` in the node and collects its output (never fails on a
    /// non-zero exit: look at `code`).
    pub async fn exec(&self, node: &str, argv: &[&str]) -> Result<ExecOutput> {
        self.exec_env(node, argv, &[]).await
    }

    /// [`Run::exec`] with extra environment variables (`KEY=VALUE`).
    pub async fn exec_env(&self, node: &str, argv: &[&str], env: &[String]) -> Result<ExecOutput> {
        self.exec_input(node, argv, env, None).await
    }

    /// [`Run::exec_env`] feeding `stdin` to the command (then end of file).
    pub async fn exec_input(
        &self,
        node: &str,
        argv: &[&str],
        env: &[String],
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput> {
        let info = self.node(node)?;
        let what = format!("exec {argv:?} in node {node}");
        let docker = self.engine().client();
        let config = ExecConfig {
            attach_stdin: Some(stdin.is_some()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(argv.iter().map(|s| s.to_string()).collect()),
            env: Some(env.to_vec()),
            ..Default::default()
        };
        let created = docker
            .create_exec(&info.container_id, config)
            .await
            .map_err(api(&what))?;
        let mut out = ExecOutput::default();
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = docker
            .start_exec(&created.id, None)
            .await
            .map_err(api(&what))?
        {
            // Feed and drain at once: a command may fill its output pipe
            // before it has read all of its input.
            let feed = async {
                if let Some(data) = stdin {
                    input.write_all(data).await?;
                    input.shutdown().await?;
                }
                Ok::<_, std::io::Error>(())
            };
            let drain = async {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(api(&what))? {
                        bollard::container::LogOutput::StdErr { message } => {
                            out.stderr.extend_from_slice(&message)
                        }
                        other => out.stdout.extend_from_slice(&other.into_bytes()),
                    }
                }
                Ok::<_, Error>(())
            };
            let (fed, drained) = tokio::join!(feed, drain);
            drained?;
            fed.map_err(|source| Error::Io {
                path: PathBuf::from(format!("<stdin of {what}>")),
                source,
            })?;
        }
        out.code = self.exec_exit_code(&created.id, &what).await?;
        Ok(out)
    }

    /// The exit code, once the engine has noticed the exec ended.
    async fn exec_exit_code(&self, exec_id: &str, what: &str) -> Result<i64> {
        for _ in 0..100 {
            let inspect = self
                .engine()
                .client()
                .inspect_exec(exec_id)
                .await
                .map_err(api(what))?;
            if inspect.running != Some(true) {
                return Ok(inspect.exit_code.unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(-1)
    }

    /// Runs a node-init mode; a non-zero exit becomes [`Error::Command`].
    pub(super) async fn node_init(
        &self,
        node: &str,
        args: &[&str],
        env: &[String],
    ) -> Result<ExecOutput> {
        let mut argv = vec![PATH_IN_NODE];
        argv.extend_from_slice(args);
        let out = self.exec_env(node, &argv, env).await?;
        if out.code != 0 {
            return Err(Error::Command {
                node: node.to_string(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
                code: out.code,
                stderr: out.stderr_text(),
            });
        }
        Ok(out)
    }
}
