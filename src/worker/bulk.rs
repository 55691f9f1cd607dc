//! Bulk requests, pure: documents become NDJSON `index` actions with `_source` on one line; batches close on a
//! document count or a byte size; bulk responses are split into acknowledged, retryable and rejected items.
//!
//! `_source` is sent as stored: JSON text cannot contain a raw newline except as whitespace between tokens
//! (inside strings it must be escaped), so replacing CR/LF by spaces makes any stored source a single line
//! without re-serialising it — numbers, key order and escapes stay exactly as the source cluster had them.
//!
//! This is the worker's hot path, so a body is built in place: the action line's strings are escaped by
//! `serde_json`'s own string writer straight into the body (no map, no intermediate `String`), and a source is
//! copied in whole runs between line breaks (found with `memchr`), not character by character. A full batch
//! becomes one shared [`Bytes`] buffer that every attempt sends without copying; the `(index, id)` of an item
//! is read back from its action line only when the target rejected it.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use crate::snapshot::SnapshotDocument;

/// Appends `text` as a JSON string (quoted and escaped exactly as `serde_json` writes it).
fn push_json_string(body: &mut Vec<u8>, text: &str) {
    // Writing into a `Vec` cannot fail, and a `&str` always serialises.
    let _ = serde_json::to_writer(&mut *body, text);
}

/// Appends `source` without its leading and trailing whitespace, each CR and LF replaced by a space.
fn push_one_line(body: &mut Vec<u8>, source: &str) {
    let mut rest = source.trim().as_bytes();
    while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
        body.extend_from_slice(&rest[..at]);
        body.push(b' ');
        rest = &rest[at + 1..];
    }
    body.extend_from_slice(rest);
}

/// Appends one document's action and source lines to `body`.
pub(crate) fn append_document(body: &mut Vec<u8>, doc: &SnapshotDocument, emit_type: bool) {
    body.extend_from_slice(b"{\"index\":{\"_index\":");
    push_json_string(body, &doc.index);
    body.extend_from_slice(b",\"_id\":");
    push_json_string(body, &doc.id);
    if emit_type {
        // Elasticsearch 6 targets: the document's type, or `_doc` for one without (an index made in 6.x).
        body.extend_from_slice(b",\"_type\":");
        push_json_string(
            body,
            doc.doc_type
                .as_deref()
                .unwrap_or(crate::config::DEFAULT_TYPE),
        );
    }
    if let Some(r) = &doc.routing {
        body.extend_from_slice(b",\"routing\":");
        push_json_string(body, r);
    }
    body.extend_from_slice(b"}}\n");
    push_one_line(body, &doc.source);
    body.push(b'\n');
}

/// A batch being filled.
#[derive(Debug, Default)]
pub struct Batch {
    pub body: Vec<u8>,
    pub docs: usize,
    pub(crate) source_bytes: u64,
    /// Global doc number of the last document in the batch (the checkpoint moves past it once acknowledged).
    pub(crate) last_doc: Option<u64>,
    /// Byte offset in `body` where each document's action line starts (to resend a subset, to name an item).
    pub(crate) starts: Vec<usize>,
}

impl Batch {
    pub fn push(&mut self, doc: &SnapshotDocument, emit_type: bool) {
        self.starts.push(self.body.len());
        append_document(&mut self.body, doc, emit_type);
        self.docs += 1;
        self.source_bytes += doc.source.len() as u64;
        self.last_doc = Some(doc.global_doc);
    }

    pub fn is_full(&self, max_docs: usize, max_bytes: u64) -> bool {
        self.docs >= max_docs || self.body.len() as u64 >= max_bytes
    }

    /// Hands this batch over and leaves an empty one in its place, its body a buffer from `pool` (a sent
    /// batch's, or a new one) with room for as many bytes as this one: the next batch is most likely the same
    /// size, so its body is neither allocated afresh nor grown.
    pub fn take(&mut self, pool: &BodyPool) -> Batch {
        let mut body = pool.get();
        body.reserve(self.body.len() + self.body.len() / 8);
        let starts = Vec::with_capacity(self.starts.len());
        std::mem::replace(
            self,
            Batch {
                body,
                starts,
                ..Batch::default()
            },
        )
    }

    /// The full body as shared bytes, with the offsets of its documents: what the sender sends.
    pub(crate) fn into_body(self) -> BulkBody {
        BulkBody {
            bytes: Bytes::from(self.body),
            starts: self.starts,
        }
    }
}

/// Bodies of sent batches, handed back to the reader for the next batches to fill. A body is a few MB:
/// allocating one per batch and freeing it on another thread costs page faults and the allocator's
/// consolidation, and lets memory pile up in the arenas of whichever threads free them. Shared by the reader
/// thread and the sender, so behind a lock, taken once per batch; it keeps at most `keep` buffers.
#[derive(Debug, Clone, Default)]
pub struct BodyPool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
    keep: usize,
}

impl BodyPool {
    /// A pool that keeps at most `keep` unused buffers (about the batches a worker holds at once).
    pub(crate) fn new(keep: usize) -> Self {
        BodyPool {
            free: Arc::default(),
            keep,
        }
    }

    /// An empty buffer: a returned one when there is one, else a new one.
    pub(crate) fn get(&self) -> Vec<u8> {
        self.lock().pop().unwrap_or_default()
    }

