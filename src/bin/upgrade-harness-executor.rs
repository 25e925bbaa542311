//! The harness's custom executor (`upgrade_harness::task_helpers::executor`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let vars = std::env::vars().collect();
    std::process::exit(upgrade_harness::task_helpers::executor::main_with(
        &args, &vars,
    ));
}
