//! Real snapshot repositories (Elasticsearch 5.6, 6.8, 7.10, OpenSearch 2.11) and synthetic ones (multi-part
//! blobs, compressed metadata) read straight from the repository: every fixture yields exactly its expected
//! live documents, segments and counts; corrupted copies fail with a precise error.

use crate::support;

use std::path::Path;
use std::sync::Arc;

use backfill::snapshot::{FsBlobSource, Repository};
use serde_json::{Value, json};

const FIXTURES: &[&str] = &[
    "ES_5_6_Updates_Deletes",
    "ES_6_8_Single",
    "ES_6_8_Updates_Deletes_Merged",
    "ES_6_8_Updates_Deletes_Native",
    "ES_7_10_BWC_Check",
    "ES_7_10_Single",
    "ES_7_10_Updates_Deletes_w_Soft",
    "ES_7_10_Updates_Deletes_wo_Soft",
    "OS_2_11_Deletes_w_Soft_Multi_Seg",
];

/// Reads a repository into the shape of `expected/<NAME>.json`.
fn read_repository(root: &Path) -> Result<Value, String> {
    let repo = Repository::open(Arc::new(FsBlobSource::new(root))).map_err(|e| e.to_string())?;
    let mut snapshots = Vec::new();
    for snapshot in repo.snapshots() {
        let mut indices = Vec::new();
        for index in repo.indices(&snapshot).map_err(|e| e.to_string())? {
            let mut shards = Vec::new();
            for shard in 0..index.shards {
                let open = repo
                    .open_shard(&snapshot, &index, shard)
                    .map_err(|e| e.to_string())?;
                let docs: Vec<Value> = open
                    .documents(0)
                    .map(|d| d.map(|d| json!({"id": d.id, "type": d.doc_type, "routing": d.routing, "source": d.source})))
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?;
                let segments: Vec<String> =
                    open.lucene.segments().into_iter().map(|s| s.name).collect();
                shards.push(json!({
                    "shard": shard,
                    "segments": segments,
                    "max_doc": open.lucene.max_doc(),
                    "live_docs": open.lucene.live_doc_count(),
                    "docs": docs,
                }));
            }
            indices.push(json!({"name": index.name, "shards": shards}));
        }
        snapshots.push(json!({"name": snapshot.name, "uuid": snapshot.uuid, "indices": indices}));
    }
    Ok(json!(snapshots))
}

/// The expected file without the fields we do not compare (hashes are redundant with the sources).
fn expected(name: &str) -> Value {
    let path = support::shared_dir()
        .join("fixtures/expected")
        .join(format!("{name}.json"));
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("expected file")).expect("json");
    for snapshot in v["snapshots"].as_array_mut().expect("snapshots") {
        for index in snapshot["indices"].as_array_mut().expect("indices") {
            for shard in index["shards"].as_array_mut().expect("shards") {
                for doc in shard["docs"].as_array_mut().expect("docs") {
                    doc.as_object_mut().expect("doc").remove("source_sha256");
                }
            }
        }
    }
    v["snapshots"].take()
}

