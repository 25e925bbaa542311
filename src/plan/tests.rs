//! Unit tests of the planning algorithm and the plan's queries (the listing itself is
//! snapshot-tested by `tests/scenarios.rs`).

use super::*;
use crate::domain::Version;
use crate::scenario::model::Scenario;

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn load(yaml: &str) -> Scenario {
    serde_saphyr::from_str::<Scenario>(yaml).expect("test scenario parses")
}

const BASE: &str = "format: 1\nname: t\nfrom: 0.14.0\nto: 0.15.0\ndistribution: local\n\
    topology: { masters: 1, agents: 2 }\nworkload: { tasks: 1 }\norder: documented\n";

#[test]
fn phases_follow_the_naming_rule() {
    let s = load(&format!(
        "{BASE}steps:\n  - install_master_binaries\n  - restart_masters_with_flag: {{ flags: {{ credentials: /c }} }}\n  - upgrade_agents\n  - restart_masters_with_flag: {{ flags: {{ authenticate: \"true\" }} }}\n  - restart_schedulers: {{ phase: failover }}\n"
    ));
    assert_eq!(
        phases(&s),
        [
            "start",
            "install_master_binaries",
            "restart_masters_with_flag/master-1",
            "restart_masters_with_flag",
            "upgrade_agents/agent-1",
            "upgrade_agents/agent-2",
            "upgrade_agents",
            "restart_masters_with_flag#2/master-1",
            "restart_masters_with_flag#2",
            "failover",
        ]
    );
}

#[test]
fn plan_phases_equal_the_validation_phases() {
    let s = load(&format!(
        "{BASE}steps:\n  - rebuild_modules\n  - upgrade_masters: {{ phase: masters }}\n  - install_agent_binaries\n  - reconfigure_agent_cgroups_mounts\n  - reboot_agents\n  - restart_agents_with_flag: {{ flags: {{ isolation: cgroups/cpu }} }}\n  - upgrade_masters\n  - upgrade_schedulers\n  - set_framework_checkpoint\n  - restart_schedulers\n  - upgrade_executors\n"
    ));
    assert_eq!(phases(&s), crate::scenario::phases::phases(&s));
}

#[test]
fn installed_binaries_run_from_the_next_restart() {
    let s = load(&format!(
        "{BASE}steps:\n  - install_master_binaries\n  - restart_masters\n"
    ));
    let p = plan(&s);
    let masters: Vec<&Action> = p
        .actions()
        .filter(|a| a.node.as_deref() == Some("master-1") && a.step.is_some())
        .collect();
    assert_eq!(masters[0].kind, ActionKind::InstallBinaries);
    assert_eq!(
        masters[0].running,
        Some(VersionChange::new(v("0.14.0"), v("0.14.0")))
    );
    assert_eq!(
        masters[0].installed,
        Some(VersionChange::new(v("0.14.0"), v("0.15.0")))
    );
    assert_eq!(masters[1].kind, ActionKind::RestartProcess);
    assert_eq!(
        masters[1].running,
        Some(VersionChange::new(v("0.14.0"), v("0.15.0")))
    );
    assert_eq!(p.final_versions()["master-1"], "0.15.0");
    assert_eq!(p.final_versions()["agent-1"], "0.14.0");
}

#[test]
fn flag_overrides_persist_across_later_restarts() {
    let s = load(&format!(
        "{BASE}steps:\n  - upgrade_agents: {{ unset_flags: [work_dir] }}\n  - restart_agents\n  - restart_agents_with_flag: {{ flags: {{ work_dir: /w }} }}\n"
    ));
    let p = plan(&s);
    let agent1: Vec<&Action> = p
        .actions()
        .filter(|a| a.node.as_deref() == Some("agent-1"))
        .collect();
    let unset = |a: &Action| a.overrides.as_ref().unwrap().unset.contains("work_dir");
    assert!(!unset(agent1[0]), "not removed at the start");
    assert!(unset(agent1[1]), "removed by upgrade_agents");
    assert!(unset(agent1[2]), "still removed after a plain restart");
    assert!(agent1[2].flags_unset.is_empty());
    assert!(!unset(agent1[3]));
    assert_eq!(agent1[3].overrides.as_ref().unwrap().set["work_dir"], "/w");
}

