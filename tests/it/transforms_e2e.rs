//! `transforms` end to end on the local platform (issue #16, item 4): `apply --wait` with two workers from a
//! synthetic snapshot into osmem-server, with three rules — one renames its index and adds a field, one filters
//! documents out, one raises a jq error on some documents. The renamed documents land under the new name with
//! the field, the filtered ones are absent, the erroring ones are failed documents with jq's message (the rest
//! of their shard migrated), one never yields on some documents (failed documents past its `timeout`, the
//! rest migrated), and `snapshot docs --transformed` previews the same documents.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::local_e2e::{Migration, wait_until};
use crate::support;
use crate::synthetic::{self, ExpectedDoc, SyntheticSnapshot};

const RENAME: &str = r#".index = "app-" + .index | .source.migrated_by = "backfill""#;
const FILTER: &str = r#"select(.id | test("[05]$") | not)"#;
const ERROR: &str = r#"if (.id | endswith("7")) then error("no sevens: \(.id)") else . end"#;
/// Never yields on the documents [`loops_on`] names (jaq cannot interrupt it: the reader's watchdog gives it
/// up).
const LOOP: &str = r#"if ((.id | explode | add) % 11 == 0) then (def f: f; f) else . end"#;

fn loops_on(doc: &ExpectedDoc) -> bool {
    doc.id.chars().map(|c| c as u32).sum::<u32>() % 11 == 0
}

fn write_config(m: &Migration, snap: &SyntheticSnapshot, target: &str) {
    // Single-quoted YAML: a `'` inside would be doubled; these programs have none.
    let yaml = format!(
        "version: 1\nname: {}\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {target}\n\
         backfill:\n  state: running\n  workers: 2\n  stop_timeout: 30s\n\
         worker:\n  lease: 1m\n  failed_documents: failed\n  batch:\n    max_docs: 50\n\
         transforms:\n  - match: \"logs\"\n    jq: '{RENAME}'\n  - match: \"met*\"\n    jq: '{FILTER}'\n  - match: events\n    jq: '{ERROR}'\n  - match: loops\n    timeout: 300ms\n    jq: '{LOOP}'\n",
        m.name,
        snap.repository.display(),
        snap.snapshot,
    );
    std::fs::write(m.config(), yaml).expect("write config");
}

fn source_of(doc: &ExpectedDoc) -> Value {
    serde_json::from_str(&doc.source).expect("source json")
}

fn ids(docs: &[&ExpectedDoc]) -> BTreeSet<String> {
    docs.iter().map(|d| d.id.clone()).collect()
}

