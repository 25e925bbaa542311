use clap::Parser;
use upgrade_harness::cli::{run, Cli};

fn main() -> std::process::ExitCode {
    run(Cli::parse()).into()
}
