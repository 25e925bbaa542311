//! Scenario files: the typed format ([`model`]), loading with source spans ([`load`](mod@load)),
//! validation ([`validate`](mod@validate)), warnings about valid files ([`warnings`](mod@warnings)),
//! phase names ([`phases`](mod@phases)), diagnostics
//! ([`diagnostic`]), the JSON Schema ([`schema`]) and the test names of a file ([`test_name`]).
pub mod diagnostic;
mod indentation;
pub mod load;
pub mod locate;
pub mod model;
pub mod phases;
pub mod schema;
pub mod test_name;
pub mod validate;
pub mod warnings;
mod yaml_path;

pub use diagnostic::{Diagnostics, Problem};
pub use load::{load, load_with_warnings, Loaded};
pub use model::Scenario;
pub use phases::phases;
pub use test_name::TestName;
