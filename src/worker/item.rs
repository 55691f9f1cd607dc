//! One work item: a blocking thread (`reader.rs`) streams the shard from the item's starting document into
//! bounded batches; the async side keeps up to `max_connections` of them in flight (`send.rs`) and folds acknowledgements into
//! an [`AckTracker`].
//!
//! A document that cannot become a bulk action (an id without a usable `_source`, an undecodable id) travels
//! with the batch read around it and is a rejected document of that batch once the batch is acknowledged —
//! recorded in the failed documents and counted before the checkpoint moves past it, like a document the
//! target rejected; a batch of only such documents is acknowledged at once, without a request. So the
//! checkpoint never passes a document that was neither sent nor recorded, and the rest of the shard goes on.
//!
//! The item ends in one of three ways:
//!
//! - the shard is exhausted and every batch acknowledged → rejected documents made durable → item completed;
//! - the checkpoint deadline, SIGTERM, or a batch whose retries ran into the deadline → stop reading, give the
//!   in-flight requests a short grace, then hand off at the acknowledged prefix (successor recorded → created →
//!   item completed), or release the lease when nothing was acknowledged yet;
//! - a fatal error (bulk rejected for good, attempts exhausted, unreadable shard) → the same checkpoint, then
//!   the error, so a failing shard still keeps its progress.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};

use super::bulk::{BodyPool, ItemFailure};
use super::failed::FailedDocuments;
use super::pipeline::{AckTracker, BatchCounts};
use super::reader::{Read, ReadResult, joined, spawn_reader};
use super::report::Reporter;
use super::send::{BatchEnd, BatchResult, Sender};
use super::types::{Source, WorkerError, WorkerOptions, WorkerStats};
use crate::cluster::transport::JsonTransport;
use crate::coordination::coordinator::Coordinator;
use crate::coordination::item_counts::ItemCounts;
use crate::coordination::lease::WorkItemId;
use crate::time::{Clock, Timestamp};

/// How long in-flight requests may still finish after the worker decided to stop.
const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// How long a handoff waits for the reader to check the checksum of the rest of the stored-fields file it
/// was reading (a plain sequential read, no decoding).
const VERIFY_GRACE: Duration = Duration::from_secs(60);

/// What every item of a run shares.
pub(crate) struct Work<'a, T: JsonTransport> {
    pub(crate) transport: &'a T,
    pub(crate) coordinator: &'a Coordinator<'a, T>,
    pub(crate) source: &'a Source,
    pub(crate) options: &'a WorkerOptions,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Mutable outputs of a run.
pub(crate) struct Outputs<'a, 'r> {
    pub(crate) stats: &'a mut WorkerStats,
    pub(crate) reporter: &'a mut Reporter<'r>,
    pub(crate) failed: &'a mut FailedDocuments,
}

/// How an item ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemEnd {
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
    /// Documents the configuration leaves out, by why, in acknowledged batches (logged once per item).
    skipped: BTreeMap<String, u64>,
    /// The target indices of acknowledged batches (only `targets` of it is used).
    targets: ItemCounts,
}

impl ItemState {
    /// What the item records: the acknowledged prefix's counts and the target indices written to.
    fn counts(&self) -> ItemCounts {
        let prefix = self.tracker.prefix_counts();
        ItemCounts {
            migrated: prefix.indexed,
            failed: prefix.rejected,
            skipped: prefix.skipped,
            extra: prefix.extra,
            targets: self.targets.targets.clone(),
        }
    }
}

/// One batch once sent: the target's answer, and what was read with it and not sent.
struct Sent {
    result: BatchResult,
    /// The batch's documents that cannot be sent: rejected once the batch is acknowledged.
    unusable: Vec<ItemFailure>,
    skipped: BTreeMap<String, u64>,
    extra: u64,
    targets: BTreeSet<String>,
}

/// Sends `read`'s documents (a batch of none is acknowledged at once); [`settle`] counts what was read with
/// them once the batch is acknowledged.
async fn send_read<T: JsonTransport>(sender: &Sender<'_, T>, seq: u64, read: Read) -> Sent {
    let Read {
        batch,
        unusable,
        skipped,
        extra,
        targets,
        ..
    } = read;
    let result = if batch.docs == 0 {
        BatchResult {
            seq,
            docs: 0,
            source_bytes: 0,
            requests: 0,
            retries: 0,
            rejected: Vec::new(),
            end: BatchEnd::Acked,
        }
    } else {
        sender.send(seq, batch).await
    };
    Sent {
        result,
        unusable,
        skipped,
        extra,
        targets,
    }
}