#[test]
fn every_fixture_yields_exactly_its_expected_documents() {
    let mut failures = Vec::new();
    for name in FIXTURES {
        let root = support::shared_dir().join("fixtures/snapshots").join(name);
        match read_repository(&root) {
            Ok(got) if got == expected(name) => {}
            Ok(got) => failures.push(format!(
                "{name}: differs\n got: {got}\nwant: {}",
                expected(name)
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn synthetic_repositories_with_parts_and_compressed_metadata_yield_their_documents() {
    for name in ["es7-v8-multipart", "os2-v9-compressed"] {
        let dir = support::shared_dir().join("fixtures/lucene/snapshots");
        let want: Vec<Value> = std::fs::read_to_string(dir.join(format!("{name}.expected.jsonl")))
            .expect("expected")
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("line");
                json!({"index": v["index"], "shard": v["shard"], "id": v["id"], "routing": v["routing"], "source": v["source"]})
            })
            .collect();
        let repo = Repository::open(Arc::new(FsBlobSource::new(dir.join(name)))).expect("open");
        let mut got = Vec::new();
        for snapshot in repo.snapshots() {
            for index in repo.indices(&snapshot).expect("indices") {
                for shard in 0..index.shards {
                    let open = repo
                        .open_shard(&snapshot, &index, shard)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    for doc in open.documents(0) {
                        let d = doc.unwrap_or_else(|e| panic!("{name}: {e}"));
                        got.push(json!({"index": d.index, "shard": d.shard, "id": d.id, "routing": d.routing, "source": d.source}));
                    }
                }
            }
        }
        assert_eq!(got.len(), want.len(), "{name}: document count");
        assert!(got == want, "{name}: documents differ");
    }
}

#[test]
fn corrupted_blobs_fail_with_the_snapshot_index_shard_and_file() {
    let src = support::shared_dir().join("fixtures/snapshots/ES_7_10_Updates_Deletes_wo_Soft");
    let tmp = tempfile::tempdir().expect("tempdir");
    support::copy_dir(&src, tmp.path());
    // The largest data blob is the stored-fields file of the merged segment.
    let shard_dir = std::fs::read_dir(tmp.path().join("indices"))
        .expect("indices")
        .flatten()
        .next()
        .expect("index dir")
        .path()
        .join("0");
    let blob = std::fs::read_dir(&shard_dir)
        .expect("shard")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("__"))
        .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .expect("a data blob")
        .path();
    let mut bytes = std::fs::read(&blob).expect("blob");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x08;
    std::fs::write(&blob, &bytes).expect("write");
    let err = read_repository(tmp.path()).expect_err("corruption detected");
    assert!(
        err.contains("snapshot rfs_snapshot, index test_updates_deletes, shard 0"),
        "{err}"
    );
    assert!(err.contains("_3."), "names the Lucene file: {err}");

    // Truncating a metadata blob is a checksum/length error, not a panic.
    let meta = shard_dir
        .read_dir()
        .expect("shard")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("snap-"))
        .expect("snap")
        .path();
    let bytes = std::fs::read(&meta).expect("meta");
    std::fs::write(&meta, &bytes[..bytes.len() - 3]).expect("truncate");
    let err = read_repository(tmp.path()).expect_err("truncation detected");
    assert!(err.contains("snap-") && err.contains("shard 0"), "{err}");
}

#[test]
fn an_unknown_snapshot_lists_the_ones_that_exist() {
    let root = support::shared_dir().join("fixtures/snapshots/ES_6_8_Single");
    let repo = Repository::open(Arc::new(FsBlobSource::new(root))).expect("open");
    let err = repo.snapshot("nope").expect_err("unknown").to_string();
    assert!(
        err.contains("has no snapshot `nope`; it has: global_state_snapshot"),
        "{err}"
    );
}

#[test]
fn swapped_blobs_are_detected_not_misread() {
    let src = support::shared_dir().join("fixtures/snapshots/ES_6_8_Updates_Deletes_Native");
    let tmp = tempfile::tempdir().expect("tempdir");
    support::copy_dir(&src, tmp.path());
    let shard_dir = std::fs::read_dir(tmp.path().join("indices"))
        .expect("indices")
        .flatten()
        .next()
        .expect("index dir")
        .path()
        .join("0");
    let mut blobs: Vec<_> = std::fs::read_dir(&shard_dir)
        .expect("shard")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("__"))
        .map(|e| e.path())
        .collect();
    blobs.sort_by_key(|p| {
        std::fs::metadata(p)
            .map(|m| std::cmp::Reverse(m.len()))
            .unwrap_or(std::cmp::Reverse(0))
    });
    let (a, b) = (blobs[0].clone(), blobs[1].clone());
    let (da, db) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    std::fs::write(&a, &db).expect("swap a");
    std::fs::write(&b, &da).expect("swap b");
    let err = read_repository(tmp.path()).expect_err("swapped blobs detected");
    assert!(err.contains("shard 0"), "{err}");
}

/// Regression: in the Lucene 5.0 FAST format (ES 5.x/6.x) a literal run cut by the end of the read window was
/// reported as corrupt instead of being fetched. Tiny read blocks cut every run.
#[test]
fn old_lz4_chunks_spanning_the_read_window_are_fetched_whole() {
    for name in [
        "ES_5_6_Updates_Deletes",
        "ES_6_8_Updates_Deletes_Merged",
        "ES_6_8_Single",
    ] {
        let root = support::shared_dir().join("fixtures/snapshots").join(name);
        let repo = Repository::open(Arc::new(FsBlobSource::new(root))).expect("open");
        for snapshot in repo.snapshots() {
            for index in repo.indices(&snapshot).expect("indices") {
                let shard = repo.open_shard(&snapshot, &index, 0).expect("shard");
                let whole: Vec<u64> = shard
                    .lucene
                    .documents(0)
                    .map(|d| d.expect("doc").global_doc)
                    .collect();
                for block in [1usize, 3, 64] {
                    let small: Vec<u64> = shard
                        .lucene
                        .documents(0)
                        .with_read_block(block)
                        .map(|d| {
                            d.unwrap_or_else(|e| panic!("{name}, block {block}: {e}"))
                                .global_doc
                        })
                        .collect();
                    assert_eq!(small, whole, "{name}/{}, block {block}", index.name);
                }
            }
        }
    }
}
