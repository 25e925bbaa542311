//! The Docker layer: engines, images, runs, nodes and processes in nodes.
//!
//! It knows nothing about Mesos. A node is a long-lived container playing a
//! host, with node-init as PID 1; processes are started and stopped inside
//! it. Design notes: `docs/runtime.md`.

#![warn(missing_docs)]

mod cleanup;
mod engine;
mod error;
mod exec;
mod files;
mod image;
mod labels;
mod network;
pub mod node_init;
mod process;
mod pulled;
mod reach;
mod run;
mod stream;

pub use cleanup::{
    list_runs, remove_run, shutdown_signal, sweep, until_shutdown, Removed, RunSummary,
    ShutdownSignal, SweepReport,
};
pub use engine::{host_from_env, Engine, DEFAULT_HOST};
pub use error::{Error, Result};
pub use exec::ExecOutput;
pub use image::{
    build_image, remove_images_older_than, remove_stale_images, BuiltImage, ImageFile, ImageLink,
    ImageSpec, IMAGE_HASH_LABEL,
};
pub use labels::{
    liveness, new_run_id, Liveness, Owner, KEEP_LABEL, NODE_LABEL, OWNER_BOOT_LABEL,
    OWNER_HOST_LABEL, OWNER_MACHINE_LABEL, OWNER_PID_LABEL, OWNER_START_LABEL, RUN_LABEL,
};
pub use network::{RunNetwork, DEFAULT_RANGE};
pub use process::{ProcessStatus, WaitStatus};
pub use pulled::{
    copy_from_image, ensure_image, local_image, registry_has, remove_images_with_label,
    run_in_image, tag_image, ImageConfig,
};
pub use reach::{refuses_closed_port, Reach};
pub use run::{NodeInfo, NodeSpec, Run, RunSettings};
