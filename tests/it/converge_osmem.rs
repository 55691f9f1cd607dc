//! The converge decisions executed against a real working state on osmem-server (and archives on moto S3):
//! stop archives then deletes, restore-state brings it back, pause/resume keeps progress, completion scales
//! to 0. Fleet counts are plain observation values here; the ECS fleet has its own tests.

use crate::status_support;
use crate::support;

use backfill::cluster::Client;
use backfill::config::Location;
use backfill::converge::lifecycle::{Observed, RampMemory, StopMemory, WorkingStateObservation};
use backfill::converge::ports::FleetObservation;
use backfill::converge::runner::WorkingState;
use backfill::converge::working_state::TargetWorkingState;
use backfill::converge::{Action, Declared, DeclaredState, Status, reconcile};
use backfill::coordination::archive::{ArchiveDestination, FileOrS3Store, restore};
use backfill::coordination::progress::WorkProgress;
use serde_json::json;
use status_support::*;

fn fleet(desired: u32, running: u32) -> FleetObservation {
    FleetObservation {
        exists: true,
        desired,
        running,
        pending: 0,
    }
}

fn observed(f: FleetObservation, p: Option<WorkProgress>) -> Observed {
    Observed {
        fleet: f,
        working_state: p
            .map(WorkingStateObservation::Present)
            .unwrap_or(WorkingStateObservation::Absent),
        health: None,
        ramp: RampMemory::default(),
        stop: StopMemory::default(),
        failures: Vec::new(),
        failures_since: None,
    }
}

async fn populated(
    osmem: &support::Osmem,
    dir: &str,
    s3: Option<aws_sdk_s3::Client>,
) -> TargetWorkingState<Client, FileOrS3Store> {
    let t = support::target_client(&osmem.url);
    create_index(&t, None).await;
    put_docs(&t, None, &mixed_scenario(now())).await;
    TargetWorkingState {
        transport: t,
        store: FileOrS3Store { s3 },
        session: None,
        destination: ArchiveDestination::new(Location::parse(dir).unwrap()),
        owner: None,
    }
}

