//! Vendor modules (issue 14): the fixture modules this project writes and builds per Mesos
//! version (`fixture`). What the loader does with a module is Mesos knowledge and lives in
//! `crate::mesos::modules`; how scenarios declare and install modules, in `scenario` and
//! `run`. Facts: `../shared/modules.md`; design: `docs/modules.md`.

pub mod fixture;
#[cfg(test)]
mod live_tests;
pub mod local;
pub mod preflight;

pub use fixture::{build_fixture, Fixture, FixtureBuild, FixtureError, FIXTURE_MODULE_NAME};
