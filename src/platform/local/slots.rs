//! The supervisor's pure core: which worker slots to start, stop or leave alone, given the desired count.
//!
//! A slot is one place for a worker process (like an ECS task). Rules:
//! - slots `0..desired` should each have a running worker; slots at or beyond `desired` are stopped (SIGTERM,
//!   the worker checkpoints) and dropped once their process has exited;
//! - a worker that ends with [`Outcome::Success`] (exit 0, "no work left") is not restarted — its slot is
//!   `Finished` until the desired count changes (a pause/resume or a scale starts fresh workers);
//! - [`Outcome::LeaseHandedOff`] (exit 3) restarts at once: the worker did its job and more work may wait;
//! - [`Outcome::AllWorkLeased`] (exit 4) restarts after [`ALL_LEASED_DELAY`]: a crashed holder's lease may
//!   expire, and ECS would also start a replacement task;
//! - any other end (an error exit, a crash, a signal) restarts with exponential backoff ([`CRASH_BACKOFF`]: 1 s doubling to 60 s),
//!   reset after a worker ran for [`HEALTHY_AFTER`].
//!
//! Exit codes are read back through [`Outcome::from_code`], the same table the worker exits with. Every other
//! end of a worker that was not told to stop is a failure, kept in the [`FailureLog`] of the current run (since
//! `desired` last rose from 0): when the crash-loop policy ([`CRASH_LOOP`], the converge loop's) says a restart
//! cannot fix them, the supervisor stops restarting (it sets `desired` to 0, as the converge loop would).
//!
//! Time is an argument (monotonic instants), so every transition is unit-tested without processes.

use std::time::{Duration, Instant};

use crate::converge::ports::{CRASH_LOOP, FailureAssessment, WorkerFailure};
use crate::exit::Outcome;
use crate::time::{Backoff, Jitter, Timestamp};

/// Delay before restarting a worker that found every item leased elsewhere.
pub(crate) const ALL_LEASED_DELAY: Duration = Duration::from_secs(5);
/// A worker that ran this long resets its slot's crash backoff.
pub(crate) const HEALTHY_AFTER: Duration = Duration::from_secs(30);
/// Delay before restarting a crashed worker, by consecutive crashes: 1 s, 2 s, 4 s … 60 s, no jitter.
pub(crate) const CRASH_BACKOFF: Backoff = Backoff::new(
    Duration::from_secs(1),
    Duration::from_secs(60),
    Jitter::None,
);

/// One slot's state; instants are on the supervisor's monotonic clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// A worker process runs (pid), started at `since`.
    Running { pid: u32, since: Instant },
    /// Being stopped (SIGTERM sent at `since`); still counts as running until it exits.
    Stopping { pid: u32, since: Instant },
    /// Waiting to (re)start at `at`.
    Waiting { at: Instant },
    /// Ended with [`Outcome::Success`]: no work left; not restarted.
    Finished,
}

/// One worker slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) state: SlotState,
    /// Consecutive crashes (drives the backoff).
    pub(crate) crashes: u32,
    /// Processes started in this slot (names the worker id and log file).
    pub(crate) generation: u32,
}

/// Something the supervisor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SlotAction {
    /// Start a worker in slot `index`.
    Start { index: usize },
    /// Send SIGTERM to `pid` (slot beyond desired).
    Terminate { pid: u32 },
    /// Send SIGKILL to `pid` (did not exit within the stop bound).
    Kill { pid: u32 },
}

/// The worker that ended, as [`Slots::exited`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExitedWorker {
    /// Its slot.
    pub(crate) index: usize,
    /// Its generation in the slot (with the slot, its name and log file).
    pub(crate) generation: u32,
    /// It had been told to stop: however it ended, that is no failure.
    pub(crate) stopping: bool,
}

/// Counts in ECS's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SlotCounts {
    pub(crate) running: u32,
    pub(crate) pending: u32,
    pub(crate) finished: u32,
}

/// All slots of one supervisor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    pub(crate) slots: Vec<Slot>,
    desired: u32,
}

