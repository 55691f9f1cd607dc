//! One work item: a blocking thread streams the shard from the item's starting document into bounded batches;
//! the async side keeps up to `max_connections` of them in flight (`send.rs`) and folds acknowledgements into
//! an [`AckTracker`]. The item ends in one of three ways:
//!
//! - the shard is exhausted and every batch acknowledged → rejected documents made durable → item completed;
//! - the checkpoint deadline, SIGTERM, or a batch whose retries ran into the deadline → stop reading, give the
//!   in-flight requests a short grace, then hand off at the acknowledged prefix (successor recorded → created →
//!   item completed), or release the lease when nothing was acknowledged yet;
//! - a fatal error (bulk rejected for good, attempts exhausted, unreadable shard) → the same checkpoint, then
//!   the error, so a failing shard still keeps its progress.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};

use super::bulk::{Batch, BodyPool};
use super::failed::FailedDocuments;
use super::pipeline::AckTracker;
use super::report::Reporter;
use super::send::{BatchEnd, BatchResult, Sender};
use super::types::{Source, WorkerError, WorkerOptions, WorkerStats};
use crate::cluster::transport::JsonTransport;
use crate::coordination::coordinator::Coordinator;
use crate::coordination::lease::WorkItemId;
use crate::snapshot::{IndexInfo, SnapshotError};
use crate::time::{Clock, Timestamp};

/// How long in-flight requests may still finish after the worker decided to stop.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// What every item of a run shares.
pub struct Work<'a, T: JsonTransport> {
    pub transport: &'a T,
    pub coordinator: &'a Coordinator<'a, T>,
    pub source: &'a Source,
    pub options: &'a WorkerOptions,
    pub clock: &'a dyn Clock,
    pub shutdown: watch::Receiver<bool>,
}

/// Mutable outputs of a run.
pub struct Outputs<'a, 'r> {
    pub stats: &'a mut WorkerStats,
    pub reporter: &'a mut Reporter<'r>,
    pub failed: &'a mut FailedDocuments,
}

/// How an item ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEnd {
    Completed,
    /// Handed to a successor (or released without progress).
    HandedOff,
}

enum Stop {
    Done,
    HandOff,
    Fatal(WorkerError),
}

/// The checkpoint window, with the indexed / rejected counts of the acknowledged prefix (what the item records:
/// a successor re-sends everything after the checkpoint, so later batches are not claimed twice).
struct ItemState {
    tracker: AckTracker,
}

/// Folds one finished batch in. `Some` when the item must stop.
fn settle(
    id: &WorkItemId,
    result: BatchResult,
    state: &mut ItemState,
    out: &mut Outputs<'_, '_>,
) -> Option<Stop> {
    out.stats.bulk_requests += result.requests;
    out.stats.retries += result.retries;
    match result.end {
        BatchEnd::Acked => {
            let rejected = result.rejected.len() as u64;
            let indexed = (result.docs as u64).saturating_sub(rejected);
            if let Some(first) = result.rejected.first() {
                // Durable before the checkpoint may move past this batch.
                if let Err(e) = out.failed.record(id, &result.rejected) {
                    return Some(Stop::Fatal(e.into()));
                }
                let written = out
                    .failed
                    .location()
                    .map(|l| format!(", recorded in {l}"))
                    .unwrap_or_default();
                out.reporter.log(&format!(
                    "Bulk request succeeded, but some operations failed. index={} id={} status={} type={} reason={} ({rejected} of {} documents of this batch rejected{written})",
                    first.index, first.id, first.status, first.error_type, first.reason, result.docs
                ));
            }
            out.stats.documents += indexed;
            out.stats.source_bytes += result.source_bytes;
            out.stats.failed_documents += rejected;
            state.tracker.ack_counted(result.seq, indexed, rejected);
            None
        }
        BatchEnd::HandOff => Some(Stop::HandOff),
        BatchEnd::Failed { attempts, source } => {
            Some(Stop::Fatal(WorkerError::Bulk { attempts, source }))
        }
    }
}

/// What the reader thread sends: a full batch, or why the shard cannot be read (then it stops).
type ReadResult = Result<Batch, SnapshotError>;

