//! The node image of a run: every version's build the plan needs, the task helpers, and
//! ZooKeeper when the plan has ZooKeeper nodes.

use std::collections::BTreeMap;

use crate::docker::{self, ImageSpec};
use crate::domain::{Role, Version};
use crate::image_builds;
use crate::images;
use crate::mesos::roles;
use crate::plan::{NodeImage, Plan};
use crate::report::BuildRecord;
use crate::scenario::model::{Distribution, Scenario};
use serde_saphyr::Spanned;

use super::{workload, InfraError, RunOptions};

/// Builds (or finds) every version the plan needs and the node image holding them (also used
/// by tests that build a cluster without a whole run, e.g. `tests/ha_quorum.rs`).
pub async fn prepare_images(
    engine: &docker::Engine,
    plan: &Plan,
    opts: &RunOptions,
) -> Result<String, InfraError> {
    Ok(prepare_node_image(engine, plan, opts).await?.0)
}

/// `upstream`: replaces the scenario's images of a version by `UPGRADE_HARNESS_IMAGES`'s,
/// then by `opts.images` (`run --image`), before the scenario is judged runnable and planned
/// (so a version the scenario names no image for can be given one). The error names the
/// variable and what is wrong with its value.
pub(super) fn apply_image_overrides(
    scenario: &mut Scenario,
    opts: &RunOptions,
) -> Result<(), String> {
    if scenario.distribution.value == Distribution::Local {
        return Ok(());
    }
    let env = match std::env::var(image_builds::IMAGES_ENV) {
        Ok(text) => image_builds::parse_overrides(&text)
            .map_err(|e| format!("{}: {e}", image_builds::IMAGES_ENV))?,
        Err(_) => BTreeMap::new(),
    };
    for overrides in [&env, &opts.images] {
        for v in [scenario.from_version(), scenario.to_version()] {
            if let Some(refs) = overrides.get(&v) {
                let unknown = serde_saphyr::Location::UNKNOWN;
                scenario
                    .images
                    .insert(v.to_string(), Spanned::new(refs.clone(), unknown, unknown));
            }
        }
    }
    Ok(())
}

/// [`prepare_images`], with the builds in the image and their hashes (for the report).
pub(super) async fn prepare_node_image(
    engine: &docker::Engine,
    plan: &Plan,
    opts: &RunOptions,
) -> Result<(String, Vec<BuildRecord>), InfraError> {
    let mut versions: Vec<Version> = Vec::new();
    for node in &plan.nodes {
        if let NodeImage::Host { builds } = &node.image {
            for v in builds {
                if !versions.contains(v) {
                    versions.push(*v);
                }
            }
        }
    }
    let mut executor_builds = vec![plan.from, plan.to];
    if plan.distribution == Distribution::Local && !opts.image_versions.is_empty() {
        // One image for every run that asks for the same set: the same content whatever
        // the pair (so the same content hash, built once).
        versions = versions
            .into_iter()
            .chain(opts.image_versions.iter().copied())
            .collect();
        versions.sort();
        versions.dedup();
        executor_builds = versions.clone();
    }
    let (harness, mut links) = workload::task_helper_files(
        &versions,
        &executor_builds,
        &opts.build.cache_dir.join("task-helpers"),
    )
    .map_err(InfraError::Helpers)?;
    let (mesos_roots, mut records) = match plan.distribution {
        Distribution::Local => local_builds(&versions, opts).await?,
        Distribution::Upstream => {
            // The version's `mesos-launcher` is the harness binary's launcher helper.
            for v in &versions {
                links.push(docker::ImageLink {
                    dest: roles::launcher_path(*v),
                    target: harness.dest.clone(),
                });
            }
            builds_from_images(engine, &versions, &plan.images, opts, &harness.source).await?
        }
    };
    let zookeeper = zookeeper_build(plan, opts).await?;
    if let Some(zk) = &zookeeper {
        records.push(BuildRecord {
            build: "zookeeper".to_string(),
            hash: zk.hash.clone(),
        });
    }
    let spec = ImageSpec {
        repository: super::NODE_IMAGE.to_string(),
        roots: zookeeper
            .map(|zk| zk.rootfs)
            .into_iter()
            .chain(mesos_roots)
            .collect(),
        files: vec![harness],
        links,
        labels: BTreeMap::from([(
            "upgrade-harness.versions".to_string(),
            versions
                .iter()
                .map(Version::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )]),
        ..ImageSpec::default()
    };
    let image = docker::build_image(engine, &spec).await?;
    Ok((image.reference, records))
}

/// `local`: every version built here from PyPI; the roots and their records.
async fn local_builds(
    versions: &[Version],
    opts: &RunOptions,
) -> Result<(Vec<std::path::PathBuf>, Vec<BuildRecord>), InfraError> {
    let build_opts = opts.build.clone();
    let to_build = versions.to_vec();
    let builds = tokio::task::spawn_blocking(move || {
        to_build
            .iter()
            .map(|v| images::build_version(&v.to_string(), &build_opts))
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let records = builds
        .iter()
        .map(|b| BuildRecord {
            build: format!("mesos {}", b.version),
            hash: b.hash.clone(),
        })
        .collect();
    Ok((builds.into_iter().map(|b| b.rootfs).collect(), records))
}

/// `upstream`: the base root (what the harness binary needs in a node), then every version
/// taken from its images (`image_builds`); the roots and their records.
async fn builds_from_images(
    engine: &docker::Engine,
    versions: &[Version],
    sources: &BTreeMap<Version, Vec<String>>,
    opts: &RunOptions,
    harness: &std::path::Path,
) -> Result<(Vec<std::path::PathBuf>, Vec<BuildRecord>), InfraError> {
    let cache = opts.build.cache_dir.clone();
    let binary = harness.to_path_buf();
    let base =
        tokio::task::spawn_blocking(move || image_builds::base_root(&cache, &binary)).await??;
    let mut roots = vec![base];
    let mut records = Vec::new();
    let show = opts.progress;
    let mut say = move |line: &str| {
        if show {
            eprintln!("  {line}");
        }
    };
    for v in versions {
        let refs = sources.get(v).cloned().unwrap_or_default();
        let build =
            image_builds::build_from_images(engine, *v, &refs, &opts.build.cache_dir, &mut say)
                .await?;
        records.push(BuildRecord {
            build: format!("mesos {v} from {}", build.sources.join(" + ")),
            hash: build.hash.clone(),
        });
        roots.push(build.rootfs);
    }
    Ok((roots, records))
}

/// The ZooKeeper build, when the plan has ZooKeeper nodes (its root is merged into the node
/// image: every node can run it, only ZooKeeper nodes do).
async fn zookeeper_build(
    plan: &Plan,
    opts: &RunOptions,
) -> Result<Option<images::ZooKeeperBuild>, InfraError> {
    if !plan.nodes.iter().any(|n| n.role == Role::ZooKeeper) {
        return Ok(None);
    }
    let build_opts = opts.build.clone();
    let build = tokio::task::spawn_blocking(move || images::build_zookeeper(&build_opts)).await??;
    Ok(Some(build))
}
