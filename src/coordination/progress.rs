//! Exact progress counts from the working-state index, in one request.
//!
//! Semantics follow the console's deep check (control-plane.md 1.5): `shard_setup` is never a work item;
//! parents that carry `successor_items` (split at a lease checkpoint) are left out of `total` and `completed`;
//! `incomplete`, `in_progress` (lease `expiration >= now`) and `unclaimed` (`expiration < now`) count every
//! item without `completedAt`. Unlike the console, counts are exact at any scale: a single `_search` with
//! `size: 0`, `track_total_hits: true` and a `filters` aggregation (bucket `doc_count`s are exact) — one round
//! trip instead of five capped searches. The same request reads the start time (`shard_setup.completedAt`),
//! the last completion time, and the optional per-item counters our worker writes (`documentsMigrated`,
//! `failedDocuments`, `skippedDocuments`; absent on upstream items, then reported as unknown).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cluster::transport::{Body, JsonTransport, Method, TransportError};
use crate::time::Timestamp;

/// Base name of the working-state index.
pub const WORKING_STATE_INDEX: &str = ".migrations_working_state";
/// The id of the one-time setup mutex item.
pub(crate) const SHARD_SETUP_ID: &str = "shard_setup";
/// Optional per-item counter: documents this item sent to the target (written by our worker).
pub(crate) const DOCUMENTS_MIGRATED_FIELD: &str = "documentsMigrated";
/// Optional per-item counter: documents the target rejected for good (written by our worker).
pub(crate) const FAILED_DOCUMENTS_FIELD: &str = "failedDocuments";
/// Optional per-item counter: source documents the configuration leaves out (written by our worker).
pub(crate) const SKIPPED_DOCUMENTS_FIELD: &str = "skippedDocuments";

/// `.migrations_working_state` or `.migrations_working_state_<session>`.
pub fn working_state_index(session: Option<&str>) -> String {
    match session {
        Some(s) if !s.is_empty() => format!("{WORKING_STATE_INDEX}_{s}"),
        _ => WORKING_STATE_INDEX.to_string(),
    }
}

/// Exact counts of the working state at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WorkProgress {
    /// `shard_setup.completedAt`: all work items exist from then on.
    #[serde(default, with = "crate::time::option_epoch_seconds")]
    pub setup_completed_at: Option<Timestamp>,
    pub total: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub in_progress: u64,
    pub unclaimed: u64,
    /// Highest `completedAt` of any work item.
    #[serde(default, with = "crate::time::option_epoch_seconds")]
    pub last_completed_at: Option<Timestamp>,
    /// Sum of `documentsMigrated`, when any item carries it.
    pub documents_migrated: Option<u64>,
    /// Sum of `failedDocuments`, when any item carries it.
    pub failed_documents: Option<u64>,
    /// Sum of `skippedDocuments` (not sent because the configuration leaves them out), when any item carries it.
    #[serde(default)]
    pub skipped_documents: Option<u64>,
    /// Every document in the index, `shard_setup` and parents included (used to verify archives).
    pub documents_in_index: u64,
}

impl WorkProgress {
    /// Work items exist (the setup step finished).
    pub(crate) fn setup_done(&self) -> bool {
        self.setup_completed_at.is_some()
    }

    /// Every work item is complete (and setup has run, so "0 of 0" before setup is not completion).
    pub fn is_complete(&self) -> bool {
        self.setup_done() && self.completed >= self.total
    }

    /// Percent completed, 100 when there is nothing to do.
    pub(crate) fn percent(&self) -> f64 {
        if self.total == 0 || self.completed >= self.total {
            100.0
        } else {
            self.completed as f64 * 100.0 / self.total as f64
        }
    }

    /// Estimated seconds to completion, extrapolating the rate since setup (as the console does); `None`
    /// when nothing has completed yet or there is no start time.
    pub(crate) fn eta_seconds(&self, now: Timestamp) -> Option<u64> {
        if self.is_complete() {
            return Some(0);
        }
        let start = self.setup_completed_at?;
        let pct = self.percent();
        if pct <= 0.0 {
            return None;
        }
        let elapsed = now.saturating_duration_since(start).as_secs() as f64;
        let eta = elapsed * (100.0 - pct) / pct;
        (eta.is_finite() && eta >= 0.0).then_some(eta.round() as u64)
    }

    /// Documents per second since setup, when documents are counted.
    pub(crate) fn documents_per_second(&self, now: Timestamp) -> Option<f64> {
        let docs = self.documents_migrated?;
        let start = self.setup_completed_at?;
        let end = if self.is_complete() {
            self.last_completed_at.unwrap_or(now)
        } else {
            now
        };
        let elapsed = end.saturating_duration_since(start).as_secs();
        (elapsed > 0).then(|| docs as f64 / elapsed as f64)
    }
}

