//! Vendor module certification (issue 14, `upgrade-harness certify MANIFEST`): a module's
//! builds per Mesos version, certified on each version alone, through real rolling
//! upgrades with the module loaded throughout, and against negative controls that must be
//! refused; each outcome classified and set beside the static pre-flight's prediction.
//!
//! One file per stage: [`manifest`] (the file, validated), [`run`](mod@run) (the runs,
//! classified), [`report`] (the result and its Markdown, JSON and JUnit, pure). Design notes:
//! `docs/modules.md`.

pub mod manifest;
pub mod report;
pub mod run;

pub use manifest::{load, Certification, Class};
pub use report::{Certificate, Entry, EntryKind};
pub use run::{certify, CertifyError, CertifyOptions};

#[cfg(test)]
mod tests;
