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
//! - any other end (an error exit, a crash, a signal) restarts with exponential backoff (1 s doubling to 60 s),
//!   reset after a worker ran for [`HEALTHY_AFTER`].
//!
//! Exit codes are read back through [`Outcome::from_code`], the same table the worker exits with.
//!
//! Time is an argument, so every transition is unit-tested without processes.

use std::time::Duration;

use crate::exit::Outcome;

/// Delay before restarting a worker that found every item leased elsewhere.
pub const ALL_LEASED_DELAY: Duration = Duration::from_secs(5);
/// A worker that ran this long resets its slot's crash backoff.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One slot's state; `now` values are milliseconds on the supervisor's monotonic clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotState {
    /// A worker process runs (pid), started at `since`.
    Running { pid: u32, since: u64 },
    /// Being stopped (SIGTERM sent at `since`); still counts as running until it exits.
    Stopping { pid: u32, since: u64 },
    /// Waiting to (re)start at `at`.
    Waiting { at: u64 },
    /// Ended with [`Outcome::Success`]: no work left; not restarted.
    Finished,
}

/// One worker slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub state: SlotState,
    /// Consecutive crashes (drives the backoff).
    pub crashes: u32,
    /// Processes started in this slot (names the worker id and log file).
    pub generation: u32,
}

/// Something the supervisor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotAction {
    /// Start a worker in slot `index`.
    Start { index: usize },
    /// Send SIGTERM to `pid` (slot beyond desired).
    Terminate { pid: u32 },
    /// Send SIGKILL to `pid` (did not exit within the stop bound).
    Kill { pid: u32 },
}

/// Counts in ECS's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotCounts {
    pub running: u32,
    pub pending: u32,
    pub finished: u32,
}

/// All slots of one supervisor.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub slots: Vec<Slot>,
    desired: u32,
}

impl Slots {
    /// Brings the slot table to `desired` at `now` and says what to do. `stop_after_ms` bounds how long a
    /// terminated worker may take before it is killed.
    pub fn reconcile(&mut self, desired: u32, now: u64, stop_after_ms: u64) -> Vec<SlotAction> {
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
                    if now.saturating_sub(since) >= stop_after_ms =>
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
    pub fn started(&mut self, index: usize, pid: u32, now: u64) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.state = SlotState::Running { pid, since: now };
            slot.generation += 1;
        }
    }

    /// Records that starting slot `index` failed: retried with backoff like a crash.
    pub fn start_failed(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.crashes += 1;
            slot.state = SlotState::Waiting {
                at: now + backoff(slot.crashes).as_millis() as u64,
            };
        }
    }

    /// Records that `pid` ended with `outcome` (`None`: an error exit, a crash or a signal).
    pub fn exited(&mut self, pid: u32, outcome: Option<Outcome>, now: u64) {
        let Some(slot) = self.slots.iter_mut().find(|s| {
            matches!(s.state, SlotState::Running { pid: p, .. } | SlotState::Stopping { pid: p, .. } if p == pid)
        }) else {
            return;
        };
        let since = match slot.state {
            SlotState::Running { since, .. } | SlotState::Stopping { since, .. } => since,
            _ => now,
        };
        if now.saturating_sub(since) >= HEALTHY_AFTER.as_millis() as u64 {
            slot.crashes = 0;
        }
        let stopping = matches!(slot.state, SlotState::Stopping { .. });
        slot.state = match outcome {
            _ if stopping => SlotState::Waiting { at: now },
            Some(Outcome::Success) => SlotState::Finished,
            Some(Outcome::LeaseHandedOff) => SlotState::Waiting { at: now },
            Some(Outcome::AllWorkLeased) => SlotState::Waiting {
                at: now + ALL_LEASED_DELAY.as_millis() as u64,
            },
            Some(Outcome::ChangesPresent) | None => {
                slot.crashes += 1;
                SlotState::Waiting {
                    at: now + backoff(slot.crashes).as_millis() as u64,
                }
            }
        };
    }

    /// Running / pending / finished, as the fleet reports them.
    pub fn counts(&self) -> SlotCounts {
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
    pub fn pids(&self) -> Vec<u32> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                SlotState::Running { pid, .. } | SlotState::Stopping { pid, .. } => Some(pid),
                _ => None,
            })
            .collect()
    }
}

