//! The reader side of a work item: a blocking thread opens the shard and streams its documents, from the
//! item's starting document on, into bounded [`Read`]s over a channel; a document that cannot become a bulk
//! action travels in the `Read` it was read in, as a failed document of that batch (`item.rs` records it once
//! the batch is acknowledged, so the checkpoint never passes it unrecorded). Every failure to read goes over the
//! channel as a typed [`SnapshotError`]; a thread that ends without finishing the shard is caught by [`joined`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::bulk::{Batch, BodyPool, ItemFailure};
use super::transform::{failed, transformed_watched};
use super::types::{Source, WorkerError, WorkerOptions};
use crate::config::{DEFAULT_TYPE, Route, TypeMappings};
use crate::coordination::lease::WorkItemId;
use crate::snapshot::{
    DocumentError, IndexInfo, SnapshotDocument, SnapshotError, UnusableDocument,
};
use crate::transform::{Chain, TransformError};

/// What the reader thread reads between two checkpoints: the documents to send, and those read among them
/// that cannot be sent.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) batch: Batch,
    /// Documents that cannot become bulk actions, as failures of this batch (`status` 0: never sent).
    pub(crate) unusable: Vec<ItemFailure>,
    /// Documents the configuration leaves out, by why (a type `source.type_mappings` leaves out, a transform
    /// with no output): read and not sent, never failed.
    pub(crate) skipped: BTreeMap<String, u64>,
    /// Documents sent beyond one per source document (a transform with several outputs).
    pub(crate) extra: u64,
    /// The target indices of the documents in `batch`.
    pub(crate) targets: BTreeSet<String>,
    /// Global doc number of the last document read into it, sent or not: the checkpoint moves past it once
    /// the batch is acknowledged (and its stored fields verified).
    pub(crate) last_doc: Option<u64>,
    /// Every document below this global doc number was read from stored fields whose checksum matched
    /// (`Shard::documents`' `verified_below`): the checkpoint never moves past a document above it.
    pub(crate) verified_below: u64,
}

/// Why documents a transform turns into no document are not sent.
const FILTERED: &str = "filtered out by transforms (no output)";

impl Read {
    /// Adds what one source document became.
    fn add(&mut self, outputs: Outputs, emit_type: bool) {
        match outputs {
            Outputs::One(doc) => {
                self.last_doc = Some(doc.global_doc);
                self.push(&doc, emit_type);
            }
            Outputs::Many(global_doc, docs) => {
                self.last_doc = Some(global_doc);
                self.extra += docs.len() as u64 - 1;
                docs.iter().for_each(|d| self.push(d, emit_type));
            }
            Outputs::Skipped(global_doc, why) => {
                self.last_doc = Some(global_doc);
                *self.skipped.entry(why).or_default() += 1;
            }
            Outputs::Failed(global_doc, failure) => {
                self.last_doc = Some(global_doc);
                self.unusable.push(failure);
            }
        }
    }

    fn push(&mut self, doc: &SnapshotDocument, emit_type: bool) {
        if !self.targets.contains(&doc.index) {
            self.targets.insert(doc.index.clone());
        }
        self.batch.push(doc, emit_type);
    }

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
            extra: std::mem::take(&mut self.extra),
            targets: std::mem::take(&mut self.targets),
            last_doc: self.last_doc.take(),
            verified_below: self.verified_below,
        }
    }
}

/// Where the documents of one index go, by type (`source.type_mappings`), each type looked up once.
#[derive(Clone)]
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
///
/// With transforms, the reading runs on a thread of its own under a watchdog ([`watched`]): a program that
/// never yields is found past its rule's `timeout`, its document becomes a failed document, and reading goes
/// on after it on a new thread.
pub(crate) fn spawn_reader(
    source: &Source,
    options: &WorkerOptions,
    index: IndexInfo,
    id: &WorkItemId,
    tx: mpsc::Sender<ReadResult>,
    verified: Arc<AtomicU64>,
    pool: BodyPool,
) -> tokio::task::JoinHandle<()> {
    let router = (!options.type_mappings.is_empty()).then(|| Router {
        index: index.name.clone(),
        mappings: options.type_mappings.clone(),
        known: HashMap::new(),
    });
    let reading = Reading {
        repository: source.repository.clone(),
        snapshot: source.snapshot.clone(),
        // Decided once per item: an index no rule matches keeps the byte-exact path.
        chain: options.transforms.chain_for(&index.name),
        index,
        shard: id.shard,
        max_docs: options.batch_max_docs,
        max_bytes: options.batch_max_bytes,
        emit_type: options.emit_type,
        router,
        verified,
        pool,
    };
    let from = id.starting_doc;
    tokio::task::spawn_blocking(move || {
        if reading.chain.is_empty() {
            let mut router = reading.router.clone();
            reading.run(from, from, &Out::Direct(tx), &Watch::default(), &mut router);
        } else {
            watched(Arc::new(reading), from, tx);
        }
    })
}

