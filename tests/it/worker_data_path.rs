//! The worker's data path against real servers: documents the target rejects end up as NDJSON in a local
//! directory or an S3 bucket (moto); a worker whose clock disagrees with the target's refuses to take leases;
//! the `BACKFILL_*` variables of the ECS task run a worker without any migration.yaml and override one.

use crate::support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const REJECTED_ID: &str = "dkO8Zo4B5P7rRiUeuFRC";

fn fixture() -> std::path::PathBuf {
    support::shared_dir().join("fixtures/snapshots/ES_7_10_Single")
}

fn write_config(dir: &Path, target: &str, extra_worker: &str) -> std::path::PathBuf {
    let path = dir.join("migration.yaml");
    let yaml = format!(
        "version: 1\nname: data-path\nsource:\n  repository: {}\n  snapshot: global_state_snapshot\ntarget:\n  endpoint: {target}\nworker:\n  batch:\n    max_docs: 2\n{extra_worker}",
        fixture().display()
    );
    std::fs::write(&path, yaml).expect("config");
    path
}

fn worker(config: &Path, envs: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(support::backfill_bin());
    cmd.args(["-c", config.to_str().expect("utf8"), "worker", "--id", "w1"]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run worker")
}

fn curl(args: &[&str]) -> Value {
    let out = Command::new("curl")
        .arg("-s")
        .args(args)
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// `author` is text in the snapshot: one document of posts_2023_02_25 cannot be indexed.
fn conflicting_mapping(target: &str) {
    let created = curl(&[
        "-XPUT",
        &format!("{target}/posts_2023_02_25"),
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"mappings":{"properties":{"author":{"type":"integer"}}}}"#,
    ]);
    assert_eq!(created["acknowledged"], true, "{created}");
}

fn assert_rejection_line(line: &str) {
    let v: Value = serde_json::from_str(line).expect("NDJSON line");
    assert_eq!(v["index"], "posts_2023_02_25", "{v}");
    assert_eq!(v["id"], REJECTED_ID, "{v}");
    assert_eq!(v["error_type"], "mapper_parsing_exception", "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    assert_eq!(v.as_object().map(|o| o.len()), Some(4), "{v}");
}

#[test]
fn a_rejected_document_is_appended_to_the_workers_file() {
    let osmem = support::Osmem::start();
    conflicting_mapping(&osmem.url);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = write_config(tmp.path(), &osmem.url, "  failed_documents: failed\n");
    let out = worker(&config, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Bulk request succeeded, but some operations failed."),
        "{stderr}"
    );
    // Relative to the config file's directory; one file per worker id.
    let file = tmp.path().join("failed/w1.ndjson");
    let text = std::fs::read_to_string(&file).expect("failed-documents file");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_rejection_line(lines[0]);
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
}

#[tokio::test]
async fn a_rejected_document_is_uploaded_to_s3_when_its_item_completes() {
    let osmem = support::Osmem::start();
    let moto = support::Moto::start();
    conflicting_mapping(&osmem.url);
    let s3 = moto.s3_client();
    s3.create_bucket()
        .bucket("failures")
        .send()
        .await
        .expect("bucket");
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        tmp.path(),
        &osmem.url,
        "  failed_documents: s3://failures/backfill/rejected/\n",
    );
    let env = moto.env();
    let out = tokio::task::spawn_blocking(move || worker(&config, &env))
        .await
        .expect("join");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = s3
        .list_objects_v2()
        .bucket("failures")
        .prefix("backfill/rejected/w1/")
        .send()
        .await
        .expect("list");
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect();
    // One object for the one item with a rejection: <prefix><worker>/<run start ms>/<item id>.ndjson.
    assert_eq!(keys.len(), 1, "{keys:?}");
    let item_id = "cG9zdHNfMjAyM18wMl8yNQ__0__0"; // base64url("posts_2023_02_25")__0__0
    assert!(keys[0].ends_with(&format!("/{item_id}.ndjson")), "{keys:?}");
    let body = s3
        .get_object()
        .bucket("failures")
        .key(&keys[0])
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_rejection_line(text.lines().next().unwrap_or_default());
}

/// A target whose clock is an hour behind: it answers `_cat/health` and fails everything else, counting the
/// requests so the test can tell that nothing but the clock check was attempted.
fn skewed_target() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let others = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = others.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs()
                - 3_600;
            let (status, body) = if request_line.starts_with("GET / ") {
                // The version, which decides `_type` in bulk actions: an OpenSearch 2 target (none).
                (
                    "200 OK",
                    r#"{"version":{"distribution":"opensearch","number":"2.11.1"}}"#.to_string(),
                )
            } else if request_line.contains("/_cat/health") {
                (
                    "200 OK",
                    format!(r#"[{{"epoch":"{epoch}","status":"green"}}]"#),
                )
            } else {
                // Only the working state matters: no lease may be taken (the gzip probe may come first).
                if request_line.contains("migrations_working_state") {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                (
                    "500 Internal Server Error",
                    r#"{"error":"unexpected"}"#.to_string(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, others)
}

#[test]
fn a_worker_whose_clock_disagrees_with_the_targets_takes_no_lease() {
    let (url, others) = skewed_target();
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = write_config(tmp.path(), &url, "");
    let out = worker(&config, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refusing to take leases"), "{stderr}");
    assert!(
        stderr.contains("clock is 3600 s ahead of the target's"),
        "{stderr}"
    );
    assert_eq!(others.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn the_ecs_variables_run_a_worker_without_a_file_and_override_one() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let envs = [
        ("BACKFILL_NAME", "from-env".to_string()),
        (
            "BACKFILL_SOURCE_REPOSITORY",
            fixture().display().to_string(),
        ),
        (
            "BACKFILL_SOURCE_SNAPSHOT",
            "global_state_snapshot".to_string(),
        ),
        ("BACKFILL_TARGET_ENDPOINT", osmem.url.clone()),
        ("BACKFILL_INDICES_INCLUDE", "posts_2024_*".to_string()),
        ("BACKFILL_BATCH_MAX_DOCS", "1".to_string()),
        ("BACKFILL_MAX_CONNECTIONS", "2".to_string()),
    ];
    let absent = tmp.path().join("absent.yaml");
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stdout = support::run_worker_json(&["-c", absent.to_str().expect("utf8")], &envs);
    let emf: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert!(
        emf.iter().all(|d| d["MigrationName"] == "from-env"),
        "{stdout}"
    );
    // Only the included index, one document per bulk request.
    let docs: u64 = emf
        .iter()
        .filter_map(|d| d["DocumentsMigrated"].as_u64())
        .sum();
    let requests: u64 = emf.iter().filter_map(|d| d["BulkRequests"].as_u64()).sum();
    assert_eq!((docs, requests), (3, 3), "{stdout}");
    let _ = curl(&[&format!("{}/_refresh", osmem.url)]);
    assert_eq!(
        curl(&[&format!("{}/posts_2024_01_01/_count", osmem.url)])["count"],
        3
    );
    assert_eq!(
        curl(&[&format!("{}/posts_2023_02_25/_count", osmem.url)])["status"],
        404
    );

    // With a file, a variable wins over the file's value.
    let config = write_config(tmp.path(), &osmem.url, "");
    let out = worker(
        &config,
        &[("BACKFILL_TARGET_ENDPOINT", "http://127.0.0.1:9".to_string())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}
