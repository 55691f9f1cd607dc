//! A document that cannot become a bulk action is a failed document, never a skipped one (issue #15): one
//! worker against osmem-server on a shard written with real Lucene where every tenth document has no
//! `_source` (as with `_source: {enabled: false}`) and some documents have nested documents. The shard
//! completes (exit 0), every sendable document lands, every sourceless one is in the failed-documents file
//! with its reason and in the counts (the worker's, the work item's, `status`'s), and nested documents are
//! neither sent nor counted. Preflight refuses a mapping with `_source` disabled at plan time, so this drives
//! `backfill worker` directly.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support;
use crate::synthetic;

/// 101 documents, every tenth without `_source`: 90 sendable and 11 failed. With batches of 45 the reader
/// sends 45 + 45 documents and then a last batch holding only document 100, which has no source: it is
/// acknowledged without a request and still recorded.
const DOCS: usize = 101;
const SOURCELESS_EVERY: usize = 10;
const NESTED_EVERY: usize = 7;
const BATCH: usize = 45;

fn write_config(dir: &Path, repository: &Path, target: &str) -> std::path::PathBuf {
    let path = dir.join("migration.yaml");
    let yaml = format!(
        "version: 1\nname: sourceless\nsource:\n  repository: {}\n  snapshot: snap\ntarget:\n  endpoint: {target}\nworker:\n  failed_documents: failed\n  batch:\n    max_docs: {BATCH}\n",
        repository.display()
    );
    std::fs::write(&path, yaml).expect("config");
    path
}

#[test]
fn documents_without_source_are_failed_documents_and_the_shard_completes() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let shard = tmp.path().join("lucene-notes-0");
    let report = synthetic::write_sourceless_shard(&shard, DOCS, SOURCELESS_EVERY, NESTED_EVERY);
    let sourceless: Vec<String> = (0..DOCS)
        .filter(|i| i % SOURCELESS_EVERY == 0)
        .map(|i| format!("doc:{i}"))
        .collect();
    let sendable = DOCS - sourceless.len();
    assert_eq!(report["without_source"], sourceless.len(), "{report}");
    assert!(report["nested"].as_u64() > Some(0), "{report}");
    let repository = tmp.path().join("repo");
    synthetic::make_snapshot(&repository, "snap", &[("notes", vec![shard])], &[]);
    let config = write_config(tmp.path(), &repository, &osmem.url);

    let out = Command::new(support::backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "worker", "--id", "w1"])
        .output()
        .expect("run worker");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the shard completes: {stderr}");
    assert!(
        stderr.contains(&format!("1 item(s) completed, {sendable} documents"))
            && stderr.contains(&format!("{} rejected", sourceless.len())),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot become bulk actions and are failed documents"),
        "{stderr}"
    );

    // Every sendable document landed, and nothing else.
    let _ = support::get_json(&format!("{}/notes/_refresh", osmem.url));
    assert_eq!(support::doc_count(&osmem.url, "notes"), sendable as u64);
    for i in [1, 11, 99] {
        let doc = serde_json::json!({"id": format!("doc:{i}"), "source": format!("{{\"n\":{i}}}")});
        support::assert_document_landed(&osmem.url, "notes", &doc, "");
    }

    // Each sourceless document is named once in the failed-documents file, with its reason.
    let text = std::fs::read_to_string(tmp.path().join("failed/w1.ndjson"))
        .expect("failed-documents file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect();
    let mut ids: Vec<String> = lines
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    let mut want = sourceless.clone();
    want.sort();
    assert_eq!(ids, want, "{text}");
    for line in &lines {
        assert_eq!(line["index"], "notes", "{line}");
        assert_eq!(line["error_type"], "source_missing", "{line}");
        let reason = line["reason"].as_str().expect("reason");
        assert!(reason.contains("no _source is stored"), "{line}");
    }

    // The work item records them, and status reports them.
    let failed = support::failed_documents_recorded(&osmem.url);
    assert_eq!(failed, sourceless.len() as u64);
    let status = Command::new(support::backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "status", "--json"])
        .output()
        .expect("run status");
    let json: Value = serde_json::from_slice(&status.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json: {e}: {}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    });
    // (Its `status` is not CompletedWithErrors here: no `apply` made the worker service this test bypasses.)
    assert_eq!(json["documents_migrated"], sendable, "{json}");
    assert_eq!(json["failed_documents"], sourceless.len(), "{json}");
    assert_eq!(json["shards"]["completed"], 1, "{json}");
}
