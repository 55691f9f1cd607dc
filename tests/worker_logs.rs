//! `backfill worker --log-format json` against osmem-server: every stdout line is one JSON object (what the
//! ECS task's awslogs driver ingests), the log messages are there, and the run ends with one CloudWatch EMF
//! document whose metric names are the dashboard's.

mod support;

use std::process::Command;

use serde_json::Value;

#[test]
fn json_logs_and_one_emf_document_per_run() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = support::shared_dir().join("fixtures/snapshots/ES_7_10_Single");
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: logs-test\nsource:\n  repository: {}\n  snapshot: global_state_snapshot\ntarget:\n  endpoint: {}\n",
            repo.display(),
            osmem.url
        ),
    )
    .expect("config");
    let out = Command::new(support::backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "worker", "--id", "w1"])
        .args(["--log-format", "json"])
        .output()
        .expect("run worker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.contains("item(s) completed"))),
        "{stdout}"
    );
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 1, "{stdout}");
    let emf = emf[0];
    assert_eq!(emf["MigrationName"], "logs-test");
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "OpenSearchMigrations"
    );
    assert!(
        emf["DocumentsMigrated"].as_u64().is_some_and(|n| n > 0),
        "{emf}"
    );
    assert!(
        emf["WorkItemsCompleted"].as_u64().is_some_and(|n| n > 0),
        "{emf}"
    );
    assert_eq!(emf["FailedDocuments"], 0);
    assert_eq!(emf["LeaseHandoffs"], 0);
}
