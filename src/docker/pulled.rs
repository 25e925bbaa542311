//! Images the harness did not build: found on the engine or pulled from a registry, asked
//! what they contain (their configuration, a command run in a throwaway container), and
//! files copied out of them.
//!
//! Nothing here knows what the image holds; the caller says which commands to run and which
//! paths to copy. Every container made here carries the run label of the caller's run id and
//! the owner labels, so a sweep removes what a killed harness left, and it is removed as soon
//! as its answer is read.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, DownloadFromContainerOptions, LogsOptions,
    RemoveContainerOptions, StartContainerOptions, WaitContainerOptions,
};
use futures_util::{StreamExt, TryStreamExt};

use super::engine::Engine;
use super::error::{api, Error, Result};
use super::exec::ExecOutput;
use super::labels::{Owner, RUN_LABEL};

/// What an image says about itself (`docker image inspect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The reference asked for.
    pub reference: String,
    /// The image ID (`sha256:...`): what the content is, whatever the tag says.
    pub id: String,
    /// `ENTRYPOINT`, exec form (a shell-form entry point is `["/bin/sh", "-c", "..."]`).
    pub entrypoint: Vec<String>,
    /// `CMD`, exec form.
    pub cmd: Vec<String>,
    /// `ENV`, `KEY=VALUE`.
    pub env: Vec<String>,
}

/// The image `reference` (a `name:tag`, a digest or a local image ID) as the engine has it,
/// or `None` when the engine does not have it.
pub async fn local_image(engine: &Engine, reference: &str) -> Result<Option<ImageConfig>> {
    match engine.client().inspect_image(reference).await {
        Ok(inspect) => {
            let config = inspect.config.unwrap_or_default();
            Ok(Some(ImageConfig {
                reference: reference.to_string(),
                id: inspect.id.unwrap_or_default(),
                entrypoint: config.entrypoint.unwrap_or_default(),
                cmd: config.cmd.unwrap_or_default(),
                env: config.env.unwrap_or_default(),
            }))
        }
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(api(format!("inspect image {reference}"))(e)),
    }
}

/// Whether the registry of `reference` would serve it: asks for its manifest only (nothing
/// is downloaded). `Err` is the engine's answer, e.g. `no such host` without a network.
pub async fn registry_has(engine: &Engine, reference: &str) -> std::result::Result<(), String> {
    engine
        .client()
        .inspect_registry_image(reference, None)
        .await
        .map(|_| ())
        .map_err(|e| one_line(&e.to_string()))
}

/// The image `reference`, pulled first when the engine does not have it. `progress` gets
/// one line per layer state change (`<layer>: Downloading`, ...). A failed pull is
/// [`Error::Pull`], naming the reference.
pub async fn ensure_image(
    engine: &Engine,
    reference: &str,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<ImageConfig> {
    if let Some(config) = local_image(engine, reference).await? {
        return Ok(config);
    }
    let pull_error = |cause: String| Error::Pull {
        reference: reference.to_string(),
        cause: one_line(&cause),
    };
    if looks_like_image_id(reference) {
        return Err(pull_error(
            "it is an image ID, which only the engine that has it can give".to_string(),
        ));
    }
    progress(&format!("pulling {reference}"));
    let options = CreateImageOptions {
        from_image: Some(reference.to_string()),
        ..Default::default()
    };
    let mut stream = engine.client().create_image(Some(options), None, None);
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| pull_error(e.to_string()))?;
        let line = match (&info.id, &info.status) {
            (Some(id), Some(status)) => format!("{reference}: {id}: {status}"),
            (None, Some(status)) => format!("{reference}: {status}"),
            _ => continue,
        };
        if line != last {
            progress(&line);
            last = line;
        }
    }
    local_image(engine, reference).await?.ok_or_else(|| {
        pull_error("the engine reported no error, but does not have the image".to_string())
    })
}

/// A bare image ID (`sha256:<64 hex>` or 12-64 hex digits): no registry can serve it.
fn looks_like_image_id(reference: &str) -> bool {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    (12..=64).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A throwaway container of `image` (created, never started unless asked), labelled with
/// `run_id`, removed by [`Throwaway::remove`].
struct Throwaway<'a> {
    engine: &'a Engine,
    id: String,
    image: String,
}

