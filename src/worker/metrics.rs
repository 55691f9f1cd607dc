//! The worker's metrics as CloudWatch Embedded Metric Format (EMF) documents: one JSON line that the awslogs
//! driver turns into metrics in namespace `OpenSearchMigrations` with the one dimension `MigrationName`.
//!
//! Invariant: every name emitted here comes from `render::metrics` (the list the dashboard charts), so the
//! dashboard and the worker cannot drift apart. Pure: the caller supplies the clock and prints the line.

use serde_json::{Map, Value, json};

use super::run::WorkerStats;
use crate::render::metrics as names;

/// Counts of one reporting period (or of a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricValues {
    pub documents: u64,
    pub source_bytes: u64,
    pub bulk_requests: u64,
    pub retries: u64,
    pub failed_documents: u64,
    pub items_completed: u64,
    pub lease_handoffs: u64,
}

impl MetricValues {
    /// The totals of a worker run; `handed_off` when it ended by handing its lease to a successor.
    pub fn from_stats(stats: &WorkerStats, handed_off: bool) -> Self {
        MetricValues {
            documents: stats.documents,
            source_bytes: stats.source_bytes,
            bulk_requests: stats.bulk_requests,
            retries: stats.retries,
            failed_documents: stats.failed.len() as u64,
            items_completed: stats.items_completed,
            lease_handoffs: u64::from(handed_off),
        }
    }
}

/// One EMF document (`_aws` metadata plus the values) for `migration` at `timestamp_ms` (epoch milliseconds).
pub fn emf_document(migration: &str, values: &MetricValues, timestamp_ms: u64) -> Value {
    let entries: [(&str, u64, &str); 7] = [
        (names::DOCUMENTS_MIGRATED, values.documents, "Count"),
        (names::BYTES_MIGRATED, values.source_bytes, "Bytes"),
        (names::BULK_REQUESTS, values.bulk_requests, "Count"),
        (names::BULK_RETRIES, values.retries, "Count"),
        (names::FAILED_DOCUMENTS, values.failed_documents, "Count"),
        (names::WORK_ITEMS_COMPLETED, values.items_completed, "Count"),
        (names::LEASE_HANDOFFS, values.lease_handoffs, "Count"),
    ];
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
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
        doc.insert(name.into(), json!(value));
    }
    Value::Object(doc)
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
        let doc = emf_document("prod", &values, 1_700_000_000_000);
        let meta = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], "OpenSearchMigrations");
        assert_eq!(meta["Dimensions"], json!([["MigrationName"]]));
        assert_eq!(doc["MigrationName"], "prod");
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000u64);
        let declared = meta["Metrics"].as_array().cloned().unwrap_or_default();
        assert_eq!(declared.len(), 7);
        for metric in declared {
            let name = metric["Name"].as_str().unwrap_or_default();
            assert!(
                names::WORKER_METRICS.contains(&name),
                "{name} not in the dashboard list"
            );
            assert!(doc[name].is_u64(), "{name} has no value");
        }
        assert_eq!(doc["DocumentsMigrated"], 10);
        assert_eq!(doc["BytesMigrated"], 2048);
        assert_eq!(doc["BulkRetries"], 1);
        assert_eq!(doc["FailedDocuments"], 2);
        assert_eq!(doc["LeaseHandoffs"], 1);
        assert!(!doc.to_string().contains('\n'));
    }

    #[test]
    fn run_totals_count_rejected_documents_and_a_handoff() {
        let stats = WorkerStats {
            items_completed: 2,
            documents: 5,
            source_bytes: 50,
            bulk_requests: 4,
            retries: 0,
            failed: Vec::new(),
        };
        let values = MetricValues::from_stats(&stats, true);
        assert_eq!((values.items_completed, values.lease_handoffs), (2, 1));
        assert_eq!(MetricValues::from_stats(&stats, false).lease_handoffs, 0);
    }
}
