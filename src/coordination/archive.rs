//! Archive the working state before deleting it, and bring it back (`backfill restore-state`).
//!
//! Guarantees: the archive holds *every* document of the index (read with a scroll sorted by `_doc`, no cap,
//! the scroll context always cleared); the index is deleted only after the written archive was read back and
//! both its document count (equal to the index's exact count) and its SHA-256 match. The file format is the
//! console's (a JSON array of batch objects, each mapping `_id` to `_source`), so console archives restore too.
//! Restore re-creates the index with the upstream settings and mapping and `create`s every document.
//!
//! Where archives go and how their bytes are moved is `archive_store`'s business; this module uses it, never
//! the reverse.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub use super::archive_store::{ArchiveDestination, ArchiveStore, FileOrS3Store, StoreError};
use super::progress::working_state_index;
use crate::cluster::transport::{Body, JsonTransport, Method, TransportError};
use crate::config::Location;

const SCROLL_KEEP_ALIVE: &str = "2m";
const PAGE_SIZE: usize = 1000;

/// Why archiving or restoring failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the working-state index {index} does not exist; nothing to archive")]
    MissingIndex { index: String },
    #[error(
        "the working-state index {index} already exists with {documents} documents; delete it first"
    )]
    IndexExists { index: String, documents: u64 },
    #[error("archive {location} failed verification: {message}; the index was NOT deleted")]
    Verification { location: String, message: String },
    #[error("archive {location} is not a working-state archive: {message}")]
    Format { location: String, message: String },
    #[error("restoring into {index}: {message}")]
    Restore { index: String, message: String },
    #[error("unexpected response from {index} during {step}")]
    Response { index: String, step: &'static str },
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The index is not the declared migration's (`ownership.rs`): it is neither archived nor deleted.
    #[error(transparent)]
    NotOurs(Box<super::ownership::OwnershipError>),
}

/// A written, verified archive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArchiveReport {
    pub location: String,
    pub index: String,
    pub documents: u64,
    pub sha256: String,
    pub bytes: u64,
    /// The index was deleted after verification.
    pub index_deleted: bool,
}

/// Every `(_id, _source)` of the index, read with a scroll that is always cleared.
pub(crate) async fn read_all<T: JsonTransport>(
    transport: &T,
    index: &str,
) -> Result<Vec<Map<String, Value>>, ArchiveError> {
    let first = transport
        .send(
            Method::Post,
            &format!("/{index}/_search?scroll={SCROLL_KEEP_ALIVE}"),
            Some(Body::Json(
                json!({"size": PAGE_SIZE, "sort": ["_doc"], "query": {"match_all": {}}}),
            )),
        )
        .await?;
    if first.status == 404 {
        return Err(ArchiveError::MissingIndex {
            index: index.to_string(),
        });
    }
    let mut batches = Vec::new();
    let mut page = first.body;
    let mut scroll_ids: Vec<String> = Vec::new();
    let result = loop {
        if let Some(id) = page.get("_scroll_id").and_then(Value::as_str)
            && scroll_ids.last().map(String::as_str) != Some(id)
        {
            scroll_ids.push(id.to_string());
        }
        let Some(hits) = page.pointer("/hits/hits").and_then(Value::as_array) else {
            break Err(ArchiveError::Response {
                index: index.to_string(),
                step: "scroll",
            });
        };
        if hits.is_empty() {
            break Ok(());
        }
        let mut batch = Map::new();
        for hit in hits {
            let (Some(id), Some(source)) =
                (hit.get("_id").and_then(Value::as_str), hit.get("_source"))
            else {
                return Err(ArchiveError::Response {
                    index: index.to_string(),
                    step: "scroll hit",
                });
            };
            batch.insert(id.to_string(), source.clone());
        }
        batches.push(batch);
        let Some(id) = scroll_ids.last().cloned() else {
            break Err(ArchiveError::Response {
                index: index.to_string(),
                step: "scroll id",
            });
        };
        match transport
            .send(
                Method::Post,
                "/_search/scroll",
                Some(Body::Json(
                    json!({"scroll": SCROLL_KEEP_ALIVE, "scroll_id": id}),
                )),
            )
            .await
        {
            Ok(next) => page = next.body,
            Err(e) => break Err(e.into()),
        }
    };
    if !scroll_ids.is_empty() {
        // Best effort: an expired scroll is already gone.
        let _ = transport
            .send(
                Method::Delete,
                "/_search/scroll",
                Some(Body::Json(json!({"scroll_id": scroll_ids}))),
            )
            .await;
    }
    result.map(|()| batches)
}

/// Serializes batches in the console's layout (array of `{_id: _source}` objects, 4-space indent).
pub(crate) fn encode(batches: &[Map<String, Value>]) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing maps of JSON values cannot fail.
    let _ = serde::Serialize::serialize(&batches, &mut ser);
    out
}