fn not_setup() -> Value {
    json!({"ids": {"values": [SHARD_SETUP_ID]}})
}

/// The one request body that yields every count (leases compared with `now`'s second, as they are stored).
pub(crate) fn progress_query(now: Timestamp) -> Value {
    let now = now.epoch_seconds();
    let no_successors = json!({"exists": {"field": "successor_items"}});
    let done = json!({"exists": {"field": "completedAt"}});
    let items_filters = json!({
        "total": {"bool": {"must_not": [no_successors]}},
        "completed": {"bool": {"must": [done], "must_not": [no_successors]}},
        "incomplete": {"bool": {"must_not": [done]}},
        "in_progress": {"bool": {"must": [{"range": {"expiration": {"gte": now}}}], "must_not": [done]}},
        "unclaimed": {"bool": {"must": [{"range": {"expiration": {"lt": now}}}], "must_not": [done]}},
    });
    json!({
        "size": 0,
        "track_total_hits": true,
        "aggs": {
            "setup": {
                "filter": not_setup(),
                "aggs": {"completed_at": {"max": {"field": "completedAt"}}}
            },
            "items": {
                "filter": {"bool": {"must_not": [not_setup()]}},
                "aggs": {
                    "counts": {"filters": {"filters": items_filters}},
                    "last_completed_at": {"max": {"field": "completedAt"}},
                    "docs_present": {"value_count": {"field": DOCUMENTS_MIGRATED_FIELD}},
                    "docs": {"sum": {"field": DOCUMENTS_MIGRATED_FIELD}},
                    "failed_present": {"value_count": {"field": FAILED_DOCUMENTS_FIELD}},
                    "failed": {"sum": {"field": FAILED_DOCUMENTS_FIELD}},
                    "skipped_present": {"value_count": {"field": SKIPPED_DOCUMENTS_FIELD}},
                    "skipped": {"sum": {"field": SKIPPED_DOCUMENTS_FIELD}}
                }
            }
        }
    })
}

/// The response did not have the shape the progress query asks for.
#[derive(Debug, thiserror::Error)]
#[error("unexpected progress response from index {index}: missing or invalid {what}")]
pub struct MalformedProgress {
    pub index: String,
    pub what: &'static str,
}

fn count(v: &Value, pointer: &'static str, index: &str) -> Result<u64, MalformedProgress> {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .ok_or(MalformedProgress {
            index: index.to_string(),
            what: pointer,
        })
}

/// A numeric aggregation value as whole seconds/counts (`null` when no document had the field).
fn metric(v: &Value, pointer: &str) -> Option<u64> {
    let x = v.pointer(pointer)?.as_f64()?;
    (x.is_finite() && x >= 0.0).then_some(x.round() as u64)
}

/// An aggregation over a stored time (epoch seconds).
fn instant(v: &Value, pointer: &str) -> Option<Timestamp> {
    metric(v, pointer).map(|s| Timestamp::from_epoch_seconds(i64::try_from(s).unwrap_or(i64::MAX)))
}

/// Parses the response to [`progress_query`].
pub(crate) fn parse_progress(
    index: &str,
    response: &Value,
) -> Result<WorkProgress, MalformedProgress> {
    let relation = response
        .pointer("/hits/total/relation")
        .and_then(Value::as_str);
    if relation.is_some_and(|r| r != "eq") {
        return Err(MalformedProgress {
            index: index.to_string(),
            what: "/hits/total/relation (not exact)",
        });
    }
    let present = |p: &str| metric(response, p).is_some_and(|n| n > 0);
    Ok(WorkProgress {
        setup_completed_at: instant(response, "/aggregations/setup/completed_at/value"),
        total: count(
            response,
            "/aggregations/items/counts/buckets/total/doc_count",
            index,
        )?,
        completed: count(
            response,
            "/aggregations/items/counts/buckets/completed/doc_count",
            index,
        )?,
        incomplete: count(
            response,
            "/aggregations/items/counts/buckets/incomplete/doc_count",
            index,
        )?,
        in_progress: count(
            response,
            "/aggregations/items/counts/buckets/in_progress/doc_count",
            index,
        )?,
        unclaimed: count(
            response,
            "/aggregations/items/counts/buckets/unclaimed/doc_count",
            index,
        )?,
        last_completed_at: instant(response, "/aggregations/items/last_completed_at/value"),
        documents_migrated: present("/aggregations/items/docs_present/value")
            .then(|| metric(response, "/aggregations/items/docs/value").unwrap_or(0)),
        failed_documents: present("/aggregations/items/failed_present/value")
            .then(|| metric(response, "/aggregations/items/failed/value").unwrap_or(0)),
        skipped_documents: present("/aggregations/items/skipped_present/value")
            .then(|| metric(response, "/aggregations/items/skipped/value").unwrap_or(0)),
        documents_in_index: count(response, "/hits/total/value", index)?,
    })
}