/// What every reading thread of one item shares.
struct Reading {
    repository: Arc<crate::snapshot::Repository>,
    snapshot: crate::snapshot::SnapshotInfo,
    index: IndexInfo,
    shard: u32,
    max_docs: usize,
    max_bytes: u64,
    emit_type: bool,
    router: Option<Router>,
    chain: Chain,
    verified: Arc<AtomicU64>,
    pool: BodyPool,
}

/// Where a reading thread sends: straight to the worker, or to the watchdog that forwards.
enum Out {
    Direct(mpsc::Sender<ReadResult>),
    Watched(std::sync::mpsc::SyncSender<ReadResult>),
}

impl Out {
    /// False when nobody listens any more.
    fn send(&self, r: ReadResult) -> bool {
        match self {
            Out::Direct(tx) => tx.blocking_send(r).is_ok(),
            Out::Watched(tx) => tx.send(r).is_ok(),
        }
    }
}

/// The document a transform is running on, for the watchdog.
#[derive(Debug, Clone)]
struct Running {
    index: String,
    id: String,
    global_doc: u64,
    rule: usize,
    limit: Duration,
    deadline: Instant,
}

/// A reading thread's state the watchdog may take over: the read being filled (its lock is not held while a
/// program runs), the document under transformation, and whether the thread was given up.
#[derive(Default)]
struct Watch {
    read: Mutex<Read>,
    running: Mutex<Option<Running>>,
    abandoned: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Reading {
    /// Reads the shard from global doc `from` on; `verified` reports stay at `floor` until this thread has
    /// verified a stored-fields file of its own (a restart mid-file must not vouch for what an earlier thread
    /// read from it).
    fn run(&self, from: u64, floor: u64, out: &Out, watch: &Watch, router: &mut Option<Router>) {
        let vouched = |v: u64| if v <= from { floor.min(v) } else { v };
        let open = match self
            .repository
            .open_shard(&self.snapshot, &self.index, self.shard)
        {
            Ok(open) => open,
            Err(e) => {
                out.send(Err(e));
                return;
            }
        };
        let mut documents = open.documents(from);
        while let Some(doc) = documents.next() {
            let outputs = match doc {
                Ok(mut doc) => {
                    let routed = match router.as_mut().map(|r| r.target(&doc.doc_type)) {
                        None => Ok(true),
                        Some(Some(target)) => {
                            doc.index = target.to_string();
                            Ok(true)
                        }
                        Some(None) => {
                            Err(doc.doc_type.as_deref().unwrap_or(DEFAULT_TYPE).to_string())
                        }
                    };
                    // Type mapping first, then the transforms chosen by the source index's name.
                    match routed {
                        Err(doc_type) => Outputs::Skipped(
                            doc.global_doc,
                            format!(
                                "of type {doc_type} (source.type_mappings leaves the type out)"
                            ),
                        ),
                        Ok(_) if self.chain.is_empty() => Outputs::One(doc),
                        Ok(_) => self.transform(doc, watch),
                    }
                }
                Err(DocumentError::Unusable(doc)) => {
                    Outputs::Failed(doc.global_doc, unusable_failure(&doc))
                }
                Err(DocumentError::Unreadable(e)) => {
                    out.send(Err(e));
                    return;
                }
            };
            let mut read = lock(&watch.read);
            if watch.abandoned.load(Ordering::Acquire) {
                // The watchdog gave this thread up and read on after this document: nothing more from here.
                return;
            }
            *lock(&watch.running) = None;
            read.add(outputs, self.emit_type);
            read.verified_below = vouched(documents.verified_below());
            self.verified.store(read.verified_below, Ordering::Release);
            if read.is_full(self.max_docs, self.max_bytes) {
                let full = read.take(&self.pool);
                drop(read);
                if !out.send(Ok(full)) {
                    // The worker stopped listening (a handoff): let it checkpoint past what it sent.
                    if documents.verify_open_segment().is_ok() {
                        self.verified
                            .store(vouched(documents.verified_below()), Ordering::Release);
                    }
                    return;
                }
            }
        }
        let mut read = lock(&watch.read);
        if watch.abandoned.load(Ordering::Acquire) {
            return;
        }
        self.verified
            .store(vouched(documents.verified_below()), Ordering::Release);
        // Sent even without documents: it says that the last file's checksum matched too.
        read.verified_below = vouched(documents.verified_below());
        let last = std::mem::take(&mut *read);
        drop(read);
        out.send(Ok(last));
    }

    /// `doc` through the chain, telling the watchdog which rule runs on it and by when.
    fn transform(&self, doc: SnapshotDocument, watch: &Watch) -> Outputs {
        let mut started = |rule: usize, deadline: Instant| {
            let limit = self.chain.timeout_of(rule);
            *lock(&watch.running) = Some(Running {
                index: doc.index.clone(),
                id: doc.id.clone(),
                global_doc: doc.global_doc,
                rule,
                limit,
                deadline,
            });
        };
        match transformed_watched(&self.chain, &doc, &mut started) {
            Ok(outputs) if outputs.is_empty() => {
                Outputs::Skipped(doc.global_doc, FILTERED.to_string())
            }
            Ok(outputs) => Outputs::Many(doc.global_doc, outputs),
            Err(failed) => Outputs::Failed(doc.global_doc, failed),
        }
    }
}

/// What one source document became.
enum Outputs {
    One(SnapshotDocument),
    Many(u64, Vec<SnapshotDocument>),
    Skipped(u64, String),
    Failed(u64, ItemFailure),
}

/// How often the watchdog looks at a reading thread, and how long past a deadline it lets a program run
/// before giving its thread up (a program that yields is stopped at the deadline by the transform itself).
const WATCH_EVERY: Duration = Duration::from_millis(100);
const WATCH_GRACE: Duration = Duration::from_millis(200);

/// Runs the reading on a thread of its own and forwards its reads to `tx`; when a program runs past its
/// deadline without yielding, gives that thread up (jaq cannot interrupt it: it keeps a CPU busy until it
/// ends, or until the worker process does — the reason names the rule), sends its document as a failed
/// document with the documents read before it, and reads on after it on a new thread.
fn watched(reading: Arc<Reading>, from: u64, tx: mpsc::Sender<ReadResult>) {
    let mut next = Some(from);
    while let Some(from) = next.take() {
        let floor = reading.verified.load(Ordering::Acquire);
        let watch = Arc::new(Watch::default());
        let (inner_tx, inner_rx) = std::sync::mpsc::sync_channel::<ReadResult>(1);
        let thread = {
            let (reading, watch) = (reading.clone(), watch.clone());
            // The name is what Rust's stack overflow message shows (`thread 'jq-transform-reader' (…) has
            // overflowed its stack`): the one failure of a transform that aborts the process names its cause.
            std::thread::Builder::new()
                .name("jq-transform-reader".into())
                .spawn(move || {
                    let mut router = reading.router.clone();
                    reading.run(from, floor, &Out::Watched(inner_tx), &watch, &mut router)
                })
        };
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                let _ = tx.blocking_send(Err(SnapshotError::Shard {
                    snapshot: reading.snapshot.name.clone(),
                    index: reading.index.name.clone(),
                    shard: reading.shard,
                    file: None,
                    message: format!("cannot start a reader thread: {e}"),
                }));
                return;
            }
        };
        loop {
            match inner_rx.recv_timeout(WATCH_EVERY) {
                Ok(read) => {
                    if tx.blocking_send(read).is_err() {
                        // A handoff: let the thread verify the rest of its file (it sees the closed channel).
                        drop(inner_rx);
                        let _ = thread.join();
                        return;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    if let Err(panic) = thread.join() {
                        std::panic::resume_unwind(panic);
                    }
                    return;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // Under the read's lock: the thread cannot add the document meanwhile (it clears
                    // `running` under the same lock before adding a document).
                    let mut read = lock(&watch.read);
                    let Some(stuck) = lock(&watch.running)
                        .clone()
                        .filter(|r| Instant::now() > r.deadline + WATCH_GRACE)
                    else {
                        continue;
                    };
                    watch.abandoned.store(true, Ordering::Release);
                    // Whatever the thread had sent is forwarded first, so the order of reads is kept.
                    while let Ok(earlier) = inner_rx.try_recv() {
                        if tx.blocking_send(earlier).is_err() {
                            return;
                        }
                    }
                    let timeout = TransformError::Timeout {
                        rule: stuck.rule,
                        limit: stuck.limit,
                    };
                    read.last_doc = Some(stuck.global_doc);
                    read.unusable.push(failed(
                        &stuck.index,
                        &stuck.id,
                        stuck.global_doc,
                        reading.shard,
                        &timeout,
                    ));
                    let last = read.take(&reading.pool);
                    drop(read);
                    if tx.blocking_send(Ok(last)).is_err() {
                        return;
                    }
                    next = Some(stuck.global_doc + 1);
                    break;
                }
            }
        }
    }
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