/// Streams `id`'s documents of `index` into batches on a blocking thread. Every failure to read goes over the
/// channel as a typed [`SnapshotError`]; a thread that dies without sending one is caught by [`joined`].
fn spawn_reader(
    source: &Source,
    options: &WorkerOptions,
    index: IndexInfo,
    id: &WorkItemId,
    tx: mpsc::Sender<ReadResult>,
    pool: BodyPool,
) -> tokio::task::JoinHandle<()> {
    let repository = source.repository.clone();
    let snapshot = source.snapshot.clone();
    let (shard, from) = (id.shard, id.starting_doc);
    let (max_docs, max_bytes, emit_type) = (
        options.batch_max_docs,
        options.batch_max_bytes,
        options.emit_type,
    );
    tokio::task::spawn_blocking(move || {
        let send = |b: ReadResult| tx.blocking_send(b).is_ok();
        let open = match repository.open_shard(&snapshot, &index, shard) {
            Ok(open) => open,
            Err(e) => {
                send(Err(e));
                return;
            }
        };
        let mut batch = Batch::default();
        for doc in open.documents(from) {
            match doc {
                Ok(doc) => {
                    batch.push(&doc, emit_type);
                    if batch.is_full(max_docs, max_bytes) && !send(Ok(batch.take(&pool))) {
                        return; // the worker stopped listening (handoff)
                    }
                }
                Err(e) => {
                    send(Err(e));
                    return;
                }
            }
        }
        if batch.docs > 0 {
            send(Ok(batch));
        }
    })
}

/// The reader's channel closed: `Ok` when the thread ended normally (the shard is exhausted), otherwise the
/// shard cannot be read — a thread that panicked or was cancelled must never pass for a finished shard.
async fn joined(
    reader: tokio::task::JoinHandle<()>,
    snapshot: &str,
    id: &WorkItemId,
) -> Result<(), WorkerError> {
    reader.await.map_err(|e| {
        let why = match e.try_into_panic() {
            Ok(payload) => payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
            Err(e) => e.to_string(),
        };
        WorkerError::Snapshot(SnapshotError::Shard {
            snapshot: snapshot.to_string(),
            index: id.index.clone(),
            shard: id.shard,
            file: None,
            message: format!(
                "the reader thread stopped before the end of the shard ({why}); this is a bug"
            ),
        })
    })
}

