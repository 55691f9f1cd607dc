//! The worker's metrics as CloudWatch Embedded Metric Format (EMF) documents: JSON lines that the awslogs
//! driver turns into metrics in namespace `OpenSearchMigrations` with the one dimension `MigrationName`.
//!
//! - Every 10 s of work, at the end of each work item and once at the end: the counters as *deltas* since the
//!   previous line (CloudWatch sums them, so a dashboard's Sum per period is the fleet's throughput whatever the
//!   number of lines). A line ends at an item's end, so its deltas belong to one item: it carries the item's
//!   source `Index` and `Shard`, and the `PeriodMs` it covers, as properties that are not dimensions (the local
//!   dashboard's per-index progress and its spreading of a line over its period; CloudWatch's metrics are
//!   unchanged).
//! - When the worker knows the working state's shard counts (at start and after each completed item): the
//!   `ShardsTotal`/`ShardsCompleted` gauges, plus `ShardDurationMs` for the item just completed.
//!
//! Invariant: every name emitted here comes from `render::metrics` (the list the dashboard charts), so the
//! dashboard and the worker cannot drift apart. Pure: the caller supplies the clock and prints the line.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::types::WorkerStats;
use crate::coordination::lease::WorkItemId;
use crate::render::metrics as names;
use crate::time::Timestamp;

/// Counter values: the totals of a run, or the deltas of one reporting period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MetricValues {
    pub(crate) documents: u64,
    pub(crate) source_bytes: u64,
    pub(crate) bulk_requests: u64,
    pub(crate) retries: u64,
    pub(crate) failed_documents: u64,
    pub(crate) items_completed: u64,
    pub(crate) lease_handoffs: u64,
}

impl MetricValues {
    /// The totals of a worker run so far.
    pub(crate) fn from_stats(stats: &WorkerStats) -> Self {
        MetricValues {
            documents: stats.documents,
            source_bytes: stats.source_bytes,
            bulk_requests: stats.bulk_requests,
            retries: stats.retries,
            failed_documents: stats.failed_documents,
            items_completed: stats.items_completed,
            lease_handoffs: stats.lease_handoffs,
        }
    }

    /// `self − earlier`, field by field (never below zero).
    pub(crate) fn since(&self, earlier: &MetricValues) -> MetricValues {
        MetricValues {
            documents: self.documents.saturating_sub(earlier.documents),
            source_bytes: self.source_bytes.saturating_sub(earlier.source_bytes),
            bulk_requests: self.bulk_requests.saturating_sub(earlier.bulk_requests),
            retries: self.retries.saturating_sub(earlier.retries),
            failed_documents: self
                .failed_documents
                .saturating_sub(earlier.failed_documents),
            items_completed: self.items_completed.saturating_sub(earlier.items_completed),
            lease_handoffs: self.lease_handoffs.saturating_sub(earlier.lease_handoffs),
        }
    }
}

