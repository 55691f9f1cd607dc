//! The reader side of a work item: a blocking thread opens the shard and streams its documents, from the
//! item's starting document on, into bounded [`Read`]s over a channel; a document that cannot become a bulk
//! action travels in the `Read` it was read in, as a failed document of that batch (`item.rs` records it once
//! the batch is acknowledged, so the checkpoint never passes it unrecorded). Every failure to read goes over the
//! channel as a typed [`SnapshotError`]; a thread that ends without finishing the shard is caught by [`joined`].

use tokio::sync::mpsc;

use super::bulk::{Batch, ItemFailure};
use super::transform::transformed;
use super::types::{Source, WorkerError, WorkerOptions};
use crate::coordination::lease::WorkItemId;
use crate::snapshot::{DocumentError, IndexInfo, SnapshotError, UnusableDocument};

/// What the reader thread reads between two checkpoints: the documents to send, and those read among them
/// that cannot be sent.
#[derive(Debug, Default)]
pub struct Read {
    pub batch: Batch,
    /// Documents that cannot become bulk actions, as failures of this batch (`status` 0: never sent).
    pub unusable: Vec<ItemFailure>,
    /// Global doc number of the last document read into it, sent or not: the checkpoint moves past it once
    /// the batch is acknowledged.
    pub last_doc: Option<u64>,
}

impl Read {
    fn is_full(&self, max_docs: usize, max_bytes: u64) -> bool {
        self.batch.is_full(max_docs, max_bytes) || self.unusable.len() >= max_docs
    }
}

/// An unusable document as a failed document of its batch.
pub fn unusable_failure(doc: &UnusableDocument) -> ItemFailure {
    ItemFailure {
        index: doc.index.clone(),
        id: doc.id.clone(),
        status: 0,
        error_type: doc.problem.error_type().to_string(),
        reason: format!(
            "document {} of shard {}: {}",
            doc.global_doc, doc.shard, doc.problem
        ),
    }
}

/// What the reader thread sends: a full batch, or why the shard cannot be read (then it stops).
pub type ReadResult = Result<Read, SnapshotError>;

/// Streams `id`'s documents of `index` into batches on a blocking thread. Every failure to read goes over the
/// channel as a typed [`SnapshotError`]; a thread that dies without sending one is caught by [`joined`].
pub fn spawn_reader(
    source: &Source,
    options: &WorkerOptions,
    index: IndexInfo,
    id: &WorkItemId,
    tx: mpsc::Sender<ReadResult>,
) -> tokio::task::JoinHandle<()> {
    let repository = source.repository.clone();
    let snapshot = source.snapshot.clone();
    let (shard, from) = (id.shard, id.starting_doc);
    let (max_docs, max_bytes, emit_type) = (
        options.batch_max_docs,
        options.batch_max_bytes,
        options.emit_type,
    );
    // Decided once per item: an index no rule matches keeps the byte-exact path.
    let chain = options.transforms.chain_for(&index.name);
    tokio::task::spawn_blocking(move || {
        let send = |b: ReadResult| tx.blocking_send(b).is_ok();
        let open = match repository.open_shard(&snapshot, &index, shard) {
            Ok(open) => open,
            Err(e) => {
                send(Err(e));
                return;
            }
        };
        let mut read = Read::default();
        for doc in open.documents(from) {
            match doc {
                Ok(doc) => {
                    read.last_doc = Some(doc.global_doc);
                    if chain.is_empty() {
                        read.batch.push(&doc, emit_type);
                    } else {
                        match transformed(&chain, &doc) {
                            Ok(outputs) => {
                                outputs.iter().for_each(|d| read.batch.push(d, emit_type))
                            }
                            Err(failed) => read.unusable.push(failed),
                        }
                    }
                }
                Err(DocumentError::Unusable(doc)) => {
                    read.last_doc = Some(doc.global_doc);
                    read.unusable.push(unusable_failure(&doc));
                }
                Err(DocumentError::Unreadable(e)) => {
                    send(Err(e));
                    return;
                }
            }
            if read.is_full(max_docs, max_bytes) && !send(Ok(std::mem::take(&mut read))) {
                return; // the worker stopped listening (handoff)
            }
        }
        if read.last_doc.is_some() {
            send(Ok(read));
        }
    })
}

/// The reader's channel closed: `Ok` when the thread ended normally (the shard is exhausted), otherwise the
/// shard cannot be read — a thread that panicked or was cancelled must never pass for a finished shard.
pub async fn joined(
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
