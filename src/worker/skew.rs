//! The clock-skew guard (worker.md 1.5, "Clock"). Leases are written with the worker's own clock (no script
//! reads the server's time), so a worker whose clock runs ahead would see other workers' leases as expired and
//! take them, and one running behind would hold its own too long. Before it takes any lease the worker compares
//! its clock with the target's and refuses to start when they differ by more than [`max_skew`].
//!
//! The target's time comes from `GET /_cat/health?format=json`, whose `epoch` field is the node's clock in
//! epoch seconds: it exists on every Elasticsearch and OpenSearch version this tool targets and on
//! osmem-server, needs no index, no script and only monitor privileges. (The response's `Date` header would do
//! as well but the `JsonTransport` seam does not expose headers.) The server's second is compared with the
//! midpoint of the local send/receive times, so the one-second resolution and the round trip are allowed for.
//! Targets without `_cat/health` (OpenSearch Serverless) answer 404 or an error: the check is then skipped with
//! a warning — there is nothing to compare with.

use std::time::Duration;

use serde_json::Value;

use crate::cluster::transport::{JsonTransport, Method, TransportError};
use crate::time::{Clock, Timestamp};

/// The most skew tolerated for a lease of `lease_seconds`: a tenth of the lease, at least 5 s (the server
/// reports whole seconds) and at most 30 s.
pub(crate) fn max_skew(lease_seconds: u64) -> i64 {
    i64::try_from(lease_seconds / 10)
        .unwrap_or(i64::MAX)
        .clamp(5, 30)
}

/// What the comparison found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkewCheck {
    /// Within bounds; the measured skew in seconds (server − local, rounded).
    Ok { skew_s: i64 },
    /// Too far apart: refuse to take leases.
    TooFar { skew_s: i64, max_s: i64 },
    /// The target does not report its time.
    Unknown,
}

/// Pure decision: `sent`/`received` are the local clock around the request, `server_epoch_s` the time the
/// target reported (it was read at some instant in between).
pub(crate) fn decide(
    sent: Timestamp,
    received: Timestamp,
    server_epoch_s: i64,
    lease_seconds: u64,
) -> SkewCheck {
    let half_trip = received.saturating_duration_since(sent) / 2;
    let midpoint = sent + half_trip;
    // The server truncates to a second: its instant lies in [epoch, epoch + 1).
    let half_second = Duration::from_millis(500);
    let server = Timestamp::from_epoch_seconds(server_epoch_s) + half_second;
    let skew_ms = server
        .epoch_millis()
        .saturating_sub(midpoint.epoch_millis());
    let skew_s = (skew_ms as f64 / 1000.0).round() as i64;
    // Allow the half round trip and the half second of truncation on top of the bound.
    let slack = half_trip + half_second;
    let max_s = max_skew(lease_seconds);
    let bound = Duration::from_secs(max_s.unsigned_abs()) + slack;
    if Duration::from_millis(skew_ms.unsigned_abs()) > bound {
        SkewCheck::TooFar { skew_s, max_s }
    } else {
        SkewCheck::Ok { skew_s }
    }
}

/// The `epoch` of a `_cat/health?format=json` answer (a string on real clusters, maybe a number elsewhere).
pub(crate) fn server_epoch(body: &Value) -> Option<i64> {
    let epoch = &body.get(0)?["epoch"];
    epoch
        .as_i64()
        .or_else(|| epoch.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Asks the target for its time and decides. Transport failures other than "no such API" are errors: a target
/// that cannot answer this cannot be migrated into either.
pub(crate) async fn check<T: JsonTransport>(
    transport: &T,
    clock: &dyn Clock,
    lease_seconds: u64,
) -> Result<SkewCheck, TransportError> {
    let sent = clock.now();
    let resp = match transport
        .send(Method::Get, "/_cat/health?format=json", None)
        .await
    {
        Ok(resp) => resp,
        Err(TransportError::Http {
            status: 400 | 405 | 501,
            ..
        }) => return Ok(SkewCheck::Unknown),
        Err(e) => return Err(e),
    };
    let received = clock.now();
    if resp.status == 404 {
        return Ok(SkewCheck::Unknown);
    }
    Ok(match server_epoch(&resp.body) {
        Some(epoch) => decide(sent, received, epoch, lease_seconds),
        None => SkewCheck::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_bound_is_a_tenth_of_the_lease_between_5_and_30_seconds() {
        assert_eq!(max_skew(10), 5);
        assert_eq!(max_skew(60), 6);
        assert_eq!(max_skew(150), 15);
        assert_eq!(max_skew(3_600), 30);
        assert_eq!(max_skew(u64::MAX), 30);
    }

    #[test]
    fn clocks_in_step_pass_and_skewed_clocks_are_refused() {
        let local = Timestamp::from_epoch_millis(1_700_000_000_000);
        let after = |ms| local + Duration::from_millis(ms);
        // Same second, 40 ms round trip.
        assert_eq!(
            decide(local, after(40), 1_700_000_000, 600),
            SkewCheck::Ok { skew_s: 0 }
        );
        // Server 20 s ahead, bound 30 s (lease 1 h).
        assert_eq!(
            decide(local, after(40), 1_700_000_020, 3_600),
            SkewCheck::Ok { skew_s: 20 }
        );
        // Server 20 s ahead, bound 6 s (lease 1 min).
        assert_eq!(
            decide(local, after(40), 1_700_000_020, 60),
            SkewCheck::TooFar {
                skew_s: 20,
                max_s: 6
            }
        );
        // Local clock an hour ahead of the server.
        assert!(matches!(
            decide(local, after(10), 1_700_000_000 - 3_600, 3_600),
            SkewCheck::TooFar { skew_s: -3_600, .. }
        ));
        // A slow round trip widens the tolerance by half of it.
        assert!(matches!(
            decide(local, after(4_000), 1_700_000_008, 60),
            SkewCheck::Ok { .. }
        ));
        // Absurd server times are refused, not an overflow.
        for absurd in [i64::MAX, i64::MIN] {
            assert!(matches!(
                decide(local, after(10), absurd, 60),
                SkewCheck::TooFar { .. }
            ));
        }
    }

    #[test]
    fn the_epoch_is_read_as_a_string_or_a_number() {
        assert_eq!(
            server_epoch(&json!([{"epoch": "1796085187", "status": "green"}])),
            Some(1_796_085_187)
        );
        assert_eq!(server_epoch(&json!([{"epoch": 5}])), Some(5));
        assert_eq!(server_epoch(&json!({"error": "x"})), None);
        assert_eq!(server_epoch(&json!([])), None);
    }
}
