//! The pure stages: declaration errors, the expansion, the table's renderings and paths.

use std::collections::BTreeMap;
use std::path::Path;

use super::declaration::{parse, Direction};
use super::expand::{cells, scenario_text};
use super::table::{shortest_path, CellResult, Outcome, Table};
use crate::domain::Version;

const SMALL: &str = "format: 1
name: small
distribution: local
versions: [1.9.0, 1.10.0, 1.11.0]
directions: [upgrade, downgrade]
topologies:
  - name: single
    masters: 1
    agents: 2
    pairs: all
  - name: ha
    zookeeper: 1
    masters: 3
    agents: 1
    pairs: [1.9.0-to-1.11.0]
ci: [ha/1.9.0-to-1.11.0]
";

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn errors(text: &str) -> String {
    parse(Path::new("compat/x.yaml"), text)
        .err()
        .map(|d| d.render_plain(200))
        .unwrap_or_else(|| "no error".into())
}

#[test]
fn expands_every_ordered_pair_per_direction_and_the_listed_sample() {
    let c = parse(Path::new("compat/small.yaml"), SMALL).unwrap();
    let all = cells(&c);
    let ids: Vec<String> = all.iter().map(|x| x.id()).collect();
    assert_eq!(
        ids,
        [
            "single/1.9.0-to-1.10.0",
            "single/1.9.0-to-1.11.0",
            "single/1.10.0-to-1.9.0",
            "single/1.10.0-to-1.11.0",
            "single/1.11.0-to-1.9.0",
            "single/1.11.0-to-1.10.0",
            "ha/1.9.0-to-1.11.0",
        ]
    );
    assert_eq!(all[2].direction, Direction::Downgrade);
    assert_eq!(all[6].test_name(), "compat::ha::1_9_0-to-1_11_0");
    assert_eq!(all.iter().filter(|x| x.ci).count(), 1);
    // Deterministic: the same text twice.
    assert_eq!(scenario_text(&c, &all[0]), scenario_text(&c, &all[0]));
}

#[test]
fn declared_timeouts_reach_every_generated_scenario() {
    let text = SMALL.replace(
        "topologies:",
        "timeouts: { max_agent_ping_timeouts: 5, agent_ping_timeout: 2secs }\ntopologies:",
    );
    let c = parse(Path::new("compat/small.yaml"), &text).unwrap();
    for cell in cells(&c) {
        let s = crate::scenario::load::parse_and_validate(
            Path::new("gen.yaml"),
            &scenario_text(&c, &cell),
        )
        .unwrap();
        let t = crate::run::tuning(&s.timeouts);
        assert_eq!(t.agent_ping_timeout, std::time::Duration::from_secs(2));
        assert_eq!(t.max_agent_ping_timeouts, 5);
    }
}

#[test]
fn upgrades_only_when_asked() {
    let text = SMALL
        .replace("[upgrade, downgrade]", "[upgrade]")
        .replace("ci: [ha/1.9.0-to-1.11.0]\n", "");
    let c = parse(Path::new("compat/small.yaml"), &text).unwrap();
    assert!(cells(&c).iter().all(|x| x.from < x.to));
    assert_eq!(cells(&c).len(), 4);
}

#[test]
fn generated_scenarios_load_and_plan_with_the_order_and_checks() {
    let c = parse(Path::new("compat/small.yaml"), SMALL).unwrap();
    for cell in cells(&c) {
        let text = scenario_text(&c, &cell);
        let s = crate::scenario::load::parse_and_validate(Path::new("gen.yaml"), &text)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render_plain(200)));
        assert_eq!(s.from_version(), cell.from);
        assert_eq!(s.to_version(), cell.to);
        assert_eq!(s.downgrade, cell.direction == Direction::Downgrade);
        assert_eq!(
            s.topology.masters.value,
            if cell.topology == "ha" { 3 } else { 1 }
        );
        assert_eq!(s.checks.len(), 5, "{text}");
        let plan = crate::plan::plan(&s).to_string();
        assert!(
            plan.contains("upgrade_masters") && plan.contains("upgrade_agents"),
            "{plan}"
        );
    }
}

