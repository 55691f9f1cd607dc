//! The worker loop: check the clock against the target's, create the work items, then claim items one at a
//! time and migrate each (`item.rs`) until no work is left, everything left is leased elsewhere, or the lease
//! had to be handed off. The checkpoint only ever moves past a contiguous prefix of acknowledged batches, so a
//! handoff never skips a document and redoes at most the batches after the first unacknowledged one.
//!
//! Before it creates or claims anything, the worker claims the working state for its migration
//! (`coordination::ownership::claim`): absent, it is created with the migration's record; another migration's
//! is refused ([`WorkerError::Ownership`], a permanent exit).
//!
//! Work items are created create-only by every worker at start (idempotent: the first `_create` wins), which
//! replaces the upstream `shard_setup` mutex. Bulk writes are index-by-id, so a batch sent twice (a retry, or a
//! lease taken over after a crash) lands once.

use std::sync::Arc;

use tokio::sync::watch;

use super::failed::{FailedDocuments, FailedDocumentsError};
use super::item::{self, ItemEnd, Outputs, Work};
use super::report::{Observer, Reporter};
use super::retry::{Clock, RetryPolicy};
use super::skew::{self, SkewCheck};
use crate::coordination::coordinator::{Acquired, CoordinationError, Coordinator};
use crate::coordination::identity::Identity;
use crate::coordination::lease::WorkItemId;
use crate::coordination::ownership::{Claimed, OwnershipError, claim};
use crate::coordination::transport::{JsonTransport, TransportError};
use crate::snapshot::{IndexInfo, Repository, SnapshotError, SnapshotInfo};

/// How this worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub worker_id: String,
    /// The migration's name (the metrics' `MigrationName` dimension).
    pub migration: String,
    /// Working-state index name.
    pub state_index: String,
    /// The migration this worker serves: recorded in a working state it creates, compared with an existing
    /// one's record before anything is written (`coordination::ownership::claim`).
    pub identity: Identity,
    /// `backfill.adopt_unrecorded_working_state`: a working state without a record may be used (and recorded).
    pub adopt_unrecorded: bool,
    /// Initial lease in seconds (doubles on re-acquisition).
    pub lease_seconds: u64,
    pub batch_max_docs: usize,
    pub batch_max_bytes: u64,
    /// Send `_type` in bulk actions (targets before Elasticsearch 7).
    pub emit_type: bool,
    /// Hand off when this fraction of the lease is left (upstream: 25%).
    pub handoff_fraction: f64,
    /// Bulk requests in flight at once.
    pub max_connections: u32,
    /// Backoff of bulk retries (always bounded by the checkpoint deadline).
    pub retry: RetryPolicy,
    /// `worker.failed_documents`: a directory or `s3://bucket/prefix/`; `None` writes nothing.
    pub failed_documents: Option<String>,
    /// Region for an S3 failed-documents destination (the SDK's default when `None`).
    pub aws_region: Option<String>,
}

/// The snapshot this worker reads.
pub struct Source {
    pub repository: Arc<Repository>,
    pub snapshot: SnapshotInfo,
    pub indices: Vec<IndexInfo>,
}

/// How a worker run ended (mapped to the documented exit codes by the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerExit {
    /// Every work item is complete.
    NoWorkLeft,
    /// The lease ran short (or SIGTERM): the rest was handed to a successor.
    LeaseHandedOff,
    /// Work remains, all of it leased by others.
    AllLeased,
}

