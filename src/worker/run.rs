//! The worker loop. Reading is synchronous (the Lucene parsers), so a blocking thread streams a shard into
//! bounded batches over a channel while the async side sends them; the checkpoint only ever moves past
//! acknowledged batches, so a handoff never skips a document and redoes at most the unacknowledged batch.
//!
//! Work items are created create-only by every worker at start (idempotent: the first `_create` wins), which
//! replaces the upstream `shard_setup` mutex. Bulk writes are index-by-id, so a batch sent twice (a retry, or a
//! lease taken over after a crash) lands once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::bulk::{self, Batch, ItemFailure};
use crate::coordination::coordinator::{Acquired, CoordinationError, Coordinator};
use crate::coordination::lease::WorkItemId;
use crate::coordination::transport::{Body, JsonTransport, Method, TransportError};
use crate::snapshot::{IndexInfo, Repository, SnapshotError, SnapshotInfo};

/// How this worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub worker_id: String,
    /// Working-state index name.
    pub state_index: String,
    /// Initial lease in seconds (doubles on re-acquisition).
    pub lease_seconds: u64,
    pub batch_max_docs: usize,
    pub batch_max_bytes: u64,
    /// Send `_type` in bulk actions (targets before Elasticsearch 7).
    pub emit_type: bool,
    /// Hand off when this fraction of the lease is left (upstream: 25%).
    pub handoff_fraction: f64,
    /// Attempts per bulk request on 429/5xx/connection errors.
    pub max_attempts: u32,
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
    pub failed: Vec<ItemFailure>,
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
}

/// Runs until no work is left, the lease must be handed off, or everything left is leased elsewhere.
pub async fn run<T: JsonTransport>(
    transport: &T,
    source: &Source,
    options: &WorkerOptions,
    now: &(dyn Fn() -> i64 + Send + Sync),
    mut shutdown: watch::Receiver<bool>,
    stats: &mut WorkerStats,
) -> Result<WorkerExit, WorkerError> {
    let coordinator = Coordinator::new(
        transport,
        &options.state_index,
        &options.worker_id,
        options.lease_seconds,
    );
    coordinator.setup_index().await?;
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
        .mark_setup_complete(u64::try_from(now()).unwrap_or(0))
        .await?;
    let mut rng: rand::rngs::StdRng = rand::SeedableRng::from_os_rng();
    loop {
        if *shutdown.borrow() {
            return Ok(WorkerExit::LeaseHandedOff);
        }
        match coordinator.acquire(now(), &mut rng).await? {
            Acquired::AllComplete => return Ok(WorkerExit::NoWorkLeft),
            Acquired::AllLeased { .. } => return Ok(WorkerExit::AllLeased),
            Acquired::Item {
                id, lease_until, ..
            } => {
                let lease = (lease_until - now()).max(1) as f64;
                let deadline = lease_until - (lease * options.handoff_fraction).ceil() as i64;
                let done = migrate_item(
                    transport,
                    &coordinator,
                    source,
                    options,
                    &id,
                    deadline,
                    now,
                    &mut shutdown,
                    stats,
                )
                .await?;
                if !done {
                    return Ok(WorkerExit::LeaseHandedOff);
                }
            }
        }
    }
}