/// Folds one finished batch in: what the target rejected and the documents that could not be sent are the
/// batch's failed documents. `Some` when the item must stop.
fn settle(
    id: &WorkItemId,
    sent: Sent,
    state: &mut ItemState,
    out: &mut Outputs<'_, '_>,
) -> Option<Stop> {
    let Sent {
        result,
        unusable,
        skipped,
        extra,
        targets,
    } = sent;
    out.stats.bulk_requests += result.requests;
    out.stats.retries += result.retries;
    match result.end {
        BatchEnd::Acked => {
            let target_rejected = result.rejected.len();
            let indexed = (result.docs as u64).saturating_sub(target_rejected as u64);
            let unusable_count = unusable.len();
            let mut failures = result.rejected;
            failures.extend(unusable);
            let rejected = failures.len() as u64;
            let (first_rejected, first_unusable) = (
                failures.first().filter(|_| target_rejected > 0),
                failures.get(target_rejected),
            );
            // Durable before the checkpoint may move past this batch.
            if let Err(e) = out.failed.record(id, &failures) {
                return Some(Stop::Fatal(e.into()));
            }
            let written = out
                .failed
                .location()
                .map(|l| format!(", recorded in {l}"))
                .unwrap_or_default();
            if let Some(first) = first_rejected {
                out.reporter.log(&format!(
                    "Bulk request succeeded, but some operations failed. index={} id={} status={} type={} reason={} ({target_rejected} of {} documents of this batch rejected{written})",
                    first.index, first.id, first.status, first.error_type, first.reason, result.docs
                ));
            }
            if let Some(first) = first_unusable {
                out.reporter.log(&format!(
                    "{} document(s) cannot become bulk actions and are failed documents{written}, e.g. index={} id={} type={} reason={}",
                    unusable_count,
                    first.index,
                    first.id,
                    first.error_type,
                    first.reason
                ));
            }
            let skipped_count = skipped.values().sum::<u64>();
            out.stats.skipped_by_configuration += skipped_count;
            for (why, n) in skipped {
                *state.skipped.entry(why).or_default() += n;
            }
            targets.iter().for_each(|t| state.targets.add_target(t));
            out.stats.documents += indexed;
            out.stats.source_bytes += result.source_bytes;
            out.stats.failed_documents += rejected;
            state.tracker.ack_counted(
                result.seq,
                BatchCounts {
                    indexed,
                    rejected,
                    skipped: skipped_count,
                    extra,
                },
            );
            None
        }
        BatchEnd::HandOff => Some(Stop::HandOff),
        BatchEnd::Failed { attempts, source } => {
            Some(Stop::Fatal(WorkerError::Bulk { attempts, source }))
        }
    }
}

/// Says how many documents of the item's acknowledged batches were not migrated because the configuration
/// leaves them out (`source.type_mappings`, `transforms`): never silent, once per item (and in the worker's
/// final counts and the item's record).
fn log_skipped(id: &WorkItemId, skipped: &BTreeMap<String, u64>, out: &mut Outputs<'_, '_>) {
    if skipped.is_empty() {
        return;
    }
    let by_why: Vec<String> = skipped
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    out.reporter.log(&format!(
        "work item {}: {} document(s) not migrated, skipped by configuration: {}",
        id.to_id(),
        skipped.values().sum::<u64>(),
        by_why.join(", ")
    ));
}

