//! Real Lucene 8.8 and 9.9 indices (../shared/fixtures/lucene) read with the Lucene parsers alone: every live
//! document, in order, with its id, routing and exact source; corrupted copies fail precisely.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use backfill::lucene::{FsDirectory, ShardIndex, StoredValue};
use backfill::snapshot::uid::decode_id;
use serde_json::Value;

const INDICES: &[&str] = &[
    "v8-best_speed-1seg",
    "v8-best_speed-4seg-cfs-del",
    "v8-best_compression-1seg",
    "v8-best_compression-4seg-cfs-del",
    "v9-best_speed-1seg",
    "v9-best_speed-4seg-cfs-del",
    "v9-best_compression-1seg",
    "v9-best_compression-4seg-cfs-del",
];

/// Every live document of the Lucene directory `dir` as `{id, routing, source}` (the shape of a dump line).
pub fn read_all(dir: &Path) -> Result<Vec<Value>, String> {
    let index =
        ShardIndex::open(Arc::new(FsDirectory::new(dir)), None).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for doc in index.documents(0) {
        let doc = doc.map_err(|e| e.to_string())?;
        let mut id = None;
        let mut routing = Value::Null;
        let mut source = None;
        for field in &doc.fields {
            match (&*field.name, &field.value) {
                ("_id", StoredValue::Binary(b)) => id = decode_id(b),
                ("_routing", StoredValue::String(s)) => routing = Value::String(s.clone()),
                ("_source", StoredValue::Binary(b)) => {
                    source = Some(String::from_utf8_lossy(b).to_string())
                }
                _ => {}
            }
        }
        out.push(serde_json::json!({ "id": id, "routing": routing, "source": source }));
    }
    Ok(out)
}

#[test]
fn every_lucene_fixture_yields_its_expected_documents() {
    for name in INDICES {
        let root = support::shared_dir().join("fixtures/lucene").join(name);
        let expected: Vec<Value> = std::fs::read_to_string(root.join("expected.jsonl"))
            .expect("expected.jsonl")
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("json line");
                serde_json::json!({ "id": v["id"], "routing": v["routing"], "source": v["source"] })
            })
            .collect();
        let got = read_all(&root.join("index")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), expected.len(), "{name}: live document count");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "{name}: document {i}");
        }
        let index =
            ShardIndex::open(Arc::new(FsDirectory::new(root.join("index"))), None).expect("open");
        assert_eq!(
            index.live_doc_count(),
            expected.len() as u64,
            "{name}: live count from metadata"
        );
    }
}

#[test]
fn a_flipped_byte_in_stored_fields_is_a_checksum_error_naming_the_file() {
    let src = support::shared_dir().join("fixtures/lucene/v8-best_speed-1seg/index");
    let tmp = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&src).expect("read").flatten() {
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).expect("copy");
    }
    let fdt = tmp.path().join("_0.fdt");
    let mut bytes = std::fs::read(&fdt).expect("fdt");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&fdt, &bytes).expect("write");
    let err = read_all(tmp.path()).expect_err("corruption must be detected");
    assert!(err.contains("_0.fdt"), "{err}");
}

#[test]
fn a_truncated_segment_info_is_an_error_not_a_panic() {
    let src = support::shared_dir().join("fixtures/lucene/v9-best_speed-4seg-cfs-del/index");
    let tmp = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&src).expect("read").flatten() {
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).expect("copy");
    }
    let si = tmp.path().join("_1.si");
    let bytes = std::fs::read(&si).expect("si");
    std::fs::write(&si, &bytes[..bytes.len() - 20]).expect("truncate");
    let err = read_all(tmp.path()).expect_err("truncation must be detected");
    assert!(err.contains("_1.si"), "{err}");
}

#[test]
fn reading_can_start_at_any_global_document() {
    let root = support::shared_dir().join("fixtures/lucene/v8-best_compression-4seg-cfs-del/index");
    let index = ShardIndex::open(Arc::new(FsDirectory::new(&root)), None).expect("open");
    let all: Vec<u64> = index
        .documents(0)
        .map(|d| d.expect("doc").global_doc)
        .collect();
    for from in [0u64, 1, 7, 89, 90, 91, 250, 299, 300] {
        let got: Vec<u64> = index
            .documents(from)
            .map(|d| d.expect("doc").global_doc)
            .collect();
        let want: Vec<u64> = all.iter().copied().filter(|g| *g >= from).collect();
        assert_eq!(got, want, "from {from}");
    }
}

/// Regression: a compressed chunk larger than the read window was reported as corrupt instead of being
/// fetched whole (found by the 200k-document benchmark). Tiny read blocks force every chunk to span windows.
#[test]
fn chunks_spanning_the_read_window_are_fetched_whole() {
    for name in INDICES {
        let root = support::shared_dir()
            .join("fixtures/lucene")
            .join(name)
            .join("index");
        let index = ShardIndex::open(Arc::new(FsDirectory::new(&root)), None).expect("open");
        let whole: Vec<u64> = index
            .documents(0)
            .map(|d| d.expect("doc").global_doc)
            .collect();
        for block in [1usize, 7, 4096] {
            let small: Vec<u64> = index
                .documents(0)
                .with_read_block(block)
                .map(|d| {
                    d.unwrap_or_else(|e| panic!("{name}, block {block}: {e}"))
                        .global_doc
                })
                .collect();
            assert_eq!(small, whole, "{name}, block {block}");
        }
    }
}