/// Migrates one held item until it completes or is handed off.
pub async fn migrate_item<T: JsonTransport>(
    w: &Work<'_, T>,
    id: &WorkItemId,
    deadline: Timestamp,
    out: &mut Outputs<'_, '_>,
) -> Result<ItemEnd, WorkerError> {
    let index = w
        .source
        .indices
        .iter()
        .find(|i| i.name == id.index)
        .cloned()
        .ok_or_else(|| WorkerError::NotSelected {
            item: id.to_id(),
            index: id.index.clone(),
        })?;
    let max_in_flight = (w.options.max_connections as usize).max(1);
    let (tx, mut rx) = mpsc::channel::<ReadResult>(max_in_flight.max(2));
    // Every batch body in circulation: queued, in flight, and the one being filled.
    let pool = BodyPool::new(max_in_flight.max(2) + max_in_flight + 1);
    let mut reader = Some(spawn_reader(
        w.source,
        w.options,
        index,
        id,
        tx,
        pool.clone(),
    ));
    let sender = Sender {
        transport: w.transport,
        policy: w.options.retry,
        clock: w.clock,
        deadline,
        shutdown: w.shutdown.clone(),
        pool,
    };
    let mut state = ItemState {
        tracker: AckTracker::new(id.starting_doc),
    };
    let mut inflight = FuturesUnordered::new();
    let mut shutdown = w.shutdown.clone();
    let (mut reader_done, mut signals_gone) = (false, false);
    let stop = loop {
        let now = w.clock.now();
        if *shutdown.borrow() || now >= deadline {
            break Stop::HandOff;
        }
        if reader_done && inflight.is_empty() {
            break Stop::Done;
        }
        let until_deadline = deadline.saturating_duration_since(now);
        tokio::select! {
            changed = shutdown.changed(), if !signals_gone => signals_gone = changed.is_err(),
            _ = tokio::time::sleep(until_deadline) => {}
            _ = tokio::time::sleep(out.reporter.until_due()) => out.reporter.tick(out.stats),
            Some(done) = inflight.next(), if !inflight.is_empty() => {
                if let Some(stop) = settle(id, done, &mut state, out) {
                    break stop;
                }
            }
            batch = rx.recv(), if !reader_done && inflight.len() < max_in_flight => match batch {
                None => {
                    reader_done = true;
                    if let Some(handle) = reader.take()
                        && let Err(e) = joined(handle, &w.source.snapshot.name, id).await
                    {
                        break Stop::Fatal(e);
                    }
                }
                Some(Err(e)) => break Stop::Fatal(e.into()),
                Some(Ok(batch)) => {
                    let seq = state.tracker.dispatch(batch.last_doc.unwrap_or(id.starting_doc));
                    inflight.push(sender.send(seq, batch));
                }
            },
        }
    };
    if let Stop::Done = stop {
        if let Some(location) = out.failed.finish_item(id).await? {
            out.reporter.log(&format!(
                "rejected documents of {} written to {location}",
                id.to_id()
            ));
        }
        w.coordinator
            .complete(
                id,
                w.clock.now(),
                state.tracker.prefix_counts().0,
                state.tracker.prefix_counts().1,
            )
            .await?;
        out.stats.items_completed += 1;
        return Ok(ItemEnd::Completed);
    }
    // Stop reading; let the requests already sent finish briefly (their retries stop at the deadline/SIGTERM).
    drop(rx);
    let drained = tokio::time::timeout(DRAIN_GRACE, async {
        while let Some(done) = inflight.next().await {
            // A stop found while draining changes nothing: the checkpoint is the acknowledged prefix.
            let _ = settle(id, done, &mut state, out);
        }
    })
    .await;
    drop(inflight);
    if let Some(handle) = reader.take() {
        // The item stops anyway; the reader only needs to let go of the shard.
        let _ = tokio::time::timeout(DRAIN_GRACE, handle).await;
    }
    let checkpoint = state.tracker.checkpoint();
    let handed = handoff(w, id, checkpoint, &state, out).await;
    out.reporter.log(&format!(
        "work item {}: {} at document {checkpoint}{}",
        id.to_id(),
        if checkpoint > id.starting_doc {
            "handed off to a successor"
        } else {
            "released without progress"
        },
        if drained.is_err() {
            " (requests still in flight were abandoned)"
        } else {
            ""
        }
    ));
    match stop {
        Stop::Fatal(e) => {
            if let Err(h) = handed {
                out.reporter.log(&format!("the checkpoint failed too: {h}"));
            }
            Err(e)
        }
        _ => handed.map(|()| ItemEnd::HandedOff),
    }
}

/// Checkpoints at `checkpoint`: successor after the acknowledged prefix, or a release without progress.
async fn handoff<T: JsonTransport>(
    w: &Work<'_, T>,
    id: &WorkItemId,
    checkpoint: u64,
    state: &ItemState,
    out: &mut Outputs<'_, '_>,
) -> Result<(), WorkerError> {
    if checkpoint <= id.starting_doc {
        w.coordinator.release(id).await?;
        return Ok(());
    }
    // Rejections must be durable before the item is completed; if they are not, let the lease lapse.
    out.failed.finish_item(id).await?;
    w.coordinator
        .checkpoint(
            id,
            checkpoint,
            w.clock.now(),
            state.tracker.prefix_counts().0,
            state.tracker.prefix_counts().1,
        )
        .await?;
    out.stats.lease_handoffs += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_thread_that_dies_is_an_unreadable_shard_not_a_finished_one() {
        let id = WorkItemId {
            index: "logs".into(),
            shard: 3,
            starting_doc: 0,
        };
        let ended = tokio::task::spawn_blocking(|| {});
        assert!(joined(ended, "snap-1", &id).await.is_ok());
        let died = tokio::task::spawn_blocking(|| panic!("index out of bounds"));
        let Err(WorkerError::Snapshot(e)) = joined(died, "snap-1", &id).await else {
            panic!("a panicked reader must be a snapshot error");
        };
        assert_eq!(e.shard(), Some(("logs", 3)));
        assert!(e.to_string().contains("index out of bounds"), "{e}");
    }
}