    /// Takes a sent batch's body back, when nothing else holds it any more (a copy still held elsewhere, or a
    /// full pool, simply drops it).
    pub(crate) fn put(&self, body: BulkBody) {
        let Ok(bytes) = body.bytes.try_into_mut() else {
            return;
        };
        let mut buffer = Vec::from(bytes);
        buffer.clear();
        let mut free = self.lock();
        if free.len() < self.keep {
            free.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // The list stays valid whatever a panicking holder did, so a poisoned lock is used as it is.
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A full batch's body, shared by every attempt (cloning it copies nothing).
#[derive(Debug, Clone)]
pub(crate) struct BulkBody {
    bytes: Bytes,
    starts: Vec<usize>,
}

impl BulkBody {
    /// Every document's lines.
    pub(crate) fn all(&self) -> Bytes {
        self.bytes.clone()
    }

    /// The lines of the document at `position`.
    fn lines(&self, position: usize) -> Option<&[u8]> {
        let start = *self.starts.get(position)?;
        let end = self
            .starts
            .get(position + 1)
            .copied()
            .unwrap_or(self.bytes.len());
        self.bytes.get(start..end)
    }

    /// The action and source lines of the documents at `positions` (in that order), for resending the items a
    /// bulk response rejected with 429/5xx. Out-of-range positions are skipped.
    pub(crate) fn subset(&self, positions: &[usize]) -> Bytes {
        let mut out = Vec::new();
        for &p in positions {
            out.extend_from_slice(self.lines(p).unwrap_or_default());
        }
        out.into()
    }

    /// `(index, id)` of the document at `position`, read back from its action line (to report a rejection).
    pub(crate) fn key(&self, position: usize) -> Option<(String, String)> {
        #[derive(serde::Deserialize)]
        struct Action {
            index: Meta,
        }
        #[derive(serde::Deserialize)]
        struct Meta {
            _index: String,
            _id: String,
        }
        let lines = self.lines(position)?;
        let action = &lines[..memchr::memchr(b'\n', lines)?];
        let Action { index } = serde_json::from_slice(action).ok()?;
        Some((index._index, index._id))
    }
}

/// One item the target did not accept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemFailure {
    pub(crate) index: String,
    pub(crate) id: String,
    pub(crate) status: u16,
    #[serde(rename = "type")]
    pub(crate) error_type: String,
    pub reason: String,
}

impl ItemFailure {
    /// 429 and 5xx are worth another try; mapping errors and other 4xx are not.
    pub(crate) fn retryable(&self) -> bool {
        self.status == 429 || self.status >= 500
    }
}

/// What the worker asks a target to answer about a bulk request (`filter_path=errors,items.*.status,
/// items.*.error`): `errors` and, per item, its status and error — all [`failures`] reads. Every item keeps its
/// place (each has a status), so positions still name actions, and an answer of 1,000 items is about 25 KB
/// instead of 200 KB that the target would serialise, send and the worker skip over. Elasticsearch 5+ and
/// OpenSearch honour `filter_path`; a target that ignores it answers in full, which is read the same way.
/// The `,` and `*` are sent percent-encoded: the URL sent is then the canonical form SigV4 signs, whatever
/// the server or a proxy does with raw ones (Amazon OpenSearch Service canonicalises them as `%2C`, `%2A`).
pub(crate) const BULK_PATH: &str = "/_bulk?filter_path=errors%2Citems.%2A.status%2Citems.%2A.error";

/// The failed items of a bulk response's JSON text, by position, as [`failures`] finds them. Nearly every
/// answer says `"errors": false`: its items are then only counted, never built into values. An answer is
/// trusted only when it is a bulk answer for this request — `errors` true or false and one item per action
/// (`actions`); anything else (an empty body, a JSON error from a proxy, a short list of items, text that is
/// not JSON) is an error, never taken as acknowledged.
pub(crate) fn failures_in(
    response: &[u8],
    actions: usize,
    key: impl Fn(usize) -> Option<(String, String)>,
) -> Result<Vec<(usize, ItemFailure)>, serde_json::Error> {
    use serde::de::Error as _;
    #[derive(serde::Deserialize)]
    struct Head {
        errors: Option<bool>,
        items: Option<ItemCount>,
    }
    let head: Head = serde_json::from_slice(response)?;
    let (Some(errors), Some(ItemCount(items))) = (head.errors, head.items) else {
        return Err(serde_json::Error::custom(
            "not a bulk answer: it has no `errors` flag or no `items`",
        ));
    };
    if items != actions {
        return Err(serde_json::Error::custom(format!(
            "the bulk answer has {items} item(s) for {actions} action(s)"
        )));
    }
    if !errors {
        return Ok(Vec::new());
    }
    Ok(failures(&serde_json::from_slice(response)?, key))
}

/// The length of a JSON array whose elements are skipped over, not built.
struct ItemCount(usize);

impl<'de> serde::Deserialize<'de> for ItemCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl<'de> serde::de::Visitor<'de> for Count {
            type Value = ItemCount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of bulk items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ItemCount, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(ItemCount(n))
            }
        }
        deserializer.deserialize_seq(Count)
    }
}

/// The failed items of a bulk response, by position (empty when `errors` is false); `key` names the item at a
/// position (`(index, id)`), asked only for failed items.
pub(crate) fn failures(
    response: &Value,
    key: impl Fn(usize) -> Option<(String, String)>,
) -> Vec<(usize, ItemFailure)> {
    if response["errors"] != true {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in response["items"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let result = item
            .as_object()
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap_or(Value::Null);
        let status = result["status"].as_u64().unwrap_or(0) as u16;
        if (200..300).contains(&status) {
            continue;
        }
        let (index, id) = key(i).unwrap_or_default();
        out.push((
            i,
            ItemFailure {
                index,
                id,
                status,
                error_type: result["error"]["type"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_string(),
                reason: result["error"]["reason"].as_str().unwrap_or("").to_string(),
            },
        ));
    }
    out
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
