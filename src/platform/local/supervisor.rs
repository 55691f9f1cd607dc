//! The local worker service: one detached supervisor process per migration keeping `desired` workers alive.
//!
//! `apply` starts it (`backfill supervise`, its own process group, output to `logs/supervisor.log`); it holds
//! `supervisor.lock` for its whole life, so a second one exits at once and a crashed one leaves no lock. Each
//! tick (250 ms) it reads the `desired` file, reaps exited workers, applies the pure slot rules
//! ([`super::slots`]) — start, SIGTERM beyond desired, SIGKILL after the stop bound — and writes `fleet.json`
//! (desired / running / pending, like ECS) atomically. Every worker writes to its own file in `logs/`
//! (`worker-<slot>-<generation>.log`), the local log group; files older than the retention are deleted hourly.
//! A worker that fails (any end but "no work left", "handed off", "all leased", unless it was told to stop) is
//! recorded with its exit code and the last error line of its log in `fleet.json`; when the crash-loop policy
//! says a restart cannot fix it, the supervisor sets `desired` to 0 itself and says why in its log.
//! SIGTERM (from `destroy`): every worker gets SIGTERM (they checkpoint), the supervisor waits for them within
//! the stop bound, kills stragglers, removes `fleet.json` and exits.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::slots::{FailureLog, SlotAction, Slots};
use super::state::{StateDir, StateError, write_atomic};
use crate::converge::ports::WorkerFailure;
use crate::exit::Outcome;
use crate::time::{Clock, SystemClock};

/// What `fleet.json` holds: the supervisor's report, read by `LocalFleet::observe`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FleetReport {
    pub(crate) pid: u32,
    pub(crate) desired: u32,
    pub(crate) running: u32,
    pub(crate) pending: u32,
    /// Workers that exited with "no work left" and are not restarted.
    pub(crate) finished: u32,
    /// Worker processes started so far (restarts included).
    pub(crate) started_total: u64,
    /// Epoch milliseconds of the last write (a heartbeat).
    pub(crate) updated_ms: u64,
    /// Workers that failed in the current run (since `desired` last rose from 0), newest last.
    #[serde(default)]
    pub(crate) failures: Vec<WorkerFailure>,
}

/// How the supervisor runs its workers.
#[derive(Debug, Clone)]
pub(crate) struct SupervisorOptions {
    pub(crate) state: StateDir,
    /// The `backfill` executable to run workers with.
    pub(crate) exe: PathBuf,
    /// The migration file passed to `backfill worker --config`.
    pub(crate) config_path: PathBuf,
    /// Migration name (worker ids are `<name>-<slot>-<generation>`).
    pub(crate) name: String,
    /// How long a stopping worker may take before SIGKILL.
    pub(crate) stop_timeout: Duration,
    /// Log files older than this many days are deleted.
    pub(crate) retention_days: u32,
}

