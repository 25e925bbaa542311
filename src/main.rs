use clap::Parser;
use upgrade_harness::cli::{run, Cli};
use upgrade_harness::task_helpers;

/// Multi-call: started as `mesos-containerizer`, `executor-<build>` or `mesos-launcher` (the node image's
/// names for this same binary) it is that helper, otherwise the harness's CLI.
fn main() -> std::process::ExitCode {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if let Some(helper) = task_helpers::by_argv0(&argv0) {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let vars = std::env::vars().collect();
        std::process::exit(helper.main_with(&argv0.to_string_lossy(), &args, &vars));
    }
    run(Cli::parse()).into()
}
