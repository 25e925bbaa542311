//! Scenario files: the typed format ([`model`]), loading with source spans ([`load`](mod@load)),
//! validation ([`validate`](mod@validate)), phase names ([`phases`](mod@phases)), diagnostics
//! ([`diagnostic`]) and the JSON Schema ([`schema`]).
pub mod diagnostic;
pub mod load;
pub mod locate;
pub mod model;
pub mod phases;
pub mod schema;
pub mod validate;
mod yaml_path;

pub use diagnostic::{Diagnostics, Problem};
pub use load::load;
pub use model::Scenario;
pub use phases::phases;