impl Slots {
    /// Brings the slot table to `desired` at `now` and says what to do. `stop_after` bounds how long a
    /// terminated worker may take before it is killed.
    pub(crate) fn reconcile(
        &mut self,
        desired: u32,
        now: Instant,
        stop_after: Duration,
    ) -> Vec<SlotAction> {
        let mut actions = Vec::new();
        if desired != self.desired {
            // A new desired count starts fresh: finished slots may work again (resume, scale).
            for slot in &mut self.slots {
                if slot.state == SlotState::Finished {
                    slot.state = SlotState::Waiting { at: now };
                }
            }
            self.desired = desired;
        }
        let desired = desired as usize;
        while self.slots.len() < desired {
            self.slots.push(Slot {
                state: SlotState::Waiting { at: now },
                crashes: 0,
                generation: 0,
            });
        }
        for (index, slot) in self.slots.iter_mut().enumerate() {
            match slot.state {
                SlotState::Running { pid, .. } if index >= desired => {
                    slot.state = SlotState::Stopping { pid, since: now };
                    actions.push(SlotAction::Terminate { pid });
                }
                SlotState::Stopping { pid, since }
                    if now.saturating_duration_since(since) >= stop_after =>
                {
                    actions.push(SlotAction::Kill { pid });
                }
                SlotState::Waiting { at } if index < desired && now >= at => {
                    actions.push(SlotAction::Start { index });
                }
                _ => {}
            }
        }
        // Slots beyond desired that hold no process are dropped (from the end, keeping indexes stable).
        while self.slots.len() > desired
            && matches!(
                self.slots.last().map(|s| &s.state),
                Some(SlotState::Waiting { .. } | SlotState::Finished)
            )
        {
            self.slots.pop();
        }
        actions
    }

    /// Records that the worker of slot `index` started as `pid`.
    pub(crate) fn started(&mut self, index: usize, pid: u32, now: Instant) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.state = SlotState::Running { pid, since: now };
            slot.generation += 1;
        }
    }

    /// Records that starting slot `index` failed: retried with backoff like a crash.
    pub(crate) fn start_failed(&mut self, index: usize, now: Instant) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.crashes += 1;
            slot.state = SlotState::Waiting {
                at: now + CRASH_BACKOFF.ceiling(slot.crashes),
            };
        }
    }

    /// Records that `pid` ended with `outcome` (`None`: an error exit, a crash or a signal). Returns which slot's
    /// worker it was, or `None` for a pid no slot holds.
    pub(crate) fn exited(
        &mut self,
        pid: u32,
        outcome: Option<Outcome>,
        now: Instant,
    ) -> Option<ExitedWorker> {
        let (index, slot) = self.slots.iter_mut().enumerate().find(|(_, s)| {
            matches!(s.state, SlotState::Running { pid: p, .. } | SlotState::Stopping { pid: p, .. } if p == pid)
        })?;
        let since = match slot.state {
            SlotState::Running { since, .. } | SlotState::Stopping { since, .. } => since,
            _ => now,
        };
        if now.saturating_duration_since(since) >= HEALTHY_AFTER {
            slot.crashes = 0;
        }
        let stopping = matches!(slot.state, SlotState::Stopping { .. });
        slot.state = match outcome {
            _ if stopping => SlotState::Waiting { at: now },
            Some(Outcome::Success) => SlotState::Finished,
            Some(Outcome::LeaseHandedOff) => SlotState::Waiting { at: now },
            Some(Outcome::AllWorkLeased) => SlotState::Waiting {
                at: now + ALL_LEASED_DELAY,
            },
            Some(Outcome::ChangesPresent) | None => {
                slot.crashes += 1;
                SlotState::Waiting {
                    at: now + CRASH_BACKOFF.ceiling(slot.crashes),
                }
            }
        };
        Some(ExitedWorker {
            index,
            generation: slot.generation,
            stopping,
        })
    }

    /// Running / pending / finished, as the fleet reports them.
    pub(crate) fn counts(&self) -> SlotCounts {
        let mut counts = SlotCounts::default();
        for (index, slot) in self.slots.iter().enumerate() {
            match slot.state {
                SlotState::Running { .. } | SlotState::Stopping { .. } => counts.running += 1,
                SlotState::Waiting { .. } if index < self.desired as usize => counts.pending += 1,
                SlotState::Finished => counts.finished += 1,
                SlotState::Waiting { .. } => {}
            }
        }
        counts
    }

    /// Pids of every live worker.
    #[cfg(test)]
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                SlotState::Running { pid, .. } | SlotState::Stopping { pid, .. } => Some(pid),
                _ => None,
            })
            .collect()
    }
}

