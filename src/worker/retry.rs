//! Bulk retries bounded by the lease. A failed request (429, 5xx, connection error) or a bulk response whose
//! items were rejected with 429/5xx is retried with jittered exponential backoff — but never with a wait that
//! would end past the worker's checkpoint deadline (lease expiry minus the handoff margin): when the next wait
//! would cross it, the batch stays unacknowledged and the worker hands off instead. The decision is pure
//! ([`RetryPolicy::next`]), over a [`Clock`] the tests replace with a fake one.

use std::time::Duration;

/// Wall-clock time in epoch milliseconds. The worker's only source of "now" (leases, deadlines, metrics).
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;

    /// Epoch seconds, as the working state stores times.
    fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then send again.
    Retry(Duration),
    /// The wait would end past the checkpoint deadline: leave the batch unacknowledged and hand off.
    HandOff,
    /// Attempts exhausted: the batch fails (the worker still checkpoints what was acknowledged).
    GiveUp,
}

/// Backoff shape: `initial × 2^(attempt-1)` capped at `max`, with 50 % jitter (a wait is in `[d/2, d]`, as the
/// upstream workers' Reactor backoff), and at most `max_attempts` attempts in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 0.5 s doubling to 30 s, 16 attempts (about 6 minutes of waiting when the lease allows it).
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_attempts: 16,
        }
    }
}

impl RetryPolicy {
    /// The decision after `attempts` failed attempts (1 after the first), at `now_ms`, for a batch that must be
    /// acknowledged before `deadline_ms`. `jitter` is a uniform sample in `[0, 1)`.
    pub fn next(&self, attempts: u32, now_ms: i64, deadline_ms: i64, jitter: f64) -> Next {
        if attempts >= self.max_attempts {
            return Next::GiveUp;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .initial
            .saturating_mul(1u32 << exp)
            .min(self.max)
            .as_millis() as u64;
        let jitter = jitter.clamp(0.0, 1.0);
        let wait = full / 2 + ((full / 2) as f64 * jitter) as u64;
        let ends = now_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        if ends >= deadline_ms {
            return Next::HandOff;
        }
        Next::Retry(Duration::from_millis(wait))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    /// A clock the test moves by hand.
    struct FakeClock(AtomicI64);

    impl FakeClock {
        fn advance(&self, d: Duration) {
            self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
        }
    }

    impl Clock for FakeClock {
        fn now_ms(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn waits_double_with_jitter_and_are_capped() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
            max_attempts: 10,
        };
        let far = i64::MAX;
        assert_eq!(
            p.next(1, 0, far, 0.0),
            Next::Retry(Duration::from_millis(50))
        );
        assert_eq!(
            p.next(1, 0, far, 1.0),
            Next::Retry(Duration::from_millis(100))
        );
        assert_eq!(
            p.next(3, 0, far, 0.5),
            Next::Retry(Duration::from_millis(300))
        );
        // 100 × 2^7 = 12.8 s, capped at 1 s.
        assert_eq!(
            p.next(8, 0, far, 1.0),
            Next::Retry(Duration::from_millis(1_000))
        );
        assert_eq!(p.next(10, 0, far, 0.0), Next::GiveUp);
        assert_eq!(p.next(u32::MAX - 1, 0, far, 0.0), Next::GiveUp);
    }

    #[test]
    fn no_wait_crosses_the_checkpoint_deadline_on_a_fake_clock() {
        let p = RetryPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 100,
        };
        let clock = FakeClock(AtomicI64::new(1_000_000));
        let deadline = clock.now_ms() + 20_000;
        let mut attempts = 0;
        let mut waited = Vec::new();
        loop {
            attempts += 1; // a request failed
            clock.advance(Duration::from_millis(200)); // time the request took
            match p.next(attempts, clock.now_ms(), deadline, 0.99) {
                Next::Retry(wait) => {
                    assert!(clock.now_ms() + wait.as_millis() as i64 <= deadline);
                    waited.push(wait.as_millis());
                    clock.advance(wait);
                }
                Next::HandOff => break,
                Next::GiveUp => panic!("100 attempts cannot be exhausted in 20 s"),
            }
        }
        // ~1 s, 2 s, 4 s, 8 s fit into 20 s; the 16 s wait would not.
        assert_eq!(waited.len(), 4, "{waited:?}");
        assert!(clock.now_ms() < deadline);
        // Already at or past the deadline: hand off at once.
        assert_eq!(p.next(1, deadline, deadline, 0.0), Next::HandOff);
        assert_eq!(p.next(1, deadline + 5, deadline, 0.0), Next::HandOff);
    }
}
