//! Readiness: every wait is a loop on a condition with a deadline, polling at a short interval
//! (no fixed sleeps), and its error names what was expected and what was last seen, e.g.
//! `master-1 (1.11.0) not leading after 30s; last /metrics/snapshot: master/elected=0`.
//!
//! Conditions, and why they are the right ones:
//! - master leading: `master/elected == 1` in `/metrics/snapshot`. Every master serves it,
//!   leader or not (a non-leader answers `/master/state` with 307), standalone or HA.
//! - agents active with given IDs: `/master/state` of the leader lists each expected
//!   hostname with `active: true` and, when known, the same agent ID as before.
//! - agent re-registered after it was replaced: same ID active in `/master/state`, no new
//!   registration counted by the master since a baseline, and the new agent process reports
//!   that ID, a master (`master_hostname` in `/slave(1)/state`) and `slave/registered = 1`.
//!   A different ID means the agent registered as a new agent: its tasks are gone.
//! - agents re-registered after a master was replaced: the new master process counts
//!   `master/slave_reregistrations` from 0; it must reach the number of agents with every ID
//!   unchanged.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::client::{ClientError, MasterState, MesosClient, Metrics};

/// How often conditions are polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A Mesos process to wait on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MesosNode {
    /// Node name (`master-1`, `agent-2`); also the Mesos hostname.
    pub name: String,
    /// Mesos version running there.
    pub version: crate::domain::Version,
    /// `http://ip:port` as reachable from the harness.
    pub base_url: String,
}

impl MesosNode {
    fn label(&self) -> String {
        format!("{} ({})", self.name, self.version)
    }
}

