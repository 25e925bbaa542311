//! Whether the agents' own view of their resources agrees with the leading master's: a
//! reservation made through the master (`POST /master/reserve`, `/unreserve`) reaches the
//! agent asynchronously, so a snapshot taken right after it may catch the agent before it.

use serde_json::Value;

/// Agent ID -> `unreserved_resources` as the master's `/master/state` lists its agents.
pub fn master_view(master_state: &Value) -> Vec<(String, Value)> {
    master_state["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["id"].as_str().unwrap_or("").to_string(),
                a["unreserved_resources"].clone(),
            )
        })
        .collect()
}

/// Where agent state (`/slave(1)/state`) and the master's view of that agent disagree on its
/// unreserved resources: `None` when they agree (or the master does not list the agent).
pub fn disagreement(agent_state: &Value, master: &[(String, Value)]) -> Option<String> {
    let id = agent_state["id"].as_str()?;
    let (_, said) = master.iter().find(|(a, _)| a == id)?;
    let own = &agent_state["unreserved_resources"];
    (own != said).then(|| format!("agent {id} has unreserved {own}, the master says {said}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_agent_behind_the_master_disagrees_until_it_catches_up() {
        let master = master_view(&json!({"slaves": [
            {"id": "S1", "unreserved_resources": {"cpus": 2.0, "mem": 1024.0}},
        ]}));
        let behind = json!({"id": "S1", "unreserved_resources": {"cpus": 1.9, "mem": 1024.0}});
        let caught_up = json!({"id": "S1", "unreserved_resources": {"cpus": 2.0, "mem": 1024.0}});
        let unknown = json!({"id": "S9", "unreserved_resources": {"cpus": 1.0}});
        assert!(disagreement(&behind, &master).unwrap().contains("1.9"));
        assert_eq!(disagreement(&caught_up, &master), None);
        assert_eq!(disagreement(&unknown, &master), None);
    }
}
