//! The working state knows its migration, end to end on the local platform against `osmem-server`: a second
//! migration is refused at `plan` and `apply` (owner and both ways out named) instead of reporting the first
//! one's completion; with `backfill.session` both complete exactly and each `status`/`destroy` touches only
//! its own working state; a working state without a record (an older backfill, Migration Assistant) keeps
//! working for `status`, and `apply` uses it only with `backfill.adopt_unrecorded_working_state: true`.

use crate::local_e2e::Migration;
use crate::status_support::{create_index, item_id, put_docs, setup_doc, unclaimed};
use crate::support;
use crate::synthetic::{self, SyntheticSnapshot};

use std::collections::BTreeMap;

use serde_json::Value;

const DEFAULT_INDEX: &str = ".migrations_working_state";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every document of the snapshot is in the target with its exact source, and nothing else is.
fn assert_exact(target: &str, snap: &SyntheticSnapshot) {
    for (index, docs) in &snap.expected {
        let _ = support::get_json(&format!("{target}/{index}/_refresh"));
        let found = support::get_json(&format!("{target}/{index}/_search?size=10000"));
        let hits = found["hits"]["hits"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let got: BTreeMap<String, Value> = hits
            .into_iter()
            .map(|h| {
                (
                    h["_id"].as_str().unwrap_or("").to_string(),
                    h["_source"].clone(),
                )
            })
            .collect();
        let want: BTreeMap<String, Value> = docs
            .iter()
            .map(|d| {
                let source: Value = serde_json::from_str(&d.source).expect("source json");
                (d.id.clone(), source)
            })
            .collect();
        assert_eq!(got.len(), want.len(), "documents in {index}");
        assert!(got == want, "{index}: the target differs from the snapshot");
    }
}

/// The owner record (`_meta.backfill.migration`) and document count of a working-state index.
fn owner_and_count(target: &str, index: &str) -> (Option<String>, u64) {
    let mapping = support::get_json(&format!("{target}/{index}/_mapping"));
    let owner = mapping[index]["mappings"]["_meta"]["backfill"]["migration"]
        .as_str()
        .map(str::to_string);
    (owner, support::doc_count(target, index))
}

#[test]
fn a_second_migration_is_refused_then_shares_the_target_through_its_own_session() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap_a = synthetic::build_named(&tmp.path().join("a"), "snap-a", 1, &[("alpha", 2, 300)]);
    let snap_b = synthetic::build_named(&tmp.path().join("b"), "snap-b", 2, &[("beta", 2, 250)]);
    let osmem = support::Osmem::start();
    let a = Migration::new("owner-a", &snap_a, &osmem.url);
    let b = Migration::new("owner-b", &snap_b, &osmem.url);

    let done = a.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(done.contains("Backfill Completed"), "{done}");
    assert_exact(&osmem.url, &snap_a);
    let a_state = owner_and_count(&osmem.url, DEFAULT_INDEX);
    assert_eq!(
        a_state.0.as_deref(),
        Some("owner-a"),
        "recorded at creation"
    );

    // The second migration on the same index: refused, with the owner and both ways out, nothing changed.
    for command in [&["plan"][..], &["apply", "--auto-approve", "--wait"][..]] {
        let out = b.backfill(command);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {said}");
        assert!(said.contains("belongs to migration `owner-a`"), "{said}");
        assert!(
            said.contains("run `backfill destroy` with the migration file of `owner-a`"),
            "{said}"
        );
        assert!(said.contains("set `backfill.session: owner-b`"), "{said}");
        assert!(!said.contains("Completed"), "{said}");
    }
    assert!(
        !b.state_dir().join("resources.json").exists(),
        "apply changed nothing"
    );
    assert_eq!(support::doc_count(&osmem.url, "beta"), 0);
    let status = b.backfill(&["status", "--json"]);
    let report: Value = serde_json::from_slice(&status.stdout).expect("status json");
    assert_eq!(status.status.code(), Some(1), "{report}");
    assert_eq!(report["status"], "Failed", "{report}");
    assert_eq!(
        report["working_state"]["access"], "other_migration",
        "{report}"
    );
    assert_eq!(
        report["shards"],
        Value::Null,
        "not the other migration's counts"
    );

    // With its own session both complete, each exactly.
    b.write_with(&snap_b, "running", 2, "  session: owner-b\n");
    let done = b.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(done.contains("Backfill Completed"), "{done}");
    assert_exact(&osmem.url, &snap_b);
    assert_exact(&osmem.url, &snap_a);
    let b_index = ".migrations_working_state_owner-b";
    assert_eq!(
        owner_and_count(&osmem.url, b_index).0.as_deref(),
        Some("owner-b")
    );
    assert_eq!(
        owner_and_count(&osmem.url, DEFAULT_INDEX),
        a_state,
        "A's untouched"
    );

    for (m, index, total) in [
        (&a, DEFAULT_INDEX, snap_a.total()),
        (&b, b_index, snap_b.total()),
    ] {
        let status = m.status();
        assert_eq!(status["status"], "Completed", "{status}");
        assert_eq!(status["working_state"]["index"], index, "{status}");
        assert_eq!(
            status["working_state"]["owner"]["migration"], m.name,
            "{status}"
        );
        assert_eq!(status["documents_migrated"], total, "{status}");
    }

    // Each destroy archives and deletes its own working state only.
    let said = b.ok(&["destroy", "--auto-approve"]);
    assert!(said.contains("working state archived"), "{said}");
    assert_eq!(
        owner_and_count(&osmem.url, b_index),
        (None, 0),
        "B's deleted"
    );
    assert_eq!(
        owner_and_count(&osmem.url, DEFAULT_INDEX),
        a_state,
        "A's intact"
    );
    let archives = a_dir_files(&b.dir.path().join(".backfill/_archives/owner-b"));
    assert!(
        archives.iter().any(|f| f.ends_with(".json.identity.json")),
        "the record beside the archive: {archives:?}"
    );
    assert_eq!(a.status()["status"], "Completed", "A's status still works");
    let said = a.ok(&["destroy", "--auto-approve"]);
    assert!(said.contains("working state archived"), "{said}");
    assert_eq!(owner_and_count(&osmem.url, DEFAULT_INDEX), (None, 0));
    assert_exact(&osmem.url, &snap_a);
    assert_exact(&osmem.url, &snap_b);
}

