//! The pure reconcile step: `(declared, observed, now) -> Decision`.
//!
//! Level-triggered: the decision depends only on what is declared and observed now (plus the small ramp/stop
//! memory carried in [`Observed`]), never on which event woke the loop. Idempotent: applying a decision and
//! reconciling again with the resulting observation yields no further action. Transitions:
//! - `running`: fleet desired = `workers` (or the current ramp step); the workers create the working state.
//!   When every work item is complete and `stop_when_complete` is true the fleet goes to 0 and the status is
//!   `Completed` (`CompletedWithErrors` when documents failed).
//!   Workers that keep failing ([`super::failures`]) make it `Failing` with the cause; when a restart cannot
//!   fix the cause, the fleet goes to 0 and the decision is settled (restarts stop, `apply --wait` ends).
//! - `paused`: fleet to 0, working state kept.
//! - `stopped`: fleet to 0; wait (bounded by `stop_timeout`, reported as `Failed` when exceeded, still
//!   retried) until no task runs; then archive + verify + delete the working state; `Stopped` once it is gone.

use std::time::Duration;

use serde::Serialize;

use super::failures::{CRASH_LOOP, FailureAssessment};
use super::lifecycle::{
    Declared, DeclaredState, DerivedStatus, Observed, RampMemory, Status, StopMemory,
    WorkingStateObservation, workers_text,
};
use super::ramp;
use crate::coordination::progress::WorkProgress;
use crate::time::Timestamp;

/// Something the runner must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Set the fleet's desired count.
    Scale { desired: u32 },
    /// Archive the working state, verify the archive, then delete the index.
    ArchiveWorkingState,
}

/// The outcome of one reconcile pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub actions: Vec<Action>,
    pub requeue_after: Duration,
    pub status: DerivedStatus,
    /// The declared state is reached (or the backfill completed): `apply --wait` may stop.
    pub settled: bool,
    /// Why the ramp chose this count (logged every pass when a ramp is declared).
    pub ramp_reason: Option<String>,
    pub ramp: RampMemory,
    pub stop: StopMemory,
    /// Workers failing recently (running declared): why, and whether restarts stopped.
    pub failure: Option<Box<FailureAssessment>>,
}

impl Decision {
    /// Restarts stopped because workers fail in a way a restart cannot fix: waiting longer changes nothing.
    pub(crate) fn restarts_stopped(&self) -> bool {
        self.failure.as_ref().is_some_and(|f| f.stop_restarts)
    }
}

/// Requeue while something is changing.
pub(crate) const REQUEUE_ACTIVE: Duration = Duration::from_secs(5);
/// Requeue while the backfill runs steadily.
pub(crate) const REQUEUE_RUNNING: Duration = Duration::from_secs(30);
/// Safety-net requeue when settled.
pub(crate) const REQUEUE_SETTLED: Duration = Duration::from_secs(300);

fn progress_text(p: &WorkProgress) -> String {
    format!(
        "{} of {} work items complete ({:.1}%)",
        p.completed,
        p.total,
        p.percent()
    )
}

fn completed_status(p: &WorkProgress, tail: &str) -> DerivedStatus {
    match p.failed_documents {
        Some(n) if n > 0 => DerivedStatus::new(
            Status::CompletedWithErrors,
            format!(
                "all {} work items complete, {n} documents failed; {tail}",
                p.total
            ),
        ),
        _ => DerivedStatus::new(
            Status::Completed,
            format!("all {} work items complete; {tail}", p.total),
        ),
    }
}

struct Draft {
    actions: Vec<Action>,
    requeue_after: Duration,
    status: DerivedStatus,
    settled: bool,
    ramp_reason: Option<String>,
    ramp: RampMemory,
    stop: StopMemory,
    failure: Option<Box<FailureAssessment>>,
}

