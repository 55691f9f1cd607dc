//! Issue #16 items 2 and 3, end to end into osmem: an Elasticsearch 5.x-style index with three mapping types
//! (the same ids under `order` and `refund`, written with real Lucene as `_uid`s) split by
//! `source.type_mappings` — `plan` shows the routes and refuses the index without them, the worker lands each
//! type in its own index and counts the type left out as skipped by configuration — and a target that answers
//! `GET /` as Elasticsearch 6.8 (`support::es6_proxy` in front of osmem), which gets `_type` in every action;
//! and both together on the local platform (`apply --wait`): the shared Elasticsearch 5.6 fixture (types
//! `type1`, `type2`) split exactly into an Elasticsearch 6 target.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::es6_proxy::Es6Proxy;
use crate::{support, synthetic};

const DOCS: usize = 40;
const TYPE_MAPPINGS: &str =
    "  type_mappings:\n    static:\n      orders: {order: orders, refund: orders-refunds}\n";

/// A repository with index `orders` (types order, refund, note, from `MultiTypeShard.java`); the types'
/// counts.
fn multi_type_repository(dir: &Path) -> (PathBuf, Value) {
    let shard = dir.join("lucene-orders-0");
    let counts = synthetic::write_multi_type_shard(&shard, DOCS);
    let mappings = dir.join("mappings.json");
    let body =
        serde_json::json!({"properties": {"kind": {"type": "keyword"}, "n": {"type": "long"}}});
    let types = serde_json::json!({"order": body, "refund": body, "note": body});
    std::fs::write(&mappings, types.to_string()).expect("mappings");
    let repository = dir.join("repo");
    synthetic::make_multi_type_snapshot(&repository, "snap", &[("orders", vec![shard])], &mappings);
    (repository, counts)
}

fn write_config(dir: &Path, repository: &Path, target: &str, extra: &str) -> PathBuf {
    let path = dir.join("migration.yaml");
    let yaml = format!(
        "version: 1\nname: types\nsource:\n  repository: {}\n  snapshot: snap\n{extra}target:\n  endpoint: {target}\nbackfill:\n  workers: 1\nworker:\n  batch:\n    max_docs: 7\n",
        repository.display()
    );
    std::fs::write(&path, yaml).expect("config");
    path
}

fn backfill(config: &Path, args: &[&str]) -> Output {
    Command::new(support::backfill_bin())
        .current_dir(config.parent().expect("dir"))
        .args(["-c", config.to_str().expect("utf8")])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run backfill")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn source_of(target: &str, index: &str, id: &str) -> Value {
    support::get_json(&format!("{target}/{index}/_doc/{id}"))["_source"].clone()
}

#[test]
fn a_multi_type_index_is_split_by_type_mappings_and_the_type_left_out_is_counted() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (repository, counts) = multi_type_repository(tmp.path());
    let (orders, refunds, notes) = (
        counts["order"].as_u64().expect("orders"),
        counts["refund"].as_u64().expect("refunds"),
        counts["note"].as_u64().expect("notes"),
    );

    // Without type_mappings, plan refuses the index and says how to map it.
    let config = write_config(tmp.path(), &repository, &osmem.url, "");
    let out = backfill(&config, &["plan"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("3 mapping types (order, refund, note)")
            && text.contains("source.type_mappings.static: {orders: {order: orders-order"),
        "{text}"
    );

    // With them, plan shows where each type goes and that `note` is not migrated.
    let config = write_config(tmp.path(), &repository, &osmem.url, TYPE_MAPPINGS);
    let out = backfill(&config, &["plan"]);
    let text = stderr(&out);
    assert!(
        text.contains("index orders by type: order → orders, refund → orders-refunds, note → not migrated (skipped by source.type_mappings)"),
        "{text}"
    );
    assert!(text.contains("type(s) note are not migrated"), "{text}");
    assert!(!text.contains("problem:"), "{text}");

    let out = backfill(&config, &["worker", "--id", "w1"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("{} documents", orders + refunds))
            && text.contains(&format!("{notes} skipped by configuration")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "not migrated, skipped by configuration: {notes} of type note (source.type_mappings leaves the type out)"
        )),
        "{text}"
    );
    assert!(text.contains("bulk actions carry no `_type`"), "{text}");

    let _ = support::get_json(&format!("{}/_refresh", osmem.url));
    assert_eq!(support::doc_count(&osmem.url, "orders"), orders);
    assert_eq!(support::doc_count(&osmem.url, "orders-refunds"), refunds);
    // The same id under two types landed twice, once per target index, each with its own source.
    assert_eq!(source_of(&osmem.url, "orders", "0")["kind"], "order");
    assert_eq!(
        source_of(&osmem.url, "orders-refunds", "0")["kind"],
        "refund"
    );
    let indices = support::get_json(&format!("{}/_cat/indices?format=json", osmem.url));
    assert!(
        !indices.to_string().contains("\"orders-note"),
        "no index for the type left out: {indices}"
    );
}

