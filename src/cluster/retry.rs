//! When a failed request to the target is tried again, and how long to wait first.
//!
//! The decision is pure data so it can be unit-tested and swapped: [`RetryPolicy`] holds the attempt limit and
//! a [`Backoff`]. The default is "full jitter" exponential backoff (a uniform delay in
//! `[0, min(cap, base·2^n)]`), which spreads many workers hitting an overloaded target; the random sample comes
//! from the generator the caller passes. Tests use [`RetryPolicy::immediate`] for zero delays.
//!
//! Guarantees:
//! - only throttling/overload answers (429, 502, 503, 504) and connection-level failures are retried; 409 and
//!   every other 4xx/5xx are returned at once;
//! - only requests that are safe to repeat are retried: GET/HEAD/PUT/DELETE, and POST to `_bulk` (documents
//!   are indexed by id, so a replay overwrites with the same content) or to read-only endpoints (`_search`,
//!   `_count`, `_mget`, `_msearch`, `_refresh`, `_flush`). Other POSTs (`_update`, auto-id `_doc`) are sent
//!   once;
//! - at most `max_attempts` sends, and every delay is at most the cap — unless the answer carried a
//!   `Retry-After` (seconds or an HTTP date), which is honoured up to `max_retry_after` (30 s by default).

use std::time::Duration;

use rand::Rng;

use super::transport::Method;
use crate::time::{Backoff, Jitter, Timestamp};

/// How many times to send a request and how long to wait between sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total sends, including the first (at least 1).
    pub max_attempts: u32,
    /// Delay before retry `n` (`n` starts at 1).
    pub backoff: Backoff,
    /// The longest wait a server's `Retry-After` is granted.
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// Default base delay of the exponential backoff.
    pub(crate) const BASE: Duration = Duration::from_millis(200);
    /// Default longest single delay.
    pub(crate) const CAP: Duration = Duration::from_secs(10);
    /// Default number of sends.
    pub(crate) const MAX_ATTEMPTS: u32 = 6;
    /// Default longest wait granted to a server's `Retry-After`.
    pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

    /// Full-jitter exponential backoff with the given base, cap and attempt limit.
    pub(crate) fn full_jitter(base: Duration, cap: Duration, max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            backoff: Backoff::new(base, cap, Jitter::Full),
            max_retry_after: Self::MAX_RETRY_AFTER,
        }
    }

    /// `max_attempts` sends with no delay between them (tests; `Retry-After` is not waited for either).
    pub fn immediate(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            backoff: Backoff::new(Duration::ZERO, Duration::ZERO, Jitter::None),
            max_retry_after: Duration::ZERO,
        }
    }

    /// Send once, never retry.
    pub fn none() -> Self {
        RetryPolicy::immediate(1)
    }

    /// Delay before retry `n` (`n` starts at 1), jittered with `rng`.
    pub(crate) fn delay<R: Rng + ?Sized>(&self, n: u32, rng: &mut R) -> Duration {
        self.backoff.delay(n, rng)
    }

    /// Delay before retry `n` after an answer that asked for `retry_after`: the longer of the backoff and
    /// the server's wish, the latter at most `max_retry_after`.
    pub(crate) fn delay_after<R: Rng + ?Sized>(
        &self,
        n: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        let asked = retry_after
            .unwrap_or(Duration::ZERO)
            .min(self.max_retry_after);
        self.delay(n, rng).max(asked)
    }
}

/// A `Retry-After` header value: a number of seconds, or an HTTP date (a wait from `now`; a date already
/// past means no wait). `None` for anything else.
pub(crate) fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(Timestamp::from_system_time(at).saturating_duration_since(now))
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::full_jitter(Self::BASE, Self::CAP, Self::MAX_ATTEMPTS)
    }
}

