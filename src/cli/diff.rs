//! `upgrade-harness diff FROM TO` and `diff --all`: the drift report between two versions
//! without an upgrade. One small cluster per version (one master, one agent, one task) is
//! started and observed at `start`; the observations are cached per build (the build's
//! content hash and [`PROBE_FORMAT`]), so a second call for the same builds starts nothing.
//! Each cluster is also asked every v1 operator call that only reads (`GET_*` of
//! `mesos.v1.master.Call.Type` and `mesos.v1.agent.Call.Type`, from that version's own
//! descriptors) as `POST /api/v1` probes of its scenario: status and field paths of each
//! answer are compared. They live here, not in every scenario run, so that no per-phase
//! snapshot changes.
//! The protobuf APIs of the two builds (`crate::mesos::protos`) are read from their
//! `libmesos.so` and cached per build hash as well.
//! `--all` writes the atlas of every consecutive pair of the local builds
//! (`crate::drift::atlas`). Design notes: docs/snapshots.md, "upgrade-harness diff".

use std::path::{Path, PathBuf};

use crate::domain::{Role, Version};
use crate::drift::{self, Drift};
use crate::images::{build_version, BuildOptions};
use crate::mesos::protos::{self, ProtoApi};
use crate::mesos::versions;
use crate::observation::Observations;
use crate::run::{self, RunOptions};
use crate::scenario::model::Distribution;
use crate::snapshot::Render;

/// Version of what a cached observation holds: bump it when probing changes what is
/// recorded, so that older cached observations are not compared with newer ones.
pub const PROBE_FORMAT: u32 = 4;

/// Where observations are cached and run folders go.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Builds and cached observations (`<cache>/observations/`).
    pub build: BuildOptions,
    /// Run folders of the clusters started.
    pub runs: PathBuf,
    /// Ignore cached observations (and do not write them): start a fresh cluster.
    pub fresh: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            build: BuildOptions::default(),
            runs: PathBuf::from("target/upgrade-harness/diff"),
            fresh: false,
        }
    }
}

/// The observations of one cluster at `version`, and whether they came from the cache.
pub async fn observe(version: Version, opts: &DiffOptions) -> Result<(Observations, bool), String> {
    let text = version.to_string();
    let build = build_version(&text, &opts.build).map_err(|e| e.to_string())?;
    let cached = opts.build.cache_dir.join("observations").join(format!(
        "{text}-{}-probe{PROBE_FORMAT}.json",
        &build.hash[..16]
    ));
    if !opts.fresh {
        if let Ok(bytes) = std::fs::read(&cached) {
            if let Ok(obs) = serde_json::from_slice::<Observations>(&bytes) {
                return Ok((obs, true));
            }
        }
    }
    let api = protobuf(version, opts)?;
    let calls = |role| -> Vec<(String, String)> {
        protos::read_only_calls(&api, role)
            .into_iter()
            .map(|c| {
                let body = protos::call_body(&api, role, &c);
                (c, body)
            })
            .collect()
    };
    let calls = (calls(Role::Master), calls(Role::Agent));
    let file = scenario_file(version, &calls, &opts.runs)?;
    let run_opts = RunOptions {
        out_root: opts.runs.clone(),
        build: opts.build.clone(),
        progress: false,
        ..RunOptions::default()
    };
    let report = run::run_file(&file, &run_opts)
        .await
        .map_err(|e| format!("the cluster at {version} did not run: {e}"))?;
    let start = report.observations.phases.first();
    let started = start.is_some_and(|p| p.discovered && p.nodes.iter().all(|n| n.down.is_none()));
    if !report.passed() || !started {
        return Err(format!(
            "the cluster at {version} did not start cleanly; see {}",
            opts.runs.join(report.folder_name()).display()
        ));
    }
    let mut obs = report.observations;
    obs.phases.truncate(1);
    if !opts.fresh {
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(cached.parent().unwrap_or(Path::new(".")))?;
            let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, serde_json::to_vec(&obs).unwrap_or_default())?;
            std::fs::rename(&tmp, &cached)
        };
        write().map_err(|e| format!("caching {}: {e}", cached.display()))?;
    }
    Ok((obs, false))
}

/// A v1 call and its JSON body.
type Call = (String, String);

