//! Documents with their Elasticsearch meaning, assembled from stored fields: `_id` (Uid-decoded), `_uid`
//! (`type#id`, ES 5.x), `_routing`, and `_source` as JSON text — JSON kept byte for byte, SMILE, CBOR and YAML
//! converted to JSON. Documents without an id or a source (delete tombstones) are skipped, as upstream does.

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
    /// The source as JSON text (as stored, when it was stored as JSON).
    pub source: String,
}

/// Why a stored document could not be turned into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No `_id`/`_uid` or no `_source` (e.g. a delete tombstone).
    Incomplete,
    /// A value that cannot be decoded.
    Invalid(String),
}

pub fn from_stored(index: &str, shard: u32, doc: StoredDocument) -> Result<SnapshotDocument, Skip> {
    let mut id = None;
    let mut doc_type = None;
    let mut routing = None;
    let mut source = None;
    for field in doc.fields {
        match (&*field.name, field.value) {
            ("_id", StoredValue::Binary(bytes)) => {
                id =
                    Some(decode_id(&bytes).ok_or_else(|| {
                        Skip::Invalid(format!("undecodable _id bytes {bytes:02x?}"))
                    })?)
            }
            ("_id", StoredValue::String(s)) => id = Some(s),
            ("_uid", StoredValue::String(uid)) => {
                let (t, i) = uid
                    .split_once('#')
                    .ok_or_else(|| Skip::Invalid(format!("_uid `{uid}` has no `#`")))?;
                doc_type = Some(t.to_string());
                id = Some(i.to_string());
            }
            ("_routing", StoredValue::String(r)) => routing = Some(r),
            ("_source", StoredValue::Binary(bytes)) => source = Some(bytes),
            _ => {}
        }
    }
    let (Some(id), Some(bytes)) = (id, source) else {
        return Err(Skip::Incomplete);
    };
    let source = source_to_json(&bytes).map_err(Skip::Invalid)?;
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
pub fn source_to_json(bytes: &[u8]) -> Result<String, String> {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if bytes.starts_with(b":)\n") {
        let value = super::smile::decode(bytes).map_err(|e| format!("SMILE _source: {e}"))?;
        return Ok(value.to_string());
    }
    if bytes.starts_with(&[0xD9, 0xD9, 0xF7]) || matches!(bytes.first(), Some(0xA0..=0xBF)) {
        let value: Value =
            ciborium::from_reader(bytes).map_err(|e| format!("CBOR _source: {e}"))?;
        return Ok(value.to_string());
    }
    if bytes.starts_with(b"---") {
        let text =
            std::str::from_utf8(bytes).map_err(|_| "YAML _source is not UTF-8".to_string())?;
        let value: Value =
            serde_saphyr::from_str(text).map_err(|e| format!("YAML _source: {e}"))?;
        return Ok(value.to_string());
    }
    match first {
        Some(b'{') | Some(b'[') => {
            String::from_utf8(bytes.to_vec()).map_err(|_| "JSON _source is not UTF-8".to_string())
        }
        _ => Err("_source is neither JSON, SMILE, CBOR nor YAML".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_sources_are_kept_byte_for_byte_and_others_converted() {
        assert_eq!(
            source_to_json(b"\n\n{\"a\": 1}\n").unwrap(),
            "\n\n{\"a\": 1}\n"
        );
        let mut cbor = Vec::new();
        ciborium::into_writer(&serde_json::json!({"a": [1, "x"]}), &mut cbor).unwrap();
        assert_eq!(source_to_json(&cbor).unwrap(), r#"{"a":[1,"x"]}"#);
        assert_eq!(source_to_json(b"---\na: 1\n").unwrap(), r#"{"a":1}"#);
        assert_eq!(
            source_to_json(&[b':', b')', b'\n', 0, 0xFA, 0x80, b'a', 0xC2, 0xFB]).unwrap(),
            r#"{"a":1}"#
        );
        assert!(source_to_json(b"plain text").is_err());
    }
}
