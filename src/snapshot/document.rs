//! Documents with their Elasticsearch meaning, assembled from stored fields: `_id` (Uid-decoded), `_uid`
//! (`type#id`, ES 5.x), `_routing`, and `_source` as JSON text — JSON kept byte for byte, SMILE, CBOR and YAML
//! converted to JSON.
//!
//! A live Lucene document is one of three things:
//!
//! - a document: a stored `_id` (or `_uid`) and a `_source` that decodes;
//! - not a document of its own, skipped as upstream does: no stored `_id`/`_uid`. Elasticsearch stores the id
//!   of a nested document as an indexed-only field (`IdFieldMapper.Defaults.NESTED_FIELD_TYPE`, `_uid`'s in
//!   5.x), and a no-op tombstone has a `_source` (its reason) but no id; delete tombstones have an id and no
//!   source but are soft-deleted, so they are never live;
//! - an [`UnusableDocument`]: it has an id, but no `_source` (mapping `_source: {enabled: false}`, synthetic
//!   source), or its id or source cannot be decoded. It cannot become a bulk action, and it must never
//!   vanish either: the worker records it as a failed document with its reason.

use bytestring::ByteString;
use serde_json::Value;

use super::uid::decode_id;
use crate::lucene::{StoredDocument, StoredValue};

/// A live document of a snapshot shard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotDocument {
    pub index: String,
    pub shard: u32,
    /// Position in the shard's checkpoint order.
    pub global_doc: u64,
    pub id: String,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub routing: Option<String>,
    /// The source as JSON text (as stored, when it was stored as JSON): for a JSON source, the stored bytes
    /// themselves (a view into the decompressed block, checked once to be UTF-8, never copied).
    pub source: ByteString,
}

/// Why a document with an id cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    /// No stored `_source`: nothing to send.
    NoSource,
    /// The stored `_id`/`_uid` cannot be decoded (the detail says how).
    UndecodableId(String),
    /// The stored `_source` is not JSON, SMILE, CBOR or YAML that decodes (the detail says how).
    UndecodableSource(String),
}

impl Unusable {
    /// A short, stable name for the failed-documents output (`error_type`), like the target's exception names.
    pub(crate) fn error_type(&self) -> &'static str {
        match self {
            Unusable::NoSource => "source_missing",
            Unusable::UndecodableId(_) => "id_undecodable",
            Unusable::UndecodableSource(_) => "source_undecodable",
        }
    }
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::NoSource => f.write_str(
                "no _source is stored (the index maps _source disabled, or uses synthetic source), so there is nothing to send; exclude the index, or re-index it at the source with _source enabled",
            ),
            Unusable::UndecodableId(detail) => write!(f, "the stored id cannot be decoded: {detail}"),
            Unusable::UndecodableSource(detail) => {
                write!(f, "the stored _source cannot be decoded: {detail}")
            }
        }
    }
}

/// A live document with an id that cannot become a bulk action: a failed document, never a skipped one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("index {index}, shard {shard}, document {global_doc} (id {id}): {problem}")]
pub struct UnusableDocument {
    pub(crate) index: String,
    pub(crate) shard: u32,
    /// Position in the shard's checkpoint order.
    pub(crate) global_doc: u64,
    /// The id, decoded; when the id itself is what cannot be decoded, its stored form (hex bytes, or the
    /// `_uid` text).
    pub(crate) id: String,
    pub(crate) problem: Unusable,
}

/// What a stored document is, when it is not a [`SnapshotDocument`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skip {
    /// No stored `_id`/`_uid`: a nested document or a no-op tombstone, not a document of its own.
    NotADocument,
    /// A document that cannot be sent.
    Unusable(UnusableDocument),
}

