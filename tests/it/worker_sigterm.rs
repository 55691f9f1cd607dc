//! SIGTERM in the middle of a shard: the worker stops within a bound, exits 3 (lease handed off) and leaves a
//! successor item that starts after the last acknowledged document — every document before it is in the
//! target. A second worker then finishes, and the target holds exactly the snapshot's documents.

use crate::support;
use crate::synthetic;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Documents per shard: enough that the worker is mid-shard when the signal comes (osmem indexes these
/// ~2.4 KB synthetic documents at a few hundred per second on a 2-core machine), small enough to build fast.
const DOCS: usize = 5_000;

/// Ids (and routing-free sources) present in the target among `ids`, by multi-get.
fn present(target: &str, index: &str, ids: &[&str]) -> Vec<Value> {
    let body = serde_json::json!({ "ids": ids }).to_string();
    let out = Command::new("curl")
        .args(["-s", "-XPOST", &format!("{target}/{index}/_mget")])
        .args(["-H", "content-type: application/json", "-d", &body])
        .output()
        .expect("curl");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["docs"].as_array().cloned().unwrap_or_default()
}

#[test]
fn sigterm_mid_shard_hands_off_at_the_acknowledged_prefix_and_a_second_worker_finishes() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(tmp.path(), &[("big", 2, DOCS)]);
    eprintln!("snapshot built in {:?}", t0.elapsed());
    let osmem = support::Osmem::start();
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: sigterm\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {}\n\
             worker:\n  lease: 10m\n  max_connections: 4\n  batch:\n    max_docs: 100\n",
            snap.repository.display(),
            snap.snapshot,
            osmem.url
        ),
    )
    .expect("config");
    let child = Command::new(support::backfill_bin())
        .args([
            "-c",
            config.to_str().expect("utf8"),
            "worker",
            "--id",
            "first",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn worker");
    let pid = i32::try_from(child.id()).expect("pid");
    // Wait until documents are flowing.
    let started = Instant::now();
    while support::doc_count(&osmem.url, "big") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no documents arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    let out = child.wait_with_output().expect("wait");
    let took = signalled.elapsed();
    eprintln!(
        "first worker: docs flowing after {:?}, exit {took:?} after SIGTERM",
        signalled - started
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        took < Duration::from_secs(10),
        "exit took {took:?}: {stderr}"
    );
    let landed = support::doc_count(&osmem.url, "big");
    assert!(
        landed < 2 * DOCS as u64,
        "the worker finished before the signal ({landed} docs)"
    );

    // The working state: the item that was interrupted is complete and names a successor that starts after
    // its acknowledged prefix; the successor is claimable.
    let _ = support::get_json(&format!("{}/.migrations_working_state/_refresh", osmem.url));
    let state = support::get_json(&format!(
        "{}/.migrations_working_state/_search?size=100",
        osmem.url
    ));
    let hits = state["hits"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let parent = hits
        .iter()
        .find(|h| h["_source"]["successor_items"].is_string())
        .unwrap_or_else(|| panic!("no handed-off item: {state}"));
    assert!(parent["_source"]["completedAt"].is_i64(), "{parent}");
    let successor_id = parent["_source"]["successor_items"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let parts: Vec<&str> = successor_id.split("__").collect();
    let (shard, start): (usize, usize) = (
        parts[1].parse().expect("shard"),
        parts[2].parse().expect("start"),
    );
    let parent_parts: Vec<&str> = parent["_id"]
        .as_str()
        .unwrap_or_default()
        .split("__")
        .collect();
    assert_eq!(parent_parts[1], parts[1], "same shard");
    assert!(
        start > parent_parts[2].parse::<usize>().expect("start") && start < DOCS,
        "{successor_id}"
    );
    let successor = hits
        .iter()
        .find(|h| h["_id"] == successor_id.as_str())
        .unwrap_or_else(|| panic!("successor {successor_id} not created: {state}"));
    assert!(successor["_source"]["completedAt"].is_null(), "{successor}");
    assert_eq!(successor["_source"]["expiration"], 0, "{successor}");
    // Every document before the checkpoint was acknowledged: it is in the target. (The synthetic shard is one
    // force-merged segment without deletions, so global doc n is the dump's n-th document.)
    let docs = &snap.expected["big"];
    let shard_docs = &docs[shard * DOCS..(shard + 1) * DOCS];
    for chunk in shard_docs[..start].chunks(1_000) {
        let ids: Vec<&str> = chunk.iter().map(|d| d.id.as_str()).collect();
        let got = present(&osmem.url, "big", &ids);
        assert_eq!(got.len(), ids.len());
        assert!(
            got.iter().all(|d| d["found"] == true),
            "a document before the checkpoint {start} is missing"
        );
    }

    // A second worker completes the rest.
    let t1 = Instant::now();
    let second = Command::new(support::backfill_bin())
        .args([
            "-c",
            config.to_str().expect("utf8"),
            "worker",
            "--id",
            "second",
        ])
        .output()
        .expect("second worker");
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    eprintln!("second worker: {:?}", t1.elapsed());
    assert_eq!(support::doc_count(&osmem.url, "big"), snap.total() as u64);
    for doc in docs.iter().step_by(397) {
        let got = present(&osmem.url, "big", &[doc.id.as_str()]);
        let want: Value = serde_json::from_str(&doc.source).expect("source");
        assert_eq!(got[0]["_source"], want, "big/{}", doc.id);
    }
}
