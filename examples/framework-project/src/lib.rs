//! The framework project's own code would be here; its upgrade scenarios are in
//! `scenarios/` and run by `tests/upgrades.rs`.