/// Crash backoff: 1 s, 2 s, 4 s ... capped at 60 s.
pub fn backoff(crashes: u32) -> Duration {
    let secs = 1u64 << crashes.saturating_sub(1).min(6);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(slots: &mut Slots, now: u64) -> Vec<usize> {
        let actions = slots.reconcile(slots.desired, now, 10_000);
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
        let actions = s.reconcile(3, 0, 10_000);
        assert_eq!(actions.len(), 3);
        for (i, _) in actions.iter().enumerate() {
            s.started(i, 100 + i as u32, 0);
        }
        assert_eq!(s.counts().running, 3);
        assert!(s.reconcile(3, 10, 10_000).is_empty(), "idempotent");
    }

    #[test]
    fn a_worker_with_no_work_left_is_not_restarted_until_desired_changes() {
        let mut s = Slots::default();
        s.reconcile(2, 0, 10_000);
        s.started(0, 100, 0);
        s.started(1, 101, 0);
        s.exited(100, Some(Outcome::Success), 1_000);
        assert!(s.reconcile(2, 2_000, 10_000).is_empty());
        assert_eq!(
            s.counts(),
            SlotCounts {
                running: 1,
                pending: 0,
                finished: 1
            }
        );
        // Pause then resume: fresh workers.
        let actions = s.reconcile(0, 3_000, 10_000);
        assert_eq!(actions, vec![SlotAction::Terminate { pid: 101 }]);
        s.exited(101, Some(Outcome::LeaseHandedOff), 3_500);
        assert!(s.reconcile(0, 3_600, 10_000).is_empty());
        assert!(s.slots.is_empty(), "stopped slots are dropped");
        assert_eq!(s.reconcile(2, 4_000, 10_000).len(), 2);
    }

    #[test]
    fn crashes_back_off_exponentially_and_reset_after_a_healthy_run() {
        let mut s = Slots::default();
        s.reconcile(1, 0, 10_000);
        s.started(0, 100, 0);
        s.exited(100, None, 100); // an error exit
        assert_eq!(s.slots[0].state, SlotState::Waiting { at: 1_100 });
        assert!(
            s.reconcile(1, 1_000, 10_000).is_empty(),
            "still backing off"
        );
        assert_eq!(s.counts().pending, 1);
        assert_eq!(started(&mut s, 1_100), vec![0]);
        s.exited(100, None, 1_200); // killed by a signal
        assert_eq!(s.slots[0].state, SlotState::Waiting { at: 3_200 });
        assert_eq!(started(&mut s, 3_200), vec![0]);
        s.exited(100, None, 3_200 + HEALTHY_AFTER.as_millis() as u64);
        assert_eq!(s.slots[0].crashes, 1, "a healthy run resets the backoff");
        assert_eq!(s.slots[0].generation, 3);
    }

    #[test]
    fn handoff_restarts_at_once_and_all_leased_waits() {
        let mut s = Slots::default();
        s.reconcile(2, 0, 10_000);
        s.started(0, 100, 0);
        s.started(1, 101, 0);
        s.exited(100, Some(Outcome::LeaseHandedOff), 50);
        s.exited(101, Some(Outcome::AllWorkLeased), 50);
        let actions = s.reconcile(2, 60, 10_000);
        assert_eq!(actions, vec![SlotAction::Start { index: 0 }]);
        let later = 50 + ALL_LEASED_DELAY.as_millis() as u64;
        assert_eq!(
            s.reconcile(2, later, 10_000),
            vec![
                SlotAction::Start { index: 0 },
                SlotAction::Start { index: 1 }
            ]
        );
    }

    #[test]
    fn scale_down_terminates_then_kills_after_the_bound() {
        let mut s = Slots::default();
        s.reconcile(2, 0, 1_000);
        s.started(0, 100, 0);
        s.started(1, 101, 0);
        assert_eq!(
            s.reconcile(1, 10, 1_000),
            vec![SlotAction::Terminate { pid: 101 }]
        );
        assert_eq!(s.counts().running, 2, "stopping still runs");
        assert!(s.reconcile(1, 500, 1_000).is_empty());
        assert_eq!(
            s.reconcile(1, 1_010, 1_000),
            vec![SlotAction::Kill { pid: 101 }]
        );
        s.exited(101, None, 1_020);
        s.reconcile(1, 1_030, 1_000);
        assert_eq!(s.slots.len(), 1);
        assert_eq!(s.pids(), vec![100]);
    }

    #[test]
    fn backoff_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }
}
