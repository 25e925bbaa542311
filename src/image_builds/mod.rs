//! The `upstream` distribution: each version's Mesos taken from Docker images.
//!
//! For a version and its image references (the scenario's `images:`, or the overrides of
//! `run --image` and `UPGRADE_HARNESS_IMAGES`), [`build_from_images`] makes the image present
//! (pulled when missing), asks it where the role's program is (the entry point and the
//! names of `mesos::distribution::program_names` on its `PATH`) and what it loads (`ldd` in
//! the image, with the image's own environment), and copies the program, every library and
//! the image's own loader out of it into a build directory laid out like the project's
//! local builds: `/opt/mesos/<version>/`, with a `launch.json` that the node's
//! `mesos-launcher` (a task helper, `task_helpers::launcher`) execs through the version's
//! own loader. The node image is then made exactly as for `local` (`run::images`), so the
//! long-lived node, process swap, tasks, snapshots and drift are the same code.
//!
//! Builds are cached by the image IDs (`<cache>/image-builds/<version>-<hash16>`): a tag
//! that moves to other content gives another build, which replaces the old one. Design notes: `docs/images.md`,
//! "Builds taken from images".

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::docker::{self, Engine};
use crate::domain::{Role, Version};
use crate::images::{normalize_tree, parse_ldd};
use crate::mesos::distribution::program_names;
use crate::mesos::roles::INSTALL_ROOT;
use crate::task_helpers::launcher::{LaunchTable, LAUNCH_FILE};

mod base;
#[cfg(test)]
mod tests;

pub use base::base_root;

/// Bump when the layout or the way files are found changes: old builds are then not reused.
pub const FORMAT: u32 = 1;

/// Environment variable: per-version image overrides for CI,
/// `VERSION=REF[,REF...][;VERSION=REF...]` (e.g. `1.7.3=mesosphere/mesos:1.7.3`).
pub const IMAGES_ENV: &str = "UPGRADE_HARNESS_IMAGES";

/// One version's Mesos taken from images.
#[derive(Debug, Clone)]
pub struct ImageBuild {
    pub version: Version,
    /// `<cache>/image-builds/<version>-<hash16>/rootfs`: merged into the node image.
    pub rootfs: PathBuf,
    /// sha256 of the format, the version and the image IDs.
    pub hash: String,
    /// `reference@image-id` of every image the build used.
    pub sources: Vec<String>,
    /// Whether the cache already had it.
    pub reused: bool,
}