/// Parses an archive into `(id, source)` pairs; accepts the console's layout and a flat object.
pub(crate) fn decode(location: &str, bytes: &[u8]) -> Result<Vec<(String, Value)>, ArchiveError> {
    let bad = |message: String| ArchiveError::Format {
        location: location.to_string(),
        message,
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let batches: Vec<&Map<String, Value>> = match &value {
        Value::Array(items) => items
            .iter()
            .map(|b| {
                b.as_object()
                    .ok_or_else(|| bad("a batch is not an object".into()))
            })
            .collect::<Result<_, _>>()?,
        Value::Object(map) => vec![map],
        _ => return Err(bad("expected an array of batches".into())),
    };
    let mut docs = Vec::new();
    for batch in batches {
        for (id, source) in batch {
            if !source.is_object() {
                return Err(bad(format!("document {id} has a non-object _source")));
            }
            docs.push((id.clone(), source.clone()));
        }
    }
    Ok(docs)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn exact_count<T: JsonTransport>(
    transport: &T,
    index: &str,
) -> Result<Option<u64>, ArchiveError> {
    let resp = transport
        .send(Method::Post, &format!("/{index}/_refresh"), None)
        .await?;
    if resp.status == 404 {
        return Ok(None);
    }
    let resp = transport
        .send(Method::Get, &format!("/{index}/_count"), None)
        .await?;
    if resp.status == 404 {
        return Ok(None);
    }
    resp.body
        .get("count")
        .and_then(Value::as_u64)
        .map(Some)
        .ok_or(ArchiveError::Response {
            index: index.to_string(),
            step: "_count",
        })
}

/// Archives every document of `session`'s working state to `location`, verifies it, then deletes the index.
/// With `delete_after = false` the index is kept (an archive-only run).
pub(crate) async fn archive_and_delete<T: JsonTransport, S: ArchiveStore>(
    transport: &T,
    store: &S,
    session: Option<&str>,
    location: &Location,
    delete_after: bool,
) -> Result<ArchiveReport, ArchiveError> {
    let index = working_state_index(session);
    let expected =
        exact_count(transport, &index)
            .await?
            .ok_or_else(|| ArchiveError::MissingIndex {
                index: index.clone(),
            })?;
    let batches = read_all(transport, &index).await?;
    let bytes = encode(&batches);
    let sha256 = sha256_hex(&bytes);
    let size = bytes.len() as u64;
    store.write(location, bytes).await?;

    let back = store.read(location).await?;
    let verify = |message: String| ArchiveError::Verification {
        location: location.to_string(),
        message,
    };
    let back_sha = sha256_hex(&back);
    if back_sha != sha256 {
        return Err(verify(format!(
            "checksum {back_sha} differs from the written {sha256}"
        )));
    }
    let docs = decode(&location.to_string(), &back)?.len() as u64;
    if docs != expected {
        return Err(verify(format!(
            "{docs} documents in the archive, {expected} in the index"
        )));
    }
    let now_count = exact_count(transport, &index).await?.unwrap_or(0);
    if now_count != expected {
        return Err(verify(format!(
            "the index changed while archiving ({expected} → {now_count} documents)"
        )));
    }
    if delete_after {
        transport
            .send(Method::Delete, &format!("/{index}"), None)
            .await?;
    }
    Ok(ArchiveReport {
        location: location.to_string(),
        index,
        documents: docs,
        sha256,
        bytes: size,
        index_deleted: delete_after,
    })
}

/// Upstream settings and mapping of the working-state index (worker.md 1.1).
pub fn index_definition() -> Value {
    json!({
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 1, "refresh_interval": "30s"}},
        "mappings": {"properties": {
            "expiration": {"type": "long"}, "completedAt": {"type": "long"},
            "leaseHolderId": {"type": "keyword", "norms": false},
            "status": {"type": "keyword", "norms": false},
            "successor_items": {"type": "keyword", "norms": false}
        }}
    })
}

/// A finished restore.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreReport {
    pub location: String,
    pub index: String,
    pub documents: u64,
}

/// Re-creates `session`'s working state from an archive. Refuses when the index already holds documents.
pub async fn restore<T: JsonTransport, S: ArchiveStore>(
    transport: &T,
    store: &S,
    session: Option<&str>,
    location: &Location,
) -> Result<RestoreReport, ArchiveError> {
    let index = working_state_index(session);
    let bytes = store.read(location).await?;
    let docs = decode(&location.to_string(), &bytes)?;
    match exact_count(transport, &index).await? {
        Some(0) => {}
        Some(documents) => return Err(ArchiveError::IndexExists { index, documents }),
        None => {
            transport
                .send(
                    Method::Put,
                    &format!("/{index}"),
                    Some(Body::Json(index_definition())),
                )
                .await?;
        }
    }
    for chunk in docs.chunks(PAGE_SIZE) {
        let mut body = String::new();
        for (id, source) in chunk {
            body.push_str(&json!({"create": {"_id": id}}).to_string());
            body.push('\n');
            body.push_str(&source.to_string());
            body.push('\n');
        }
        let resp = transport
            .send(
                Method::Post,
                &format!("/{index}/_bulk?refresh=true"),
                Some(Body::Ndjson(body.into())),
            )
            .await?;
        if resp.body.get("errors").and_then(Value::as_bool) != Some(false) {
            let first = resp
                .body
                .pointer("/items")
                .and_then(Value::as_array)
                .and_then(|items| items.iter().find(|i| i.pointer("/create/error").is_some()))
                .map(|i| i.to_string())
                .unwrap_or_else(|| "bulk response without an `errors: false`".into());
            return Err(ArchiveError::Restore {
                index,
                message: first,
            });
        }
    }
    let count = exact_count(transport, &index).await?.unwrap_or(0);
    if count != docs.len() as u64 {
        return Err(ArchiveError::Restore {
            index,
            message: format!(
                "{count} documents after restore, {} in the archive",
                docs.len()
            ),
        });
    }
    Ok(RestoreReport {
        location: location.to_string(),
        index,
        documents: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_in_console_layout() {
        let mut b1 = Map::new();
        b1.insert("shard_setup".into(), json!({"completedAt": 5}));
        let mut b2 = Map::new();
        b2.insert("aWR4__0__0".into(), json!({"expiration": 0}));
        let bytes = encode(&[b1, b2]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("[\n    {\n        \"shard_setup\""),
            "{text}"
        );
        let docs = decode("x", &bytes).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].0, "aWR4__0__0");
        assert!(decode("x", b"[1]").is_err());
        assert!(decode("x", b"{\"a\": 1}").is_err());
        assert!(decode("x", b"not json").is_err());
    }
}