static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// Runs the supervisor until SIGTERM/SIGINT. Returns `Locked` when another supervisor already runs. Problems
/// that do not stop it (a worker that cannot start, a report that cannot be written) go to `notice`.
pub(crate) fn run(options: &SupervisorOptions, notice: &dyn Fn(&str)) -> Result<(), StateError> {
    let _lock = lock_with_patience(&options.state)?;
    // SAFETY: installs an async-signal-safe handler that only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGTERM,
            on_terminate as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGINT,
            on_terminate as *const () as libc::sighandler_t,
        );
    }
    let logs = options.state.logs_dir();
    std::fs::create_dir_all(&logs).map_err(|source| StateError::Io {
        path: logs.clone(),
        source,
    })?;
    let clock = SystemClock;
    let mut slots = Slots::default();
    let mut failures = FailureLog::default();
    let mut children: HashMap<u32, Child> = HashMap::new();
    let mut started_total = 0u64;
    let mut last_report = FleetReport::default();
    let mut last_retention: Option<Instant> = None;
    // When the fleet was last sampled for the dashboard, and what it was then.
    let mut last_sample: Option<(Instant, u32, u32)> = None;

    loop {
        let terminating = TERMINATE.load(Ordering::SeqCst);
        let mut desired = if terminating {
            0
        } else {
            // An unreadable desired file keeps the last value rather than killing the fleet.
            options.state.desired().unwrap_or(last_report.desired)
        };
        failures.desired(desired);
        reap(
            &mut children,
            &mut slots,
            &mut failures,
            &logs,
            clock.instant(),
        );
        if desired > 0
            && let Some(stop) = failures.stop_restarts(clock.now())
        {
            notice(&format!("supervisor: {}", stop.reason));
            // Whoever reads `desired` 0 must find the failures that explain it: the report goes first.
            let report = FleetReport {
                failures: failures.failures().to_vec(),
                updated_ms: epoch_ms(),
                ..last_report.clone()
            };
            write_report(&options.state, &report, notice);
            last_report = report;
            match options.state.set_desired(0) {
                Ok(()) => desired = 0,
                Err(err) => notice(&format!("supervisor: cannot stop the restarts: {err}")),
            }
            failures.desired(desired);
        }
        for action in slots.reconcile(desired, clock.instant(), options.stop_timeout) {
            match action {
                SlotAction::Start { index } => {
                    let generation = slots.slots[index].generation + 1;
                    match spawn_worker(options, &logs, index, generation) {
                        Ok(child) => {
                            let pid = child.id();
                            slots.started(index, pid, clock.instant());
                            children.insert(pid, child);
                            started_total += 1;
                        }
                        Err(err) => {
                            notice(&format!("supervisor: cannot start worker {index}: {err}"));
                            slots.start_failed(index, clock.instant());
                        }
                    }
                }
                SlotAction::Terminate { pid } => signal(pid, libc::SIGTERM),
                SlotAction::Kill { pid } => signal(pid, libc::SIGKILL),
            }
        }
        let counts = slots.counts();
        let report = FleetReport {
            pid: std::process::id(),
            desired,
            running: counts.running,
            pending: counts.pending,
            finished: counts.finished,
            started_total,
            updated_ms: epoch_ms(),
            failures: failures.failures().to_vec(),
        };
        let changed = FleetReport {
            updated_ms: 0,
            ..report.clone()
        } != FleetReport {
            updated_ms: 0,
            ..last_report.clone()
        };
        if changed || report.updated_ms.saturating_sub(last_report.updated_ms) >= 2_000 {
            write_report(&options.state, &report, notice);
            last_report = report;
        }
        let since = |t: Instant| clock.instant().saturating_duration_since(t);
        // Every 5 s, and at once when the fleet changed (the running-workers chart steps when it did).
        if last_sample.is_none_or(|(t, running, sampled_desired)| {
            since(t) >= Duration::from_secs(5)
                || (running, sampled_desired) != (counts.running, desired)
        }) {
            super::dashboard::sample_fleet(&logs, epoch_ms(), counts.running, desired);
            if let Err(err) = super::dashboard::refresh(&options.state, &options.name) {
                notice(&format!("supervisor: dashboard: {err}"));
            }
            last_sample = Some((clock.instant(), counts.running, desired));
        }
        if last_retention.is_none_or(|t| since(t) >= Duration::from_secs(3600)) {
            super::logs::apply_retention(&logs, options.retention_days, SystemTime::now());
            last_retention = Some(clock.instant());
        }
        if terminating && children.is_empty() {
            super::dashboard::sample_fleet(&logs, epoch_ms(), 0, 0);
            let _ = super::dashboard::refresh(&options.state, &options.name);
            let _ = std::fs::remove_file(options.state.fleet_path());
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Writes `fleet.json` atomically; a failure goes to `notice` (the next tick writes again).
fn write_report(state: &StateDir, report: &FleetReport, notice: &dyn Fn(&str)) {
    let bytes = serde_json::to_vec(report).unwrap_or_default();
    if let Err(err) = write_atomic(&state.fleet_path(), &bytes) {
        notice(&format!("supervisor: {err}"));
    }
}

/// Takes the supervisor lock, retrying briefly: `supervisor_running` probes it by taking it for an instant.
fn lock_with_patience(state: &StateDir) -> Result<super::state::StateLock, StateError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match state.try_lock("supervisor") {
            Err(StateError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Reaps exited workers into the slot table; a failure is recorded with the last error of its log file.
fn reap(
    children: &mut HashMap<u32, Child>,
    slots: &mut Slots,
    failures: &mut FailureLog,
    logs: &Path,
    now: Instant,
) {
    let mut exited = Vec::new();
    for (pid, child) in children.iter_mut() {
        if let Ok(Some(status)) = child.try_wait() {
            exited.push((*pid, status.code()));
        }
    }
    for (pid, code) in exited {
        children.remove(&pid);
        let Some(worker) = slots.exited(pid, code.and_then(Outcome::from_code), now) else {
            continue;
        };
        if worker.stopping || !WorkerFailure::is_failure(code) {
            continue;
        }
        let name = worker_name(worker.index, worker.generation);
        let stopped_at = SystemClock.now();
        failures.record(
            WorkerFailure {
                message: super::logs::last_error_of(&logs.join(format!("{name}.log"))),
                worker: name,
                exit_code: code,
                stopped_at,
            },
            stopped_at,
        );
    }
}

/// `worker-<slot>-<generation>`: the name of a worker process and of its log file (`<name>.log`).
fn worker_name(slot: usize, generation: u32) -> String {
    format!("worker-{slot}-{generation}")
}

fn spawn_worker(
    options: &SupervisorOptions,
    logs: &Path,
    slot: usize,
    generation: u32,
) -> std::io::Result<Child> {
    let log_path = logs.join(format!("{}.log", worker_name(slot, generation)));
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    Command::new(&options.exe)
        .arg("--config")
        .arg(&options.config_path)
        .arg("worker")
        .arg("--id")
        .arg(format!("{}-{slot}-{generation}", options.name))
        .arg("--log-format")
        .arg("json")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: sending a signal to a child process we started and have not yet reaped.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Wall-clock epoch milliseconds, as `fleet.json` and the dashboard samples store them.
fn epoch_ms() -> u64 {
    u64::try_from(SystemClock.now().epoch_millis()).unwrap_or(0)
}