/// Why a version could not be taken from its images.
#[derive(Debug, thiserror::Error)]
pub enum ImageBuildError {
    /// The scenario and the overrides name no image for the version.
    #[error("no image is named for Mesos {version}: add one under `images:` in the scenario, or pass `--image {version}=REF` (or {IMAGES_ENV}=\"{version}=REF\")")]
    NoImage { version: Version },
    /// Docker failed, including a pull that failed ([`docker::Error::Pull`]).
    #[error("{0}")]
    Docker(#[from] docker::Error),
    /// None of the images has a program of the role.
    #[error("none of the images of Mesos {version} ({images}) has {names} on its PATH or as its entry point")]
    ProgramMissing {
        version: Version,
        images: String,
        names: String,
    },
    /// The program was found but the image cannot say what it loads.
    #[error("`ldd {program}` in image {image} failed (exit {code}): {output}")]
    Ldd {
        image: String,
        program: String,
        code: i64,
        output: String,
    },
    /// Files of the build directory.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl ImageBuildError {
    /// The reference of an image that is absent and could not be pulled, if that is the error.
    pub fn unpullable_image(&self) -> Option<&str> {
        match self {
            ImageBuildError::Docker(docker::Error::Pull { reference, .. }) => Some(reference),
            _ => None,
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ImageBuildError {
    let what = what.into();
    move |source| ImageBuildError::Io { what, source }
}

/// Parses [`IMAGES_ENV`]'s value (also the form of `--image` values, one `VERSION=REF[,REF]`
/// each). Pure.
pub fn parse_overrides(text: &str) -> Result<BTreeMap<Version, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (version, refs) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: expected VERSION=REF[,REF...]"))?;
        let version: Version = version
            .trim()
            .parse()
            .map_err(|e| format!("`{part}`: {e}"))?;
        let refs: Vec<String> = refs
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .collect();
        if refs.is_empty() {
            return Err(format!("`{part}`: no image reference after `=`"));
        }
        out.entry(version).or_insert_with(Vec::new).extend(refs);
    }
    Ok(out)
}

/// Finds the programs named in `$@` (names or absolute paths): one line per program found,
/// `found<TAB>name<TAB>path<TAB>resolved path`.
const LOCATE: &str = r#"for n in "$@"; do
  p=$(command -v "$n" 2>/dev/null) || continue
  case "$p" in /*) ;; *) continue ;; esac
  r=$(readlink -f "$p" 2>/dev/null) || r="$p"
  printf 'found\t%s\t%s\t%s\n' "$n" "$p" "$r"
done"#;

/// `ldd` of `$1`, then its exit status on the last line.
const LDD: &str = r#"ldd "$1" 2>&1; echo "exit $?""#;

/// For each existing path in `$@`: `path<TAB>resolved path`.
const RESOLVE: &str = r#"for p in "$@"; do
  if [ -e "$p" ]; then printf '%s\t%s\n' "$p" "$(readlink -f "$p")"; fi
done"#;

/// Libraries glibc loads at run time (name resolution), copied when the image has them
/// beside its libc: they are not in `ldd`'s answer.
const RUNTIME_LIBRARIES: &[&str] = &["libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"];

/// A role's program found in an image.
#[derive(Debug, Clone)]
struct Found {
    image: String,
    name: String,
    path: String,
    resolved: String,
}

/// Takes `version`'s Mesos from `refs` (see the module documentation). `progress` gets one
/// line per pull state change and per step.
pub async fn build_from_images(
    engine: &Engine,
    version: Version,
    refs: &[String],
    cache_dir: &Path,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<ImageBuild, ImageBuildError> {
    if refs.is_empty() {
        return Err(ImageBuildError::NoImage { version });
    }
    let mut configs = Vec::new();
    for r in refs {
        configs.push(docker::ensure_image(engine, r, progress).await?);
    }
    let sources: Vec<String> = configs
        .iter()
        .map(|c| format!("{}@{}", c.reference, c.id))
        .collect();
    let hash = build_hash(version, &sources);
    let dir = cache_dir
        .join("image-builds")
        .join(format!("{version}-{}", &hash[..16]));
    let rootfs = dir.join("rootfs");
    if dir.join("build.json").is_file() {
        return Ok(ImageBuild {
            version,
            rootfs,
            hash,
            sources,
            reused: true,
        });
    }
    let run_id = docker::new_run_id();
    let tmp = cache_dir.join("image-builds").join(format!(
        ".tmp-{version}-{}-{}",
        &hash[..16],
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&tmp);
    let outcome = assemble(engine, version, &configs, &run_id, &tmp, progress).await;
    let record = match outcome {
        Ok(record) => record,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let text = serde_json::json!({
        "format": FORMAT,
        "version": version.to_string(),
        "hash": hash,
        "sources": sources,
        "programs": record,
    });
    fs::write(
        tmp.join("build.json"),
        serde_json::to_string_pretty(&text).unwrap_or_default(),
    )
    .map_err(io(format!("writing {}", tmp.join("build.json").display())))?;
    supersede(cache_dir, version, &sources, &hash);
    if fs::rename(&tmp, &dir).is_err() {
        // Another process finished the same build first: keep its copy.
        let _ = fs::remove_dir_all(&tmp);
        if !dir.join("build.json").is_file() {
            return Err(ImageBuildError::Io {
                what: format!("moving the build into {}", dir.display()),
                source: std::io::Error::other("rename failed"),
            });
        }
    }
    Ok(ImageBuild {
        version,
        rootfs,
        hash,
        sources,
        reused: false,
    })
}

/// Removes the builds of `version` taken from the same references when they pointed at other
/// content (a tag that moved, an image rebuilt): they would never be used again.
fn supersede(cache_dir: &Path, version: Version, sources: &[String], hash: &str) {
    let references = |sources: &[String]| -> Vec<String> {
        sources
            .iter()
            .map(|s| {
                s.rsplit_once('@')
                    .map_or(s.as_str(), |(r, _)| r)
                    .to_string()
            })
            .collect()
    };
    let ours = references(sources);
    let Ok(entries) = fs::read_dir(cache_dir.join("image-builds")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(other) = name.strip_prefix(&format!("{version}-")) else {
            continue;
        };
        if hash.starts_with(other) {
            continue;
        }
        let recorded: Option<Vec<String>> = fs::read_to_string(entry.path().join("build.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|j| serde_json::from_value(j["sources"].clone()).ok());
        if recorded.is_some_and(|r| references(&r) == ours) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn build_hash(version: Version, sources: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(format!("image-build format {FORMAT}\nversion {version}\n"));
    for s in sources {
        h.update(format!("source {s}\n"));
    }
    hex::encode(h.finalize())
}

/// Fills `tmp` with the build; returns what was found, for `build.json`.
async fn assemble(
    engine: &Engine,
    version: Version,
    configs: &[docker::ImageConfig],
    run_id: &str,
    tmp: &Path,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<serde_json::Value, ImageBuildError> {
    let opt = tmp
        .join("rootfs")
        .join(INSTALL_ROOT.trim_start_matches('/'))
        .join(version.to_string());
    fs::create_dir_all(&opt).map_err(io(format!("creating {}", opt.display())))?;
    let mut table = LaunchTable::default();
    let mut record = serde_json::Map::new();
    for role in [Role::Master, Role::Agent] {
        let found = locate(engine, version, role, configs, run_id).await?;
        progress(&format!(
            "Mesos {version} {}: {} in {}",
            role.as_str(),
            found.path,
            found.image
        ));
        let libs = closure(engine, &found, run_id).await?;
        let role_dir = opt.join(role.as_str());
        let lib_dir = role_dir.join("lib");
        let mut copies = vec![(found.resolved.clone(), role_dir.join(&found.name))];
        let mut loader = None;
        for (name, resolved) in &libs {
            let file = Path::new(name)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone());
            if name.starts_with('/') && file.starts_with("ld-") {
                loader = Some(file.clone());
            }
            copies.push((resolved.clone(), lib_dir.join(&file)));
        }
        docker::copy_from_image(engine, &found.image, run_id, &copies).await?;
        let in_node = |p: &Path| {
            format!(
                "/{}",
                p.strip_prefix(tmp.join("rootfs")).unwrap_or(p).display()
            )
        };
        let program = in_node(&role_dir.join(&found.name));
        let argv = match &loader {
            // The version's own loader with its own libraries: the node's /lib64 loader is
            // the harness machine's, which may be another glibc.
            Some(loader) => vec![
                in_node(&lib_dir.join(loader)),
                "--library-path".to_string(),
                in_node(&lib_dir),
                program,
            ],
            None => vec![program],
        };
        table.modes.insert(role.as_str().to_string(), argv);
        record.insert(
            role.as_str().to_string(),
            serde_json::json!({
                "image": found.image,
                "name": found.name,
                "path": found.path,
                "resolved": found.resolved,
                "libraries": libs.iter().map(|(n, p)| format!("{n} => {p}")).collect::<Vec<_>>(),
            }),
        );
    }
    let launch = opt.join(LAUNCH_FILE);
    fs::write(
        &launch,
        serde_json::to_string_pretty(&table).unwrap_or_default(),
    )
    .map_err(io(format!("writing {}", launch.display())))?;
    // 1.4.x agents require a file of this name in their launcher dir (docs/tasks.md); the
    // workload never runs it.
    let marker = opt.join("mesos-executor");
    fs::write(
        &marker,
        "#!/bin/sh\n# placeholder: the harness's tasks run on its own executor\nexit 1\n",
    )
    .map_err(io(format!("writing {}", marker.display())))?;
    let root = tmp.join("rootfs");
    normalize_tree(&root, &root).map_err(|e| ImageBuildError::Io {
        what: format!("normalizing {}", root.display()),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(serde_json::Value::Object(record))
}

/// The first image (in the order given) that has one of the role's programs, asked through
/// its entry point and its `PATH`.
async fn locate(
    engine: &Engine,
    version: Version,
    role: Role,
    configs: &[docker::ImageConfig],
    run_id: &str,
) -> Result<Found, ImageBuildError> {
    let names = program_names(role, version);
    for config in configs {
        let mut candidates: Vec<String> = Vec::new();
        if let Some(entry) = config.entrypoint.first() {
            let base = Path::new(entry)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            if base.is_some_and(|b| names.contains(&b.as_str())) {
                candidates.push(entry.clone());
            }
        }
        candidates.extend(names.iter().map(|n| n.to_string()));
        let mut argv = vec!["/bin/sh", "-c", LOCATE, "sh"];
        argv.extend(candidates.iter().map(String::as_str));
        let out = docker::run_in_image(engine, &config.id, run_id, &argv).await?;
        if let Some(found) = pick(&out.stdout_text(), names, &config.reference) {
            return Ok(found);
        }
    }
    Err(ImageBuildError::ProgramMissing {
        version,
        images: configs
            .iter()
            .map(|c| c.reference.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        names: names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" or "),
    })
}

/// The best line of [`LOCATE`]'s output: the first of `names` (in their order) that was
/// found; a path candidate counts as the name it ends with. Pure.
fn pick(output: &str, names: &[&str], image: &str) -> Option<Found> {
    let found: Vec<Found> = output
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            (f.next()? == "found").then_some(())?;
            let (asked, path, resolved) = (f.next()?, f.next()?, f.next()?);
            let name = Path::new(asked).file_name()?.to_string_lossy().into_owned();
            Some(Found {
                image: image.to_string(),
                name,
                path: path.to_string(),
                resolved: resolved.to_string(),
            })
        })
        .collect();
    names
        .iter()
        .find_map(|n| found.iter().find(|f| f.name == *n).cloned())
}

/// What the program loads, as `(name asked, resolved path in the image)`: `ldd`'s answer
/// plus glibc's run-time libraries beside libc.
async fn closure(
    engine: &Engine,
    found: &Found,
    run_id: &str,
) -> Result<Vec<(String, String)>, ImageBuildError> {
    let out = docker::run_in_image(
        engine,
        &found.image,
        run_id,
        &["/bin/sh", "-c", LDD, "sh", &found.resolved],
    )
    .await?;
    let text = out.stdout_text();
    let (entries, code) = ldd_answer(&text);
    let missing: Vec<&str> = entries
        .iter()
        .filter(|e| e.path.is_none())
        .map(|e| e.name.as_str())
        .collect();
    if code != 0 || entries.is_empty() || !missing.is_empty() {
        let output = if missing.is_empty() {
            text.trim().lines().take(5).collect::<Vec<_>>().join(" | ")
        } else {
            format!("not found: {}", missing.join(", "))
        };
        return Err(ImageBuildError::Ldd {
            image: found.image.clone(),
            program: found.resolved.clone(),
            code,
            output,
        });
    }
    let mut asked: Vec<(String, String)> = entries
        .iter()
        .filter_map(|e| Some((e.name.clone(), e.path.clone()?)))
        .collect();
    let libc = asked
        .iter()
        .find(|(n, _)| n.starts_with("libc.so"))
        .map(|(_, p)| p.clone());
    if let Some(libc) = libc {
        let dir = Path::new(&libc)
            .parent()
            .unwrap_or(Path::new("/"))
            .to_path_buf();
        for lib in RUNTIME_LIBRARIES {
            if !asked.iter().any(|(n, _)| n == lib) {
                asked.push((lib.to_string(), dir.join(lib).display().to_string()));
            }
        }
    }
    let mut argv = vec!["/bin/sh", "-c", RESOLVE, "sh"];
    argv.extend(asked.iter().map(|(_, p)| p.as_str()));
    let out = docker::run_in_image(engine, &found.image, run_id, &argv).await?;
    let resolved: BTreeMap<String, String> = out
        .stdout_text()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Ok(asked
        .into_iter()
        .filter_map(|(name, path)| resolved.get(&path).map(|r| (name, r.clone())))
        .collect())
}

/// [`LDD`]'s output: the entries and the exit status. Pure.
fn ldd_answer(text: &str) -> (Vec<crate::images::LddEntry>, i64) {
    let mut code = -1;
    let mut body = String::new();
    for line in text.lines() {
        match line.strip_prefix("exit ") {
            Some(c) => code = c.trim().parse().unwrap_or(-1),
            None => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    (parse_ldd(&body), code)
}
