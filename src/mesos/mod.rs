//! Everything Mesos-specific lives under this module: versions, documented procedures,
//! roles and flags, the HTTP client, readiness, and the test framework.
pub mod client;
pub mod distribution;
pub mod endpoints;
pub mod format;
pub mod glog;
pub mod libmesos_scheduler;
pub mod modules;
pub mod notes;
pub mod procedures;
pub mod protos;
pub mod readiness;
pub mod recordio;
pub mod resources;
pub mod roles;
pub mod scheduler;
pub mod task_state;
pub mod versions;
pub mod workload;