/// At most this many failures are kept (the newest).
pub(crate) const FAILURES_KEPT: usize = 20;

/// The failures of the fleet's current run, newest last: bounded in number and by the policy's window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FailureLog {
    failures: Vec<WorkerFailure>,
    desired: u32,
}

impl FailureLog {
    /// Follows the desired count: a fleet started again from 0 (a resume, an `apply` after a fix) starts a
    /// clean log; a scale up or down keeps it.
    pub(crate) fn desired(&mut self, desired: u32) {
        if self.desired == 0 && desired > 0 {
            self.failures.clear();
        }
        self.desired = desired;
    }

    /// Records one failure at `now`, forgetting those that left the window.
    pub(crate) fn record(&mut self, failure: WorkerFailure, now: Timestamp) {
        self.failures.push(failure);
        let from = now - CRASH_LOOP.window;
        self.failures.retain(|f| f.stopped_at >= from);
        let excess = self.failures.len().saturating_sub(FAILURES_KEPT);
        self.failures.drain(..excess);
    }

    /// The failures kept, newest last.
    pub(crate) fn failures(&self) -> &[WorkerFailure] {
        &self.failures
    }

    /// `Some` when restarts must stop (with why), by the converge loop's policy.
    pub(crate) fn stop_restarts(&self, now: Timestamp) -> Option<FailureAssessment> {
        CRASH_LOOP
            .assess(&self.failures, None, now)
            .filter(|a| a.stop_restarts)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// `ms` milliseconds after an origin shared by every test.
    fn at(ms: u64) -> Instant {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        *ORIGIN.get_or_init(Instant::now) + Duration::from_millis(ms)
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn started(slots: &mut Slots, now: Instant) -> Vec<usize> {
        let actions = slots.reconcile(slots.desired, now, ms(10_000));
        let mut idx = Vec::new();
        for a in actions {
            if let SlotAction::Start { index } = a {
                slots.started(index, 100 + index as u32, now);
                idx.push(index);
            }
        }
        idx
    }

    #[test]
    fn starts_desired_workers_and_reports_them_running() {
        let mut s = Slots::default();
        let actions = s.reconcile(3, at(0), ms(10_000));
        assert_eq!(actions.len(), 3);
        for (i, _) in actions.iter().enumerate() {
            s.started(i, 100 + i as u32, at(0));
        }
        assert_eq!(s.counts().running, 3);
        assert!(s.reconcile(3, at(10), ms(10_000)).is_empty(), "idempotent");
    }

    #[test]
    fn a_worker_with_no_work_left_is_not_restarted_until_desired_changes() {
        let mut s = Slots::default();
        s.reconcile(2, at(0), ms(10_000));
        s.started(0, 100, at(0));
        s.started(1, 101, at(0));
        s.exited(100, Some(Outcome::Success), at(1_000));
        assert!(s.reconcile(2, at(2_000), ms(10_000)).is_empty());
        assert_eq!(
            s.counts(),
            SlotCounts {
                running: 1,
                pending: 0,
                finished: 1
            }
        );
        // Pause then resume: fresh workers.
        let actions = s.reconcile(0, at(3_000), ms(10_000));
        assert_eq!(actions, vec![SlotAction::Terminate { pid: 101 }]);
        s.exited(101, Some(Outcome::LeaseHandedOff), at(3_500));
        assert!(s.reconcile(0, at(3_600), ms(10_000)).is_empty());
        assert!(s.slots.is_empty(), "stopped slots are dropped");
        assert_eq!(s.reconcile(2, at(4_000), ms(10_000)).len(), 2);
    }

    #[test]
    fn crashes_back_off_exponentially_and_reset_after_a_healthy_run() {
        let mut s = Slots::default();
        s.reconcile(1, at(0), ms(10_000));
        s.started(0, 100, at(0));
        s.exited(100, None, at(100)); // an error exit
        assert_eq!(s.slots[0].state, SlotState::Waiting { at: at(1_100) });
        assert!(
            s.reconcile(1, at(1_000), ms(10_000)).is_empty(),
            "still backing off"
        );
        assert_eq!(s.counts().pending, 1);
        assert_eq!(started(&mut s, at(1_100)), vec![0]);
        s.exited(100, None, at(1_200)); // killed by a signal
        assert_eq!(s.slots[0].state, SlotState::Waiting { at: at(3_200) });
        assert_eq!(started(&mut s, at(3_200)), vec![0]);
        s.exited(100, None, at(3_200) + HEALTHY_AFTER);
        assert_eq!(s.slots[0].crashes, 1, "a healthy run resets the backoff");
        assert_eq!(s.slots[0].generation, 3);
    }

    #[test]
    fn handoff_restarts_at_once_and_all_leased_waits() {
        let mut s = Slots::default();
        s.reconcile(2, at(0), ms(10_000));
        s.started(0, 100, at(0));
        s.started(1, 101, at(0));
        s.exited(100, Some(Outcome::LeaseHandedOff), at(50));
        s.exited(101, Some(Outcome::AllWorkLeased), at(50));
        let actions = s.reconcile(2, at(60), ms(10_000));
        assert_eq!(actions, vec![SlotAction::Start { index: 0 }]);
        let later = 50 + ALL_LEASED_DELAY.as_millis() as u64;
        assert_eq!(
            s.reconcile(2, at(later), ms(10_000)),
            vec![
                SlotAction::Start { index: 0 },
                SlotAction::Start { index: 1 }
            ]
        );
    }

    #[test]
    fn scale_down_terminates_then_kills_after_the_bound() {
        let mut s = Slots::default();
        s.reconcile(2, at(0), ms(1_000));
        s.started(0, 100, at(0));
        s.started(1, 101, at(0));
        assert_eq!(
            s.reconcile(1, at(10), ms(1_000)),
            vec![SlotAction::Terminate { pid: 101 }]
        );
        assert_eq!(s.counts().running, 2, "stopping still runs");
        assert!(s.reconcile(1, at(500), ms(1_000)).is_empty());
        assert_eq!(
            s.reconcile(1, at(1_010), ms(1_000)),
            vec![SlotAction::Kill { pid: 101 }]
        );
        assert_eq!(
            s.exited(101, None, at(1_020)),
            Some(ExitedWorker {
                index: 1,
                generation: 1,
                stopping: true
            }),
            "a killed worker that was told to stop"
        );
        assert_eq!(s.exited(101, None, at(1_025)), None, "reaped once");
        s.reconcile(1, at(1_030), ms(1_000));
        assert_eq!(s.slots.len(), 1);
        assert_eq!(s.pids(), vec![100]);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(CRASH_BACKOFF.ceiling(1), Duration::from_secs(1));
        assert_eq!(CRASH_BACKOFF.ceiling(3), Duration::from_secs(4));
        assert_eq!(CRASH_BACKOFF.ceiling(40), Duration::from_secs(60));
    }

    fn failure(code: i32, at: Timestamp) -> WorkerFailure {
        WorkerFailure {
            worker: "worker-0-1".into(),
            exit_code: Some(code),
            stopped_at: at,
            message: "the snapshot cannot be read: gone".into(),
        }
    }

    #[test]
    fn the_failure_log_stops_restarts_on_a_permanent_crash_loop_and_starts_clean_from_zero() {
        let t0 = Timestamp::from_epoch_seconds(1_000);
        let mut log = FailureLog::default();
        log.desired(2);
        log.record(failure(5, t0), t0);
        log.record(failure(1, t0), t0);
        log.record(failure(5, t0), t0);
        assert_eq!(log.stop_restarts(t0), None, "two permanent failures");
        log.record(failure(5, t0), t0);
        let stop = log.stop_restarts(t0).expect("three permanent failures");
        assert!(
            stop.reason.starts_with("3 workers exited 5"),
            "{}",
            stop.reason
        );
        log.desired(4);
        assert_eq!(log.failures().len(), 4, "a scale up keeps the log");
        log.desired(0);
        assert_eq!(log.failures().len(), 4, "stopping keeps it for status");
        log.desired(2);
        assert!(log.failures().is_empty(), "a fresh start forgets it");
    }

    #[test]
    fn the_failure_log_is_bounded_by_count_and_window() {
        let t0 = Timestamp::from_epoch_seconds(1_000);
        let mut log = FailureLog::default();
        for i in 0..30 {
            log.record(failure(1, t0), t0 + Duration::from_secs(i));
        }
        assert_eq!(log.failures().len(), FAILURES_KEPT);
        let later = t0 + CRASH_LOOP.window + Duration::from_secs(100);
        log.record(failure(1, later), later);
        assert_eq!(log.failures().len(), 1, "older ones left the window");
    }
}
