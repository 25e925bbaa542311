//! How many clusters one test process runs at once, and stopping cleanly on a signal.
//!
//! Every test that starts a cluster holds a [`Slot`] while the cluster exists;
//! `UPGRADE_HARNESS_MAX_CLUSTERS` sets how many slots the machine has (default
//! [`DEFAULT_MAX_CLUSTERS`]). The cap holds across processes, whatever runs the tests: plain
//! `cargo test` (one thread per core per binary, several binaries), nextest (one process per
//! test), `compat run`, or two checkouts testing at once: a slot is one of the machine-wide
//! locks of `run::slots`. docs/performance.md says how to size the cap for a CI runner.
//!
//! On SIGINT or SIGTERM no new slot is handed out (so no new cluster starts), tests that wait
//! in [`until_stopped`] drop their work, which removes their cluster (`docker::Run` removes
//! itself when dropped), and the process exits with 130 or 143 once every slot is back. A
//! second signal exits at once; what is left is removed by the next run's sweep.

use std::future::Future;
use std::io::Write;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::docker::{self, ShutdownSignal};
use crate::run::slots::{self, MachineSlot};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

pub use crate::run::slots::{max_clusters_setting, DEFAULT_MAX_CLUSTERS, MAX_CLUSTERS_ENV};

/// Who exits the process after a signal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnSignal {
    /// The listener, as soon as no slot is held (libtest binaries have no hook after the run).
    ExitWhenIdle,
    /// The test binary's own `main`, after its report: see [`finish`].
    MainExits,
}

struct Gate {
    state: Mutex<State>,
    changed: Condvar,
    stop: watch::Sender<Option<ShutdownSignal>>,
}

struct State {
    running: usize,
    stopping: Option<ShutdownSignal>,
}

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate {
        state: Mutex::new(State {
            running: 0,
            stopping: None,
        }),
        changed: Condvar::new(),
        stop: watch::Sender::new(None),
    })
}

fn lock() -> MutexGuard<'static, State> {
    // A test that panicked while holding the lock leaves consistent counts behind.
    gate().state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `SIGINT` or `SIGTERM`, for messages.
pub fn name(signal: ShutdownSignal) -> &'static str {
    match signal {
        ShutdownSignal::Interrupt => "SIGINT",
        ShutdownSignal::Terminate => "SIGTERM",
    }
}

/// The cap: `UPGRADE_HARNESS_MAX_CLUSTERS`, or [`DEFAULT_MAX_CLUSTERS`]; panics on a value
/// that is not a whole number of at least 1 (tests: the message is the failure).
pub fn max_clusters() -> usize {
    slots::max_clusters_setting().unwrap_or_else(|e| panic!("{e}"))
}

/// The right to have one cluster; given back when dropped (the machine-wide lock with it).
pub struct Slot(#[allow(dead_code)] MachineSlot);

impl Drop for Slot {
    fn drop(&mut self) {
        lock().running -= 1;
        gate().changed.notify_all();
    }
}

/// Waits for a free slot. `Err` once the process is stopping: the test must not start a
/// cluster. Listens for signals from the first call on (see [`stop_on_signals`]).
pub fn slot() -> Result<Slot, ShutdownSignal> {
    stop_on_signals(OnSignal::ExitWhenIdle);
    let max = max_clusters();
    let mut state = lock();
    loop {
        if let Some(signal) = state.stopping {
            return Err(signal);
        }
        if state.running < max {
            // Another process may hold every machine-wide slot: wait for one (re-checking for
            // a signal) without holding up this process's own count.
            if let Some(file) =
                slots::try_take(max).unwrap_or_else(|e| panic!("cluster slots: {e}"))
            {
                state.running += 1;
                return Ok(Slot(file));
            }
            let (s, _) = gate()
                .changed
                .wait_timeout(state, slots::RETRY)
                .unwrap_or_else(PoisonError::into_inner);
            state = s;
            continue;
        }
        state = gate()
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// For libtest tests after a signal (give back your slot first): says why and waits for the
/// listener to exit the process with 130/143 once every cluster is removed. Returning, or
/// panicking, would let libtest finish first and exit 101.
pub fn interrupted(signal: ShutdownSignal, what: &str) -> ! {
    say(&format!("{}: {what}", name(signal)));
    loop {
        std::thread::park();
    }
}

/// The signal that stopped the process, if one did.
pub fn stopping() -> Option<ShutdownSignal> {
    lock().stopping
}

/// Runs `work` (which owns a cluster) unless a signal comes first; then `work` is dropped,
/// which removes its cluster, and the signal is returned.
pub async fn until_stopped<F: Future>(work: F) -> Result<F::Output, ShutdownSignal> {
    let mut stop = gate().stop.subscribe();
    tokio::select! {
        out = work => Ok(out),
        signal = stop.wait_for(Option::is_some) => {
            Err(signal.ok().and_then(|s| *s).unwrap_or(ShutdownSignal::Terminate))
        }
    }
}

/// Starts, once per process, a thread that listens for SIGINT and SIGTERM; returns when it
/// listens. The first signal marks the process as stopping; a second one exits at once.
/// The first caller decides who exits after the first signal.
pub fn stop_on_signals(mode: OnSignal) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let (listening, ready) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || listen(mode, listening))
            .expect("a thread for the signal listener");
        // Without the handlers a signal would kill the process with its clusters up.
        ready
            .recv()
            .expect("the signal listener starts")
            .unwrap_or_else(|e| panic!("cannot listen for SIGINT/SIGTERM: {e}"));
    });
}

