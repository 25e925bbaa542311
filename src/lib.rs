//! upgrade-harness: proves an Apache Mesos cluster survives an upgrade.
//!
//! Data flows one way through the modules:
//! scenario file -> [`scenario`] -> [`plan`] -> runtime -> observations -> verdicts -> report.
pub mod certify;
pub mod check;
pub mod cli;
pub mod compat;
pub mod docker;
pub mod domain;
pub mod drift;
pub mod image_builds;
pub mod images;
pub mod matrix;
pub mod mesos;
pub mod modules;
pub mod observation;
pub mod plan;
pub mod redact;
pub mod report;
pub mod run;
pub mod runnable;
pub mod scenario;
pub mod snapshot;
pub mod task_helpers;
pub mod testing;
pub mod timing;

pub use cli::ExitCode;
