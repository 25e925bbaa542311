//! upgrade-harness: proves an Apache Mesos cluster survives an upgrade.
//!
//! Data flows one way through the modules:
//! scenario file -> [`scenario`] -> [`plan`] -> runtime -> observations -> verdicts -> report.
pub mod mesos;
pub mod scenario;
