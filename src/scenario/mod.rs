//! Scenario files: the typed format ([`model`]), loading with source spans ([`load`]),
//! validation ([`validate`]), phase names ([`phases`]) and diagnostics ([`diagnostic`]).
pub mod model;
pub mod phases;
