//! The cluster slots and signal handling, shared with the library's scenario trials
//! (`upgrade_harness::testing::clusters`).

#[allow(unused_imports)] // not every test binary that shares this module starts clusters
pub use upgrade_harness::testing::clusters::*;
