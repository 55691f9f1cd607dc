//! When a failed request to the target is tried again, and how long to wait first.
//!
//! The decision is pure data so it can be unit-tested and swapped: [`RetryPolicy`] holds the attempt limit and
//! a backoff function (attempt number → delay). The default is "full jitter" exponential backoff (a uniform
//! delay in `[0, min(cap, base·2^n)]`), which spreads many workers hitting an overloaded target. Tests use
//! [`RetryPolicy::immediate`] for zero delays.
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

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::Rng;

use super::transport::Method;

/// Delay before retry number `n` (1 for the first retry).
pub type Backoff = Arc<dyn Fn(u32) -> Duration + Send + Sync>;

/// How many times to send a request and how long to wait between sends.
#[derive(Clone)]
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
    pub const BASE: Duration = Duration::from_millis(200);
    /// Default longest single delay.
    pub const CAP: Duration = Duration::from_secs(10);
    /// Default number of sends.
    pub const MAX_ATTEMPTS: u32 = 6;
    /// Default longest wait granted to a server's `Retry-After`.
    pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

    /// Full-jitter exponential backoff with the given base, cap and attempt limit.
    pub fn full_jitter(base: Duration, cap: Duration, max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            backoff: Arc::new(move |n| {
                let ceiling = exponential_ceiling(base, cap, n);
                let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
                Duration::from_millis(rand::rng().random_range(0..=millis))
            }),
            max_retry_after: Self::MAX_RETRY_AFTER,
        }
    }

    /// `max_attempts` sends with no delay between them (tests; `Retry-After` is not waited for either).
    pub fn immediate(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            backoff: Arc::new(|_| Duration::ZERO),
            max_retry_after: Duration::ZERO,
        }
    }

    /// Send once, never retry.
    pub fn none() -> Self {
        RetryPolicy::immediate(1)
    }

    /// Delay before retry `n` (`n` starts at 1).
    pub fn delay(&self, n: u32) -> Duration {
        (self.backoff)(n)
    }

    /// Delay before retry `n` after an answer that asked for `retry_after`: the longer of the backoff and
    /// the server's wish, the latter at most `max_retry_after`.
    pub fn delay_after(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let asked = retry_after
            .unwrap_or(Duration::ZERO)
            .min(self.max_retry_after);
        self.delay(n).max(asked)
    }
}

/// A `Retry-After` header value: a number of seconds, or an HTTP date (a wait from `now`; a date already
/// past means no wait). `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::full_jitter(Self::BASE, Self::CAP, Self::MAX_ATTEMPTS)
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("max_retry_after", &self.max_retry_after)
            .finish_non_exhaustive()
    }
}

/// `min(cap, base · 2^(n-1))`: the upper bound of the jittered delay before retry `n`.
pub fn exponential_ceiling(base: Duration, cap: Duration, n: u32) -> Duration {
    let shift = n.saturating_sub(1).min(31);
    base.checked_mul(1u32 << shift).unwrap_or(cap).min(cap)
}

/// True for answers that mean "try again later": throttled (429) or a gateway/overload error (502–504).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// True when sending `method path` twice has the same effect as sending it once.
pub fn is_repeatable(method: Method, path: &str) -> bool {
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
    use super::*;

    #[test]
    fn ceiling_doubles_from_base_and_stops_at_cap() {
        let (base, cap) = (RetryPolicy::BASE, RetryPolicy::CAP);
        assert_eq!(
            exponential_ceiling(base, cap, 1),
            Duration::from_millis(200)
        );
        assert_eq!(
            exponential_ceiling(base, cap, 2),
            Duration::from_millis(400)
        );
        assert_eq!(
            exponential_ceiling(base, cap, 6),
            Duration::from_millis(6400)
        );
        assert_eq!(exponential_ceiling(base, cap, 7), cap);
        assert_eq!(exponential_ceiling(base, cap, u32::MAX), cap);
    }

    #[test]
    fn default_backoff_is_bounded_and_jittered() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 6);
        for n in 1..=12 {
            let ceiling = exponential_ceiling(RetryPolicy::BASE, RetryPolicy::CAP, n);
            let delays: Vec<Duration> = (0..200).map(|_| policy.delay(n)).collect();
            assert!(
                delays.iter().all(|d| *d <= ceiling),
                "retry {n} above {ceiling:?}"
            );
            let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
            assert!(
                distinct.len() > 10,
                "retry {n} is not jittered: {distinct:?}"
            );
        }
    }

    #[test]
    fn immediate_policy_has_no_delay_and_at_least_one_attempt() {
        let policy = RetryPolicy::immediate(3);
        assert_eq!(policy.delay(1), Duration::ZERO);
        assert_eq!(policy.max_attempts, 3);
        assert_eq!(RetryPolicy::immediate(0).max_attempts, 1);
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }

    #[test]
    fn a_servers_retry_after_lengthens_the_wait_up_to_the_limit() {
        let policy = RetryPolicy::default();
        let asked = |secs| policy.delay_after(1, Some(Duration::from_secs(secs)));
        assert_eq!(asked(7), Duration::from_secs(7));
        assert_eq!(asked(3600), RetryPolicy::MAX_RETRY_AFTER);
        // No wish, or a shorter one than the backoff: the backoff (at most 200 ms before retry 1).
        assert!(policy.delay_after(1, None) <= Duration::from_millis(200));
        assert!(policy.delay_after(1, Some(Duration::ZERO)) <= Duration::from_millis(200));
        assert_eq!(
            RetryPolicy::immediate(3).delay_after(1, Some(Duration::from_secs(9))),
            Duration::ZERO
        );
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Tue, 01 Dec 2026 05:00:00 GMT").unwrap();
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
