//! The reader side of a work item: a blocking thread opens the shard and streams its documents, from the
//! item's starting document on, into bounded [`Read`]s over a channel; a document that cannot become a bulk
//! action travels in the `Read` it was read in, as a failed document of that batch (`item.rs` records it once
//! the batch is acknowledged, so the checkpoint never passes it unrecorded). Every failure to read goes over the
//! channel as a typed [`SnapshotError`]; a thread that ends without finishing the shard is caught by [`joined`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::bulk::{Batch, BodyPool, ItemFailure};
use super::transform::transformed;
use super::types::{Source, WorkerError, WorkerOptions};
use crate::config::{DEFAULT_TYPE, Route, TypeMappings};
use crate::coordination::lease::WorkItemId;
use crate::snapshot::{DocumentError, IndexInfo, SnapshotError, UnusableDocument};

/// What the reader thread reads between two checkpoints: the documents to send, and those read among them
/// that cannot be sent.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) batch: Batch,
    /// Documents that cannot become bulk actions, as failures of this batch (`status` 0: never sent).
    pub(crate) unusable: Vec<ItemFailure>,
    /// Documents of a type `source.type_mappings` leaves out, by type: read and not sent, never failed.
    pub(crate) skipped: BTreeMap<String, u64>,
    /// Global doc number of the last document read into it, sent or not: the checkpoint moves past it once
    /// the batch is acknowledged (and its stored fields verified).
    pub(crate) last_doc: Option<u64>,
    /// Every document below this global doc number was read from stored fields whose checksum matched
    /// (`Shard::documents`' `verified_below`): the checkpoint never moves past a document above it.
    pub(crate) verified_below: u64,
}

impl Read {
    fn is_full(&self, max_docs: usize, max_bytes: u64) -> bool {
        self.batch.is_full(max_docs, max_bytes)
            || self.unusable.len() >= max_docs
            || self.skipped.values().sum::<u64>() >= max_docs as u64
    }

    /// This read, handed over whole; what stays is empty, its batch body from `pool` (a sent body reused).
    fn take(&mut self, pool: &BodyPool) -> Read {
        Read {
            batch: self.batch.take(pool),
            unusable: std::mem::take(&mut self.unusable),
            skipped: std::mem::take(&mut self.skipped),
            last_doc: self.last_doc.take(),
            verified_below: self.verified_below,
        }
    }
}

/// Where the documents of one index go, by type (`source.type_mappings`), each type looked up once.
struct Router {
    index: String,
    mappings: TypeMappings,
    known: HashMap<Option<String>, Route>,
}

impl Router {
    /// The target index of `doc_type`'s documents, or `None` when the configuration leaves the type out.
    fn target(&mut self, doc_type: &Option<String>) -> Option<&str> {
        let (index, mappings) = (&self.index, &self.mappings);
        let route = self
            .known
            .entry(doc_type.clone())
            .or_insert_with(|| mappings.route(index, doc_type.as_deref()).0);
        match route {
            Route::To(target) => Some(target),
            Route::Skipped => None,
        }
    }
}

/// An unusable document as a failed document of its batch.
pub(crate) fn unusable_failure(doc: &UnusableDocument) -> ItemFailure {
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
pub(crate) type ReadResult = Result<Read, SnapshotError>;

/// Streams `id`'s documents of `index` into batches on a blocking thread. Every failure to read goes over the
/// channel as a typed [`SnapshotError`]; a thread that dies without sending one is caught by [`joined`].
/// `verified` follows [`Read::verified_below`]; when the worker stops listening (a handoff), the thread first
/// reads the rest of the stored-fields file it is in and checks its checksum, so the handoff may checkpoint
/// past the documents already sent from it (`verified` says how far it got).
pub(crate) fn spawn_reader(
    source: &Source,
    options: &WorkerOptions,
    index: IndexInfo,
    id: &WorkItemId,
    tx: mpsc::Sender<ReadResult>,
    verified: Arc<AtomicU64>,
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
    let mut router = (!options.type_mappings.is_empty()).then(|| Router {
        index: index.name.clone(),
        mappings: options.type_mappings.clone(),
        known: HashMap::new(),
    });
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
        let mut documents = open.documents(from);
        while let Some(doc) = documents.next() {
            match doc {
                Ok(mut doc) => {
                    read.last_doc = Some(doc.global_doc);
                    let routed = match router.as_mut().map(|r| r.target(&doc.doc_type)) {
                        None => true,
                        Some(Some(target)) => {
                            doc.index = target.to_string();
                            true
                        }
                        Some(None) => {
                            let doc_type = doc.doc_type.as_deref().unwrap_or(DEFAULT_TYPE);
                            *read.skipped.entry(doc_type.to_string()).or_default() += 1;
                            false
                        }
                    };
                    // Type mapping first, then the transforms chosen by the source index's name.
                    if routed && chain.is_empty() {
                        read.batch.push(&doc, emit_type);
                    } else if routed {
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
            read.verified_below = documents.verified_below();
            verified.store(read.verified_below, Ordering::Release);
            if read.is_full(max_docs, max_bytes) && !send(Ok(read.take(&pool))) {
                // The worker stopped listening (a handoff): let it checkpoint past what it sent.
                if documents.verify_open_segment().is_ok() {
                    verified.store(documents.verified_below(), Ordering::Release);
                }
                return;
            }
        }
        verified.store(documents.verified_below(), Ordering::Release);
        // Sent even without documents: it says that the last file's checksum matched too.
        read.verified_below = documents.verified_below();
        send(Ok(read));
    })
}

/// The reader's channel closed: `Ok` when the thread ended normally (the shard is exhausted), otherwise the
/// shard cannot be read — a thread that panicked or was cancelled must never pass for a finished shard.
pub(crate) async fn joined(
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
