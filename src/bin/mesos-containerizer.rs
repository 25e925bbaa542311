//! `mesos-containerizer launch`: the project's stand-in for the agent's helper
//! (`upgrade_harness::task_helpers::containerizer`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let vars = std::env::vars().collect();
    std::process::exit(upgrade_harness::task_helpers::containerizer::main_with(
        &args, &vars,
    ));
}
