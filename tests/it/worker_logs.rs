//! `backfill worker --log-format json` against osmem-server: every stdout line is one JSON object (what the
//! ECS task's awslogs driver ingests), the log messages are there, and the CloudWatch EMF documents use only the
//! dashboard's metric names: counter deltas (periodic and one at the end) that add up to the run's totals, and
//! shard gauges with `ShardDurationMs` when an item completes.

use crate::support;

use serde_json::Value;

#[test]
fn json_logs_and_emf_documents_with_dashboard_names_and_deltas() {
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
    let stdout = support::run_worker_json(&["-c", config.to_str().expect("utf8")], &[]);
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
    for doc in &emf {
        assert_eq!(doc["MigrationName"], "logs-test");
        let meta = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(meta["Namespace"], "OpenSearchMigrations");
        for metric in meta["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("name");
            assert!(
                backfill::render::metrics::WORKER_METRICS.contains(&name),
                "{name} is not a dashboard metric"
            );
            assert!(doc[name].is_u64(), "{name} without a value: {doc}");
        }
    }
    // Both lists match: over a run the worker emits every metric the dashboard may chart, and nothing else.
    let mut emitted: Vec<&str> = emf
        .iter()
        .flat_map(|d| {
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .filter_map(|m| m["Name"].as_str())
        .collect();
    emitted.sort_unstable();
    emitted.dedup();
    let mut listed = backfill::render::metrics::WORKER_METRICS.to_vec();
    listed.sort_unstable();
    assert_eq!(
        emitted, listed,
        "the worker's EMF names and the dashboard's list"
    );
    let sum = |name: &str| -> u64 { emf.iter().filter_map(|d| d[name].as_u64()).sum() };
    let counters: Vec<&&Value> = emf
        .iter()
        .filter(|d| d.get("DocumentsMigrated").is_some())
        .collect();
    assert!(!counters.is_empty(), "{stdout}");
    // The last line of a run is a counters line (the deltas left at the end).
    assert!(
        emf.last()
            .is_some_and(|d| d.get("DocumentsMigrated").is_some()),
        "{stdout}"
    );
    // ES_7_10_Single: two indices of one shard, with 1 and 3 documents.
    assert_eq!(sum("DocumentsMigrated"), 4, "{stdout}");
    assert_eq!(sum("WorkItemsCompleted"), 2, "{stdout}");
    assert_eq!(sum("FailedDocuments"), 0);
    assert_eq!(sum("LeaseHandoffs"), 0);
    // Gauges: at start, then one line per completed item with its duration.
    let gauges: Vec<&&Value> = emf
        .iter()
        .filter(|d| d.get("ShardsTotal").is_some())
        .collect();
    assert_eq!(gauges.len(), 3, "{stdout}");
    assert_eq!(gauges[0]["ShardsCompleted"], 0);
    assert!(gauges[0].get("ShardDurationMs").is_none());
    assert_eq!(
        emf.iter()
            .filter(|d| d.get("ShardDurationMs").is_some())
            .count(),
        2
    );
    let last = gauges[gauges.len() - 1];
    assert_eq!(last["ShardsTotal"], 2, "{last}");
    assert_eq!(last["ShardsCompleted"], 2, "{last}");
}
