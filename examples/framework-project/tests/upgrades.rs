//! Every scenario file under `scenarios/` is two tests: `plan::<dir>::<stem>` (the plan,
//! compared with `snapshots/plans/`) and `run::<dir>::<stem>` (the real upgrade in Docker,
//! its observations compared with `snapshots/runs/` and `snapshots/drift/`).
//!
//!     cargo test --test upgrades -- plan::        # no Docker
//!     cargo nextest run -E 'test(/^run::rolling/)'

fn main() {
    upgrade_harness::testing::Scenarios::new(env!("CARGO_MANIFEST_DIR")).main()
}