/// True for answers that mean "try again later": throttled (429) or a gateway/overload error (502–504).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// True when sending `method path` twice has the same effect as sending it once.
pub(crate) fn is_repeatable(method: Method, path: &str) -> bool {
    match method {
        Method::Get | Method::Head | Method::Put | Method::Delete => true,
        Method::Post => {
            let path = path.split(['?', '#']).next().unwrap_or(path);
            let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            matches!(
                last,
                "_bulk" | "_search" | "_count" | "_mget" | "_msearch" | "_refresh" | "_flush"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn ceiling_doubles_from_base_and_stops_at_cap() {
        let backoff = RetryPolicy::default().backoff;
        assert_eq!(backoff.ceiling(1), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(2), Duration::from_millis(400));
        assert_eq!(backoff.ceiling(6), Duration::from_millis(6400));
        assert_eq!(backoff.ceiling(7), RetryPolicy::CAP);
        assert_eq!(backoff.ceiling(u32::MAX), RetryPolicy::CAP);
    }

    #[test]
    fn default_backoff_is_bounded_and_jittered() {
        // How full jitter spreads below the ceiling is tested in `time::backoff` on these very numbers.
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 6);
        assert_eq!(
            policy.backoff,
            Backoff::new(RetryPolicy::BASE, RetryPolicy::CAP, Jitter::Full)
        );
        let mut rng = StdRng::seed_from_u64(6);
        assert!((1..=12).all(|n| policy.delay(n, &mut rng) <= policy.backoff.ceiling(n)));
    }

    #[test]
    fn immediate_policy_has_no_delay_and_at_least_one_attempt() {
        let policy = RetryPolicy::immediate(3);
        assert_eq!(
            policy.delay(1, &mut StdRng::seed_from_u64(0)),
            Duration::ZERO
        );
        assert_eq!(policy.max_attempts, 3);
        assert_eq!(RetryPolicy::immediate(0).max_attempts, 1);
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }

    #[test]
    fn a_servers_retry_after_lengthens_the_wait_up_to_the_limit() {
        let policy = RetryPolicy::default();
        let rng = &mut StdRng::seed_from_u64(9);
        let mut asked = |secs| policy.delay_after(1, Some(Duration::from_secs(secs)), rng);
        assert_eq!(asked(7), Duration::from_secs(7));
        assert_eq!(asked(3600), RetryPolicy::MAX_RETRY_AFTER);
        // No wish, or a shorter one than the backoff: the backoff (at most 200 ms before retry 1).
        assert!(policy.delay_after(1, None, rng) <= Duration::from_millis(200));
        assert!(policy.delay_after(1, Some(Duration::ZERO), rng) <= Duration::from_millis(200));
        assert_eq!(
            RetryPolicy::immediate(3).delay_after(1, Some(Duration::from_secs(9)), rng),
            Duration::ZERO
        );
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = Timestamp::from_system_time(
            httpdate::parse_http_date("Tue, 01 Dec 2026 05:00:00 GMT").unwrap(),
        );
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 05:00:45 GMT", now),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            parse_retry_after("Tue, 01 Dec 2026 04:59:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn only_throttling_and_gateway_statuses_retry() {
        for status in [429, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [200, 201, 400, 401, 403, 404, 409, 413, 500, 501] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn bulk_and_idempotent_requests_repeat_but_other_posts_do_not() {
        assert!(is_repeatable(Method::Get, "/idx/_doc/1"));
        assert!(is_repeatable(Method::Put, "/idx/_doc/1"));
        assert!(is_repeatable(Method::Delete, "/idx"));
        assert!(is_repeatable(Method::Head, "/idx"));
        assert!(is_repeatable(Method::Post, "/_bulk"));
        assert!(is_repeatable(Method::Post, "/idx/_bulk?refresh=false"));
        assert!(is_repeatable(Method::Post, "/idx/_search"));
        assert!(!is_repeatable(Method::Post, "/idx/_doc"));
        assert!(!is_repeatable(Method::Post, "/idx/_update/lease-1"));
        assert!(!is_repeatable(Method::Post, "/idx/_bulkfoo"));
    }
}
