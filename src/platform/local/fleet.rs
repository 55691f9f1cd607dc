//! The local worker service as the converge loop sees it: [`LocalFleet`] observes the supervisor's report and
//! scales by writing the `desired` file; [`start_supervisor`] / [`stop_supervisor`] are what `apply` and
//! `destroy` do to the service itself. Worker failures come from the supervisor's report (`fleet.json`).
//!
//! Liveness comes from the supervisor's flock, never from a pid file: if `supervisor.lock` can be taken, no
//! supervisor runs (the kernel released a dead one's lock), whatever `fleet.json` says.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::state::{StateDir, StateError};
use super::supervisor::FleetReport;
use crate::converge::ports::{Fleet, FleetObservation, PlatformError, WorkerFailure};

/// How to start the supervisor of one migration.
#[derive(Debug, Clone)]
pub(crate) struct SupervisorLaunch {
    pub(crate) state: StateDir,
    /// The `backfill` executable.
    pub(crate) exe: PathBuf,
    /// The migration file (absolute).
    pub(crate) config_path: PathBuf,
    /// How long stopping may take before the process group is killed.
    pub(crate) stop_timeout: Duration,
}

/// The supervisor runs (holds its lock).
pub(crate) fn supervisor_running(state: &StateDir) -> Result<bool, StateError> {
    // Looking must not create anything: no lock file, no supervisor (and `destroy` leaves nothing behind).
    if !state.root().join("supervisor.lock").exists() {
        return Ok(false);
    }
    match state.try_lock("supervisor") {
        Ok(_lock) => Ok(false),
        Err(StateError::Locked { .. }) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Starts the detached supervisor unless one runs; waits (bounded) until it holds its lock.
pub(crate) fn start_supervisor(launch: &SupervisorLaunch) -> Result<(), PlatformError> {
    let api = |message: String| PlatformError::Api {
        resource: "worker service (local)".into(),
        message,
    };
    if supervisor_running(&launch.state).map_err(|e| api(e.to_string()))? {
        return Ok(());
    }
    let logs = launch.state.logs_dir();
    std::fs::create_dir_all(&logs).map_err(|e| api(format!("{}: {e}", logs.display())))?;
    let log_path = logs.join("supervisor.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| api(format!("{}: {e}", log_path.display())))?;
    let err_log = log
        .try_clone()
        .map_err(|e| api(format!("{}: {e}", log_path.display())))?;
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(&launch.exe)
        .arg("--config")
        .arg(&launch.config_path)
        .arg("supervise")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        // Its own process group: a Ctrl-C in the terminal that ran `apply` does not reach the fleet, and
        // `destroy` can signal the supervisor and its workers together.
        .process_group(0)
        .spawn()
        .map_err(|e| api(format!("cannot start {}: {e}", launch.exe.display())))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if supervisor_running(&launch.state).map_err(|e| api(e.to_string()))? {
            // A service is not waited for; a thread reaps it if it ever exits while we still run.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(api(format!(
                "the supervisor exited at once ({status}); see {}",
                log_path.display()
            )));
        }
        if Instant::now() >= deadline {
            return Err(api(format!(
                "the supervisor did not start within 10 s; see {}",
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the supervisor and its workers: SIGTERM (workers checkpoint), then SIGKILL of the whole process group
/// after the stop bound. Returns once no supervisor holds the lock. Not running is success.
pub(crate) fn stop_supervisor(launch: &SupervisorLaunch) -> Result<(), PlatformError> {
    let api = |message: String| PlatformError::Api {
        resource: "worker service (local)".into(),
        message,
    };
    if !supervisor_running(&launch.state).map_err(|e| api(e.to_string()))? {
        return Ok(());
    }
    let Some(pid) = read_report(&launch.state).map(|r| r.pid) else {
        return Err(api(format!(
            "a supervisor holds {} but wrote no report; stop it by hand",
            launch.state.root().join("supervisor.lock").display()
        )));
    };
    let pgid = libc::pid_t::try_from(pid).map_err(|_| api(format!("bad supervisor pid {pid}")))?;
    // The report may predate the running supervisor (a killed one leaves it behind): never signal a process
    // that is not a `backfill supervise`.
    if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline"))
        && !cmdline.split(|b| *b == 0).any(|arg| arg == b"supervise")
    {
        return Err(api(format!(
            "{} names process {pid}, which is not a backfill supervisor; wait a second and retry",
            launch.state.fleet_path().display()
        )));
    }
    // SAFETY: signalling the supervisor we started (its lock proves it is alive).
    unsafe {
        libc::kill(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + launch.stop_timeout + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !supervisor_running(&launch.state).map_err(|e| api(e.to_string()))? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: the supervisor leads its own process group (see start_supervisor); kill it and its workers.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(200));
    if supervisor_running(&launch.state).map_err(|e| api(e.to_string()))? {
        return Err(api(format!("supervisor {pid} did not stop")));
    }
    Ok(())
}

/// The supervisor's last report, if any.
pub(crate) fn read_report(state: &StateDir) -> Option<FleetReport> {
    let bytes = std::fs::read(state.fleet_path()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The local worker service behind the converge loop's [`Fleet`] trait.
#[derive(Debug, Clone)]
pub(crate) struct LocalFleet {
    pub(crate) launch: SupervisorLaunch,
}

impl LocalFleet {
    fn observe_now(&self) -> Result<FleetObservation, PlatformError> {
        let state = &self.launch.state;
        let api = |e: StateError| PlatformError::Api {
            resource: "worker service (local)".into(),
            message: e.to_string(),
        };
        let exists = state.applied().map_err(api)?.worker_service.is_some();
        if !supervisor_running(state).map_err(api)? {
            // No supervisor, no workers: nothing is effectively desired until the loop scales again,
            // which restarts it.
            return Ok(FleetObservation {
                exists,
                ..FleetObservation::default()
            });
        }
        let desired = state.desired().map_err(api)?;
        let report = read_report(state).unwrap_or_default();
        Ok(FleetObservation {
            exists,
            desired,
            running: report.running,
            // Until the supervisor has seen the new count, the missing workers are pending.
            pending: if report.desired == desired {
                report.pending
            } else {
                desired.saturating_sub(report.running)
            },
        })
    }

    fn scale_now(&self, desired: u32) -> Result<(), PlatformError> {
        let state = &self.launch.state;
        let api = |e: StateError| PlatformError::Api {
            resource: "worker service (local)".into(),
            message: e.to_string(),
        };
        if state.applied().map_err(api)?.worker_service.is_none() {
            return Err(PlatformError::Missing {
                resource: "worker service (local)".into(),
            });
        }
        state.set_desired(desired).map_err(api)?;
        if desired > 0 {
            start_supervisor(&self.launch)?;
        }
        Ok(())
    }
}

impl Fleet for LocalFleet {
    async fn observe(&self) -> Result<FleetObservation, PlatformError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.observe_now())
            .await
            .map_err(|e| PlatformError::Api {
                resource: "worker service (local)".into(),
                message: e.to_string(),
            })?
    }

    async fn scale(&self, desired: u32) -> Result<(), PlatformError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.scale_now(desired))
            .await
            .map_err(|e| PlatformError::Api {
                resource: "worker service (local)".into(),
                message: e.to_string(),
            })?
    }

    async fn failures(&self) -> Result<Vec<WorkerFailure>, PlatformError> {
        let state = self.launch.state.clone();
        tokio::task::spawn_blocking(move || read_report(&state).map(|r| r.failures))
            .await
            .map(Option::unwrap_or_default)
            .map_err(|e| PlatformError::Api {
                resource: "worker service (local)".into(),
                message: e.to_string(),
            })
    }
}
