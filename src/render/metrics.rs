//! The worker's metric names: the one list that the worker emits (CloudWatch Embedded Metric Format) and the
//! dashboard charts. A test checks that every `OpenSearchMigrations` metric in the rendered dashboard is here.

/// CloudWatch namespace of the worker's metrics.
pub const NAMESPACE: &str = "OpenSearchMigrations";
/// The one dimension every worker metric carries: the migration's `name`.
pub(crate) const DIMENSION: &str = "MigrationName";

/// Documents indexed into the target (count).
pub const DOCUMENTS_MIGRATED: &str = "DocumentsMigrated";
/// `_source` bytes indexed into the target (bytes).
pub const BYTES_MIGRATED: &str = "BytesMigrated";
/// Bulk requests sent (count).
pub(crate) const BULK_REQUESTS: &str = "BulkRequests";
/// Bulk requests or items retried after 429/5xx/connection errors (count).
pub const BULK_RETRIES: &str = "BulkRetries";
/// Documents the target rejected for good (count).
pub const FAILED_DOCUMENTS: &str = "FailedDocuments";
/// Work items (shards or shard remainders) completed (count).
pub(crate) const WORK_ITEMS_COMPLETED: &str = "WorkItemsCompleted";
/// Time from acquiring a work item to completing it (milliseconds).
pub const SHARD_DURATION: &str = "ShardDurationMs";
/// Leases handed to a successor at a checkpoint (count).
pub(crate) const LEASE_HANDOFFS: &str = "LeaseHandoffs";
/// Work items in total / completed, as seen by a worker (gauges, for shard progress).
pub const SHARDS_TOTAL: &str = "ShardsTotal";
pub const SHARDS_COMPLETED: &str = "ShardsCompleted";

/// `engine: rfs`: what Migration Assistant's Java worker emits (OTel scope `documentMigration`,
/// `IDocumentMigrationContexts.MetricNames`) as its collector sidecar writes it to [`NAMESPACE`]: dimensions
/// `qualifier` (the resource attribute the collector sets, here the migration's name) and `OTelLib` (the scope).
pub(crate) const RFS_DIMENSION: &str = "qualifier";
pub(crate) const RFS_LIB_DIMENSION: &str = "OTelLib";
pub(crate) const RFS_LIB: &str = "documentMigration";
/// Documents of a work item, counted once when the item completes (a counter).
pub const RFS_DOCUMENTS_MIGRATED: &str = "pipelineDocsMigrated";
/// Source bytes of a work item, counted once when the item completes (a counter).
pub const RFS_BYTES_MIGRATED: &str = "pipelineBytesMigrated";
/// Milliseconds of a completed work item (a histogram: CloudWatch receives count and sum; the collector's
/// cumulative-to-delta step drops its minimum and maximum, so only Average and SampleCount are meaningful).
pub const RFS_SHARD_DURATION: &str = "pipelineShardDuration";
/// Work items whose pipeline failed (a counter).
pub const RFS_PIPELINE_ERRORS: &str = "pipelineErrors";
/// Every metric the rfs dashboard charts.
pub const RFS_WORKER_METRICS: &[&str] = &[
    RFS_DOCUMENTS_MIGRATED,
    RFS_BYTES_MIGRATED,
    RFS_SHARD_DURATION,
    RFS_PIPELINE_ERRORS,
];

/// Properties of a counters line that are not dimensions (CloudWatch keeps them in the log event only, so the
/// dashboard's metric queries are unchanged): the source index and shard of the work item the deltas belong to
/// (absent on a line outside any item), and the milliseconds the deltas cover (ending at the line's
/// timestamp). The local dashboard sums documents per index and spreads each line over its period.
pub const INDEX_PROPERTY: &str = "Index";
pub const SHARD_PROPERTY: &str = "Shard";
pub const PERIOD_PROPERTY: &str = "PeriodMs";

/// Every metric the worker emits.
pub const WORKER_METRICS: &[&str] = &[
    DOCUMENTS_MIGRATED,
    BYTES_MIGRATED,
    BULK_REQUESTS,
    BULK_RETRIES,
    FAILED_DOCUMENTS,
    WORK_ITEMS_COMPLETED,
    SHARD_DURATION,
    LEASE_HANDOFFS,
    SHARDS_TOTAL,
    SHARDS_COMPLETED,
];