/// A wait that ran out of time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} after {}; last {seen}", human(*after))]
pub struct WaitError {
    /// What did not happen, e.g. `master-1 (1.11.0) not leading`.
    pub what: String,
    pub after: Duration,
    /// What was last seen, prefixed by where: `/metrics/snapshot: master/elected=0`.
    pub seen: String,
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Polls `probe` until it returns `Ok`, or the deadline passes; then returns the last `Err`
/// (what was seen). A probe that hangs is cut at the deadline.
pub async fn poll_until<T, F, Fut>(within: Duration, probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    poll_until_unless(within, probe, |_| false).await
}

/// [`poll_until`], but gives up at once on a seen value that `hopeless` says can never turn
/// into success (an agent that registered with a new ID will not get its old one back).
pub async fn poll_until_unless<T, F, Fut>(
    within: Duration,
    mut probe: F,
    hopeless: impl Fn(&str) -> bool,
) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    let deadline = started + within;
    let mut seen = Seen::default();
    loop {
        match tokio::time::timeout_at(deadline, probe()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(now)) if hopeless(&now) => return Err(now),
            Ok(Err(now)) => seen.record(now, started.elapsed()),
            Err(_) => return Err(seen.describe()),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(seen.describe());
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

/// What a wait's probes saw: the last answer, since when it was the same, and the answer
/// before it. "Last seen X" alone cannot tell an agent stuck on X for the whole wait from
/// one that reached X in the last probe.
#[derive(Default)]
struct Seen {
    /// The last answer, and when (since the wait began) it was first seen in a row.
    last: Option<(String, Duration)>,
    /// The answer before that streak.
    before: Option<String>,
}

impl Seen {
    fn record(&mut self, now: String, at: Duration) {
        match &self.last {
            Some((text, _)) if *text == now => {}
            _ => {
                self.before = self.last.take().map(|(text, _)| text);
                self.last = Some((now, at));
            }
        }
    }

    fn describe(&self) -> String {
        match (&self.last, &self.before) {
            (None, _) => "nothing (no probe completed)".to_string(),
            (Some((text, _)), None) => format!("{text} (on every probe)"),
            (Some((text, since)), Some(before)) => format!(
                "{text} (since {:.1}s into the wait; before that: {before})",
                since.as_secs_f64()
            ),
        }
    }
}

fn from_client(endpoint: &str, e: &ClientError) -> String {
    format!("{endpoint}: {}", e.brief())
}

/// Waits until `master` serves `/metrics/snapshot` with `master/elected = 1`.
pub async fn wait_master_elected(
    client: &MesosClient,
    master: &MesosNode,
    within: Duration,
) -> Result<(), WaitError> {
    poll_until(within, || async {
        let m = client
            .metrics_snapshot(&master.base_url)
            .await
            .map_err(|e| from_client("/metrics/snapshot", &e))?;
        elected(&m)
            .then_some(())
            .ok_or_else(|| format!("/metrics/snapshot: {}", m.describe(ELECTED)))
    })
    .await
    .map_err(|seen| WaitError {
        what: format!("{} not leading", master.label()),
        after: within,
        seen,
    })
}

const ELECTED: &str = "master/elected";

/// A timer Mesos lists only once the registrar fetched the registry: a master that leads
/// for real (elected and recovered) has it.
pub const REGISTRY_FETCHED: &str = "registrar/state_fetch_ms";

fn elected(m: &Metrics) -> bool {
    m.get(ELECTED) == Some(1.0)
}

/// Whether a master leads for real: elected, and its registry recovered. A master left
/// without a quorum also says `master/elected = 1`, while its recovery hangs until it aborts
/// after `--registry_fetch_timeout` (seen on 1.11.0: 62 s), so election alone is not enough.
pub fn leads(m: &Metrics) -> bool {
    elected(m) && m.get(REGISTRY_FETCHED).is_some()
}

/// A master's leadership in words: `Ok` when it [`leads`], else `Err` with what it shows
/// (elected in ZooKeeper but its registry not recovered: without a quorum of log replicas
/// that recovery cannot finish).
pub fn leadership(m: &Metrics) -> Result<String, String> {
    if leads(m) {
        Ok(format!(
            "{}, {}",
            m.describe(ELECTED),
            m.describe(REGISTRY_FETCHED)
        ))
    } else if elected(m) {
        Err(format!(
            "{} but its registry not recovered (no {REGISTRY_FETCHED})",
            m.describe(ELECTED)
        ))
    } else {
        Err(m.describe(ELECTED))
    }
}

/// Waits until exactly one of `masters` is leading and returns its index. With HA, the others
/// must be serving too (`master/elected = 0`): a master that does not answer is not ready.
pub async fn wait_leader(
    client: &MesosClient,
    masters: &[MesosNode],
    within: Duration,
) -> Result<usize, WaitError> {
    poll_until(within, || async {
        let mut leaders = Vec::new();
        let mut seen = Vec::new();
        for (i, m) in masters.iter().enumerate() {
            match client.metrics_snapshot(&m.base_url).await {
                Ok(metrics) => {
                    if leads(&metrics) {
                        leaders.push(i);
                    }
                    seen.push(format!(
                        "{}: {}, {}",
                        m.name,
                        metrics.describe(ELECTED),
                        metrics.describe(REGISTRY_FETCHED)
                    ));
                }
                Err(e) => seen.push(format!("{}: {}", m.name, e.brief())),
            }
        }
        let all_answer = seen.len() == masters.len() && !seen.iter().any(|s| !s.contains(ELECTED));
        match leaders.as_slice() {
            [one] if all_answer => Ok(*one),
            _ => Err(format!("/metrics/snapshot: {}", seen.join(", "))),
        }
    })
    .await
    .map_err(|seen| WaitError {
        what: format!(
            "no single leader among {}",
            masters
                .iter()
                .map(MesosNode::label)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        after: within,
        seen,
    })
}

/// An agent the cluster must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedAgent {
    /// The agent's hostname (its node name).
    pub hostname: String,
    /// Its agent ID, if known (after the first registration it must never change).
    pub id: Option<String>,
}

/// Waits until every expected agent is active on `master` (with its known ID) and returns
/// hostname -> agent ID.
pub async fn wait_agents_active(
    client: &MesosClient,
    master: &MesosNode,
    expected: &[ExpectedAgent],
    within: Duration,
) -> Result<BTreeMap<String, String>, WaitError> {
    poll_until(within, || async {
        let state = client
            .master_state(&master.base_url)
            .await
            .map_err(|e| from_client("/master/state", &e))?;
        agents_match(&state, expected)
            .ok_or_else(|| format!("/master/state: {}", state.describe_agents()))
    })
    .await
    .map_err(|seen| WaitError {
        what: format!("{} on {}", describe_expected(expected), master.label()),
        after: within,
        seen,
    })
}

/// hostname -> ID when every expected agent is active with the expected ID.
fn agents_match(
    state: &MasterState,
    expected: &[ExpectedAgent],
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for want in expected {
        let found = state.active_agents().find(|a| {
            a.hostname == want.hostname && want.id.as_ref().is_none_or(|id| *id == a.id)
        })?;
        out.insert(found.hostname.clone(), found.id.clone());
    }
    Some(out)
}

fn describe_expected(expected: &[ExpectedAgent]) -> String {
    let parts: Vec<String> = expected
        .iter()
        .map(|a| match &a.id {
            Some(id) => format!("{}={id}", a.hostname),
            None => a.hostname.clone(),
        })
        .collect();
    format!("agents [{}] not all active", parts.join(", "))
}

/// Registration counters of a master, taken before a step, to tell re-registrations apart.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RegistrationBaseline {
    pub registrations: f64,
    pub reregistrations: f64,
}

const REGISTRATIONS: &str = "master/slave_registrations";
const REREGISTRATIONS: &str = "master/slave_reregistrations";
const AGENT_REGISTERED: &str = "slave/registered";

/// Reads the master's registration counters now.
pub async fn registration_baseline(
    client: &MesosClient,
    master: &MesosNode,
) -> Result<RegistrationBaseline, ClientError> {
    let m = client.metrics_snapshot(&master.base_url).await?;
    Ok(RegistrationBaseline {
        registrations: m.get(REGISTRATIONS).unwrap_or(0.0),
        reregistrations: m.get(REREGISTRATIONS).unwrap_or(0.0),
    })
}

/// After `agent` was replaced (stopped, then started again, possibly another version): waits
/// until it re-registered with the SAME agent ID `id`. The old process must be gone, so what
/// answers on the agent's port is the new one: it reports the ID, a master, and
/// `slave/registered = 1`; the master lists the ID active for that hostname and counted no new
/// registration since `baseline` (a new registration means a new ID: the agent's tasks are
/// gone).
///
/// The master's `master/slave_reregistrations` is no evidence here: an agent that comes back
/// before the master noticed it was gone re-registers without that counter moving (seen on
/// 1.11.0).
pub async fn wait_agent_reregistered(
    client: &MesosClient,
    master: &MesosNode,
    agent: &MesosNode,
    id: &str,
    baseline: RegistrationBaseline,
    within: Duration,
) -> Result<(), WaitError> {
    let started = Instant::now();
    let seen = poll_until_unless(
        within,
        || async {
            let own = client
                .agent_state(&agent.base_url)
                .await
                .map_err(|e| from_client("/slave(1)/state", &e))?;
            if let (Some(other), Some(_)) = (own.agent_id(), &own.master_hostname) {
                if other != id {
                    return Err(format!(
                        "{REGISTERED_ANEW}: /slave(1)/state: id {other:?}, master_hostname {:?}",
                        own.master_hostname
                    ));
                }
            }
            if own.agent_id() != Some(id) || own.master_hostname.is_none() {
                return Err(format!(
                    "/slave(1)/state: id {:?}, master_hostname {:?}",
                    own.id, own.master_hostname
                ));
            }
            let agent_metrics = client
                .metrics_snapshot(&agent.base_url)
                .await
                .map_err(|e| from_client("agent /metrics/snapshot", &e))?;
            if agent_metrics.get(AGENT_REGISTERED) != Some(1.0) {
                return Err(format!(
                    "agent /metrics/snapshot: {}",
                    agent_metrics.describe(AGENT_REGISTERED)
                ));
            }
            let metrics = client
                .metrics_snapshot(&master.base_url)
                .await
                .map_err(|e| from_client("/metrics/snapshot", &e))?;
            let reg = metrics.get(REGISTRATIONS).unwrap_or(0.0);
            if reg > baseline.registrations {
                return Err(format!(
                "/metrics/snapshot: {REGISTRATIONS}={reg} (before: {}): an agent registered anew",
                baseline.registrations
            ));
            }
            let state = client
                .master_state(&master.base_url)
                .await
                .map_err(|e| from_client("/master/state", &e))?;
            let want = [ExpectedAgent {
                hostname: agent.name.clone(),
                id: Some(id.to_string()),
            }];
            agents_match(&state, &want)
                .map(|_| ())
                .ok_or_else(|| format!("/master/state: {}", state.describe_agents()))
        },
        |seen| seen.starts_with(REGISTERED_ANEW),
    )
    .await;
    seen.map_err(|seen| WaitError {
        what: format!("{} did not re-register with ID {id}", agent.label()),
        after: if seen.starts_with(REGISTERED_ANEW) {
            started.elapsed()
        } else {
            within
        },
        seen,
    })
}

/// What a re-registration wait saw when the agent registered with another ID: no waiting
/// longer brings its old ID back.
const REGISTERED_ANEW: &str = "registered as a new agent";

/// After the master was replaced (a new master process, counters from zero): waits until it
/// leads and every agent re-registered with its previous ID (no new registrations).
pub async fn wait_agents_reregistered_after_master(
    client: &MesosClient,
    master: &MesosNode,
    agents: &BTreeMap<String, String>,
    within: Duration,
) -> Result<(), WaitError> {
    let expected: Vec<ExpectedAgent> = agents
        .iter()
        .map(|(h, id)| ExpectedAgent {
            hostname: h.clone(),
            id: Some(id.clone()),
        })
        .collect();
    poll_until(within, || async {
        let metrics = client
            .metrics_snapshot(&master.base_url)
            .await
            .map_err(|e| from_client("/metrics/snapshot", &e))?;
        if !elected(&metrics) {
            return Err(format!("/metrics/snapshot: {}", metrics.describe(ELECTED)));
        }
        let rereg = metrics.get(REREGISTRATIONS).unwrap_or(0.0);
        if rereg < agents.len() as f64 {
            return Err(format!(
                "/metrics/snapshot: {REREGISTRATIONS}={rereg}, {}",
                metrics.describe(REGISTRATIONS)
            ));
        }
        let state = client
            .master_state(&master.base_url)
            .await
            .map_err(|e| from_client("/master/state", &e))?;
        agents_match(&state, &expected)
            .map(|_| ())
            .ok_or_else(|| format!("/master/state: {}", state.describe_agents()))
    })
    .await
    .map_err(|seen| WaitError {
        what: format!(
            "agents did not all re-register with {} with their IDs",
            master.label()
        ),
        after: within,
        seen,
    })
}

/// Waits until the agent's own `/slave(1)/state` shows it registered: an ID (the expected
/// one, if given) and a master it follows.
pub async fn wait_agent_registered(
    client: &MesosClient,
    agent: &MesosNode,
    id: Option<&str>,
    within: Duration,
) -> Result<String, WaitError> {
    poll_until(within, || async {
        let own = client
            .agent_state(&agent.base_url)
            .await
            .map_err(|e| from_client("/slave(1)/state", &e))?;
        match (own.agent_id(), &own.master_hostname) {
            (Some(got), Some(_)) if id.is_none_or(|want| want == got) => Ok(got.to_string()),
            _ => Err(format!(
                "/slave(1)/state: id {:?}, master_hostname {:?}",
                own.id, own.master_hostname
            )),
        }
    })
    .await
    .map_err(|seen| WaitError {
        what: match id {
            Some(id) => format!("{} not registered with ID {id}", agent.label()),
            None => format!("{} not registered", agent.label()),
        },
        after: within,
        seen,
    })
}

/// Waits until `framework_id` is listed as active (and, where reported, connected) by the
/// master.
pub async fn wait_framework_active(
    client: &MesosClient,
    master: &MesosNode,
    framework_id: &str,
    within: Duration,
) -> Result<(), WaitError> {
    poll_until(within, || async {
        let state = client
            .master_state(&master.base_url)
            .await
            .map_err(|e| from_client("/master/state", &e))?;
        match state.framework(framework_id) {
            Some(f) if f.active && f.connected != Some(false) => Ok(()),
            _ => Err(format!("/master/state: {}", state.describe_frameworks())),
        }
    })
    .await
    .map_err(|seen| WaitError {
        what: format!("framework {framework_id} not active on {}", master.label()),
        after: within,
        seen,
    })
}

/// Flags a step set that the running process does not list in its `/flags`.
///
/// Mesos loads `MESOS_*` variables only for flags it knows and silently ignores the rest
/// (checked live on 1.11.0: `MESOS_NO_SUCH_FLAG=1` starts fine), so a misspelled or removed
/// flag is not a start failure: it must be looked for in `/flags` after the start. Values are
/// not compared: Mesos prints them normalized (`1000ms` comes back as `1secs`).
pub fn unapplied_flags(
    running: &BTreeMap<String, String>,
    set: &BTreeMap<String, String>,
) -> Vec<String> {
    set.keys()
        .filter(|name| !running.contains_key(*name))
        .cloned()
        .collect()
}

/// The master's log lines about refused re-registrations (the last three, shortened).
pub fn refusal_lines(log: &str) -> Vec<String> {
    let mut out: Vec<String> = log
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            (l.contains("re-registration")
                || l.contains("reregistration")
                || l.contains("reregister"))
                && (l.contains("invalid") || l.contains("dropping") || l.contains("refus"))
        })
        .map(|l| {
            // Drop the glog prefix (`I1126 08:41:05.978960    155 master.cpp:123] `).
            let text = l.split_once("] ").map(|(_, t)| t).unwrap_or(l);
            text.chars().take(300).collect()
        })
        .collect();
    out.dedup();
    let n = out.len();
    out.split_off(n.saturating_sub(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(json: &str) -> MasterState {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn agents_match_requires_active_and_same_id() {
        let s = state(
            r#"{"slaves":[{"id":"S0","hostname":"agent-1","active":true},{"id":"S9","hostname":"agent-2","active":true}]}"#,
        );
        let by_name = [
            ExpectedAgent {
                hostname: "agent-1".into(),
                id: None,
            },
            ExpectedAgent {
                hostname: "agent-2".into(),
                id: None,
            },
        ];
        let got = agents_match(&s, &by_name).unwrap();
        assert_eq!(got["agent-2"], "S9");
        let same_id = [ExpectedAgent {
            hostname: "agent-2".into(),
            id: Some("S1".into()),
        }];
        assert_eq!(agents_match(&s, &same_id), None);
        let s = state(r#"{"slaves":[{"id":"S0","hostname":"agent-1","active":false}]}"#);
        assert_eq!(agents_match(&s, &by_name[..1]), None);
    }

    #[test]
    fn unknown_flags_are_reported() {
        let running = BTreeMap::from([("work_dir".to_string(), "/x".to_string())]);
        let set = BTreeMap::from([
            ("work_dir".to_string(), "/y".to_string()),
            ("authentication".to_string(), "true".to_string()),
        ]);
        assert_eq!(unapplied_flags(&running, &set), ["authentication"]);
    }

    #[test]
    fn wait_error_reads_like_the_style_guide() {
        let e = WaitError {
            what: "master-1 (1.11.0) not leading".into(),
            after: Duration::from_secs(30),
            seen: "/metrics/snapshot: master/elected=0".into(),
        };
        assert_eq!(
            e.to_string(),
            "master-1 (1.11.0) not leading after 30s; last /metrics/snapshot: master/elected=0"
        );
        assert_eq!(
            describe_expected(&[ExpectedAgent {
                hostname: "agent-2".into(),
                id: Some("S1".into())
            }]),
            "agents [agent-2=S1] not all active"
        );
    }

    #[tokio::test]
    async fn poll_until_returns_last_seen_at_the_deadline() {
        let mut n = 0;
        let r: Result<(), String> = poll_until(Duration::from_millis(700), || {
            n += 1;
            let k = n;
            async move { Err(format!("attempt {k}")) }
        })
        .await;
        let last = r.unwrap_err();
        assert!(last.starts_with("attempt "), "{last}");
        // Every POLL_INTERVAL within 700 ms: the first at once, then 6 more at most.
        let most = 1 + (700 / POLL_INTERVAL.as_millis()) as usize;
        assert!(
            (3..=most).contains(&n),
            "polled {n} times, expected 3-{most}"
        );
    }

    #[test]
    fn seen_says_since_when_the_last_answer_held() {
        let mut seen = Seen::default();
        assert_eq!(seen.describe(), "nothing (no probe completed)");
        seen.record("HTTP 404".into(), Duration::from_millis(100));
        seen.record("HTTP 404".into(), Duration::from_millis(200));
        assert_eq!(seen.describe(), "HTTP 404 (on every probe)");
        seen.record("connection failed".into(), Duration::from_millis(300));
        seen.record("HTTP 404".into(), Duration::from_millis(1500));
        seen.record("HTTP 404".into(), Duration::from_millis(2500));
        assert_eq!(
            seen.describe(),
            "HTTP 404 (since 1.5s into the wait; before that: connection failed)"
        );
    }

    #[tokio::test]
    async fn poll_until_cuts_a_hanging_probe() {
        let r: Result<(), String> = poll_until(Duration::from_millis(300), || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert_eq!(r.unwrap_err(), "nothing (no probe completed)");
    }

    #[test]
    fn refusals_quote_the_masters_reason() {
        let log = "I1126 08:00:00.000000    90 master.cpp:7000] Received re-register agent message from agent S0\n\
W1126 08:00:00.100000    90 master.cpp:7100] Dropping re-registration of agent at slave(1)@10.0.0.3:5051 because it sent an invalid re-registration: Task has an invalid ExecutorID\n";
        assert_eq!(
            refusal_lines(log),
            ["Dropping re-registration of agent at slave(1)@10.0.0.3:5051 because it sent an invalid re-registration: Task has an invalid ExecutorID"]
        );
        assert!(refusal_lines("I1126 master.cpp:1] Re-registered agent S0").is_empty());
    }
}
