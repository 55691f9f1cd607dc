//! [`Clock`]: the one injected source of "now" (wall clock and monotonic) and of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use super::Timestamp;

/// What [`Clock::sleep`] returns (boxed so that `&dyn Clock` works).
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Wall-clock and monotonic time, and sleeping, injected.
pub trait Clock: Send + Sync {
    /// The wall-clock instant: for leases, the working state, the target's clock, metrics and messages.
    fn now(&self) -> Timestamp;
    /// The monotonic instant: for timeouts, elapsed times and restart schedules.
    fn instant(&self) -> Instant;
    /// Waits `d`.
    fn sleep(&self, d: Duration) -> Sleep;
}

/// The machine's clocks; sleeping is tokio's.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock for tests: time stands still until [`ManualClock::advance`] or a [`Clock::sleep`] moves both the wall
/// clock and the monotonic clock forward by exactly that much; sleeping returns at once and is recorded.
#[derive(Debug)]
pub struct ManualClock {
    origin: Instant,
    state: Mutex<Manual>,
}

#[derive(Debug)]
struct Manual {
    now: Timestamp,
    elapsed: Duration,
    slept: Vec<Duration>,
}

impl ManualClock {
    /// A clock whose wall time starts at `start`.
    pub(crate) fn new(start: Timestamp) -> Self {
        ManualClock {
            origin: Instant::now(),
            state: Mutex::new(Manual {
                now: start,
                elapsed: Duration::ZERO,
                slept: Vec::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, Manual> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves both clocks forward by `d`.
    pub(crate) fn advance(&self, d: Duration) {
        let mut state = self.state();
        state.now = state.now + d;
        state.elapsed = state.elapsed.saturating_add(d);
    }

    /// Every sleep so far, in order.
    #[cfg(test)]
    pub(crate) fn slept(&self) -> Vec<Duration> {
        self.state().slept.clone()
    }
}

impl Default for ManualClock {
    /// Starts at the Unix epoch.
    fn default() -> Self {
        ManualClock::new(Timestamp::UNIX_EPOCH)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.state().now
    }

    fn instant(&self) -> Instant {
        let elapsed = self.state().elapsed;
        self.origin.checked_add(elapsed).unwrap_or(self.origin)
    }

    fn sleep(&self, d: Duration) -> Sleep {
        self.advance(d);
        self.state().slept.push(d);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_told_or_slept() {
        let clock = ManualClock::new(Timestamp::from_epoch_seconds(1_000));
        let (wall, mono) = (clock.now(), clock.instant());
        assert_eq!((clock.now(), clock.instant()), (wall, mono));
        clock.advance(Duration::from_millis(1_500));
        clock.sleep(Duration::from_secs(2)).await;
        assert_eq!(clock.now(), Timestamp::from_epoch_millis(1_003_500));
        assert_eq!(clock.instant() - mono, Duration::from_millis(3_500));
        assert_eq!(clock.slept(), vec![Duration::from_secs(2)]);
        let as_dyn: &dyn Clock = &clock;
        assert_eq!(as_dyn.now(), Timestamp::from_epoch_millis(1_003_500));
    }

    #[test]
    fn the_system_clock_reads_the_machines_time() {
        let before = Timestamp::from_system_time(SystemTime::now());
        let now = SystemClock.now();
        assert!(now >= before);
        assert!(now.epoch_seconds() > 1_700_000_000);
    }
}
