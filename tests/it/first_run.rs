//! The main job on a fresh clone: `examples/local` copied alone into an empty directory (so nothing outside it,
//! `../shared` included, can be reached) migrates its sample snapshot to Completed, every document exactly once,
//! and `destroy` leaves nothing behind.

use std::path::Path;
use std::process::{Command, Output};

use crate::support;

/// Documents per index of `examples/local/sample-snapshot` (scripts/make-sample-snapshot).
const SAMPLE: [(&str, u64); 3] = [("orders", 3000), ("customers", 1500), ("events", 2500)];

fn run(dir: &Path, target: &str, args: &[&str]) -> Output {
    Command::new(support::backfill_bin())
        .current_dir(dir)
        .env("BACKFILL_TARGET_ENDPOINT", target)
        .env_remove("BACKFILL_SOURCE_REPOSITORY")
        .env_remove("BACKFILL_SOURCE_SNAPSHOT")
        .env("NO_COLOR", "1")
        .args(["-c", "migration.yaml"])
        .args(args)
        .output()
        .expect("run backfill")
}

fn ok(dir: &Path, target: &str, args: &[&str]) -> String {
    let out = run(dir, target, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "backfill {args:?}: {stderr}");
    stderr + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn the_local_example_needs_nothing_beside_the_repository() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let example = tmp.path().join("clone/examples/local");
    support::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/local"),
        &example,
    );
    let osmem = support::Osmem::start();

    let plan = ok(&example, &osmem.url, &["plan"]);
    assert!(
        plan.contains("3 indices, 7 shards, 7000 live documents"),
        "{plan}"
    );
    let applied = ok(&example, &osmem.url, &["apply", "--auto-approve", "--wait"]);
    assert!(applied.contains("Completed"), "{applied}");
    for (index, documents) in SAMPLE {
        assert_eq!(support::doc_count(&osmem.url, index), documents, "{index}");
    }
    let status = ok(&example, &osmem.url, &["status", "--deep-check"]);
    assert!(status.contains("Status: Completed"), "{status}");
    ok(&example, &osmem.url, &["destroy", "--auto-approve"]);
    assert!(
        !example.join(".backfill").join("local-demo").exists(),
        "destroy removes the local state"
    );
}