#[test]
fn bad_declarations_name_the_field_and_what_is_valid() {
    let e = errors(&SMALL.replace("[1.9.0, 1.10.0, 1.11.0]", "[1.9.0, 1.12.0]"));
    assert!(
        e.contains("`1.12.0` is not a known local build")
            && e.contains("versions")
            && e.contains("known: 1.4.3"),
        "{e}"
    );
    let e = errors(&SMALL.replace("[1.9.0-to-1.11.0]", "[1.9.0-to-1.4.3]"));
    assert!(
        e.contains("`1.9.0-to-1.4.3` is not a pair of this table") && e.contains("x.yaml:15:12"),
        "{e}"
    );
    let e = errors(&SMALL.replace("    zookeeper: 1\n", ""));
    assert!(e.contains("3 masters need `zookeeper: 1`"), "{e}");
    let e = errors(&SMALL.replace("ci: [ha/1.9.0-to-1.11.0]", "ci: [ha/1.10.0-to-1.11.0]"));
    assert!(
        e.contains("`ha/1.10.0-to-1.11.0` is not a cell of this table"),
        "{e}"
    );
    let e = errors(&SMALL.replace("pairs: all", "pairs: every"));
    assert!(
        e.contains("`pairs: every` is neither `all` nor a list"),
        "{e}"
    );
    let e = errors(&SMALL.replace("  - name: ha", "  - name: single"));
    assert!(e.contains("topology `single` is declared twice"), "{e}");
    let e = errors(&SMALL.replace("agents: 2", "agnets: 2"));
    assert!(
        e.contains("unknown field `agnets`") && e.contains(":9:"),
        "{e}"
    );
    let e = errors(&SMALL.replace("distribution: local", "distribution: upstream"));
    assert!(e.contains("`distribution: local` only"), "{e}");
    let e = errors(&SMALL.replace(
        "topologies:",
        "timeouts: { agent_ping_timeout: 2 }\ntopologies:",
    ));
    assert!(
        e.contains("invalid `timeouts.agent_ping_timeout`") && e.contains("`15secs`"),
        "{e}"
    );
    let e = errors("");
    assert!(e.contains("is empty") && e.contains("`topologies`"), "{e}");
}

fn result(from: &str, to: &str, outcome: Outcome) -> CellResult {
    CellResult {
        cell: format!("single/{from}-to-{to}"),
        topology: "single".into(),
        from: v(from),
        to: v(to),
        direction: if v(from) < v(to) {
            Direction::Upgrade
        } else {
            Direction::Downgrade
        },
        outcome,
        phase: (outcome != Outcome::Passed).then(|| "upgrade_agents/agent-1".to_string()),
        message: (outcome != Outcome::Passed)
            .then(|| "invariant tasks failed on agent-1".to_string()),
        key: "k".into(),
        seconds: 20.0,
        run: None,
        details: None,
        harness: "upgrade-harness 0.1.0".into(),
        earlier: Vec::new(),
    }
}

#[test]
fn shortest_path_takes_passing_steps_in_the_pairs_direction() {
    let cells = [
        result("1.9.0", "1.11.0", Outcome::Failed),
        result("1.9.0", "1.10.0", Outcome::Passed),
        result("1.10.0", "1.11.0", Outcome::Passed),
        result("1.11.0", "1.9.0", Outcome::Refused),
        result("1.11.0", "1.10.0", Outcome::Passed),
        result("1.10.0", "1.9.0", Outcome::Failed),
    ];
    let map: BTreeMap<(Version, Version), &CellResult> =
        cells.iter().map(|c| ((c.from, c.to), c)).collect();
    assert_eq!(
        shortest_path(&map, v("1.9.0"), v("1.11.0")),
        Some(vec![v("1.9.0"), v("1.10.0"), v("1.11.0")])
    );
    assert_eq!(shortest_path(&map, v("1.11.0"), v("1.9.0")), None);
}

#[test]
fn the_table_reads_as_a_grid_with_failures_explained_once() {
    let c = parse(Path::new("compat/small.yaml"), SMALL).unwrap();
    let mut table = Table::new(&c, "upgrade-harness compat run compat/small.yaml".into());
    table.cells = vec![
        result("1.9.0", "1.10.0", Outcome::Passed),
        result("1.9.0", "1.11.0", Outcome::Failed),
        result("1.10.0", "1.9.0", Outcome::Passed),
        result("1.10.0", "1.11.0", Outcome::Passed),
        result("1.11.0", "1.9.0", Outcome::Refused),
        result("1.11.0", "1.10.0", Outcome::NotRun),
    ];
    table.cells[4].message = Some("Mesos 1.9.0 in master-1 exited with 1 while starting".into());
    table.cells[5].message = Some("not run yet".into());
    table.cells[5].phase = None;
    let md = table.markdown();
    insta::assert_snapshot!("compat_table_small", md);
    // The JSON reads back into the same table (it is the cache).
    let back: Table = serde_json::from_str(&table.json()).unwrap();
    assert_eq!(back, table);
    assert_eq!(back.markdown(), md);
}
