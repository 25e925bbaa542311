//! Framework programs the harness builds itself, to run as a scenario's own frameworks.
//!
//! - [`libmesos`]: a scheduler linked against each version's libmesos (the C++ scheduler
//!   driver), built per version so that `upgrade_schedulers` can relink it for real.

pub mod libmesos;
