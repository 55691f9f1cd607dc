//! Bulk requests, pure: documents become NDJSON `index` actions with `_source` on one line; batches close on a
//! document count or a byte size; bulk responses are split into acknowledged, retryable and rejected items.
//!
//! `_source` is sent as stored: JSON text cannot contain a raw newline except as whitespace between tokens
//! (inside strings it must be escaped), so replacing CR/LF by spaces makes any stored source a single line
//! without re-serialising it — numbers, key order and escapes stay exactly as the source cluster had them.

use serde_json::{Value, json};

use crate::snapshot::SnapshotDocument;

/// Appends one document's action and source lines to `body`.
pub fn append_document(body: &mut String, doc: &SnapshotDocument, emit_type: bool) {
    let mut meta = serde_json::Map::new();
    meta.insert("_index".into(), Value::String(doc.index.clone()));
    meta.insert("_id".into(), Value::String(doc.id.clone()));
    if emit_type {
        let t = doc
            .doc_type
            .as_deref()
            .unwrap_or(crate::config::DEFAULT_TYPE);
        meta.insert("_type".into(), Value::String(t.to_string()));
    }
    if let Some(r) = &doc.routing {
        meta.insert("routing".into(), Value::String(r.clone()));
    }
    body.push_str(&json!({ "index": meta }).to_string());
    body.push('\n');
    for c in doc.source.trim().chars() {
        body.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
    body.push('\n');
}

/// A batch being filled.
#[derive(Debug, Default)]
pub struct Batch {
    pub body: String,
    pub docs: usize,
    pub source_bytes: u64,
    /// Global doc number of the last document in the batch (the checkpoint moves past it once acknowledged).
    pub last_doc: Option<u64>,
    /// (index, id) of each document, in order, to report rejected items.
    pub ids: Vec<(String, String)>,
    /// Byte offset in `body` where each document's action line starts (to resend a subset).
    pub starts: Vec<usize>,
}

impl Batch {
    pub fn push(&mut self, doc: &SnapshotDocument, emit_type: bool) {
        self.starts.push(self.body.len());
        append_document(&mut self.body, doc, emit_type);
        self.docs += 1;
        self.source_bytes += doc.source.len() as u64;
        self.last_doc = Some(doc.global_doc);
        self.ids.push((doc.index.clone(), doc.id.clone()));
    }

    pub fn is_full(&self, max_docs: usize, max_bytes: u64) -> bool {
        self.docs >= max_docs || self.body.len() as u64 >= max_bytes
    }

    /// The action and source lines of the documents at `positions` (in that order), for resending the items a
    /// bulk response rejected with 429/5xx. Out-of-range positions are skipped.
    pub fn subset_body(&self, positions: &[usize]) -> String {
        let mut out = String::new();
        for &p in positions {
            let (Some(&start), end) = (self.starts.get(p), self.starts.get(p + 1)) else {
                continue;
            };
            let end = end.copied().unwrap_or(self.body.len());
            if let Some(lines) = self.body.get(start..end) {
                out.push_str(lines);
            }
        }
        out
    }
}

/// One item the target did not accept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemFailure {
    pub index: String,
    pub id: String,
    pub status: u16,
    #[serde(rename = "type")]
    pub error_type: String,
    pub reason: String,
}

impl ItemFailure {
    /// 429 and 5xx are worth another try; mapping errors and other 4xx are not.
    pub fn retryable(&self) -> bool {
        self.status == 429 || self.status >= 500
    }
}

/// The failed items of a bulk response, by position (empty when `errors` is false).
pub fn failures(response: &Value, ids: &[(String, String)]) -> Vec<(usize, ItemFailure)> {
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
        let (index, id) = ids.get(i).cloned().unwrap_or_default();
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
mod tests {
    use super::*;

    fn doc(source: &str) -> SnapshotDocument {
        SnapshotDocument {
            index: "i".into(),
            shard: 0,
            global_doc: 7,
            id: "a\"b".into(),
            doc_type: Some("t".into()),
            routing: Some("r".into()),
            source: source.into(),
        }
    }

    #[test]
    fn sources_become_one_line_without_changing_their_content() {
        let mut body = String::new();
        append_document(
            &mut body,
            &doc("\n\n{\n  \"n\": 12345678901234567890,\n  \"s\": \"x\\ny\", \"f\": 1.10\n}\n\n"),
            false,
        );
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            r#"{"index":{"_index":"i","_id":"a\"b","routing":"r"}}"#
        );
        assert_eq!(
            lines[1],
            r#"{   "n": 12345678901234567890,   "s": "x\ny", "f": 1.10 }"#
        );
        let mut typed = String::new();
        append_document(&mut typed, &doc("{}"), true);
        assert!(
            typed.starts_with(r#"{"index":{"_index":"i","_id":"a\"b","_type":"t","routing":"r"}}"#)
        );
        let mut untyped = String::new();
        let doc_without_type = SnapshotDocument {
            doc_type: None,
            ..doc("{}")
        };
        append_document(&mut untyped, &doc_without_type, true);
        assert!(untyped.contains(r#""_type":"_doc""#), "{untyped}");
    }

    #[test]
    fn batches_close_on_count_or_bytes() {
        let mut batch = Batch::default();
        batch.push(&doc("{\"a\":1}"), false);
        assert!(!batch.is_full(2, 1 << 20));
        batch.push(&doc("{\"a\":1}"), false);
        assert!(batch.is_full(2, 1 << 20));
        assert!(batch.is_full(100, 10));
        assert_eq!(batch.last_doc, Some(7));
    }

    #[test]
    fn a_subset_of_a_batch_is_its_documents_lines() {
        let mut batch = Batch::default();
        for n in 0..3 {
            let mut d = doc(&format!("{{\"n\":{n}}}"));
            d.id = n.to_string();
            batch.push(&d, false);
        }
        let sub = batch.subset_body(&[2, 0, 9]);
        let lines: Vec<&str> = sub.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].contains(r#""_id":"2""#) && lines[1] == r#"{"n":2}"#);
        assert!(lines[2].contains(r#""_id":"0""#) && lines[3] == r#"{"n":0}"#);
        assert_eq!(batch.subset_body(&[0, 1, 2]), batch.body);
    }

    #[test]
    fn failed_items_are_classified() {
        let ids = vec![
            ("i".to_string(), "1".to_string()),
            ("i".to_string(), "2".to_string()),
            ("i".to_string(), "3".to_string()),
        ];
        let resp = json!({"errors": true, "items": [
            {"index": {"status": 201}},
            {"index": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}},
            {"index": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "busy"}}}
        ]});
        let f = failures(&resp, &ids);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].0, f[0].1.id.as_str(), f[0].1.retryable()),
            (1, "2", false)
        );
        assert_eq!(
            (f[1].0, f[1].1.error_type.as_str(), f[1].1.retryable()),
            (2, "es_rejected_execution_exception", true)
        );
        assert!(failures(&json!({"errors": false, "items": []}), &ids).is_empty());
    }
}
