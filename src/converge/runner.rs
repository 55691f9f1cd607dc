//! The runner: observe → [`reconcile`] → act, repeated.
//!
//! Guarantees:
//! - level-triggered: every pass re-observes fleet and working state; nothing depends on which pass ran before
//!   except the ramp/stop memory the decision hands back;
//! - idempotent: actions are "set desired to N" and "archive then delete" (which re-checks the index), so a
//!   pass repeated after a crash or a cancelled `.await` redoes nothing harmful;
//! - workers failing in a way a restart cannot fix settle the loop at once (the decision says why, with
//!   [`Decision::restarts_stopped`]); only failures after the runner started count;
//! - errors back off exponentially ([`ERROR_BACKOFF`]: 1 s doubling, capped at 60 s), reset on the next good
//!   pass;
//!   [`Runner::run_until_settled`] gives up after a bounded number of consecutive errors, immediately on
//!   credentials refused, and at its deadline; [`Runner::watch`] never gives up.
//!
//! Time and sleeping come from an injected [`Clock`], so the loop is tested with a [`crate::time::ManualClock`];
//! the settle timeout is measured on its monotonic clock.

use std::future::Future;
use std::time::Duration;

use rand::SeedableRng as _;
use rand::rngs::StdRng;

use super::lifecycle::{
    Declared, DeclaredState, Observed, RampMemory, StopMemory, WorkingStateObservation,
};
#[cfg(test)]
use super::ports::HealthSample;
use super::ports::{Fleet, FleetObservation, HealthSource, PlatformError};
use super::reconcile::{Action, Decision, reconcile};
use crate::cluster::transport::TransportError;
use crate::coordination::archive::{ArchiveError, ArchiveReport};
use crate::coordination::progress::{ProgressError, WorkProgress};
use crate::time::{Backoff, Clock, Jitter, Timestamp};

/// The pause after a failed pass: 1 s, 2 s, 4 s … 60 s, no jitter (one runner per backfill).
pub(crate) const ERROR_BACKOFF: Backoff = Backoff::new(
    Duration::from_secs(1),
    Duration::from_secs(60),
    Jitter::None,
);

/// The working state as the runner needs it.
pub trait WorkingState: Send + Sync {
    /// Exact progress, `None` when the index does not exist.
    fn observe(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<WorkProgress>, ProgressError>> + Send;
    /// Archive every document, verify, delete the index.
    fn archive_and_delete(
        &self,
        now: Timestamp,
    ) -> impl Future<Output = Result<ArchiveReport, ArchiveError>> + Send;
}

/// No health source: the ramp holds ("health unknown"); for tests without a ramp.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoHealth;

#[cfg(test)]
impl HealthSource for NoHealth {
    async fn sample(&self) -> Result<HealthSample, String> {
        Err("no health source".into())
    }
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConvergeError {
    #[error(transparent)]
    Fleet(#[from] PlatformError),
    #[error(transparent)]
    Progress(#[from] ProgressError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("not settled after {waited_secs}s: {status} ({reason})")]
    Timeout {
        waited_secs: u64,
        status: &'static str,
        reason: String,
    },
    #[error("giving up after {errors} consecutive failed passes; last: {last}")]
    TooManyErrors { errors: u32, last: String },
}

impl ConvergeError {
    /// Retrying cannot help (credentials refused; the working state is another migration's).
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(
            self,
            ConvergeError::Progress(ProgressError::Transport(
                TransportError::Unauthorized { .. }
            )) | ConvergeError::Archive(ArchiveError::Transport(
                TransportError::Unauthorized { .. }
            )) | ConvergeError::Progress(ProgressError::NotOurs(_))
                | ConvergeError::Archive(ArchiveError::NotOurs(_))
        )
    }
}

/// What the runner reports as it goes (rendered by `output`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum ConvergeEvent {
    /// One pass observed and decided.
    Pass {
        #[serde(with = "crate::time::epoch_seconds")]
        now: Timestamp,
        fleet: FleetObservation,
        progress: Option<WorkProgress>,
        decision: Box<Decision>,
    },
    /// The ramp's choice and its reason.
    Ramp { reason: String },
    /// An action was executed.
    Acted { action: Action },
    /// The working state was archived (and deleted).
    Archived { report: ArchiveReport },
    /// A pass failed; the next one runs after `retry_in`.
    Error { message: String, retry_in: Duration },
}

/// Options of [`Runner::run_until_settled`].
#[derive(Debug, Clone)]
pub(crate) struct SettleOptions {
    /// Give up (with [`ConvergeError::Timeout`]) when not settled by then.
    pub timeout: Duration,
    /// Give up after this many consecutive failed passes.
    pub max_consecutive_errors: u32,
    /// Longest pause between passes while not settled (progress refresh rate).
    pub poll_cap: Duration,
    /// With `running` declared, settle only once the backfill completed (what `apply --wait` shows), not
    /// as soon as the fleet runs. Ignored when `stop_when_complete` is off (the fleet never stops by itself).
    pub until_complete: bool,
}

impl Default for SettleOptions {
    fn default() -> Self {
        SettleOptions {
            timeout: Duration::from_secs(3600),
            max_consecutive_errors: 8,
            poll_cap: Duration::from_secs(15),
            until_complete: false,
        }
    }
}

/// Drives one backfill to its declared lifecycle.
pub(crate) struct Runner<F, W, H, C> {
    pub declared: Declared,
    pub fleet: F,
    pub working_state: W,
    pub health: H,
    pub clock: C,
    ramp: RampMemory,
    stop: StopMemory,
    /// When this runner started: it counts only worker failures from then on.
    started_at: Timestamp,
}

impl<F: Fleet, W: WorkingState, H: HealthSource, C: Clock> Runner<F, W, H, C> {
    pub(crate) fn new(declared: Declared, fleet: F, working_state: W, health: H, clock: C) -> Self {
        let started_at = clock.now();
        Runner {
            started_at,
            declared,
            fleet,
            working_state,
            health,
            clock,
            ramp: RampMemory::default(),
            stop: StopMemory::default(),
        }
    }

