//! `status` against osmem-server: a working state written exactly like the upstream workers, read with one
//! request; text checked line by line; 25,000 items counted exactly; problems reported, never dropped.

use crate::status_support;
use crate::support;

use backfill::converge::Status;
use backfill::converge::ports::FleetObservation;
use backfill::converge::status::{NoFleet, WorkingStateAccess, collect, derive_report};
use backfill::coordination::progress::{WORKING_STATE_INDEX, fetch_progress};
use backfill::output::status_view::{json_document, text_lines};
use serde_json::json;
use status_support::*;

fn fleet(desired: u32, running: u32, pending: u32) -> FleetObservation {
    FleetObservation {
        exists: true,
        desired,
        running,
        pending,
    }
}

#[tokio::test]
async fn deep_check_text_matches_the_console_line_by_line() {
    let osmem = support::Osmem::start();
    let t = support::target_client(&osmem.url);
    let now = now();
    create_index(&t, None).await;
    put_docs(&t, None, &mixed_scenario(now)).await;

    let progress = fetch_progress(&t, WORKING_STATE_INDEX, at(now))
        .await
        .unwrap();
    let report = derive_report(
        None,
        Ok(fleet(1, 1, 0)),
        Ok(vec![]),
        WORKING_STATE_INDEX,
        Ok(progress),
        at(now),
    );
    let lines = text_lines(&report, true);
    let expected_head = [
        "BackfillStatus.RUNNING",
        "Running=1",
        "Pending=0",
        "Desired=1",
        "Shards total: 5",
        "Shards completed: 1",
        "Shards incomplete: 4",
        "Shards in progress: 2",
        "Shards unclaimed: 2",
        "Percent completed: 20.0%",
    ];
    assert_eq!(&lines[..expected_head.len()], expected_head, "{lines:#?}");
    assert!(
        lines[10].starts_with("Estimated time to completion: "),
        "{lines:#?}"
    );
    assert_eq!(lines[11], "Start time: 2026-07-21 14:02:11+00:00");
    assert_eq!(lines[12], "Documents migrated: unknown");
    assert_eq!(lines[13], "Failed documents: unknown");
    assert_eq!(lines[14], "Documents skipped by configuration: unknown");
    assert_eq!(lines[15], "Status: Running");
    assert!(
        lines[16].starts_with("Reason: 1 worker running; 1 of 5 work items complete"),
        "{}",
        lines[16]
    );

    let doc = json_document(&report);
    assert_eq!(doc["shard_total"], json!(5));
    assert_eq!(doc["shards"]["unclaimed"], json!(2));
    assert_eq!(doc["status"], json!("Running"));
    assert_eq!(doc["console_status"], json!("BackfillStatus.RUNNING"));
}

#[tokio::test]
async fn counts_25000_items_exactly_in_one_request() {
    let osmem = support::Osmem::start();
    let t = support::target_client(&osmem.url);
    let now = now();
    create_index(&t, Some("big")).await;
    let mut docs = vec![("shard_setup".to_string(), setup_doc())];
    for i in 0..25_000u32 {
        let index = format!("index-{}", i / 100);
        let id = item_id(&index, i % 100, 0);
        let source = match i % 5 {
            0 | 1 => {
                let mut c = completed(&index, now - 60);
                c["documentsMigrated"] = json!(7);
                c
            }
            2 => leased(&index, now + 600),
            _ => unclaimed(&index),
        };
        docs.push((id, source));
    }
    put_docs(&t, Some("big"), &docs).await;
    let p = fetch_progress(&t, ".migrations_working_state_big", at(now))
        .await
        .unwrap();
    assert_eq!(
        (p.total, p.completed, p.incomplete),
        (25_000, 10_000, 15_000)
    );
    assert_eq!((p.in_progress, p.unclaimed), (5_000, 10_000));
    assert_eq!(p.documents_migrated, Some(70_000));
    assert_eq!(p.failed_documents, None);
    assert_eq!(p.documents_in_index, 25_001);
}

#[tokio::test]
async fn missing_index_and_unreachable_target_are_reported() {
    let osmem = support::Osmem::start();
    let t = support::target_client(&osmem.url);
    let report = collect(None, None::<&NoFleet>, &t, WORKING_STATE_INDEX, at(now())).await;
    assert_eq!(report.working_state, WorkingStateAccess::Missing);
    assert!(report.has_problem());
    let lines = text_lines(&report, true);
    assert!(lines.iter().any(|l| l == "Working state: missing (index .migrations_working_state does not exist)"), "{lines:#?}");

    let port = support::free_port();
    let dead = support::target_client(&format!("http://127.0.0.1:{port}"));
    let report = collect(
        None,
        None::<&NoFleet>,
        &dead,
        WORKING_STATE_INDEX,
        at(now()),
    )
    .await;
    assert_eq!(report.working_state, WorkingStateAccess::Unreachable);
    assert_eq!(report.status.status, Status::Failed);
    assert_eq!(
        json_document(&report)["working_state"]["access"],
        json!("unreachable")
    );
}

#[test]
fn cli_prints_console_lines_and_sets_exit_code() {
    let osmem = support::Osmem::start();
    let out = std::process::Command::new(support::backfill_bin())
        .args(["status", "--deep-check", "--target", &osmem.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "missing index must fail");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Working state: missing"), "{stdout}");
    let out = std::process::Command::new(support::backfill_bin())
        .args(["status", "--json", "--target", &osmem.url])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["working_state"]["access"], json!("missing"));
    assert!(doc.as_object().unwrap().contains_key("shard_total"));
}