impl Draft {
    fn new(observed: &Observed, status: DerivedStatus) -> Self {
        Draft {
            actions: Vec::new(),
            requeue_after: REQUEUE_ACTIVE,
            status,
            settled: false,
            ramp_reason: None,
            ramp: observed.ramp,
            stop: StopMemory::default(),
            failure: None,
        }
    }
    fn done(self) -> Decision {
        Decision {
            actions: self.actions,
            requeue_after: self.requeue_after,
            status: self.status,
            settled: self.settled,
            ramp_reason: self.ramp_reason,
            ramp: self.ramp,
            stop: self.stop,
            failure: self.failure,
        }
    }
}

/// Decides what to do now. Pure: no I/O, time comes in as `now`.
pub fn reconcile(declared: &Declared, observed: &Observed, now: Timestamp) -> Decision {
    let fleet = &observed.fleet;
    let progress = match &observed.working_state {
        WorkingStateObservation::Present(p) => Some(p),
        WorkingStateObservation::Absent => None,
    };
    if !fleet.exists {
        let idle_stop = declared.state == DeclaredState::Stopped && progress.is_none();
        let status = if idle_stop {
            DerivedStatus::new(Status::Stopped, "no worker service and no working state")
        } else {
            DerivedStatus::new(
                Status::Failed,
                "the worker service does not exist; run `backfill apply`",
            )
        };
        let mut d = Draft::new(observed, status);
        d.settled = idle_stop;
        d.requeue_after = if idle_stop {
            REQUEUE_SETTLED
        } else {
            REQUEUE_RUNNING
        };
        return d.done();
    }
    let active = fleet.running.saturating_add(fleet.pending);
    let scale_to = |d: &mut Draft, desired: u32| {
        if fleet.desired != desired {
            d.actions.push(Action::Scale { desired });
        }
    };
    match declared.state {
        DeclaredState::Running => {
            if let Some(p) = progress.filter(|p| p.is_complete()) {
                if declared.stop_when_complete {
                    let tail = if active > 0 {
                        format!("fleet scaled to 0, waiting for {active} tasks to stop")
                    } else {
                        "fleet scaled to 0".to_string()
                    };
                    let mut d = Draft::new(observed, completed_status(p, &tail));
                    scale_to(&mut d, 0);
                    d.settled = fleet.desired == 0 && active == 0;
                    d.requeue_after = if d.settled {
                        REQUEUE_SETTLED
                    } else {
                        REQUEUE_ACTIVE
                    };
                    return d.done();
                }
                let tail = format!(
                    "fleet kept at {} (stop_when_complete: false)",
                    declared.workers
                );
                let mut d = Draft::new(observed, completed_status(p, &tail));
                scale_to(&mut d, declared.workers);
                d.settled = true;
                d.requeue_after = REQUEUE_SETTLED;
                return d.done();
            }
            let failure = CRASH_LOOP.assess(&observed.failures, observed.failures_since, now);
            if let Some(stop) = failure.as_ref().filter(|f| f.stop_restarts) {
                let status = DerivedStatus::new(Status::Failing, stop.reason.clone());
                let mut d = Draft::new(observed, status);
                scale_to(&mut d, 0);
                d.settled = true;
                d.requeue_after = REQUEUE_RUNNING;
                d.failure = failure.map(Box::new);
                return d.done();
            }
            let (target, ramp_reason, ramp_memory) = match &declared.ramp {
                Some(policy) => {
                    let r = ramp::decide(
                        policy,
                        declared.workers,
                        fleet.desired,
                        observed.health.as_ref(),
                        observed.ramp,
                        now,
                    );
                    (r.target, Some(r.reason), r.memory)
                }
                None => (declared.workers, None, observed.ramp),
            };
            let status = if declared.workers == 0 {
                DerivedStatus::new(Status::Paused, "declared running with 0 workers")
            } else {
                match progress {
                    None if fleet.running > 0 => DerivedStatus::new(
                        Status::Starting,
                        format!(
                            "{} running; the working state is not created yet",
                            workers_text(fleet.running)
                        ),
                    ),
                    None => DerivedStatus::new(
                        Status::Starting,
                        format!("{} requested, none running yet", workers_text(target)),
                    ),
                    Some(p) if !p.setup_done() => {
                        DerivedStatus::new(Status::Starting, "workers are creating the work items")
                    }
                    Some(p) if fleet.running > 0 => DerivedStatus::new(
                        Status::Running,
                        format!(
                            "{} running; {}",
                            workers_text(fleet.running),
                            progress_text(p)
                        ),
                    ),
                    Some(p) => DerivedStatus::new(
                        Status::Starting,
                        format!(
                            "{} requested, none running yet; {}",
                            workers_text(target),
                            progress_text(p)
                        ),
                    ),
                }
            };
            let status = match &failure {
                Some(f) if declared.workers > 0 => {
                    DerivedStatus::new(Status::Failing, format!("{}; {}", f.reason, status.reason))
                }
                _ => status,
            };
            let mut d = Draft::new(observed, status);
            d.failure = failure.map(Box::new);
            scale_to(&mut d, target);
            d.ramp_reason = ramp_reason;
            d.ramp = ramp_memory;
            d.settled =
                target == declared.workers && fleet.desired == target && fleet.running >= target;
            d.requeue_after = if d.actions.is_empty() && d.settled {
                REQUEUE_RUNNING
            } else {
                REQUEUE_ACTIVE
            };
            if let Some(policy) = declared.ramp.as_ref().filter(|_| target < declared.workers) {
                d.requeue_after = d
                    .requeue_after
                    .min(policy.every)
                    .max(Duration::from_secs(1));
            }
            d.done()
        }
        DeclaredState::Paused => {
            let status = match progress {
                Some(p) if p.is_complete() => completed_status(p, "paused"),
                Some(p) if active > 0 => DerivedStatus::new(
                    Status::Paused,
                    format!(
                        "pausing: waiting for {active} tasks to stop; {}; progress kept",
                        progress_text(p)
                    ),
                ),
                Some(p) => DerivedStatus::new(
                    Status::Paused,
                    format!("{}; progress kept", progress_text(p)),
                ),
                None if active > 0 => DerivedStatus::new(
                    Status::Paused,
                    format!("pausing: waiting for {active} tasks to stop"),
                ),
                None => DerivedStatus::new(
                    Status::NotStarted,
                    "paused before any work item was created",
                ),
            };
            let mut d = Draft::new(observed, status);
            scale_to(&mut d, 0);
            d.settled = fleet.desired == 0 && active == 0;
            d.requeue_after = if d.settled {
                REQUEUE_SETTLED
            } else {
                REQUEUE_ACTIVE
            };
            d.done()
        }
        DeclaredState::Stopped => {
            if fleet.desired != 0 || active > 0 {
                let waiting_since = observed.stop.waiting_since.unwrap_or(now);
                let waited = now.saturating_duration_since(waiting_since).as_secs();
                let limit = declared.stop_timeout.as_secs();
                let status = if waited > limit {
                    DerivedStatus::new(
                        Status::Failed,
                        format!(
                            "timed out after {waited}s waiting for {} running and {} pending tasks to stop (limit {limit}s); the working state was not archived",
                            fleet.running, fleet.pending
                        ),
                    )
                } else {
                    DerivedStatus::new(
                        Status::Stopping,
                        format!(
                            "fleet to 0; waiting for {} running and {} pending tasks to stop ({waited}s of {limit}s)",
                            fleet.running, fleet.pending
                        ),
                    )
                };
                let mut d = Draft::new(observed, status);
                scale_to(&mut d, 0);
                d.stop = StopMemory {
                    waiting_since: Some(waiting_since),
                };
                return d.done();
            }
            match progress {
                Some(p) => {
                    let mut d = Draft::new(
                        observed,
                        DerivedStatus::new(
                            Status::Stopping,
                            format!(
                                "no task runs; archiving the working state ({})",
                                progress_text(p)
                            ),
                        ),
                    );
                    d.actions.push(Action::ArchiveWorkingState);
                    d.done()
                }
                None => {
                    let mut d = Draft::new(
                        observed,
                        DerivedStatus::new(
                            Status::Stopped,
                            "fleet at 0; no working state (archived, or never created)",
                        ),
                    );
                    d.settled = true;
                    d.requeue_after = REQUEUE_SETTLED;
                    d.done()
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "reconcile_failures_tests.rs"]
mod failures_tests;
