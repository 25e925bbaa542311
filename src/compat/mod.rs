//! The upgrade compatibility table (issue 19): one small declaration (`compat/*.yaml`)
//! expands to a scenario per topology and ordered pair of a version set; the cells run with
//! the concurrency the machine holds, cached by what decides their verdict; the table says,
//! per pair, passed / failed at a phase / refused by Mesos / not run, and the shortest path of
//! passing steps where a direct pair fails.
//!
//! One file per stage: [`declaration`] (the file, validated), [`expand`] (cells and their
//! generated scenarios, pure), [`run`](mod@run) (running the cells, the cache), [`table`] (the
//! results and their Markdown, HTML and JSON, pure). Design notes: `docs/compat.md`.

pub mod declaration;
pub mod expand;
pub mod run;
pub mod table;

pub use declaration::{load, Compat, Direction};
pub use expand::{cells, origin, scenario_text, Cell};
pub use run::{run_table, CompatError, CompatOptions};
pub use table::{CellResult, Outcome, Table};

#[cfg(test)]
mod tests;