/// Migrates one item; `Ok(false)` when it was handed off to a successor before the end.
#[allow(clippy::too_many_arguments)]
async fn migrate_item<T: JsonTransport>(
    transport: &T,
    coordinator: &Coordinator<'_, T>,
    source: &Source,
    options: &WorkerOptions,
    id: &WorkItemId,
    deadline: i64,
    now: &(dyn Fn() -> i64 + Send + Sync),
    shutdown: &mut watch::Receiver<bool>,
    stats: &mut WorkerStats,
) -> Result<bool, WorkerError> {
    let (tx, mut rx) = mpsc::channel::<Result<Batch, String>>(2);
    let repository = source.repository.clone();
    let snapshot = source.snapshot.clone();
    let index = source.indices.iter().find(|i| i.name == id.index).cloned();
    let (shard, from, max_docs, max_bytes, emit_type) = (
        id.shard,
        id.starting_doc,
        options.batch_max_docs,
        options.batch_max_bytes,
        options.emit_type,
    );
    let reader = tokio::task::spawn_blocking(move || {
        let send = |b: Result<Batch, String>| tx.blocking_send(b).is_ok();
        let Some(index) = index else {
            send(Err(
                "the work item names an index that is not selected".into()
            ));
            return;
        };
        let open = match repository.open_shard(&snapshot, &index, shard) {
            Ok(open) => open,
            Err(e) => {
                send(Err(e.to_string()));
                return;
            }
        };
        let mut batch = Batch::default();
        for doc in open.documents(from) {
            match doc {
                Ok(doc) => {
                    batch.push(&doc, emit_type);
                    if batch.is_full(max_docs, max_bytes) && !send(Ok(std::mem::take(&mut batch))) {
                        return; // the worker stopped listening (handoff)
                    }
                }
                Err(e) => {
                    send(Err(e.to_string()));
                    return;
                }
            }
        }
        if batch.docs > 0 {
            send(Ok(batch));
        }
    });
    let mut next_unsent = from;
    let (mut migrated, mut failed) = (0u64, 0u64);
    loop {
        if now() >= deadline || *shutdown.borrow() {
            drop(rx);
            let _ = reader.await;
            coordinator
                .checkpoint(id, next_unsent, now(), migrated, failed)
                .await?;
            return Ok(false);
        }
        let batch = tokio::select! {
            batch = rx.recv() => batch,
            _ = shutdown.changed() => continue,
        };
        let Some(batch) = batch else { break };
        let batch = batch.map_err(WorkerError::Reader)?;
        let rejected = send_bulk(transport, &batch, options, stats).await?;
        failed += rejected as u64;
        migrated += batch.docs as u64 - rejected as u64;
        if let Some(last) = batch.last_doc {
            next_unsent = last + 1;
        }
    }
    let _ = reader.await;
    coordinator.complete(id, now(), migrated, failed).await?;
    stats.items_completed += 1;
    Ok(true)
}

/// Sends one batch, retrying the whole request on 429/5xx/connection errors and on retryable items (index-by-id
/// writes are idempotent). Returns how many documents the target rejected for good.
async fn send_bulk<T: JsonTransport>(
    transport: &T,
    batch: &Batch,
    options: &WorkerOptions,
    stats: &mut WorkerStats,
) -> Result<usize, WorkerError> {
    let mut delay = Duration::from_millis(100);
    let mut attempt = 0;
    loop {
        attempt += 1;
        stats.bulk_requests += 1;
        let result = transport
            .send(
                Method::Post,
                "/_bulk",
                Some(Body::Ndjson(batch.body.clone())),
            )
            .await;
        let retry = match result {
            Ok(resp) => {
                let failures = bulk::failures(&resp.body, &batch.ids);
                if failures.iter().any(|(_, f)| f.retryable()) && attempt < options.max_attempts {
                    None
                } else {
                    let rejected = failures.len();
                    stats.documents += (batch.docs - rejected) as u64;
                    stats.source_bytes += batch.source_bytes;
                    stats.failed.extend(failures.into_iter().map(|(_, f)| f));
                    return Ok(rejected);
                }
            }
            Err(
                e @ (TransportError::Unreachable { .. }
                | TransportError::Http {
                    status: 429 | 500..=599,
                    ..
                }),
            ) => Some(e),
            Err(e) => {
                return Err(WorkerError::Bulk {
                    attempts: attempt,
                    source: e,
                });
            }
        };
        if let Some(e) = &retry
            && attempt >= options.max_attempts
        {
            return Err(WorkerError::Bulk {
                attempts: attempt,
                source: e.clone(),
            });
        }
        stats.retries += 1;
        let jitter = rand::random_range(0..=delay.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