pub(crate) fn from_stored(
    index: &str,
    shard: u32,
    doc: StoredDocument,
) -> Result<SnapshotDocument, Skip> {
    // The id as read: decoded, or (its stored form, why it does not decode).
    let mut id: Option<Result<String, (String, String)>> = None;
    let mut doc_type = None;
    let mut routing = None;
    let mut source = None;
    for field in doc.fields {
        match (&*field.name, field.value) {
            ("_id", StoredValue::Binary(bytes)) => {
                id = Some(decode_id(&bytes).ok_or_else(|| {
                    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    (hex.clone(), format!("_id bytes {hex} are no Uid encoding"))
                }))
            }
            ("_id", StoredValue::String(s)) => id = Some(Ok(s)),
            ("_uid", StoredValue::String(uid)) => match uid.split_once('#') {
                Some((t, i)) => {
                    doc_type = Some(t.to_string());
                    id = Some(Ok(i.to_string()));
                }
                None => id = Some(Err((uid.clone(), format!("_uid `{uid}` has no `#`")))),
            },
            ("_routing", StoredValue::String(r)) => routing = Some(r),
            ("_source", StoredValue::Binary(bytes)) => source = Some(bytes),
            _ => {}
        }
    }
    let unusable = |id: String, problem| {
        Skip::Unusable(UnusableDocument {
            index: index.to_string(),
            shard,
            global_doc: doc.global_doc,
            id,
            problem,
        })
    };
    let id = match id {
        None => return Err(Skip::NotADocument),
        Some(Err((stored, why))) => return Err(unusable(stored, Unusable::UndecodableId(why))),
        Some(Ok(id)) => id,
    };
    let Some(bytes) = source else {
        return Err(unusable(id, Unusable::NoSource));
    };
    let source = match source_to_json(&bytes) {
        Ok(source) => source,
        Err(why) => return Err(unusable(id, Unusable::UndecodableSource(why))),
    };
    Ok(SnapshotDocument {
        index: index.to_string(),
        shard,
        global_doc: doc.global_doc,
        id,
        doc_type,
        routing,
        source,
    })
}