#[tokio::test]
async fn stop_archives_every_document_then_deletes_and_restore_brings_it_back() {
    let osmem = support::Osmem::start();
    let dir = tempfile::tempdir().unwrap();
    let ws = populated(&osmem, dir.path().to_str().unwrap(), None).await;
    let now = now();
    let before = ws.observe(at(now)).await.unwrap().expect("index exists");

    // Tasks still run: the decision scales down and never archives.
    let d = reconcile(
        &Declared::new(DeclaredState::Stopped, 4),
        &observed(fleet(4, 4), Some(before.clone())),
        at(now),
    );
    assert_eq!(d.actions, vec![Action::Scale { desired: 0 }]);
    // Idle fleet: archive.
    let d = reconcile(
        &Declared::new(DeclaredState::Stopped, 4),
        &observed(fleet(0, 0), Some(before.clone())),
        at(now),
    );
    assert_eq!(d.actions, vec![Action::ArchiveWorkingState]);
    let report = ws.archive_and_delete(at(now)).await.unwrap();
    assert_eq!(
        report.documents, 7,
        "every document, shard_setup and parents included"
    );
    assert!(report.index_deleted);
    assert!(
        ws.observe(at(now)).await.unwrap().is_none(),
        "index deleted"
    );
    let file = std::fs::read(&report.location).unwrap();
    let archived: serde_json::Value = serde_json::from_slice(&file).unwrap();
    assert!(
        archived[0]["shard_setup"]["completedAt"].is_u64(),
        "console layout: [{{_id: _source}}]"
    );
    let d = reconcile(
        &Declared::new(DeclaredState::Stopped, 4),
        &observed(fleet(0, 0), None),
        at(now),
    );
    assert_eq!((d.status.status, d.settled), (Status::Stopped, true));

    let location = Location::parse(&report.location).unwrap();
    let restored = restore(&ws.transport, &ws.store, None, &location)
        .await
        .unwrap();
    assert_eq!(restored.documents, 7);
    let after = ws.observe(at(now)).await.unwrap().expect("restored");
    assert_eq!(after, before, "restore brings back the exact working state");
    // Restoring over a populated index is refused.
    assert!(
        restore(&ws.transport, &ws.store, None, &location)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn archive_to_s3_and_restore_from_it() {
    let osmem = support::Osmem::start();
    let moto = support::Moto::start();
    let s3 = moto.s3_client();
    s3.create_bucket().bucket("archives").send().await.unwrap();
    let ws = populated(&osmem, "s3://archives/backfill_working_state", Some(s3)).await;
    let report = ws.archive_and_delete(at(1_784_642_531)).await.unwrap();
    assert_eq!(
        report.location,
        "s3://archives/backfill_working_state/working_state_backup_20260721140211.json"
    );
    assert!(ws.observe(at(now())).await.unwrap().is_none());
    let location = Location::parse(&report.location).unwrap();
    assert_eq!(
        restore(&ws.transport, &ws.store, None, &location)
            .await
            .unwrap()
            .documents,
        7
    );
}

#[tokio::test]
async fn pause_keeps_progress_and_resume_continues() {
    let osmem = support::Osmem::start();
    let dir = tempfile::tempdir().unwrap();
    let ws = populated(&osmem, dir.path().to_str().unwrap(), None).await;
    let now = now();
    let before = ws.observe(at(now)).await.unwrap().unwrap();
    let paused = Declared::new(DeclaredState::Paused, 4);
    let d = reconcile(
        &paused,
        &observed(fleet(4, 4), Some(before.clone())),
        at(now),
    );
    assert_eq!(
        d.actions,
        vec![Action::Scale { desired: 0 }],
        "pause only scales"
    );
    let d = reconcile(
        &paused,
        &observed(fleet(0, 0), Some(before.clone())),
        at(now),
    );
    assert!(d.actions.is_empty());
    assert_eq!((d.status.status, d.settled), (Status::Paused, true));
    assert!(
        d.status.reason.contains("1 of 5 work items complete"),
        "{}",
        d.status.reason
    );
    let kept = ws.observe(at(now)).await.unwrap().unwrap();
    assert_eq!(kept, before, "paused keeps the working state");
    let d = reconcile(
        &Declared::new(DeclaredState::Running, 4),
        &observed(fleet(0, 0), Some(kept)),
        at(now),
    );
    assert_eq!(
        d.actions,
        vec![Action::Scale { desired: 4 }],
        "resume restores the declared count"
    );
}

#[tokio::test]
async fn completion_scales_the_fleet_to_zero() {
    let osmem = support::Osmem::start();
    let t = support::target_client(&osmem.url);
    create_index(&t, None).await;
    let now = now();
    let mut docs = vec![("shard_setup".to_string(), setup_doc())];
    for shard in 0..3 {
        let mut c = completed("logs", now - 5);
        c["failedDocuments"] = json!(if shard == 1 { 2 } else { 0 });
        docs.push((item_id("logs", shard, 0), c));
    }
    put_docs(&t, None, &docs).await;
    let ws = TargetWorkingState {
        transport: t,
        store: FileOrS3Store::default(),
        session: None,
        destination: ArchiveDestination::new(Location::Local(".".into())),
        owner: None,
    };
    let p = ws.observe(at(now)).await.unwrap().unwrap();
    assert!(p.is_complete());
    let running = Declared::new(DeclaredState::Running, 4);
    let d = reconcile(&running, &observed(fleet(4, 4), Some(p.clone())), at(now));
    assert_eq!(d.actions, vec![Action::Scale { desired: 0 }]);
    assert_eq!(
        d.status.status,
        Status::CompletedWithErrors,
        "{}",
        d.status.reason
    );
    assert!(
        d.status.reason.contains("2 documents failed"),
        "{}",
        d.status.reason
    );
    let d = reconcile(&running, &observed(fleet(0, 0), Some(p)), at(now));
    assert!(d.actions.is_empty() && d.settled);
}

#[test]
fn restore_state_cli_recreates_the_index() {
    let osmem = support::Osmem::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("archive.json");
    std::fs::write(
        &file,
        serde_json::to_vec_pretty(
            &json!([{"shard_setup": setup_doc(), (item_id("a", 0, 0)): unclaimed("a")}]),
        )
        .unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new(support::backfill_bin())
        .args([
            "restore-state",
            file.to_str().unwrap(),
            "--target",
            &osmem.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("restored 2 documents into .migrations_working_state")
    );
    let out = std::process::Command::new(support::backfill_bin())
        .args(["status", "--deep-check", "--target", &osmem.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Shards total: 1\nShards completed: 0\n"),
        "{stdout}"
    );
}

#[tokio::test]
async fn target_health_reads_cluster_status_without_node_stats() {
    use backfill::converge::health::TargetHealth;
    use backfill::converge::ports::HealthSource;
    let osmem = support::Osmem::start();
    let h = TargetHealth {
        transport: support::target_client(&osmem.url),
    };
    let sample = h.sample().await.unwrap();
    assert!(
        ["green", "yellow"].contains(&sample.cluster_status.as_str()),
        "{sample:?}"
    );
    assert_eq!(sample.write_rejections, None, "osmem has no _nodes/stats");
}
