//! Scenario files: the typed format ([`model`]), loading with source spans, validation.
pub mod model;
