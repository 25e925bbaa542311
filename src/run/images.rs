//! The node image of a run: every version's build the plan needs, the task helpers, and
//! ZooKeeper when the plan has ZooKeeper nodes.

use std::collections::BTreeMap;

use crate::docker::{self, ImageSpec};
use crate::domain::{Role, Version};
use crate::images;
use crate::plan::{NodeImage, Plan};
use crate::report::BuildRecord;

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
    let build_opts = opts.build.clone();
    let to_build = versions.clone();
    let builds = tokio::task::spawn_blocking(move || {
        to_build
            .iter()
            .map(|v| images::build_version(&v.to_string(), &build_opts))
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let executor_builds = [plan.from, plan.to];
    let (harness, links) = workload::task_helper_files(
        &versions,
        &executor_builds,
        &opts.build.cache_dir.join("task-helpers"),
    )
    .map_err(InfraError::Helpers)?;
    let mut records: Vec<BuildRecord> = builds
        .iter()
        .map(|b| BuildRecord {
            build: format!("mesos {}", b.version),
            hash: b.hash.clone(),
        })
        .collect();
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
            .chain(builds.iter().map(|b| b.rootfs.clone()))
            .collect(),
        files: vec![harness],
        links,
        labels: BTreeMap::from([(
            "upgrade-harness.versions".to_string(),
            builds
                .iter()
                .map(|b| b.version.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )]),
        ..ImageSpec::default()
    };
    let image = docker::build_image(engine, &spec).await?;
    Ok((image.reference, records))
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
