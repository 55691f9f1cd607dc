//! Failures reach the user, end to end on the local platform against `osmem-server`: a blob removed after `plan`
//! is refused by `apply`'s own preflight; workers that cannot read the snapshot (stored fields damaged past the
//! header the preflight reads) end `apply --wait` with the cause and show in `status`;
//! the supervisor stops a permanent crash loop by itself and a fixed source then completes; a transient crash
//! loop is `Failing` and keeps restarting.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::local_e2e::{Migration, assert_target_equals, scenario, wait_until};
use crate::synthetic::SyntheticSnapshot;

/// Every shard's stored-fields data blob (the `.fdt` file: a Lucene header whose codec name ends in `Data`).
fn stored_fields_blobs(snap: &SyntheticSnapshot) -> Vec<PathBuf> {
    let mut blobs = Vec::new();
    let indices = snap.repository.join("indices");
    for index in std::fs::read_dir(&indices).expect("indices").flatten() {
        for shard in std::fs::read_dir(index.path()).expect("index").flatten() {
            if !shard.path().is_dir() {
                continue;
            }
            for blob in std::fs::read_dir(shard.path()).expect("shard").flatten() {
                let name = blob.file_name().to_string_lossy().to_string();
                // The header is enough: Lucene's codec name sits in the first bytes.
                let mut head = Vec::with_capacity(64);
                std::fs::File::open(blob.path())
                    .and_then(|f| f.take(64).read_to_end(&mut head))
                    .expect("blob header");
                let head = String::from_utf8_lossy(&head).to_string();
                if name.starts_with("__") && head.contains("StoredFields") && head.contains("Data")
                {
                    blobs.push(blob.path());
                }
            }
        }
    }
    assert!(!blobs.is_empty(), "the repository has stored-fields blobs");
    blobs
}

/// Flips one byte in the middle of every shard's stored-fields data, past the header the preflight reads:
/// the snapshot still plans cleanly, but no worker can read a shard (a checksum or a chunk fails). Returns the
/// flips to undo.
fn damage_stored_fields(snap: &SyntheticSnapshot) -> Vec<(PathBuf, usize)> {
    stored_fields_blobs(snap)
        .into_iter()
        .map(|blob| {
            let mut bytes = std::fs::read(&blob).expect("blob");
            let at = bytes.len() / 2;
            bytes[at] ^= 0x5a;
            std::fs::write(&blob, bytes).expect("damage blob");
            (blob, at)
        })
        .collect()
}

/// Undoes [`damage_stored_fields`].
fn repair(flips: Vec<(PathBuf, usize)>) {
    for (blob, at) in flips {
        let mut bytes = std::fs::read(&blob).expect("blob");
        bytes[at] ^= 0x5a;
        std::fs::write(&blob, bytes).expect("repair blob");
    }
}

fn text_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `status` as text, and its JSON document.
fn status_both(m: &Migration) -> (String, serde_json::Value) {
    let text = String::from_utf8_lossy(&m.backfill(&["status"]).stdout).to_string();
    (text, m.status())
}

#[test]
fn a_blob_removed_after_plan_is_refused_by_apply_and_one_damaged_ends_apply_wait_with_the_cause() {
    let (_tmp, snap, _osmem, m) = scenario("fail-blob", &[("logs", 2, 300)]);
    let plan = m.backfill(&["plan"]);
    assert!(plan.status.success(), "{}", text_of(&plan));

    // Removed after `plan`: `apply` checks again before it changes anything, and names the file.
    let blob = stored_fields_blobs(&snap).remove(0);
    let kept = std::fs::read(&blob).expect("blob");
    std::fs::remove_file(&blob).expect("remove blob");
    let out = m.backfill(&["apply", "--auto-approve", "--wait"]);
    let text = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("cannot be opened"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!m.state_dir().exists(), "nothing deployed: {text}");
    std::fs::write(&blob, kept).expect("put the blob back");

    // Damaged where only a worker reads it: the workers fail, the crash loop stops, `apply --wait` ends.
    damage_stored_fields(&snap);
    let out = m.backfill(&["apply", "--auto-approve", "--wait", "--wait-timeout", "5m"]);
    let text = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Backfill Failing: "), "{text}");
    assert!(
        text.contains("exited 5 in the last 5 minutes: the snapshot cannot be read: snapshot"),
        "{text}"
    );
    assert!(text.contains("restarts stopped"), "{text}");
    assert!(
        text.contains("the workers failed and were not restarted"),
        "{text}"
    );

    // A worker still reading when the restarts stopped ends on its own (it fails at the same checksum).
    wait_until("the last worker to end", Duration::from_secs(60), || {
        m.status()["workers"]["running"] == 0
    });
    let (lines, json) = status_both(&m);
    assert!(
        lines.starts_with("BackfillStatus.STOPPED\nRunning=0\nPending=0\nDesired=0\n"),
        "{lines}"
    );
    assert!(lines.contains("\nStatus: Failing\nReason: "), "{lines}");
    assert!(lines.contains("the snapshot cannot be read"), "{lines}");
    assert_eq!(json["status"], "Failing", "{json}");
    let failures = json["worker_failures"].as_array().expect("failures");
    assert!(failures.len() >= 3, "{json}");
    for f in failures {
        assert_eq!(f["exit_code"], 5, "{json}");
        assert!(
            f["worker"]
                .as_str()
                .is_some_and(|w| w.starts_with("worker-")),
            "{json}"
        );
        assert!(
            f["message"]
                .as_str()
                .is_some_and(|w| w.contains("the snapshot cannot be read")),
            "{json}"
        );
    }
}