/// One EMF document declaring exactly `entries` (name, value, unit) for `migration` at `at` (EMF's
/// `Timestamp` is epoch milliseconds).
pub(crate) fn emf(migration: &str, entries: &[(&str, u64, &str)], at: Timestamp) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.epoch_millis(),
            "CloudWatchMetrics": [{
                "Namespace": names::NAMESPACE,
                "Dimensions": [[names::DIMENSION]],
                "Metrics": entries
                    .iter()
                    .map(|(name, _, unit)| json!({ "Name": name, "Unit": unit }))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    doc.insert(names::DIMENSION.into(), Value::String(migration.into()));
    for (name, value, _) in entries {
        doc.insert((*name).into(), json!(value));
    }
    Value::Object(doc)
}

/// Adds the work item's source index and shard (properties, not dimensions) when there is one.
fn tag(mut doc: Value, item: Option<&WorkItemId>) -> Value {
    if let (Some(item), Some(fields)) = (item, doc.as_object_mut()) {
        fields.insert(names::INDEX_PROPERTY.into(), json!(item.index));
        fields.insert(names::SHARD_PROPERTY.into(), json!(item.shard));
    }
    doc
}

/// The counters (totals or deltas) of the `period` ending at `at`, for `item` when they all belong to one.
pub(crate) fn emf_document(
    migration: &str,
    values: &MetricValues,
    period: Duration,
    item: Option<&WorkItemId>,
    at: Timestamp,
) -> Value {
    let mut doc = tag(counters(migration, values, at), item);
    if let Some(fields) = doc.as_object_mut() {
        let ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
        fields.insert(names::PERIOD_PROPERTY.into(), json!(ms));
    }
    doc
}

fn counters(migration: &str, values: &MetricValues, at: Timestamp) -> Value {
    emf(
        migration,
        &[
            (names::DOCUMENTS_MIGRATED, values.documents, "Count"),
            (names::BYTES_MIGRATED, values.source_bytes, "Bytes"),
            (names::BULK_REQUESTS, values.bulk_requests, "Count"),
            (names::BULK_RETRIES, values.retries, "Count"),
            (names::FAILED_DOCUMENTS, values.failed_documents, "Count"),
            (names::WORK_ITEMS_COMPLETED, values.items_completed, "Count"),
            (names::LEASE_HANDOFFS, values.lease_handoffs, "Count"),
        ],
        at,
    )
}

/// Shard gauges, with the duration of the item that just completed (and its index and shard) when there is one.
pub(crate) fn shards_document(
    migration: &str,
    total: u64,
    completed: u64,
    completed_item: Option<(&WorkItemId, u64)>,
    at: Timestamp,
) -> Value {
    let mut entries = vec![
        (names::SHARDS_TOTAL, total, "Count"),
        (names::SHARDS_COMPLETED, completed.min(total), "Count"),
    ];
    if let Some((_, ms)) = completed_item {
        entries.push((names::SHARD_DURATION, ms, "Milliseconds"));
    }
    tag(
        emf(migration, &entries, at),
        completed_item.map(|(item, _)| item),
    )
}

/// When the next counters line is due, and what it must subtract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Periodic {
    pub(crate) every: Duration,
    last_at: Timestamp,
    last: MetricValues,
}

impl Periodic {
    pub(crate) fn new(every: Duration, start: Timestamp) -> Self {
        Periodic {
            every,
            last_at: start,
            last: MetricValues::default(),
        }
    }

    /// The totals the previous line recorded.
    pub(crate) fn baseline(&self) -> MetricValues {
        self.last
    }

    /// How long until the next line is due (zero when due).
    pub(crate) fn until_due(&self, now: Timestamp) -> Duration {
        (self.last_at + self.every).saturating_duration_since(now)
    }