fn listen(mode: OnSignal, listening: std::sync::mpsc::Sender<Result<(), String>>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = listening.send(Err(e.to_string()));
            return;
        }
    };
    rt.block_on(async {
        let streams = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
        let (mut interrupt, mut terminate) = match streams {
            Ok(s) => s,
            Err(e) => {
                let _ = listening.send(Err(e.to_string()));
                return;
            }
        };
        let _ = listening.send(Ok(()));
        let mut first = None;
        loop {
            let signal = tokio::select! {
                _ = interrupt.recv() => ShutdownSignal::Interrupt,
                _ = terminate.recv() => ShutdownSignal::Terminate,
            };
            if first.is_some() {
                say(&format!(
                    "{}: second signal, exiting now; the next run's sweep removes what is left",
                    name(signal)
                ));
                std::process::exit(crate::ExitCode::of_signal(signal) as i32);
            }
            first = Some(signal);
            let running = {
                let mut state = lock();
                state.stopping = Some(signal);
                state.running
            };
            gate().changed.notify_all();
            gate().stop.send_replace(Some(signal));
            say(&format!(
                "{}: no new cluster starts; stopping the {running} running (a second signal exits at once)",
                name(signal)
            ));
            if mode == OnSignal::ExitWhenIdle {
                std::thread::spawn(move || {
                    wait_idle();
                    finish(signal);
                    std::process::exit(crate::ExitCode::of_signal(signal) as i32);
                });
            }
        }
    });
}

/// Blocks until no slot is held.
fn wait_idle() {
    let mut state = lock();
    while state.running > 0 {
        state = gate()
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// After a signal, once the tests are done: removes any run this process still owns (one
/// dropped while it was being created) and says what happened. Returns the exit code.
pub fn finish(signal: ShutdownSignal) -> i32 {
    wait_idle();
    let left = remove_own_runs();
    say(&format!(
        "stopped by {}: no cluster started after it; {}",
        name(signal),
        match left {
            Ok(ids) if ids.is_empty() => "no run of this process is left".to_string(),
            Ok(ids) => format!("removed the leftover runs {}", ids.join(", ")),
            Err(e) => format!("could not list the runs left: {e}"),
        }
    ));
    crate::ExitCode::of_signal(signal) as i32
}

/// Removes the runs labelled with this process as their owner.
fn remove_own_runs() -> Result<Vec<String>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let engine = docker::Engine::connect().await.map_err(|e| e.to_string())?;
        let me = docker::Owner::current().labels();
        let mine = |labels: &std::collections::HashMap<String, String>| {
            [
                docker::OWNER_PID_LABEL,
                docker::OWNER_START_LABEL,
                docker::OWNER_HOST_LABEL,
            ]
            .iter()
            .all(|k| labels.get(*k) == me.get(*k))
        };
        let mut removed = Vec::new();
        for run in docker::list_runs(&engine)
            .await
            .map_err(|e| e.to_string())?
        {
            if mine(&run.labels) {
                docker::remove_run(&engine, &run.id)
                    .await
                    .map_err(|e| e.to_string())?;
                removed.push(run.id);
            }
        }
        Ok(removed)
    })
}