/// Why progress could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("the working-state index {index} does not exist on the target")]
    MissingIndex { index: String },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Malformed(#[from] MalformedProgress),
    /// The index is not the declared migration's (`ownership.rs`): its counts are not this migration's.
    #[error(transparent)]
    NotOurs(Box<super::ownership::OwnershipError>),
}

/// Reads exact progress with one `_search` request. A missing index is [`ProgressError::MissingIndex`].
pub async fn fetch_progress<T: JsonTransport>(
    transport: &T,
    index: &str,
    now: Timestamp,
) -> Result<WorkProgress, ProgressError> {
    let path = format!("/{index}/_search");
    let resp = transport
        .send(Method::Post, &path, Some(Body::Json(progress_query(now))))
        .await?;
    if resp.status == 404 {
        return Err(ProgressError::MissingIndex {
            index: index.to_string(),
        });
    }
    Ok(parse_progress(index, &resp.body)?)
}

/// Reads progress, mapping a missing index to `None` (for the converge loop, where absence is a state).
pub(crate) async fn observe_progress<T: JsonTransport>(
    transport: &T,
    index: &str,
    now: Timestamp,
) -> Result<Option<WorkProgress>, ProgressError> {
    match fetch_progress(transport, index, now).await {
        Ok(p) => Ok(Some(p)),
        Err(ProgressError::MissingIndex { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(epoch_seconds: i64) -> Timestamp {
        Timestamp::from_epoch_seconds(epoch_seconds)
    }

    fn response(total: u64, completed: u64, setup: Option<f64>) -> Value {
        json!({
            "hits": {"total": {"value": total + 1, "relation": "eq"}},
            "aggregations": {
                "setup": {"doc_count": 1, "completed_at": {"value": setup}},
                "items": {
                    "doc_count": total,
                    "counts": {"buckets": {
                        "total": {"doc_count": total}, "completed": {"doc_count": completed},
                        "incomplete": {"doc_count": total - completed},
                        "in_progress": {"doc_count": 1}, "unclaimed": {"doc_count": total - completed - 1}
                    }},
                    "last_completed_at": {"value": 1.7000001E9},
                    "docs_present": {"value": 0}, "docs": {"value": 0.0},
                    "failed_present": {"value": 2}, "failed": {"value": 3.0},
                    "skipped_present": {"value": 2}, "skipped": {"value": 40.0}
                }
            }
        })
    }

    #[test]
    fn parses_exact_counts_and_optional_counters() {
        let p = parse_progress("i", &response(30000, 12000, Some(1.7E9))).unwrap();
        assert_eq!((p.total, p.completed, p.incomplete), (30000, 12000, 18000));
        assert_eq!((p.in_progress, p.unclaimed), (1, 17999));
        assert_eq!(p.setup_completed_at, Some(at(1_700_000_000)));
        assert_eq!(p.last_completed_at, Some(at(1_700_000_100)));
        assert_eq!(p.documents_migrated, None);
        assert_eq!(p.failed_documents, Some(3));
        assert_eq!(p.skipped_documents, Some(40));
        assert_eq!(p.documents_in_index, 30001);
    }

    #[test]
    fn rejects_inexact_totals_and_missing_buckets() {
        let mut r = response(10, 5, None);
        r["hits"]["total"]["relation"] = json!("gte");
        assert!(parse_progress("i", &r).is_err());
        assert!(parse_progress("i", &json!({"hits": {}})).is_err());
    }

    #[test]
    fn completion_needs_setup_and_eta_extrapolates() {
        let mut p = WorkProgress {
            total: 0,
            ..Default::default()
        };
        assert!(!p.is_complete(), "0 of 0 before setup is not done");
        p.setup_completed_at = Some(at(1000));
        assert!(p.is_complete());
        p.total = 4;
        p.completed = 1;
        assert_eq!(p.percent(), 25.0);
        assert_eq!(p.eta_seconds(at(1100)), Some(300));
        p.completed = 0;
        assert_eq!(p.eta_seconds(at(1100)), None);
    }

    #[test]
    fn query_excludes_setup_and_tracks_totals() {
        let q = progress_query(at(42));
        assert_eq!(q["track_total_hits"], json!(true));
        assert_eq!(q["size"], json!(0));
        let f = &q["aggs"]["items"]["aggs"]["counts"]["filters"]["filters"];
        assert_eq!(
            f["in_progress"]["bool"]["must"][0]["range"]["expiration"]["gte"],
            json!(42)
        );
        assert_eq!(
            f["unclaimed"]["bool"]["must"][0]["range"]["expiration"]["lt"],
            json!(42)
        );
        assert_eq!(
            working_state_index(Some("s1")),
            ".migrations_working_state_s1"
        );
        assert_eq!(working_state_index(None), WORKING_STATE_INDEX);
    }
}
