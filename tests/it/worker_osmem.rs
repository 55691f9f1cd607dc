//! `backfill worker` end to end against osmem-server: one worker migrates real fixture snapshots and the target
//! then holds exactly the expected documents; three concurrent workers on a two-shard snapshot migrate every
//! document exactly once.

use crate::support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn write_config(dir: &Path, repository: &Path, snapshot: &str, target: &str) -> std::path::PathBuf {
    let path = dir.join("migration.yaml");
    let yaml = format!(
        "version: 1\nname: worker-test\nsource:\n  repository: {}\n  snapshot: {snapshot}\ntarget:\n  endpoint: {target}\nworker:\n  batch:\n    max_docs: 50\n",
        repository.display()
    );
    std::fs::write(&path, yaml).expect("config");
    path
}

fn worker(config: &Path, id: &str) -> std::process::Output {
    Command::new(support::backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "worker", "--id", id])
        .output()
        .expect("run worker")
}

#[test]
fn one_worker_migrates_each_fixture_exactly() {
    for fixture in [
        "ES_7_10_Single",
        "ES_6_8_Updates_Deletes_Native",
        "OS_2_11_Deletes_w_Soft_Multi_Seg",
        "ES_7_10_Updates_Deletes_w_Soft",
    ] {
        let osmem = support::Osmem::start();
        let tmp = tempfile::tempdir().expect("tempdir");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(
                support::shared_dir().join(format!("fixtures/expected/{fixture}.json")),
            )
            .expect("expected"),
        )
        .expect("json");
        let snapshot = expected["snapshots"][0]["name"]
            .as_str()
            .expect("name")
            .to_string();
        let config = write_config(
            tmp.path(),
            &support::shared_dir()
                .join("fixtures/snapshots")
                .join(fixture),
            &snapshot,
            &osmem.url,
        );
        let out = worker(&config, "w1");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{fixture}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut total = 0;
        for index in expected["snapshots"][0]["indices"]
            .as_array()
            .expect("indices")
        {
            let name = index["name"].as_str().expect("index");
            for doc in index["shards"][0]["docs"].as_array().expect("docs") {
                total += 1;
                support::assert_document_landed(&osmem.url, name, doc, &format!("{fixture}: "));
            }
            let live = index["shards"][0]["live_docs"].as_u64().expect("live");
            if live > 0 {
                assert_eq!(
                    support::doc_count(&osmem.url, name),
                    live,
                    "{fixture}: {name} count"
                );
            }
        }
        assert!(total > 0);
        // Run again: everything is complete, nothing to do.
        let again = worker(&config, "w2");
        assert_eq!(
            again.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert!(String::from_utf8_lossy(&again.stderr).contains("0 item(s) completed"));
    }
}

#[test]
fn three_concurrent_workers_migrate_every_document_once() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = support::shared_dir().join("fixtures/lucene/snapshots/es7-v8-multipart");
    let config = write_config(tmp.path(), &repo, "snap-es7", &osmem.url);
    let children: Vec<_> = (0..3)
        .map(|i| {
            Command::new(support::backfill_bin())
                .args([
                    "-c",
                    config.to_str().expect("utf8"),
                    "worker",
                    "--id",
                    &format!("w{i}"),
                ])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    for out in &outputs {
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(4),
            "exit {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Whoever finished early with "all leased" leaves nothing behind: one more worker completes any rest.
    let last = worker(&config, "w-final");
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let expected: Vec<Value> =
        std::fs::read_to_string(repo.with_file_name("es7-v8-multipart.expected.jsonl"))
            .expect("expected")
            .lines()
            .map(|l| serde_json::from_str(l).expect("line"))
            .collect();
    // The two shards of this synthetic index reuse some ids (the same generator seed), and a one-shard
    // target keeps one document per id: compare with the distinct ids, and contents where an id is unique.
    let mut seen = std::collections::HashMap::new();
    for doc in &expected {
        *seen
            .entry(doc["id"].as_str().expect("id").to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(
        support::doc_count(&osmem.url, "events"),
        seen.len() as u64,
        "every document exactly once"
    );
    for doc in expected
        .iter()
        .filter(|d| seen[d["id"].as_str().unwrap_or("")] == 1)
        .step_by(7)
    {
        support::assert_document_landed(&osmem.url, "events", doc, "");
    }
}

#[test]
fn a_document_the_target_rejects_is_reported_and_the_rest_land() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    // A mapping conflict: `author` is text in the source.
    let created = Command::new("curl")
        .args([
            "-s",
            "-XPUT",
            &format!("{}/posts_2023_02_25", osmem.url),
            "-H",
            "content-type: application/json",
        ])
        .args([
            "-d",
            r#"{"mappings":{"properties":{"author":{"type":"integer"}}}}"#,
        ])
        .output()
        .expect("create index");
    assert!(String::from_utf8_lossy(&created.stdout).contains("acknowledged"));
    let repo = support::shared_dir().join("fixtures/snapshots/ES_7_10_Single");
    let config = write_config(tmp.path(), &repo, "global_state_snapshot", &osmem.url);
    let out = worker(&config, "w1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Bulk request succeeded, but some operations failed. index=posts_2023_02_25 id=dkO8Zo4B5P7rRiUeuFRC"),
        "{stderr}"
    );
    assert!(stderr.contains("mapper_parsing_exception"), "{stderr}");
    assert_eq!(
        support::doc_count(&osmem.url, "posts_2024_01_01"),
        3,
        "the rest land"
    );
    // The rejection is recorded on the work item, so status can say CompletedWithErrors.
    let failed = support::failed_documents_recorded(&osmem.url);
    assert_eq!(failed, 1);
}