/// Totals of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub items_completed: u64,
    pub documents: u64,
    pub source_bytes: u64,
    pub bulk_requests: u64,
    pub retries: u64,
    /// Documents the target rejected for good.
    pub failed_documents: u64,
    pub lease_handoffs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Coordination(#[from] CoordinationError),
    #[error("bulk request failed after {attempts} attempts: {source}")]
    Bulk {
        attempts: u32,
        #[source]
        source: TransportError,
    },
    #[error("the snapshot reader stopped: {0}")]
    Reader(String),
    #[error(
        "refusing to take leases: this machine's clock is {skew} s {direction} the target's (at most {max_s} s is allowed, a tenth of the lease); leases are written with the local clock, so fix the clock (NTP) or lengthen worker.lease",
        skew = skew_s.abs(),
        direction = if *skew_s > 0 { "behind" } else { "ahead of" }
    )]
    ClockSkew { skew_s: i64, max_s: i64 },
    #[error("checking the target's clock: {0}")]
    ClockCheck(#[source] TransportError),
    #[error(transparent)]
    FailedDocuments(#[from] FailedDocumentsError),
    /// The working state is not this migration's (or could not be claimed); nothing was written.
    #[error(transparent)]
    Ownership(Box<OwnershipError>),
}

/// Runs until no work is left, the lease must be handed off, or everything left is leased elsewhere. Logs and
/// metrics (periodic, per item, and a last line at the end, whatever the outcome) go to `observer`.
pub async fn run<T: JsonTransport>(
    transport: &T,
    source: &Source,
    options: &WorkerOptions,
    clock: &dyn Clock,
    shutdown: watch::Receiver<bool>,
    stats: &mut WorkerStats,
    observer: &dyn Observer,
) -> Result<WorkerExit, WorkerError> {
    let mut reporter = Reporter::new(observer, clock, &options.migration);
    let result = run_items(
        transport,
        source,
        options,
        clock,
        shutdown,
        stats,
        &mut reporter,
    )
    .await;
    reporter.flush(stats);
    result
}

async fn run_items<T: JsonTransport>(
    transport: &T,
    source: &Source,
    options: &WorkerOptions,
    clock: &dyn Clock,
    shutdown: watch::Receiver<bool>,
    stats: &mut WorkerStats,
    reporter: &mut Reporter<'_>,
) -> Result<WorkerExit, WorkerError> {
    match skew::check(transport, clock, options.lease_seconds)
        .await
        .map_err(WorkerError::ClockCheck)?
    {
        SkewCheck::TooFar { skew_s, max_s } => {
            return Err(WorkerError::ClockSkew { skew_s, max_s });
        }
        SkewCheck::Unknown => reporter.log(
            "the target does not report its time (_cat/health): the clock-skew check is skipped",
        ),
        SkewCheck::Ok { .. } => {}
    }
    let coordinator = Coordinator::new(
        transport,
        &options.state_index,
        &options.worker_id,
        options.lease_seconds,
    );
    // After the clock check and before any work item: the working state must be this migration's.
    let claimed = claim(
        transport,
        &options.state_index,
        &options.identity,
        options.adopt_unrecorded,
    )
    .await
    .map_err(|e| WorkerError::Ownership(Box::new(e)))?;
    if claimed == Claimed::Adopted {
        reporter.log(&format!(
            "recorded the unrecorded working state {} as migration {}'s (backfill.adopt_unrecorded_working_state)",
            options.state_index, options.identity.migration
        ));
    }
    let items: Vec<WorkItemId> = source
        .indices
        .iter()
        .flat_map(|i| {
            (0..i.shards).map(move |s| WorkItemId {
                index: i.name.clone(),
                shard: s,
                starting_doc: 0,
            })
        })
        .collect();
    coordinator.create_items(&items, 0).await?;
    coordinator
        .mark_setup_complete(u64::try_from(clock.now_s()).unwrap_or(0))
        .await?;
    // Shards of the selected indices; each shard has at most one incomplete item at a time (a successor is
    // created just before its parent completes), so completed shards = total − incomplete items.
    let shards_total = items.len() as u64;
    let gauges = |remaining: u64| shards_total.saturating_sub(remaining);
    reporter.shards(shards_total, gauges(coordinator.remaining().await?), None);
    let mut failed = FailedDocuments::open(
        options.failed_documents.as_deref(),
        &options.worker_id,
        clock.now_ms(),
        options.aws_region.as_deref(),
    )
    .await;
    let work = Work {
        transport,
        coordinator: &coordinator,
        source,
        options,
        clock,
        shutdown: shutdown.clone(),
    };
    let mut rng: rand::rngs::StdRng = rand::SeedableRng::from_os_rng();
    loop {
        if *shutdown.borrow() {
            return Ok(WorkerExit::LeaseHandedOff);
        }
        match coordinator.acquire(clock.now_s(), &mut rng).await? {
            Acquired::AllComplete => return Ok(WorkerExit::NoWorkLeft),
            Acquired::AllLeased { .. } => return Ok(WorkerExit::AllLeased),
            Acquired::Item {
                id, lease_until, ..
            } => {
                let acquired_ms = clock.now_ms();
                let until_ms = lease_until.saturating_mul(1000);
                let lease_ms = (until_ms - acquired_ms).max(1) as f64;
                let deadline_ms = until_ms - (lease_ms * options.handoff_fraction).ceil() as i64;
                let mut out = Outputs {
                    stats: &mut *stats,
                    reporter: &mut *reporter,
                    failed: &mut failed,
                };
                match item::migrate_item(&work, &id, deadline_ms, &mut out).await? {
                    ItemEnd::HandedOff => return Ok(WorkerExit::LeaseHandedOff),
                    ItemEnd::Completed => {
                        let took = u64::try_from(clock.now_ms() - acquired_ms).unwrap_or(0);
                        let remaining = coordinator.remaining().await?;
                        reporter.shards(shards_total, gauges(remaining), Some(took));
                    }
                }
            }
        }
    }
}