    /// Observes without acting (what `status` shows).
    pub(crate) async fn observe(&self) -> Result<Observed, ConvergeError> {
        let now = self.clock.now();
        let fleet = self.fleet.observe().await?;
        let failures = self.fleet.failures().await?;
        let working_state = match self.working_state.observe(now).await? {
            Some(p) => WorkingStateObservation::Present(p),
            None => WorkingStateObservation::Absent,
        };
        let health = if self.declared.ramp.is_some() {
            self.health.sample().await.ok()
        } else {
            None
        };
        Ok(Observed {
            fleet,
            working_state,
            health,
            ramp: self.ramp,
            stop: self.stop,
            failures,
            failures_since: Some(self.started_at),
        })
    }

    /// One pass: observe, decide, act. Returns the decision.
    pub(crate) async fn pass(
        &mut self,
        sink: &mut impl FnMut(ConvergeEvent),
    ) -> Result<Decision, ConvergeError> {
        let observed = self.observe().await?;
        let now = self.clock.now();
        let decision = reconcile(&self.declared, &observed, now);
        let progress = match &observed.working_state {
            WorkingStateObservation::Present(p) => Some(p.clone()),
            WorkingStateObservation::Absent => None,
        };
        sink(ConvergeEvent::Pass {
            now,
            fleet: observed.fleet,
            progress,
            decision: Box::new(decision.clone()),
        });
        if let Some(reason) = &decision.ramp_reason {
            sink(ConvergeEvent::Ramp {
                reason: reason.clone(),
            });
        }
        for action in &decision.actions {
            match action {
                Action::Scale { desired } => self.fleet.scale(*desired).await?,
                Action::ArchiveWorkingState => {
                    let report = self.working_state.archive_and_delete(now).await?;
                    sink(ConvergeEvent::Archived { report });
                }
            }
            sink(ConvergeEvent::Acted {
                action: action.clone(),
            });
        }
        // Memory is kept only once the actions it describes succeeded.
        self.ramp = decision.ramp;
        self.stop = decision.stop;
        Ok(decision)
    }

    fn done(&self, options: &SettleOptions, decision: &Decision) -> bool {
        use super::lifecycle::Status;
        decision.restarts_stopped()
            || !options.until_complete
            || self.declared.state != DeclaredState::Running
            || !self.declared.stop_when_complete
            || matches!(
                decision.status.status,
                Status::Completed | Status::CompletedWithErrors | Status::Failed
            )
    }

    /// Passes until the declared state is reached (or the backfill completed); for `apply --wait`.
    pub(crate) async fn run_until_settled(
        &mut self,
        options: &SettleOptions,
        sink: &mut impl FnMut(ConvergeEvent),
    ) -> Result<Decision, ConvergeError> {
        let start = self.clock.instant();
        let mut backoff = error_delays();
        let mut errors = 0u32;
        loop {
            let wait = match self.pass(sink).await {
                Ok(decision) if decision.settled && self.done(options, &decision) => {
                    return Ok(decision);
                }
                Ok(decision) => {
                    errors = 0;
                    backoff.reset();
                    let waited = self.clock.instant().saturating_duration_since(start);
                    if waited >= options.timeout {
                        return Err(ConvergeError::Timeout {
                            waited_secs: waited.as_secs(),
                            status: decision.status.status.as_str(),
                            reason: decision.status.reason,
                        });
                    }
                    decision.requeue_after.min(options.poll_cap)
                }
                Err(e) if e.is_terminal() => return Err(e),
                Err(e) => {
                    errors = errors.saturating_add(1);
                    if errors >= options.max_consecutive_errors {
                        return Err(ConvergeError::TooManyErrors {
                            errors,
                            last: e.to_string(),
                        });
                    }
                    let retry_in = backoff.next().unwrap_or(ERROR_BACKOFF.cap);
                    sink(ConvergeEvent::Error {
                        message: e.to_string(),
                        retry_in,
                    });
                    retry_in
                }
            };
            self.clock.sleep(wait).await;
        }
    }

    /// Runs forever (`converge --watch`): every `interval` (or sooner when the decision asks), backing off
    /// on errors. Returns only when the sink's caller stops polling the future.
    pub(crate) async fn watch(&mut self, interval: Duration, sink: &mut impl FnMut(ConvergeEvent)) {
        let mut backoff = error_delays();
        loop {
            let wait = match self.pass(sink).await {
                Ok(decision) => {
                    backoff.reset();
                    decision.requeue_after.min(interval)
                }
                Err(e) => {
                    let retry_in = backoff.next().unwrap_or(interval);
                    sink(ConvergeEvent::Error {
                        message: e.to_string(),
                        retry_in,
                    });
                    retry_in
                }
            };
            self.clock.sleep(wait).await;
        }
    }
}

/// The delays of [`ERROR_BACKOFF`] (unjittered: the generator is never drawn from).
fn error_delays() -> crate::time::Delays<StdRng> {
    ERROR_BACKOFF.delays(StdRng::seed_from_u64(0))
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