#[test]
fn versions_at_each_phase() {
    let s = load(&format!(
        "{BASE}steps:\n  - upgrade_agents\n  - upgrade_masters\n"
    ));
    let p = plan(&s);
    let at = |phase: &str| p.versions_at(phase).unwrap();
    assert_eq!(at("start")["agent-1"], "0.14.0");
    assert_eq!(at("upgrade_agents/agent-1")["agent-1"], "0.15.0");
    assert_eq!(at("upgrade_agents/agent-1")["agent-2"], "0.14.0");
    assert_eq!(at("upgrade_agents")["master-1"], "0.14.0");
    assert_eq!(at("upgrade_masters")["master-1"], "0.15.0");
    assert_eq!(p.versions_at("nope"), None);
}

#[test]
fn rebuild_modules_without_modules_is_a_no_op() {
    let s = load(&format!("{BASE}steps:\n  - rebuild_modules\n"));
    let p = plan(&s);
    let a = p.actions().last().unwrap();
    assert!(matches!(a.kind, ActionKind::NoOp { .. }), "{a:?}");
    assert_eq!(a.step.as_ref().unwrap().line, 10);
}

const SIX: &str = "format: 1\nname: t\nfrom: 1.10.0\nto: 1.11.0\ndistribution: local\n\
    topology: { masters: 1, agents: 4 }\nworkload: { tasks: 2 }\norder: inferred\nsteps:\n  - rebuild_modules\n  - upgrade_masters\n  - upgrade_agents\n  - upgrade_schedulers\n  - restart_schedulers\n  - upgrade_executors\n";

#[test]
fn the_same_seed_gives_the_same_plan() {
    let s = load(SIX);
    for seed in 0..50 {
        let a = plan_with(&s, Some(seed));
        let b = plan_with(&s, Some(seed));
        assert_eq!(a, b, "seed {seed}");
        assert_eq!(a.to_string(), b.to_string(), "seed {seed}");
        assert_eq!(a.seed, Some(seed));
    }
}

#[test]
fn seeds_vary_the_plan_and_no_seed_changes_nothing() {
    let s = load(SIX);
    assert_eq!(plan_with(&s, None), plan(&s));
    assert!(plan(&s).variations.is_empty());
    let listings: std::collections::BTreeSet<String> = (0..20)
        .map(|seed| plan_with(&s, Some(seed)).to_string())
        .collect();
    assert!(
        listings.len() > 10,
        "20 seeds gave {} plans",
        listings.len()
    );
    // What every seed may vary, some seed among 50 does.
    let all: Vec<String> = (0..50)
        .flat_map(|seed| plan_with(&s, Some(seed)).variations)
        .collect();
    for what in [
        "nodes in the order",
        "a pause of",
        "restarts abruptly",
        "kill_node",
        "pause_node",
        "partition_node",
    ] {
        assert!(
            all.iter().any(|v| v.contains(what)),
            "no seed gave {what:?}"
        );
    }
}

#[test]
fn a_seed_keeps_every_step_phase_and_every_node_action() {
    let s = load(SIX);
    let base = plan(&s).phases();
    for seed in 0..50 {
        let p = plan_with(&s, Some(seed));
        let phases = p.phases();
        // The scenario's own phases stay, in order (checks name them); a seed only adds.
        let kept: Vec<&String> = phases.iter().filter(|ph| base.contains(ph)).collect();
        let step_phases: Vec<&String> = base.iter().filter(|ph| !ph.contains('/')).collect();
        let kept_steps: Vec<&&String> = kept.iter().filter(|ph| !ph.contains('/')).collect();
        assert_eq!(
            kept_steps.len(),
            step_phases.len(),
            "seed {seed}: {phases:?}"
        );
        for ph in &base {
            assert!(phases.contains(ph), "seed {seed} lost phase {ph}");
        }
        assert_eq!(p.final_versions(), plan(&s).final_versions(), "seed {seed}");
    }
}

#[test]
fn fault_steps_resolve_their_target_and_track_versions() {
    let s = load(&SIX.replace(
        "  - upgrade_executors\n",
        "  - upgrade_executors\n  - kill_node: { target: master, restart_as: from, phase: downgraded }\n  - pause_node: { target: random, seconds: 3 }\n",
    ));
    let p = plan(&s);
    let faults: Vec<&Action> = p
        .actions()
        .filter(|a| matches!(a.kind, ActionKind::Fault(_)))
        .collect();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0].node.as_deref(), Some("master-1"));
    assert_eq!(p.final_versions()["master-1"], v("1.10.0"));
    let ActionKind::Fault(pause) = &faults[1].kind else {
        unreachable!()
    };
    assert!(matches!(&pause.target, crate::domain::FaultTarget::Node(_)));
    assert_eq!(pause.seconds, 3);
    assert!(p.phases().contains(&"downgraded".to_string()));
    assert!(p.phases().contains(&"pause_node".to_string()));
}
