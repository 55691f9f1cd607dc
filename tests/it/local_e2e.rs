//! The embedded runtime end to end: `platform: local` against a real `osmem-server`, with synthetic snapshots
//! written by real Lucene. Each test drives the `backfill` binary exactly as a user would (apply, status,
//! destroy, restore-state), and checks the target document by document.

use crate::support;
use crate::synthetic;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use synthetic::SyntheticSnapshot;

/// One migration directory; destroys what it made when dropped (even when the test fails).
pub(crate) struct Migration {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) name: String,
    target: String,
}

impl Migration {
    pub(crate) fn new(name: &str, snap: &SyntheticSnapshot, target: &str) -> Self {
        let m = Migration {
            dir: tempfile::tempdir().expect("tempdir"),
            name: name.into(),
            target: target.into(),
        };
        m.write(snap, "running", 2);
        m
    }

    pub(crate) fn write(&self, snap: &SyntheticSnapshot, state: &str, workers: u32) {
        self.write_with(snap, state, workers, "");
    }

    /// [`Migration::write`] with `backfill_lines` (indented `  key: value` lines) added to `backfill:`.
    pub(crate) fn write_with(
        &self,
        snap: &SyntheticSnapshot,
        state: &str,
        workers: u32,
        backfill_lines: &str,
    ) {
        let yaml = format!(
            "version: 1\nname: {}\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {}\n\
             backfill:\n  state: {state}\n  workers: {workers}\n  stop_timeout: 30s\n{backfill_lines}\
             worker:\n  lease: 1m\n  batch:\n    max_docs: 100\n",
            self.name,
            snap.repository.display(),
            snap.snapshot,
            self.target
        );
        std::fs::write(self.config(), yaml).expect("write config");
    }

    pub(crate) fn config(&self) -> PathBuf {
        self.dir.path().join("migration.yaml")
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.dir.path().join(".backfill").join(&self.name)
    }

    pub(crate) fn backfill(&self, args: &[&str]) -> Output {
        Command::new(support::backfill_bin())
            .current_dir(self.dir.path())
            .arg("-c")
            .arg(self.config())
            .args(args)
            .output()
            .expect("run backfill")
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.backfill(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "backfill {args:?} failed:\n{text}");
        text
    }

