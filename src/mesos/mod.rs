//! Everything Mesos-specific lives under this module: versions, documented procedures,
//! roles and flags, the HTTP client, readiness, and the test framework.
pub mod procedures;
pub mod versions;
pub mod client;
pub mod readiness;
pub mod recordio;
pub mod roles;
pub mod scheduler;