/// The scenario that starts one cluster at `version` and stops after one no-op step. A
/// scenario needs another version as `to`: the next known one (or, for the newest, the
/// one before as a downgrade); no node is ever moved to it. Its probes are the v1 operator
/// calls that only read (`GET_*`) the version's own descriptors list, master `calls.0` and
/// agent `calls.1` (call, JSON body), as `POST /api/v1` (`drift::v1_probe_name` names them).
fn scenario_file(
    version: Version,
    calls: &(Vec<Call>, Vec<Call>),
    dir: &Path,
) -> Result<PathBuf, String> {
    let known = versions::known(Distribution::Local);
    let i = known
        .iter()
        .position(|v| *v == version)
        .ok_or_else(|| format!("{version} is not a local build"))?;
    let (to, downgrade) = match known.get(i + 1) {
        Some(next) => (*next, ""),
        None if i > 0 => (known[i - 1], "downgrade: true\n"),
        None => return Err("only one local build: nothing to compare".to_string()),
    };
    let yaml = format!(
        "format: 1\nname: diff-{version}\n\
         description: One cluster at {version}, observed at start by upgrade-harness diff.\n\
         from: {version}\nto: {to}\n{downgrade}distribution: local\n\
         topology: {{ masters: 1, agents: 1 }}\nworkload: {{ tasks: 1 }}\n\
         order: {{ deviates: {{ reason: \"no upgrade: the cluster is only observed\" }} }}\n\
         steps: [rebuild_modules]\n"
    );
    let mut yaml = yaml;
    if !calls.0.is_empty() || !calls.1.is_empty() {
        yaml.push_str("probes:\n");
    }
    for (on, role, list) in [
        ("master", Role::Master, &calls.0),
        ("agents", Role::Agent, &calls.1),
    ] {
        for (call, body) in list {
            yaml.push_str(&format!(
                "  - {{ name: {}, on: {on}, post: /api/v1, body: '{body}' }}\n",
                drift::v1_probe_name(role, call)
            ));
        }
    }
    let dir = dir.join("scenarios");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let file = dir.join(format!("diff-{version}.yaml"));
    std::fs::write(&file, yaml).map_err(|e| format!("writing {}: {e}", file.display()))?;
    Ok(file)
}

/// The public protobuf API of the build of `version` (`crate::mesos::protos`), read from its
/// `libmesos.so` once and cached per build hash in `<cache>/protos/`.
pub fn protobuf(version: Version, opts: &DiffOptions) -> Result<ProtoApi, String> {
    protos::of_build(&version.to_string(), &opts.build)
}

/// The drift report between the clusters at `from` and `to`, and between their builds'
/// protobuf APIs.
pub async fn diff(from: Version, to: Version, opts: &DiffOptions) -> Result<Drift, String> {
    let (a, _) = observe(from, opts).await?;
    let b = if from == to && !opts.fresh {
        a.clone()
    } else {
        observe(to, opts).await?.0
    };
    let apis = (protobuf(from, opts)?, protobuf(to, opts)?);
    Ok(compare((from, &a, &apis.0), (to, &b, &apis.1)))
}

/// The drift report between two observed clusters (their `start` phases) and their builds'
/// protobuf APIs.
pub fn compare(
    from: (Version, &Observations, &ProtoApi),
    to: (Version, &Observations, &ProtoApi),
) -> Drift {
    let ((from, a, pa), (to, b, pb)) = (from, to);
    let nodes = |o: &Observations| {
        o.phases
            .first()
            .map(|p| p.nodes.clone())
            .unwrap_or_default()
    };
    let (na, nb) = (nodes(a), nodes(b));
    let (ra, rb) = (a.redactor(), b.redactor());
    drift::diff((&from, &na, &ra), (&to, &nb, &rb), Some((pa, pb)))
}

fn side(x: &(Version, Observations, ProtoApi)) -> (Version, &Observations, &ProtoApi) {
    (x.0, &x.1, &x.2)
}

/// The reports of every consecutive pair of the local builds, oldest first.
pub async fn all_pairs(opts: &DiffOptions) -> Result<Vec<Drift>, String> {
    let known = versions::known(Distribution::Local);
    let mut observed = Vec::new();
    for v in known {
        let (obs, cached) = observe(*v, opts).await?;
        super::note!("{v}: {}", if cached { "cached" } else { "observed" });
        observed.push((*v, obs, protobuf(*v, opts)?));
    }
    Ok(observed
        .windows(2)
        .map(|w| compare(side(&w[0]), side(&w[1])))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_scenario_probes_each_v1_call_on_its_role_and_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let call = |c: &str, body: &str| (c.to_string(), body.to_string());
        let calls = (
            vec![
                call("GET_HEALTH", r#"{"type": "GET_HEALTH"}"#),
                call(
                    "GET_METRICS",
                    r#"{"type": "GET_METRICS", "get_metrics": {}}"#,
                ),
            ],
            vec![call("GET_HEALTH", r#"{"type": "GET_HEALTH"}"#)],
        );
        let v: Version = "1.7.3".parse().unwrap();
        let file = scenario_file(v, &calls, dir.path()).unwrap();
        let s = crate::scenario::load::load(&file).expect("a valid scenario");
        let probes: Vec<(String, String, String)> = s
            .probes
            .iter()
            .map(|p| {
                let p = &p.value;
                (
                    p.name.value.clone(),
                    format!("{:?}", p.on.value),
                    p.body.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(probes.len(), 3, "{probes:?}");
        assert_eq!(probes[0].0, "v1-master-get_health");
        assert_eq!(probes[1].2, r#"{"type": "GET_METRICS", "get_metrics": {}}"#);
        assert_eq!(probes[2].0, "v1-agent-get_health");
        assert!(probes[2].1.contains("Agents"), "{probes:?}");
        assert!(s.probes.iter().all(|p| p
            .value
            .post
            .as_ref()
            .is_some_and(|x| x.value == "/api/v1")));
    }
}