#[test]
fn transforms_rename_filter_and_fail_documents_in_a_local_migration() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(
        tmp.path(),
        &[
            ("logs", 1, 120),
            ("metrics", 2, 100),
            ("events", 1, 150),
            ("loops", 1, 30),
        ],
    );
    let osmem = support::Osmem::start();
    let m = Migration::new("e2e-jq", &snap, &osmem.url);
    write_config(&m, &snap, &osmem.url);
    let target = osmem.url.as_str();

    let text = m.ok(&["validate"]);
    assert!(text.contains("ok"), "{text}");

    // The preview shows what would be sent: the renamed index and the added field.
    let preview = m.ok(&[
        "snapshot",
        "docs",
        &snap.snapshot,
        "logs",
        "--transformed",
        "--limit",
        "3",
    ]);
    let lines: Vec<Value> = preview
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("preview line"))
        .collect();
    assert_eq!(lines.len(), 3, "{preview}");
    for line in &lines {
        assert_eq!(line["_index"], "app-logs", "{line}");
        assert_eq!(line["_source"]["migrated_by"], "backfill", "{line}");
    }

    let text = m.ok(&["apply", "--auto-approve", "--wait", "--wait-timeout", "5m"]);
    assert!(text.contains("Backfill Completed"), "{text}");

    // Renamed, with the added field; nothing under the old name.
    let logs = &snap.expected["logs"];
    assert_eq!(support::doc_count(target, "app-logs"), logs.len() as u64);
    assert_eq!(support::doc_count(target, "logs"), 0);
    for doc in logs.iter().step_by(13) {
        let got = support::get_json(&format!(
            "{target}/app-logs/_doc/{}",
            support::encode(&doc.id)
        ));
        let mut want = source_of(doc);
        want["migrated_by"] = "backfill".into();
        assert_eq!(got["_source"], want, "app-logs/{}", doc.id);
    }

    // Filtered: only the documents the program kept.
    let metrics: Vec<&ExpectedDoc> = snap.expected["metrics"].iter().collect();
    let kept: Vec<&ExpectedDoc> = metrics
        .iter()
        .copied()
        .filter(|d| !(d.id.ends_with('0') || d.id.ends_with('5')))
        .collect();
    assert!(
        kept.len() < metrics.len() && !kept.is_empty(),
        "the filter must keep some and drop some"
    );
    assert_eq!(support::doc_count(target, "metrics"), kept.len() as u64);
    for doc in metrics.iter().step_by(11) {
        let got = support::get_json(&format!(
            "{target}/metrics/_doc/{}",
            support::encode(&doc.id)
        ));
        assert_eq!(
            got["found"] == true,
            kept.iter().any(|k| k.id == doc.id),
            "metrics/{}",
            doc.id
        );
    }

    // Erroring: the others migrated untouched; each failing one is a failed document with jq's message.
    let events: Vec<&ExpectedDoc> = snap.expected["events"].iter().collect();
    let (failing, sent): (Vec<&ExpectedDoc>, Vec<&ExpectedDoc>) =
        events.iter().copied().partition(|d| d.id.ends_with('7'));
    assert!(
        !failing.is_empty() && !sent.is_empty(),
        "some documents must fail"
    );
    assert_eq!(support::doc_count(target, "events"), sent.len() as u64);
    for doc in sent.iter().step_by(17) {
        let got = support::get_json(&format!(
            "{target}/events/_doc/{}",
            support::encode(&doc.id)
        ));
        assert_eq!(got["_source"], source_of(doc), "events/{}", doc.id);
    }
    let failed_dir = m.dir.path().join("failed");
    let mut recorded = Vec::new();
    wait_until(
        "failed-documents files",
        std::time::Duration::from_secs(10),
        || failed_dir.exists(),
    );
    for entry in std::fs::read_dir(&failed_dir).expect("failed documents directory") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("file");
        recorded.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).expect("line")),
        );
    }
    // A program that never yields: its documents are failed documents past the rule's timeout, naming the
    // rule, and the rest of the shard migrated.
    let (looping, timed_out): (Vec<Value>, Vec<Value>) =
        recorded.into_iter().partition(|l| l["index"] == "loops");
    let loops: Vec<&ExpectedDoc> = snap.expected["loops"].iter().collect();
    let (stuck, passed): (Vec<&ExpectedDoc>, Vec<&ExpectedDoc>) =
        loops.iter().copied().partition(|d| loops_on(d));
    assert!(
        !stuck.is_empty() && !passed.is_empty(),
        "some documents must loop"
    );
    assert_eq!(support::doc_count(target, "loops"), passed.len() as u64);
    let looping_ids: BTreeSet<String> = looping
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(looping_ids, ids(&stuck));
    for line in &looping {
        assert_eq!(line["error_type"], "transform_timeout", "{line}");
        assert!(
            line["reason"]
                .as_str()
                .expect("reason")
                .ends_with("transform 4: still running after 300ms on this document (does the program loop? the rule's `timeout` sets the limit)"),
            "{line}"
        );
    }
    let recorded = timed_out;
    let recorded_ids: BTreeSet<String> = recorded
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(recorded_ids, ids(&failing));
    assert_eq!(recorded.len(), failing.len(), "each failing document once");
    for line in &recorded {
        assert_eq!(line["index"], "events", "{line}");
        assert_eq!(line["error_type"], "transform_error", "{line}");
        let id = line["id"].as_str().expect("id");
        let reason = line["reason"].as_str().expect("reason");
        assert!(
            reason.ends_with(&format!("transform 3: jq: no sevens: {id}")),
            "{line}"
        );
    }
    let status = m.status();
    assert_eq!(
        status["failed_documents"],
        failing.len() + stuck.len(),
        "{status}"
    );
    assert_eq!(
        status["skipped_documents"],
        metrics.len() - kept.len(),
        "the filtered documents are counted, never silent: {status}"
    );

    // compare: the renamed index is compared under its new name, the filtered documents are expected to be
    // absent; the documents that failed are a real difference, and compare says so (exit 1).
    let out = m.backfill(&["--json", "compare", "--refresh"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("compare json");
    let group = |name: &str| {
        json["groups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["sources"][0] == name))
            .cloned()
            .unwrap_or_else(|| panic!("group {name}: {json}"))
    };
    let (logs_group, metrics_group, events_group) =
        (group("logs"), group("metrics"), group("events"));
    assert_eq!(
        logs_group["targets"],
        serde_json::json!(["app-logs"]),
        "{json}"
    );
    assert_eq!(logs_group["verdict"]["result"], "ok", "{json}");
    assert_eq!(
        (
            &metrics_group["skipped"],
            &metrics_group["verdict"]["result"]
        ),
        (&Value::from(metrics.len() - kept.len()), &Value::from("ok")),
        "{json}"
    );
    assert_eq!(events_group["verdict"]["result"], "different", "{json}");
    assert_eq!(group("loops")["verdict"]["result"], "different", "{json}");
    assert_eq!(json["mismatches"], 2, "{json}");
}

/// The one transform failure that cannot become a failed document: non-tail recursion without end overflows
/// the reading thread's stack, and Rust aborts the process. It must be loud — a non-zero exit naming the
/// transform thread, and no work item completed — never a shard reported migrated.
#[test]
fn a_transform_that_recurses_without_end_stops_the_worker_loudly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(tmp.path(), &[("deep", 1, 20)]);
    let osmem = support::Osmem::start();
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: deep\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {}\n\
             transforms:\n  - jq: 'def f: 1 + f; .source.depth = f'\n",
            snap.repository.display(),
            snap.snapshot,
            osmem.url
        ),
    )
    .expect("config");
    let stderr = support::run_worker_expecting_failure(&config);
    // `thread 'jq-transform-reader' (<tid>) has overflowed its stack`
    assert!(
        stderr.contains("thread 'jq-transform-reader'")
            && stderr.contains("has overflowed its stack"),
        "{stderr}"
    );
    support::assert_no_work_item_completed(&osmem.url);
    let _ = support::get_json(&format!("{}/deep/_refresh", osmem.url));
    let count = support::get_json(&format!("{}/deep/_count", osmem.url));
    assert_ne!(count["count"].as_u64(), Some(20), "{count}");
}