/// Sniffs the content type like `XContentFactory.xContentType` and returns JSON text.
fn source_to_json(bytes: &bytes::Bytes) -> Result<ByteString, String> {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if bytes.starts_with(b":)\n") {
        let value = super::smile::decode(bytes).map_err(|e| format!("SMILE _source: {e}"))?;
        return Ok(value.to_string().into());
    }
    if bytes.starts_with(&[0xD9, 0xD9, 0xF7]) || matches!(bytes.first(), Some(0xA0..=0xBF)) {
        let value: Value =
            ciborium::from_reader(bytes.as_ref()).map_err(|e| format!("CBOR _source: {e}"))?;
        return Ok(value.to_string().into());
    }
    if bytes.starts_with(b"---") {
        let text =
            std::str::from_utf8(bytes).map_err(|_| "YAML _source is not UTF-8".to_string())?;
        let value: Value =
            serde_saphyr::from_str(text).map_err(|e| format!("YAML _source: {e}"))?;
        return Ok(value.to_string().into());
    }
    match first {
        Some(b'{') | Some(b'[') => {
            simdutf8::basic::from_utf8(bytes)
                .map_err(|_| "JSON _source is not UTF-8".to_string())?;
            // SAFETY: the bytes were just checked to be UTF-8, and `Bytes` never changes its contents.
            Ok(unsafe { ByteString::from_bytes_unchecked(bytes.clone()) })
        }
        _ => Err("_source is neither JSON, SMILE, CBOR nor YAML".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lucene::StoredField;

    fn stored(global_doc: u64, fields: &[(&str, StoredValue)]) -> StoredDocument {
        StoredDocument {
            global_doc,
            fields: fields
                .iter()
                .map(|(name, value)| StoredField {
                    name: (*name).into(),
                    value: value.clone(),
                })
                .collect(),
        }
    }

    fn binary(bytes: &[u8]) -> StoredValue {
        StoredValue::Binary(bytes::Bytes::copy_from_slice(bytes))
    }

    fn unusable(doc: StoredDocument) -> UnusableDocument {
        match from_stored("logs", 2, doc) {
            Err(Skip::Unusable(u)) => u,
            other => panic!("expected an unusable document, got {other:?}"),
        }
    }

    #[test]
    fn a_document_without_an_id_is_not_a_document_of_its_own() {
        // A nested document: its id is indexed only, and it has no source.
        assert_eq!(
            from_stored("logs", 0, stored(3, &[("title", binary(b"x"))])),
            Err(Skip::NotADocument)
        );
        // A no-op tombstone: its reason is stored as _source, and it has no id.
        assert_eq!(
            from_stored("logs", 0, stored(4, &[("_source", binary(b"reason"))])),
            Err(Skip::NotADocument)
        );
    }

    #[test]
    fn a_document_with_an_id_and_no_usable_source_is_unusable_with_its_reason() {
        let no_source = unusable(stored(7, &[("_id", binary(&[0xFF, b'a', b'1']))]));
        assert_eq!(
            (
                no_source.id.as_str(),
                no_source.global_doc,
                &no_source.problem
            ),
            ("a1", 7, &Unusable::NoSource)
        );
        assert_eq!(no_source.problem.error_type(), "source_missing");
        assert!(
            no_source
                .to_string()
                .starts_with("index logs, shard 2, document 7 (id a1): no _source is stored"),
            "{no_source}"
        );
        let bad_source = unusable(stored(
            8,
            &[
                ("_id", StoredValue::String("b".into())),
                ("_source", binary(b"plain")),
            ],
        ));
        assert_eq!(bad_source.problem.error_type(), "source_undecodable");
        assert_eq!(bad_source.id, "b");
        let bad_id = unusable(stored(
            9,
            &[("_id", binary(&[0xFE, 0xAB])), ("_source", binary(b"{}"))],
        ));
        assert_eq!(
            (bad_id.id.as_str(), bad_id.problem.error_type()),
            ("feab", "id_undecodable")
        );
        let bad_uid = unusable(stored(
            10,
            &[
                ("_uid", StoredValue::String("no-hash".into())),
                ("_source", binary(b"{}")),
            ],
        ));
        assert_eq!(bad_uid.id, "no-hash");
        assert!(bad_uid.to_string().contains("has no `#`"), "{bad_uid}");
    }

    #[test]
    fn a_document_with_an_id_and_a_source_is_read() {
        let doc = from_stored(
            "logs",
            1,
            stored(
                5,
                &[
                    ("_uid", StoredValue::String("post#x#y".into())),
                    ("_routing", StoredValue::String("r".into())),
                    ("_source", binary(b"{\"a\":1}")),
                ],
            ),
        )
        .expect("a document");
        assert_eq!(
            (
                doc.id.as_str(),
                doc.doc_type.as_deref(),
                doc.routing.as_deref()
            ),
            ("x#y", Some("post"), Some("r"))
        );
        assert_eq!((doc.global_doc, &*doc.source), (5, "{\"a\":1}"));
    }

    fn to_json(bytes: &[u8]) -> Result<ByteString, String> {
        source_to_json(&bytes::Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn json_sources_are_kept_byte_for_byte_and_others_converted() {
        assert_eq!(to_json(b"\n\n{\"a\": 1}\n").unwrap(), "\n\n{\"a\": 1}\n");
        let mut cbor = Vec::new();
        ciborium::into_writer(&serde_json::json!({"a": [1, "x"]}), &mut cbor).unwrap();
        assert_eq!(to_json(&cbor).unwrap(), r#"{"a":[1,"x"]}"#);
        assert_eq!(to_json(b"---\na: 1\n").unwrap(), r#"{"a":1}"#);
        assert_eq!(
            to_json(&[b':', b')', b'\n', 0, 0xFA, 0x80, b'a', 0xC2, 0xFB]).unwrap(),
            r#"{"a":1}"#
        );
        assert!(to_json(b"plain text").is_err());
        assert_eq!(
            to_json(b"{\"a\": \"\xFF\"}"),
            Err("JSON _source is not UTF-8".to_string())
        );
    }
}