    pub(crate) fn status(&self) -> Value {
        let out = self.backfill(&["status", "--deep-check", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Worker processes of this migration (by their config path on the command line).
    fn processes(&self) -> Vec<u32> {
        let out = Command::new("pgrep")
            .args(["-f", &self.config().display().to_string()])
            .output()
            .expect("pgrep");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Log files the migration's worker processes wrote (one per process started).
    pub(crate) fn worker_log_files(&self) -> usize {
        std::fs::read_dir(self.state_dir().join("logs"))
            .expect("logs")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("worker-"))
            .count()
    }

    fn worker_pids(&self) -> Vec<u32> {
        let out = Command::new("pgrep")
            .args(["-f", &format!("worker --id {}-", self.name)])
            .output()
            .expect("pgrep");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }
}

impl Drop for Migration {
    fn drop(&mut self) {
        let _ = self.backfill(&["destroy", "--auto-approve", "--keep-working-state"]);
        for pid in self.processes() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// A scenario's world in a fresh temporary directory: a synthetic snapshot of `indices` (name, shards,
/// documents), a fresh `osmem-server` target and the migration `name` between them (running, 2 workers).
/// Bind the parts in this order: they drop in reverse, so the migration is destroyed while its target still runs.
pub(crate) fn scenario(
    name: &str,
    indices: &[(&str, usize, usize)],
) -> (
    tempfile::TempDir,
    SyntheticSnapshot,
    support::Osmem,
    Migration,
) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(tmp.path(), indices);
    let osmem = support::Osmem::start();
    let m = Migration::new(name, &snap, &osmem.url);
    (tmp, snap, osmem, m)
}

/// Every expected document is in the target, with its source, and nothing else is.
pub(crate) fn assert_target_equals(target: &str, snap: &SyntheticSnapshot) {
    for (index, docs) in &snap.expected {
        assert_eq!(
            support::doc_count(target, index),
            docs.len() as u64,
            "documents in {index}"
        );
        for doc in docs.iter().step_by(37) {
            let got = support::get_json(&format!("{target}/{index}/_doc/{}", doc.id));
            let want: Value = serde_json::from_str(&doc.source).expect("source json");
            assert_eq!(got["_source"], want, "{index}/{}", doc.id);
        }
    }
}

/// Declares `m` running again: `apply --wait` completes it, the target then holds exactly the snapshot's
/// documents, and destroy leaves nothing behind.
fn assert_running_again_completes_exactly(m: &Migration, snap: &SyntheticSnapshot, target: &str) {
    m.write(snap, "running", 2);
    let text = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(text.contains("Backfill Completed"), "{text}");
    assert_target_equals(target, snap);
    assert_destroyed(m);
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn migrated(m: &Migration) -> u64 {
    m.status()["documents_migrated"].as_u64().unwrap_or(0)
}

fn assert_destroyed(m: &Migration) {
    let text = m.ok(&["destroy", "--auto-approve"]);
    assert!(text.contains("Destroy complete"), "{text}");
    assert!(!m.state_dir().exists(), "state directory removed");
    assert!(
        m.processes().is_empty(),
        "no process left: {:?}",
        m.processes()
    );
    let again = m.ok(&["destroy", "--auto-approve"]);
    assert!(again.contains("Nothing to destroy."), "{again}");
}

#[test]
fn apply_wait_migrates_a_multi_index_multi_shard_snapshot_with_two_workers() {
    let (_tmp, snap, osmem, m) = scenario("e2e-full", &[("logs", 2, 700), ("events", 3, 400)]);

    let plan = m.backfill(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "changes present");
    let text = String::from_utf8_lossy(&plan.stderr);
    assert!(text.contains("+ worker service (local)"), "{text}");
    assert!(
        text.contains("Plan: 3 to add, 0 to change, 0 to destroy; fleet 0 -> 2."),
        "{text}"
    );

    let text = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(text.contains("Backfill Completed"), "{text}");
    assert_target_equals(&osmem.url, &snap);

    let status = m.status();
    assert_eq!(status["status"], "Completed", "{status}");
    assert_eq!(status["workers"]["desired"], 0, "{status}");
    assert_eq!(status["shards"]["total"], 5, "{status}");
    assert_eq!(
        status["documents_migrated"],
        snap.total() as u64,
        "{status}"
    );
    let text = String::from_utf8_lossy(&m.backfill(&["status"]).stdout).to_string();
    assert!(text.starts_with("BackfillStatus."), "{text}");
    assert!(text.contains("Desired=0"), "{text}");

    // Two workers shared the work: both wrote a log file in the log group.
    let logs = m.worker_log_files();
    assert!(logs >= 2, "one log file per worker process");

    crate::dashboard_e2e::assert_completed_page(&m);

    // The counts agree per index; one document less on the target is reported and fails the command.
    let text = m.ok(&["compare", "--refresh"]);
    assert_eq!(text.matches(" ok").count(), 2, "{text}");
    let victim = &snap.expected["logs"][0].id;
    let _ = Command::new("curl")
        .args([
            "-s",
            "-XDELETE",
            &format!("{}/logs/_doc/{victim}?refresh=true", osmem.url),
        ])
        .output();
    let out = m.backfill(&["compare"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DIFFERENT"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 index(es) differ"));

    // Nothing changes on a second plan; the fleet stays at 0 once completed.
    let again = m.backfill(&["plan", "--detailed-exitcode"]);
    let text = String::from_utf8_lossy(&again.stderr);
    assert!(
        text.contains("Plan: 0 to add, 0 to change, 0 to destroy"),
        "{text}"
    );

    assert_destroyed(&m);
}

#[test]
fn paused_mid_run_then_running_again_loses_and_duplicates_nothing() {
    let (_tmp, snap, osmem, m) = scenario("e2e-pause", &[("orders", 4, 6000)]);

    m.ok(&["apply", "--auto-approve"]);
    wait_until("documents to flow", Duration::from_secs(120), || {
        support::doc_count(&osmem.url, "orders") > 0
    });
    m.write(&snap, "paused", 2);
    let text = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(text.contains("Backfill Paused"), "{text}");
    wait_until("workers to stop", Duration::from_secs(60), || {
        m.worker_pids().is_empty()
    });
    let paused_at = support::doc_count(&osmem.url, "orders");
    assert!(
        paused_at < snap.total() as u64,
        "paused before the end ({paused_at} of {})",
        snap.total()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        support::doc_count(&osmem.url, "orders"),
        paused_at,
        "nothing moves while paused"
    );
    assert_eq!(m.status()["workers"]["desired"], 0);

    assert_running_again_completes_exactly(&m, &snap, &osmem.url);
}

#[test]
fn sigkilled_workers_are_restarted_and_the_migration_completes_exactly() {
    let (_tmp, snap, osmem, m) = scenario("e2e-chaos", &[("chaos", 6, 3000)]);
    m.write(&snap, "running", 3);

    let apply = Command::new(support::backfill_bin())
        .current_dir(m.dir.path())
        .arg("-c")
        .arg(m.config())
        .args(["apply", "--auto-approve", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn apply");
    let mut kills = 0;
    let mut rng_state = 0x9e37_79b9_u32;
    let deadline = Instant::now() + Duration::from_secs(60);
    while kills < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        let pids = m.worker_pids();
        if pids.is_empty() {
            continue;
        }
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 17;
        rng_state ^= rng_state << 5;
        let victim = pids[rng_state as usize % pids.len()];
        if Command::new("kill")
            .args(["-9", &victim.to_string()])
            .status()
            .is_ok_and(|s| s.success())
        {
            kills += 1;
        }
    }
    assert!(kills >= 2, "killed workers mid-run ({kills})");
    let out = apply.wait_with_output().expect("apply");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Backfill Completed"), "{text}");
    assert_target_equals(&osmem.url, &snap);
    let restarted = m.worker_log_files();
    assert!(
        restarted > 3,
        "the supervisor restarted killed workers ({restarted} processes)"
    );
    assert_destroyed(&m);
}

#[test]
fn stopped_archives_then_restore_state_and_running_resume() {
    let (_tmp, snap, osmem, m) = scenario("e2e-stop", &[("books", 3, 3000)]);

    m.ok(&["apply", "--auto-approve"]);
    wait_until("a work item to complete", Duration::from_secs(120), || {
        m.status()["shards"]["completed"].as_u64().unwrap_or(0) >= 1
    });
    m.write(&snap, "stopped", 2);
    let text = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(text.contains("Backfill Stopped"), "{text}");
    // One archive, and the working state's owner record beside it.
    let (archives, records): (Vec<PathBuf>, Vec<PathBuf>) =
        std::fs::read_dir(m.dir.path().join(".backfill/_archives/e2e-stop"))
            .expect("archive directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .partition(|p| !p.to_string_lossy().ends_with(".identity.json"));
    assert_eq!(archives.len(), 1, "one archive: {archives:?}");
    assert_eq!(
        records,
        vec![PathBuf::from(format!(
            "{}.identity.json",
            archives[0].display()
        ))]
    );
    let index = support::get_json(&format!("{}/.migrations_working_state/_count", osmem.url));
    assert!(index["count"].is_null(), "working state deleted: {index}");
    m.ok(&["restore-state", archives[0].to_str().expect("utf8")]);
    let restored = m.status();
    assert!(
        restored["shards"]["completed"].as_u64().unwrap_or(0) >= 1 && migrated(&m) > 0,
        "restored progress: {restored}"
    );
    assert_running_again_completes_exactly(&m, &snap, &osmem.url);
}