/// Migrates one held item until it completes or is handed off.
pub(crate) async fn migrate_item<T: JsonTransport>(
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
    let verified = Arc::new(AtomicU64::new(id.starting_doc));
    // Every batch body in circulation: queued, in flight, and the one being filled.
    let pool = BodyPool::new(max_in_flight.max(2) + max_in_flight + 1);
    let mut reader = Some(spawn_reader(
        w.source,
        w.options,
        index,
        id,
        tx,
        verified.clone(),
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
        skipped: BTreeMap::new(),
        targets: ItemCounts::default(),
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
                Some(Ok(read)) => {
                    state.tracker.verified_below(read.verified_below);
                    if let Some(last_doc) = read.last_doc {
                        let seq = state.tracker.dispatch(last_doc);
                        inflight.push(send_read(&sender, seq, read));
                    }
                }
            },
        }
    };
    if let Stop::Done = stop {
        log_skipped(id, &state.skipped, out);
        if let Some(location) = out.failed.finish_item(id).await? {
            out.reporter.log(&format!(
                "rejected documents of {} written to {location}",
                id.to_id()
            ));
        }
        w.coordinator
            .complete(id, w.clock.now(), &state.counts())
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
    log_skipped(id, &state.skipped, out);
    if let Some(handle) = reader.take() {
        // The reader checks the checksum of the rest of the file it was in, so the checkpoint may pass the
        // documents sent from it; past the grace it is abandoned and the checkpoint stays below them.
        let _ = tokio::time::timeout(VERIFY_GRACE, handle).await;
    }
    state
        .tracker
        .verified_below(verified.load(std::sync::atomic::Ordering::Acquire));
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
        .checkpoint(id, checkpoint, w.clock.now(), &state.counts())
        .await?;
    out.stats.lease_handoffs += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::reader::unusable_failure;
    use super::*;
    use crate::snapshot::{Unusable, UnusableDocument};
    use crate::time::ManualClock;

    #[derive(Default)]
    struct Lines(std::sync::Mutex<Vec<String>>);

    impl super::super::report::Observer for Lines {
        fn log(&self, message: &str) {
            self.0.lock().expect("lines").push(message.to_string());
        }
        fn metrics(&self, _: &serde_json::Value) {}
    }

    fn sourceless(global_doc: u64) -> ItemFailure {
        unusable_failure(&UnusableDocument {
            index: "logs".into(),
            shard: 3,
            global_doc,
            id: format!("doc:{global_doc}"),
            problem: Unusable::NoSource,
        })
    }

    fn acked(seq: u64, docs: usize, rejected: Vec<ItemFailure>, end: BatchEnd) -> BatchResult {
        BatchResult {
            seq,
            docs,
            source_bytes: 10,
            requests: 1,
            retries: 0,
            rejected,
            end,
        }
    }

    #[test]
    fn unsendable_documents_are_recorded_and_counted_only_with_their_acknowledged_batch() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("w1.ndjson");
        let mut failed = FailedDocuments::Directory {
            path: path.clone(),
            file: None,
        };
        let (lines, clock) = (
            Lines::default(),
            ManualClock::new(Timestamp::from_epoch_millis(0)),
        );
        let mut reporter = Reporter::new(&lines, &clock, "m");
        let mut stats = WorkerStats::default();
        let mut out = Outputs {
            stats: &mut stats,
            reporter: &mut reporter,
            failed: &mut failed,
        };
        let id = WorkItemId {
            index: "logs".into(),
            shard: 3,
            starting_doc: 0,
        };
        let mut state = ItemState {
            tracker: AckTracker::new(0),
            skipped: BTreeMap::new(),
            targets: ItemCounts::default(),
        };
        state.tracker.verified_below(u64::MAX);
        let (first, second) = (state.tracker.dispatch(9), state.tracker.dispatch(19));
        // The second batch (docs 10..=19, one without source) could not be sent: nothing of it is recorded.
        let handed = settle(
            &id,
            Sent {
                result: acked(second, 9, Vec::new(), BatchEnd::HandOff),
                unusable: vec![sourceless(10)],
                skipped: BTreeMap::new(),
                extra: 0,
                targets: BTreeSet::from(["logs".to_string()]),
            },
            &mut state,
            &mut out,
        );
        assert!(matches!(handed, Some(Stop::HandOff)));
        assert!(
            !path.exists(),
            "a document of an unacknowledged batch is not recorded yet"
        );
        // The first batch: 8 documents sent (one rejected by the target), docs 0 and 5 without source.
        let target = ItemFailure {
            status: 400,
            error_type: "mapper_parsing_exception".into(),
            ..sourceless(7)
        };
        let settled = settle(
            &id,
            Sent {
                result: acked(first, 8, vec![target], BatchEnd::Acked),
                unusable: vec![sourceless(0), sourceless(5)],
                skipped: BTreeMap::from([("of type refund".to_string(), 2)]),
                extra: 1,
                targets: BTreeSet::from(["logs".to_string(), "logs-copy".to_string()]),
            },
            &mut state,
            &mut out,
        );
        assert!(settled.is_none());
        assert_eq!((out.stats.documents, out.stats.failed_documents), (7, 3));
        assert_eq!(
            out.stats.skipped_by_configuration, 2,
            "documents of a type left out are counted apart, neither sent nor failed"
        );
        assert_eq!(
            state.tracker.checkpoint(),
            10,
            "the checkpoint passes the recorded documents"
        );
        assert_eq!(
            state.counts(),
            ItemCounts {
                migrated: 7,
                failed: 3,
                skipped: 2,
                extra: 1,
                targets: BTreeSet::from(["logs".to_string(), "logs-copy".to_string()]),
            },
            "what the item records: the acknowledged batch's counts and targets, not the handed-off one's"
        );
        let text = std::fs::read_to_string(&path).expect("failed documents");
        let types: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).expect("line")["error_type"]
                    .to_string()
            })
            .collect();
        assert_eq!(
            types,
            [
                r#""mapper_parsing_exception""#,
                r#""source_missing""#,
                r#""source_missing""#
            ]
        );
        assert!(
            text.contains("document 5 of shard 3: no _source is stored"),
            "{text}"
        );
        let logged = lines.0.lock().expect("lines").join("\n");
        assert!(
            logged.contains("2 document(s) cannot become bulk actions and are failed documents"),
            "{logged}"
        );
    }
}