#[test]
fn documents_skipped_by_configuration_reach_status_and_compare_without_a_false_mismatch() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (repository, counts) = multi_type_repository(tmp.path());
    let notes = counts["note"].as_u64().expect("notes");
    let sent_types =
        counts["order"].as_u64().expect("orders") + counts["refund"].as_u64().expect("refunds");
    // `note` is left out by the type mapping; the transform drops the documents whose id ends in 0 or 5.
    let transforms =
        "transforms:\n  - match: orders\n    jq: 'select(.id | test(\"[05]$\") | not)'\n";
    let config = write_config(tmp.path(), &repository, &osmem.url, TYPE_MAPPINGS);
    let yaml = std::fs::read_to_string(&config).expect("config") + transforms;
    std::fs::write(&config, yaml).expect("config");

    let out = backfill(&config, &["worker", "--id", "w1"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("filtered out by transforms (no output)"),
        "{text}"
    );
    let _ = support::get_json(&format!("{}/_refresh", osmem.url));
    let landed =
        support::doc_count(&osmem.url, "orders") + support::doc_count(&osmem.url, "orders-refunds");
    let filtered = sent_types - landed;
    assert!(
        filtered > 0 && landed > 0,
        "the filter must keep some and drop some"
    );

    // status: Completed, and the difference explained.
    let out = backfill(&config, &["status", "--deep-check", "--target", &osmem.url]);
    // (It exits 1: the worker ran by hand, so there is no fleet to report.)
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    let skipped = notes + filtered;
    assert!(
        text.contains(&format!("Documents skipped by configuration: {skipped}"))
            && text.contains(&format!("{skipped} documents skipped by configuration (types source.type_mappings leaves out, documents transforms filter out)")),
        "{text}"
    );
    let out = backfill(&config, &["--json", "status", "--target", &osmem.url]);
    let status: Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(status["skipped_documents"], skipped, "{status}");
    assert_eq!(status["failed_documents"], 0, "{status}");

    // compare: one group, orders -> orders + orders-refunds, source - skipped = target: no mismatch.
    let out = backfill(&config, &["compare", "--refresh"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("orders -> orders, orders-refunds"))
        .unwrap_or_else(|| panic!("a row for the split index: {text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    let total = notes + sent_types;
    assert_eq!(
        cells[cells.len() - 5..],
        [
            total.to_string(),
            skipped.to_string(),
            landed.to_string(),
            landed.to_string(),
            "ok".to_string()
        ],
        "{text}"
    );
    let out = backfill(&config, &["--json", "compare"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("compare json");
    assert_eq!(
        (json["mismatches"].as_u64(), json["not_compared"].as_u64()),
        (Some(0), Some(0)),
        "{json}"
    );
    assert_eq!(json["groups"][0]["skipped"], skipped, "{json}");
}

#[test]
fn an_elasticsearch_6_target_gets_the_type_in_every_bulk_action() {
    let osmem = support::Osmem::start();
    let proxy = Es6Proxy::start(&osmem.url);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (repository, counts) = multi_type_repository(tmp.path());
    let sent = counts["order"].as_u64().unwrap() + counts["refund"].as_u64().unwrap();
    let regex = "  type_mappings:\n    regex:\n      - {index: \"(orders)\", type: \"(order|refund)\", target: \"$1-$2\"}\n";
    let config = write_config(tmp.path(), &repository, &proxy.url, regex);

    let out = backfill(&config, &["plan"]);
    let text = stderr(&out);
    assert!(
        text.contains(&format!("target: {} is Elasticsearch 6.8.23", proxy.url)),
        "{text}"
    );
    assert!(
        text.contains("index orders by type: order → orders-order, refund → orders-refund, note → not migrated"),
        "the regex rule covers the index, the type it does not match is left out: {text}"
    );
    assert!(!text.contains("problem:"), "{text}");

    let out = backfill(&config, &["worker", "--id", "w1"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "target Elasticsearch 6.8.23: bulk actions carry `_type` (target.emit_type: auto)"
        ),
        "{text}"
    );
    let actions = proxy.actions();
    assert_eq!(
        actions.len() as u64,
        sent,
        "one action line per document sent"
    );
    for action in &actions {
        let expected = action
            .index
            .strip_prefix("orders-")
            .expect("routed by the regex");
        assert_eq!(action.doc_type.as_deref(), Some(expected), "{action:?}");
    }
    let _ = support::get_json(&format!("{}/_refresh", osmem.url));
    assert_eq!(
        support::doc_count(&osmem.url, "orders-refund"),
        counts["refund"].as_u64().unwrap()
    );

    // `never` overrides the detection: no `_type` (an Elasticsearch 6 target would refuse these).
    let never = std::fs::read_to_string(&config)
        .expect("config")
        .replace(
            &format!("  endpoint: {}\n", proxy.url),
            &format!("  endpoint: {}\n  emit_type: never\n", proxy.url),
        )
        .replace("name: types", "name: types-never");
    std::fs::write(&config, never).expect("config");
    support::delete(&format!("{}/.migrations_working_state", osmem.url));
    let out = backfill(&config, &["worker", "--id", "w2"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let untyped = proxy
        .actions()
        .into_iter()
        .skip(actions.len())
        .collect::<Vec<_>>();
    assert_eq!(untyped.len() as u64, sent, "{text}");
    assert!(untyped.iter().all(|a| a.doc_type.is_none()), "{untyped:?}");
}

#[test]
fn the_elasticsearch_5_6_fixture_is_split_by_type_into_an_elasticsearch_6_target_on_the_local_platform()
 {
    let osmem = support::Osmem::start();
    let proxy = Es6Proxy::start(&osmem.url);
    let tmp = tempfile::tempdir().expect("tempdir");
    let fixture = support::shared_dir().join("fixtures/snapshots/ES_5_6_Updates_Deletes");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::shared_dir().join("fixtures/expected/ES_5_6_Updates_Deletes.json"),
        )
        .expect("expected documents"),
    )
    .expect("json");
    let yaml = format!(
        "version: 1\nname: es56\nplatform: local\nsource:\n  repository: {}\n  snapshot: rfs_snapshot\n  type_mappings:\n    static:\n      test_updates_deletes: {{type1: tud-one, type2: tud-two}}\ntarget:\n  endpoint: {}\nbackfill:\n  workers: 1\n",
        fixture.display(),
        proxy.url
    );
    let config = tmp.path().join("migration.yaml");
    std::fs::write(&config, yaml).expect("config");

    let out = backfill(&config, &["plan"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("index test_updates_deletes by type: type2 → tud-two, type1 → tud-one")
            && text.contains("is Elasticsearch 6.8.23"),
        "{text}"
    );
    let out = backfill(&config, &["apply", "--auto-approve", "--wait"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Completed"), "{text}");

    let _ = support::get_json(&format!("{}/_refresh", osmem.url));
    let docs = &expected["snapshots"][0]["indices"][0]["shards"][0]["docs"];
    let docs = docs.as_array().expect("docs");
    let actions = proxy.actions();
    assert_eq!(actions.len(), docs.len(), "{actions:?}");
    for (doc_type, index) in [("type1", "tud-one"), ("type2", "tud-two")] {
        let of_type: Vec<&Value> = docs.iter().filter(|d| d["type"] == doc_type).collect();
        assert_eq!(
            support::doc_count(&osmem.url, index),
            of_type.len() as u64,
            "{index}"
        );
        for doc in of_type {
            let id = doc["id"].as_str().expect("id");
            let source: Value =
                serde_json::from_str(doc["source"].as_str().expect("source")).expect("json");
            assert_eq!(source_of(&osmem.url, index, id), source, "{index}/{id}");
            let action = actions.iter().find(|a| a.id == id).expect("sent");
            assert_eq!(
                (action.index.as_str(), action.doc_type.as_deref()),
                (index, Some(doc_type)),
                "the Elasticsearch 6 target gets the document's type"
            );
        }
    }
    let out = backfill(&config, &["destroy", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