impl<'a> Throwaway<'a> {
    async fn create(
        engine: &'a Engine,
        image: &str,
        run_id: &str,
        argv: &[&str],
    ) -> Result<Throwaway<'a>> {
        let mut labels: HashMap<String, String> = Owner::current().labels();
        labels.insert(RUN_LABEL.to_string(), run_id.to_string());
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            // Exec form, replacing the image's entry point and command.
            entrypoint: Some(argv.iter().take(1).map(|s| s.to_string()).collect()),
            cmd: Some(argv.iter().skip(1).map(|s| s.to_string()).collect()),
            labels: Some(labels),
            network_disabled: Some(true),
            ..Default::default()
        };
        let created = engine
            .client()
            .create_container(None::<CreateContainerOptions>, body)
            .await
            .map_err(api(format!("create a container of image {image}")))?;
        Ok(Throwaway {
            engine,
            id: created.id,
            image: image.to_string(),
        })
    }

    async fn remove(self) -> Result<()> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self
            .engine
            .client()
            .remove_container(&self.id, Some(options))
            .await
        {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(api(format!(
                "remove the throwaway container of image {}",
                self.image
            ))(e)),
        }
    }

    /// Starts it and waits for its exit; its output and exit code.
    async fn run(&self) -> Result<ExecOutput> {
        let client = self.engine.client();
        let action = || format!("run {} in a container of image {}", self.id, self.image);
        client
            .start_container(&self.id, None::<StartContainerOptions>)
            .await
            .map_err(api(action()))?;
        let mut code = 0;
        let mut waits = client.wait_container(&self.id, None::<WaitContainerOptions>);
        while let Some(item) = waits.next().await {
            match item {
                Ok(r) => code = r.status_code,
                Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
                Err(e) => return Err(api(action())(e)),
            }
        }
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut logs = client.logs(&self.id, Some(options));
        while let Some(chunk) = logs.next().await {
            match chunk.map_err(api(action()))? {
                bollard::container::LogOutput::StdErr { message } => {
                    stderr.extend_from_slice(&message)
                }
                other => stdout.extend_from_slice(&other.into_bytes()),
            }
        }
        Ok(ExecOutput {
            code,
            stdout,
            stderr,
        })
    }

    /// Copies the regular file (or the target of the symlink) at `path` to `dest`.
    async fn copy_out(&self, path: &str, dest: &Path) -> Result<()> {
        let action = format!("copy {path} out of image {}", self.image);
        let options = DownloadFromContainerOptions { path: path.into() };
        let archive: Vec<u8> = self
            .engine
            .client()
            .download_from_container(&self.id, Some(options))
            .map_ok(|chunk| chunk.to_vec())
            .try_concat()
            .await
            .map_err(api(&action))?;
        let mut tar = tar::Archive::new(archive.as_slice());
        let mut entries = tar
            .entries()
            .map_err(|e| Error::Invalid(format!("{action}: {e}")))?;
        let mut entry = entries
            .next()
            .ok_or_else(|| Error::Invalid(format!("{action}: empty archive")))?
            .map_err(|e| Error::Invalid(format!("{action}: {e}")))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(Error::Invalid(format!(
                "{action}: not a regular file (give the path a symlink resolves to)"
            )));
        }
        let io = |source| Error::Io {
            path: dest.to_path_buf(),
            source,
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut out = std::fs::File::create(dest).map_err(io)?;
        std::io::copy(&mut entry, &mut out).map_err(io)?;
        out.flush().map_err(io)
    }
}

/// Runs `argv` (exec form, no shell unless `argv` names one) in a throwaway container of
/// `image` without network, labelled with `run_id`; its output and exit code. The container
/// is removed whatever happens.
pub async fn run_in_image(
    engine: &Engine,
    image: &str,
    run_id: &str,
    argv: &[&str],
) -> Result<ExecOutput> {
    let container = Throwaway::create(engine, image, run_id, argv).await?;
    let out = container.run().await;
    let removed = container.remove().await;
    let out = out?;
    removed?;
    Ok(out)
}

/// Copies files out of `image` (never started): each `(path in the image, destination on
/// this machine)`; a path must be a regular file. The throwaway container carries `run_id`
/// and is removed whatever happens.
pub async fn copy_from_image(
    engine: &Engine,
    image: &str,
    run_id: &str,
    files: &[(String, std::path::PathBuf)],
) -> Result<()> {
    let container = Throwaway::create(engine, image, run_id, &["/none"]).await?;
    let mut outcome = Ok(());
    for (path, dest) in files {
        outcome = container.copy_out(path, dest).await;
        if outcome.is_err() {
            break;
        }
    }
    let removed = container.remove().await;
    outcome?;
    removed
}

/// Tags `source` as `repository:tag` (e.g. an image built here under a registry-like name).
pub async fn tag_image(engine: &Engine, source: &str, repository: &str, tag: &str) -> Result<()> {
    let options = bollard::query_parameters::TagImageOptions {
        repo: Some(repository.to_string()),
        tag: Some(tag.to_string()),
    };
    engine
        .client()
        .tag_image(source, Some(options))
        .await
        .map_err(api(format!("tag image {source} as {repository}:{tag}")))
}

/// Removes every image labelled `label` (any value), all its tags, unless a container uses
/// it. Returns the removed image IDs.
pub async fn remove_images_with_label(engine: &Engine, label: &str) -> Result<Vec<String>> {
    let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
    let images = engine
        .client()
        .list_images(Some(bollard::query_parameters::ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(api(format!("list images labelled {label}")))?;
    let mut removed = Vec::new();
    for image in images {
        let options = bollard::query_parameters::RemoveImageOptions {
            force: true,
            ..Default::default()
        };
        match engine
            .client()
            .remove_image(&image.id, Some(options), None)
            .await
        {
            Ok(_) => removed.push(image.id),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => {}
            Err(e) => return Err(api(format!("remove image {}", image.id))(e)),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_are_told_from_references() {
        assert!(looks_like_image_id(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ));
        assert!(looks_like_image_id("0123456789ab"));
        assert!(!looks_like_image_id("mesosphere/mesos-master:1.7.3"));
        assert!(!looks_like_image_id("abc"));
    }
}
