//! The JSON Schema of the scenario format, generated from the model's types and doc comments.
//! Committed as `scenarios/schema.json`; `tests/schema.rs` fails when it is stale.

use super::model::Scenario;

/// The JSON Schema of [`Scenario`], pretty-printed, with a trailing newline.
pub fn json() -> String {
    let schema = schemars::schema_for!(Scenario);
    // Serializing a `serde_json::Value`-backed schema cannot fail.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
