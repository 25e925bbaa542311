//! The helper programs tasks need inside a node, as library code so that they are unit-tested:
//! a stand-in for the agent's `mesos-containerizer launch` and the harness's custom executor.
//! The binaries in `src/bin/` only call into these modules. Facts: `../shared/tasks.md`;
//! design notes: `docs/tasks.md`.

pub mod base64;
pub mod containerizer;
pub mod executor;
pub mod http;
