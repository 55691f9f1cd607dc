//! Bulk retries bounded by the lease. A failed request (429, 5xx, connection error) or a bulk response whose
//! items were rejected with 429/5xx is retried with jittered exponential backoff — but never with a wait that
//! would end past the worker's checkpoint deadline (lease expiry minus the handoff margin): when the next wait
//! would cross it, the batch stays unacknowledged and the worker hands off instead. The decision is pure
//! ([`RetryPolicy::next`]): "now" comes from the worker's injected [`crate::time::Clock`], the jitter as a
//! sample.

use std::time::Duration;

use crate::time::{Backoff, Jitter, Timestamp};

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Wait this long, then send again.
    Retry(Duration),
    /// The wait would end past the checkpoint deadline: leave the batch unacknowledged and hand off.
    HandOff,
    /// Attempts exhausted: the batch fails (the worker still checkpoints what was acknowledged).
    GiveUp,
}

/// Backoff shape: `initial × 2^(attempt-1)` capped, with equal jitter (a wait is in `[d/2, d]`, as the upstream
/// workers' Reactor backoff), and at most `max_attempts` attempts in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 0.5 s doubling to 30 s, 16 attempts (about 6 minutes of waiting when the lease allows it).
    fn default() -> Self {
        RetryPolicy {
            backoff: Backoff::new(
                Duration::from_millis(500),
                Duration::from_secs(30),
                Jitter::Equal,
            ),
            max_attempts: 16,
        }
    }
}

impl RetryPolicy {
    /// The decision after `attempts` failed attempts (1 after the first), at `now`, for a batch that must be
    /// acknowledged before `deadline`. `jitter` is a uniform sample in `[0, 1)`.
    pub(crate) fn next(
        &self,
        attempts: u32,
        now: Timestamp,
        deadline: Timestamp,
        jitter: f64,
    ) -> Next {
        if attempts >= self.max_attempts {
            return Next::GiveUp;
        }
        let wait = self.backoff.delay_for(attempts, jitter);
        if now + wait >= deadline {
            return Next::HandOff;
        }
        Next::Retry(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Clock, ManualClock};

    fn at(epoch_millis: i64) -> Timestamp {
        Timestamp::from_epoch_millis(epoch_millis)
    }

    #[test]
    fn waits_double_with_jitter_and_are_capped() {
        let p = RetryPolicy {
            backoff: Backoff::new(
                Duration::from_millis(100),
                Duration::from_millis(1_000),
                Jitter::Equal,
            ),
            max_attempts: 10,
        };
        let (zero, far) = (at(0), at(i64::MAX));
        assert_eq!(
            p.next(1, zero, far, 0.0),
            Next::Retry(Duration::from_millis(50))
        );
        assert_eq!(
            p.next(1, zero, far, 1.0),
            Next::Retry(Duration::from_millis(100))
        );
        assert_eq!(
            p.next(3, zero, far, 0.5),
            Next::Retry(Duration::from_millis(300))
        );
        // 100 × 2^7 = 12.8 s, capped at 1 s.
        assert_eq!(
            p.next(8, zero, far, 1.0),
            Next::Retry(Duration::from_millis(1_000))
        );
        assert_eq!(p.next(10, zero, far, 0.0), Next::GiveUp);
        assert_eq!(p.next(u32::MAX - 1, zero, far, 0.0), Next::GiveUp);
    }

    #[test]
    fn no_wait_crosses_the_checkpoint_deadline_on_a_fake_clock() {
        let p = RetryPolicy {
            backoff: Backoff::new(
                Duration::from_secs(1),
                Duration::from_secs(60),
                Jitter::Equal,
            ),
            max_attempts: 100,
        };
        let clock = ManualClock::new(at(1_000_000));
        let deadline = clock.now() + Duration::from_secs(20);
        let mut attempts = 0;
        let mut waited = Vec::new();
        loop {
            attempts += 1; // a request failed
            clock.advance(Duration::from_millis(200)); // time the request took
            match p.next(attempts, clock.now(), deadline, 0.99) {
                Next::Retry(wait) => {
                    assert!(clock.now() + wait <= deadline);
                    waited.push(wait.as_millis());
                    clock.advance(wait);
                }
                Next::HandOff => break,
                Next::GiveUp => panic!("100 attempts cannot be exhausted in 20 s"),
            }
        }
        // ~1 s, 2 s, 4 s, 8 s fit into 20 s; the 16 s wait would not.
        assert_eq!(waited.len(), 4, "{waited:?}");
        assert!(clock.now() < deadline);
        // Already at or past the deadline: hand off at once.
        assert_eq!(p.next(1, deadline, deadline, 0.0), Next::HandOff);
        assert_eq!(
            p.next(1, deadline + Duration::from_millis(5), deadline, 0.0),
            Next::HandOff
        );
    }
}