fn a_dir_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_unrecorded_working_state_works_for_status_and_apply_uses_it_only_when_told() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build_named(tmp.path(), "legacy", 3, &[("gamma", 3, 200)]);
    let osmem = support::Osmem::start();
    // The work items as an older backfill (or Migration Assistant's worker) left them: no owner record.
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let t = support::target_client(&osmem.url);
            create_index(&t, None).await;
            let mut docs = vec![("shard_setup".to_string(), setup_doc())];
            docs.extend((0..3).map(|shard| (item_id("gamma", shard, 0), unclaimed("gamma"))));
            put_docs(&t, None, &docs).await;
        });
    let m = Migration::new("legacy-c", &snap, &osmem.url);

    let status = m.backfill(&["status", "--deep-check", "--json"]);
    let report: Value = serde_json::from_slice(&status.stdout).expect("status json");
    assert_eq!(status.status.code(), Some(0), "{report}");
    assert_eq!(report["shards"]["total"], 3, "{report}");
    assert_eq!(
        report["working_state"]["owner"]["recorded"], false,
        "{report}"
    );
    let said = text(&m.backfill(&["status"]));
    assert!(said.contains("records no migration"), "{said}");

    for command in [&["plan"][..], &["apply", "--auto-approve", "--wait"][..]] {
        let out = m.backfill(command);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {said}");
        assert!(said.contains("records no migration"), "{said}");
        assert!(
            said.contains("`backfill.adopt_unrecorded_working_state: true`"),
            "{said}"
        );
        assert!(said.contains("`backfill.session: legacy-c`"), "{said}");
    }
    let worker = m.backfill(&["worker", "--id", "w-refused"]);
    assert_eq!(
        worker.status.code(),
        Some(6),
        "permanent: {}",
        text(&worker)
    );
    assert_eq!(
        support::doc_count(&osmem.url, "gamma"),
        0,
        "nothing migrated"
    );

    m.write_with(
        &snap,
        "running",
        2,
        "  adopt_unrecorded_working_state: true\n",
    );
    let done = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(done.contains("Backfill Completed"), "{done}");
    assert_exact(&osmem.url, &snap);
    let (owner, _) = owner_and_count(&osmem.url, DEFAULT_INDEX);
    assert_eq!(
        owner.as_deref(),
        Some("legacy-c"),
        "adopted: recorded as this migration's"
    );
}