#[test]
fn the_supervisor_stops_a_permanent_crash_loop_by_itself_and_a_fixed_source_completes() {
    let (_tmp, snap, osmem, m) = scenario("fail-loop", &[("logs", 2, 300)]);
    let flips = damage_stored_fields(&snap);

    // One converge pass, no loop left running: the supervisor alone must stop restarting.
    m.ok(&["apply", "--auto-approve"]);
    let desired = m.state_dir().join("desired");
    wait_until(
        "the supervisor stopping the restarts",
        Duration::from_secs(90),
        || std::fs::read_to_string(&desired).is_ok_and(|d| d.trim() == "0"),
    );
    let logs = m.worker_log_files();
    let supervisor_log =
        std::fs::read_to_string(m.state_dir().join("logs/supervisor.log")).unwrap_or_default();
    assert!(
        supervisor_log.contains("restarts stopped"),
        "{supervisor_log}"
    );
    let (lines, json) = status_both(&m);
    assert!(lines.contains("\nStatus: Failing\n"), "{lines}");
    assert!(
        json["reason"]
            .as_str()
            .is_some_and(|r| r.contains("exited 5")),
        "{json}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        m.worker_log_files(),
        logs,
        "no worker started after the restarts stopped"
    );

    // The source is fixed: the next apply starts afresh, not stopped by the failures it came to fix. The
    // damaged byte reached documents that were sent before the checksum caught it; the checkpoint never
    // moved past them, so they are sent again and the target ends exact.
    repair(flips);
    let text = m.ok(&["apply", "--auto-approve", "--wait", "--wait-timeout", "5m"]);
    assert!(text.contains("Backfill Completed"), "{text}");
    assert_target_equals(&osmem.url, &snap);
    let json = m.status();
    assert_eq!(json["status"], "Completed", "{json}");
    assert_eq!(json["worker_failures"], serde_json::json!([]), "{json}");
}

#[test]
fn a_transient_crash_loop_is_failing_and_keeps_restarting() {
    let (_tmp, _snap, _osmem, m) = scenario("fail-transient", &[("logs", 1, 50)]);
    // Only the workers read this variable; every one of them exits 1 at start (a transient error exit).
    let out = std::process::Command::new(crate::support::backfill_bin())
        .current_dir(m.state_dir().parent().and_then(Path::parent).expect("dir"))
        .env("BACKFILL_BATCH_MAX_DOCS", "many")
        .arg("-c")
        .arg(m.config())
        .args(["apply", "--auto-approve"])
        .output()
        .expect("apply");
    assert!(out.status.success(), "{}", text_of(&out));
    wait_until("status Failing", Duration::from_secs(60), || {
        m.status()["status"] == "Failing"
    });
    let json = m.status();
    let reason = json["reason"].as_str().unwrap_or_default().to_string();
    assert!(
        reason.contains("exited 1 in the last 5 minutes: "),
        "{json}"
    );
    assert!(reason.contains("BACKFILL_BATCH_MAX_DOCS"), "{json}");
    assert!(!reason.contains("restarts stopped"), "{json}");
    let started = m.worker_log_files();
    wait_until("more restarts", Duration::from_secs(60), || {
        m.worker_log_files() > started
    });
    assert_eq!(json["workers"]["desired"], 2, "{json}");
    let desired = std::fs::read_to_string(m.state_dir().join("desired")).unwrap_or_default();
    assert_eq!(desired.trim(), "2", "transient failures keep the fleet");
}
