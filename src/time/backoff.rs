//! [`Backoff`]: the delay before attempt `n` — `initial × 2^(n-1)`, capped — with a [`Jitter`] policy.
//!
//! It is plain data (a `const` at each caller) and pure: the random part is a uniform sample in `[0, 1]` passed
//! in ([`Backoff::delay_for`]) or drawn from an `Rng` passed in ([`Backoff::delay`], [`Backoff::delays`]), so
//! tests pin it with a sample or a seeded generator. Jittered delays have millisecond resolution.
//!
//! Who uses which policy: the target client full jitter (0.2 s doubling to 10 s), the worker's lease-bounded
//! bulk retries equal jitter (0.5 s doubling to 30 s), the converge runner and the local supervisor's restarts
//! none (1 s doubling to 60 s).

use std::time::Duration;

use rand::Rng;

/// How much of the exponential delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// Uniform in `[d/2, d]`: keeps at least half the wait (the upstream workers' Reactor backoff).
    Equal,
    /// Uniform in `[0, d]`: spreads many clients hitting one overloaded server the most.
    Full,
}

/// Exponential, capped backoff with a jitter policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before attempt 1 (the first retry).
    pub initial: Duration,
    /// No delay is longer.
    pub cap: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    pub(crate) const fn new(initial: Duration, cap: Duration, jitter: Jitter) -> Self {
        Backoff {
            initial,
            cap,
            jitter,
        }
    }

    /// `min(cap, initial × 2^(attempt-1))`, the longest delay before `attempt` (attempt 0 counts as 1). It is
    /// the delay itself with [`Jitter::None`].
    pub(crate) fn ceiling(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << shift)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay before `attempt` for a uniform `sample` in `[0, 1]` (clamped into it).
    pub(crate) fn delay_for(&self, attempt: u32, sample: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let sample = if sample.is_nan() {
            0.0
        } else {
            sample.clamp(0.0, 1.0)
        };
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Equal => {
                let half = millis / 2;
                Duration::from_millis(half + (half as f64 * sample) as u64)
            }
            // Each whole millisecond in `0..=millis` equally likely.
            Jitter::Full => {
                Duration::from_millis((((millis as f64) + 1.0) * sample).min(millis as f64) as u64)
            }
        }
    }

    /// The delay before `attempt`, jittered with a sample drawn from `rng` (nothing is drawn without jitter).
    pub(crate) fn delay<R: Rng + ?Sized>(&self, attempt: u32, rng: &mut R) -> Duration {
        let sample = match self.jitter {
            Jitter::None => 0.0,
            Jitter::Equal | Jitter::Full => rng.random::<f64>(),
        };
        self.delay_for(attempt, sample)
    }

    /// The delays before attempts 1, 2, 3 …, endless; [`Delays::reset`] starts over after a success.
    pub(crate) fn delays<R: Rng>(self, rng: R) -> Delays<R> {
        Delays {
            backoff: self,
            attempt: 0,
            rng,
        }
    }
}

/// The iterator of [`Backoff::delays`].
#[derive(Debug, Clone)]
pub(crate) struct Delays<R> {
    backoff: Backoff,
    attempt: u32,
    rng: R,
}

impl<R> Delays<R> {
    /// The next delay is the first one again.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl<R: Rng> Iterator for Delays<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.attempt = self.attempt.saturating_add(1);
        Some(self.backoff.delay(self.attempt, &mut self.rng))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn the_ceiling_doubles_from_initial_and_stops_at_the_cap() {
        let b = Backoff::new(ms(200), Duration::from_secs(10), Jitter::Full);
        let ceilings: Vec<u64> = (1..=8).map(|n| b.ceiling(n).as_millis() as u64).collect();
        assert_eq!(ceilings, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
        assert_eq!(b.ceiling(0), ms(200), "attempt 0 counts as the first");
        assert_eq!(b.ceiling(u32::MAX), Duration::from_secs(10));
        // A huge initial delay overflows to the cap instead of wrapping.
        let huge = Backoff::new(Duration::MAX / 2, Duration::from_secs(60), Jitter::None);
        assert_eq!(huge.ceiling(40), Duration::from_secs(60));
    }

    #[test]
    fn without_jitter_the_delay_is_the_ceiling_and_no_sample_is_drawn() {
        let b = Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(60),
            Jitter::None,
        );
        let secs: Vec<u64> = b
            .delays(StdRng::seed_from_u64(1))
            .take(8)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay_for(3, 0.0), b.delay_for(3, 1.0));
        let mut rng = StdRng::seed_from_u64(7);
        let untouched = rng.clone().random::<u64>();
        b.delay(5, &mut rng);
        assert_eq!(rng.random::<u64>(), untouched);
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_of_the_wait() {
        let b = Backoff::new(ms(100), ms(1_000), Jitter::Equal);
        assert_eq!(b.delay_for(1, 0.0), ms(50));
        assert_eq!(b.delay_for(1, 1.0), ms(100));
        assert_eq!(b.delay_for(3, 0.5), ms(300));
        assert_eq!(b.delay_for(8, 1.0), ms(1_000));
        // Samples outside [0, 1] are clamped.
        assert_eq!(b.delay_for(1, -3.0), ms(50));
        assert_eq!(b.delay_for(1, f64::NAN), ms(50));
        assert_eq!(b.delay_for(1, 7.0), ms(100));
        let mut rng = StdRng::seed_from_u64(3);
        for n in 1..=12 {
            let ceiling = b.ceiling(n);
            for _ in 0..100 {
                let d = b.delay(n, &mut rng);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {n}: {d:?}");
            }
        }
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        // The target client's default policy.
        let b = Backoff::new(ms(200), Duration::from_secs(10), Jitter::Full);
        assert_eq!(b.delay_for(1, 0.0), Duration::ZERO);
        assert_eq!(b.delay_for(1, 1.0), ms(200));
        assert_eq!(b.delay_for(1, 0.5), ms(100));
        let mut rng = StdRng::seed_from_u64(11);
        for n in 1..=12 {
            let ceiling = b.ceiling(n);
            let delays: Vec<Duration> = (0..200).map(|_| b.delay(n, &mut rng)).collect();
            assert!(
                delays.iter().all(|d| *d <= ceiling),
                "attempt {n} above {ceiling:?}"
            );
            let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
            assert!(
                distinct.len() > 10,
                "attempt {n} is not jittered: {distinct:?}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_delays_and_reset_starts_over() {
        let b = Backoff::new(ms(500), Duration::from_secs(30), Jitter::Equal);
        let run =
            |seed| -> Vec<Duration> { b.delays(StdRng::seed_from_u64(seed)).take(10).collect() };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
        let mut delays =
            Backoff::new(ms(10), ms(100), Jitter::None).delays(StdRng::seed_from_u64(0));
        assert_eq!(
            delays.by_ref().take(3).collect::<Vec<_>>(),
            [ms(10), ms(20), ms(40)]
        );
        delays.reset();
        assert_eq!(delays.next(), Some(ms(10)));
    }
}