    /// The deltas since the previous line and the time they cover, recording `totals` as the new baseline.
    pub(crate) fn take(
        &mut self,
        totals: &MetricValues,
        now: Timestamp,
    ) -> (MetricValues, Duration) {
        let delta = totals.since(&self.last);
        let period = now.saturating_duration_since(self.last_at);
        self.last = *totals;
        self.last_at = now;
        (delta, period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_document_names_only_dashboard_metrics_with_the_migration_dimension() {
        let values = MetricValues {
            documents: 10,
            source_bytes: 2048,
            bulk_requests: 3,
            retries: 1,
            failed_documents: 2,
            items_completed: 1,
            lease_handoffs: 1,
        };
        let at = Timestamp::from_epoch_millis(1_700_000_000_000);
        let item = WorkItemId {
            index: "logs".into(),
            shard: 3,
            starting_doc: 500,
        };
        let ten = Duration::from_secs(10);
        for doc in [
            emf_document("prod", &values, ten, Some(&item), at),
            emf_document("prod", &values, ten, None, at),
            shards_document("prod", 5, 2, Some((&item, 1234)), at),
        ] {
            let meta = &doc["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(meta["Namespace"], "OpenSearchMigrations");
            assert_eq!(meta["Dimensions"], json!([["MigrationName"]]));
            assert_eq!(doc["MigrationName"], "prod");
            assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
            for metric in meta["Metrics"].as_array().cloned().unwrap_or_default() {
                let name = metric["Name"].as_str().unwrap_or_default();
                assert!(
                    names::WORKER_METRICS.contains(&name),
                    "{name} not in the dashboard list"
                );
                assert!(doc[name].is_u64(), "{name} has no value");
            }
            assert!(!doc.to_string().contains('\n'));
        }
        let doc = emf_document("prod", &values, ten, None, Timestamp::UNIX_EPOCH);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .map(Vec::len),
            Some(7)
        );
        assert_eq!(
            (
                doc["DocumentsMigrated"].as_u64(),
                doc["FailedDocuments"].as_u64()
            ),
            (Some(10), Some(2))
        );
        let doc = shards_document("prod", 5, 7, Some((&item, 1234)), Timestamp::UNIX_EPOCH);
        assert_eq!(
            (
                doc["ShardsTotal"].as_u64(),
                doc["ShardsCompleted"].as_u64(),
                doc["ShardDurationMs"].as_u64()
            ),
            (Some(5), Some(5), Some(1234))
        );
        assert!(
            shards_document("prod", 5, 0, None, Timestamp::UNIX_EPOCH)
                .get("ShardDurationMs")
                .is_none()
        );
    }

    #[test]
    fn counters_carry_their_item_and_period_as_properties_not_dimensions() {
        let item = WorkItemId {
            index: "logs".into(),
            shard: 3,
            starting_doc: 500,
        };
        let values = MetricValues {
            documents: 10,
            ..MetricValues::default()
        };
        let at = Timestamp::from_epoch_millis(5_000);
        let doc = emf_document(
            "prod",
            &values,
            Duration::from_millis(2500),
            Some(&item),
            at,
        );
        assert_eq!(
            (&doc["Index"], &doc["Shard"], &doc["PeriodMs"]),
            (&json!("logs"), &json!(3), &json!(2500))
        );
        let meta = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Dimensions"], json!([["MigrationName"]]));
        let declared: Vec<&str> = meta["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["Name"].as_str())
            .collect();
        for property in ["Index", "Shard", "PeriodMs"] {
            assert!(!declared.contains(&property), "{property} is not a metric");
        }
        let untagged = emf_document("prod", &values, Duration::ZERO, None, at);
        assert!(untagged.get("Index").is_none() && untagged.get("Shard").is_none());
        let gauges = shards_document("prod", 5, 2, Some((&item, 40)), at);
        assert_eq!(
            (&gauges["Index"], &gauges["Shard"]),
            (&json!("logs"), &json!(3))
        );
    }

    #[test]
    fn periodic_lines_carry_deltas_every_ten_seconds() {
        let at = Timestamp::from_epoch_millis;
        let mut p = Periodic::new(Duration::from_secs(10), at(1_000));
        assert_eq!(p.until_due(at(1_000)), Duration::from_millis(10_000));
        assert_eq!(p.until_due(at(11_000)), Duration::ZERO);
        assert_eq!(p.until_due(at(50_000)), Duration::ZERO);
        let mut stats = WorkerStats {
            documents: 100,
            bulk_requests: 2,
            ..WorkerStats::default()
        };
        let (first, period) = p.take(&MetricValues::from_stats(&stats), at(11_000));
        assert_eq!((first.documents, first.bulk_requests), (100, 2));
        assert_eq!(period, Duration::from_secs(10));
        stats.documents = 250;
        stats.lease_handoffs = 1;
        let (second, _) = p.take(&MetricValues::from_stats(&stats), at(21_000));
        assert_eq!(
            (
                second.documents,
                second.bulk_requests,
                second.lease_handoffs
            ),
            (150, 0, 1)
        );
        assert_eq!(p.until_due(at(21_000)), Duration::from_millis(10_000));
    }
}
