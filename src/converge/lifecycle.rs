//! The lifecycle vocabulary: what the user declared, what we observed, and the derived status.
//!
//! Invariants: every [`DerivedStatus`] carries a non-empty reason; the observation is a plain value (no
//! handles), so [`crate::converge::reconcile`] can be a pure function of `(declared, observed, now)`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::failures::WorkerFailure;
use super::ports::{FleetObservation, HealthSample};
use crate::coordination::progress::WorkProgress;
use crate::time::Timestamp;

/// `backfill.state` in migration.yaml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeclaredState {
    Running,
    Paused,
    Stopped,
}

/// Gradual scale-up: `step` more workers every `every` while the target is healthy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampPolicy {
    pub step: u32,
    pub every: Duration,
    /// Hold when any node's CPU is at or above this percentage.
    pub max_cpu_percent: Option<f64>,
    /// Hold when JVM memory pressure is at or above this percentage.
    pub max_jvm_memory_pressure_percent: Option<f64>,
}

/// The declared lifecycle (the `backfill:` block of migration.yaml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    pub state: DeclaredState,
    pub workers: u32,
    pub stop_when_complete: bool,
    pub ramp: Option<RampPolicy>,
    /// How long `stopped` waits for running tasks to end before reporting a timeout.
    pub stop_timeout: Duration,
}

impl Declared {
    /// A declaration with the defaults of migration.yaml (`stop_when_complete: true`, no ramp, 10 min stop wait).
    pub fn new(state: DeclaredState, workers: u32) -> Self {
        Declared {
            state,
            workers,
            stop_when_complete: true,
            ramp: None,
            stop_timeout: Duration::from_secs(600),
        }
    }
}

/// The working-state index as observed on the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkingStateObservation {
    /// The index does not exist (never started, or archived and deleted by `stopped`).
    Absent,
    /// The index exists; exact counts.
    Present(WorkProgress),
}

/// What the runner remembers between passes for the ramp (the only state that is not re-observable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RampMemory {
    /// When the ramp last changed the desired count.
    #[serde(default, with = "crate::time::option_epoch_seconds")]
    pub last_change_at: Option<Timestamp>,
    /// Write rejections seen in the previous pass.
    pub previous_rejections: Option<u64>,
    /// Consecutive passes in which rejections increased.
    pub rising_passes: u32,
}

/// What the runner remembers while `stopped` waits for tasks to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StopMemory {
    /// When the wait for running tasks began.
    #[serde(default, with = "crate::time::option_epoch_seconds")]
    pub waiting_since: Option<Timestamp>,
}

/// Everything one reconcile pass looks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    pub fleet: FleetObservation,
    pub working_state: WorkingStateObservation,
    pub health: Option<HealthSample>,
    pub ramp: RampMemory,
    pub stop: StopMemory,
    /// Workers that ended in failure recently, as the platform reports them.
    #[serde(default)]
    pub failures: Vec<WorkerFailure>,
    /// Count only failures from this instant on: when the converge loop started (a fresh `apply` after a fix
    /// is not stopped by the failures it came to fix); `None` for `status`, which counts the whole window.
    #[serde(default, with = "crate::time::option_epoch_seconds")]
    pub failures_since: Option<Timestamp>,
}

/// The derived status of the backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    NotStarted,
    Starting,
    Running,
    /// Workers keep failing (the reason says how and why); restarts stop when a restart cannot fix it.
    Failing,
    Paused,
    Completed,
    CompletedWithErrors,
    Stopping,
    Stopped,
    Failed,
}

impl Status {
    /// Stable name used in text and JSON.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "NotStarted",
            Status::Starting => "Starting",
            Status::Running => "Running",
            Status::Failing => "Failing",
            Status::Paused => "Paused",
            Status::Completed => "Completed",
            Status::CompletedWithErrors => "CompletedWithErrors",
            Status::Stopping => "Stopping",
            Status::Stopped => "Stopped",
            Status::Failed => "Failed",
        }
    }
}

/// A status with the reason it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedStatus {
    pub status: Status,
    pub reason: String,
}

impl DerivedStatus {
    pub(crate) fn new(status: Status, reason: impl Into<String>) -> Self {
        DerivedStatus {
            status,
            reason: reason.into(),
        }
    }
}

/// The console's worker-state line (`BackfillStatus.RUNNING` …), derived from fleet counts exactly as the
/// console does on ECS: running > 0 → RUNNING, else pending > 0 → STARTING, else STOPPED.
pub(crate) fn console_fleet_state(fleet: &FleetObservation) -> &'static str {
    if fleet.running > 0 {
        "RUNNING"
    } else if fleet.pending > 0 {
        "STARTING"
    } else {
        "STOPPED"
    }
}

impl From<&crate::config::Lifecycle> for Declared {
    /// The `backfill:` block of migration.yaml as the converge loop sees it.
    fn from(l: &crate::config::Lifecycle) -> Self {
        let state = match l.state {
            crate::config::DesiredState::Running => DeclaredState::Running,
            crate::config::DesiredState::Paused => DeclaredState::Paused,
            crate::config::DesiredState::Stopped => DeclaredState::Stopped,
        };
        Declared {
            state,
            workers: l.workers,
            stop_when_complete: l.stop_when_complete,
            ramp: l.ramp.as_ref().map(|r| RampPolicy {
                step: r.step,
                every: r.every,
                max_cpu_percent: Some(f64::from(r.max_cpu_percent)),
                max_jvm_memory_pressure_percent: Some(f64::from(r.max_jvm_memory_pressure_percent)),
            }),
            stop_timeout: l.stop_timeout,
        }
    }
}

/// `1 worker`, `2 workers`: a count of workers in a status reason.
pub fn workers_text(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 worker".to_string(),
        n => format!("{n} workers"),
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn one_worker_is_singular() {
        assert_eq!(
            [0u32, 1, 2].map(workers_text),
            ["0 workers", "1 worker", "2 workers"]
        );
    }

    #[test]
    fn the_backfill_block_becomes_the_declared_state() {
        let yaml = "version: 1\nname: demo\nsource: {repository: /s, snapshot: x}\ntarget: {endpoint: 'http://t:9200'}\nbackfill:\n  state: paused\n  workers: 6\n  stop_when_complete: false\n  ramp: {step: 2, every: 5m}\n";
        let m = crate::config::parse(
            yaml,
            std::path::Path::new("m.yaml"),
            &crate::config::MapEnv::default(),
            Default::default(),
        )
        .expect("valid");
        let d = Declared::from(&m.backfill);
        assert_eq!(
            (d.state, d.workers, d.stop_when_complete),
            (DeclaredState::Paused, 6, false)
        );
        let ramp = d.ramp.expect("ramp");
        assert_eq!(
            (ramp.step, ramp.every, ramp.max_cpu_percent),
            (2, Duration::from_secs(300), Some(80.0))
        );
    }
}
