//! Shared test helper: starts the real servers the integration tests talk to — `osmem-server` (an in-memory
//! OpenSearch-compatible target) and `moto_server` (AWS APIs) — on free loopback ports, and stops them when
//! dropped. The servers come from the Python venv that `scripts/test` installs (`BACKFILL_TEST_VENV`, default
//! `.venv` at the repository root). A missing venv is a loud failure, never a silent skip.
#![allow(dead_code)]

pub mod es6_proxy;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The venv that holds the test servers.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("BACKFILL_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    assert!(
        dir.join("bin/python").exists(),
        "test servers not installed: {} has no bin/python; run scripts/test once (it creates the venv)",
        dir.display()
    );
    dir
}

/// Path of a program installed in the venv (`moto_server`, `cfn-lint`).
pub fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.exists(),
        "{} missing; run scripts/test to install the test servers",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited during startup: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 30 s");
}

/// A running `osmem-server`. Stops when dropped (and by itself if the test process dies: it watches stdin).
pub struct Osmem {
    child: Child,
    _stdin: ChildStdin,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
}

impl Osmem {
    pub fn start() -> Self {
        let python = venv().join("bin/python");
        let out = Command::new(&python)
            .args([
                "-c",
                "import osmem_server; print(osmem_server.resolve_binary())",
            ])
            .output()
            .expect("run the venv's python");
        assert!(
            out.status.success(),
            "osmem_server not importable: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let binary = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut child = Command::new(&binary)
            .args(["--addr", "127.0.0.1:0", "--no-ja"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let stdin = child.stdin.take().expect("osmem stdin");
        let stdout = child.stdout.take().expect("osmem stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("osmem-server exited during startup"))
                .expect("read osmem");
            if let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(url) = msg.get("url").and_then(|u| u.as_str())
            {
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Osmem {
            child,
            _stdin: stdin,
            url,
        }
    }
}

impl Drop for Osmem {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `moto_server` (all AWS services on one port). Stops when dropped.
pub struct Moto {
    child: Child,
    /// Endpoint URL for the SDK's endpoint override, e.g. `http://127.0.0.1:40124`.
    pub url: String,
}

impl Moto {
    pub fn start() -> Self {
        let port = free_port();
        let mut child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        wait_for_port(port, "moto_server", &mut child);
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// An S3 client for this moto (fake static credentials, path-style addressing).
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        let creds =
            aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(creds)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Environment for a `backfill` process that should talk to this moto: endpoint override and fake
    /// static credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `../shared` beside the repository: fixtures and tools.
pub fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("fixtures").exists(),
        "{} not found: the shared fixtures must sit beside the repo",
        dir.display()
    );
    dir
}

/// Copies a directory tree (a fixture, to damage the copy and never the original).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Uploads every file under `dir` to `s3://bucket/prefix/<path relative to dir>` (creating nothing else).
pub fn upload_dir(
    client: &aws_sdk_s3::Client,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    bucket: &str,
    prefix: &str,
) {
    fn walk(dir: &Path, root: &Path, put: &mut dyn FnMut(&Path, String)) {
        for entry in std::fs::read_dir(dir).expect("read").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, put);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("relative")
                    .display()
                    .to_string();
                put(&path, relative);
            }
        }
    }
    walk(dir, dir, &mut |path, relative| {
        let body = std::fs::read(path).expect("file");
        rt.block_on(
            client
                .put_object()
                .bucket(bucket)
                .key(format!("{prefix}/{relative}"))
                .body(body.into())
                .send(),
        )
        .expect("put");
    });
}

/// The `backfill` binary built for this test run.
pub fn backfill_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_backfill"))
}

/// Runs `backfill worker --id w1 --log-format json` with `config_args` (e.g. `-c FILE`) and `envs`, requires
/// exit 0 (no work left; stdout and stderr in the failure message) and returns its stdout.
pub fn run_worker_json(config_args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(backfill_bin())
        .args(config_args)
        .args(["worker", "--id", "w1", "--log-format", "json"])
        .envs(envs.iter().copied())
        .output()
        .expect("run worker");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `GET url` as JSON (`Null` when the answer is not JSON): the tests' view of the target.
/// Runs `backfill -c CONFIG worker --id w1`, which must fail: returns its standard error.
pub fn run_worker_expecting_failure(config: &Path) -> String {
    let out = std::process::Command::new(backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "worker", "--id", "w1"])
        .output()
        .expect("run worker");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "the worker must fail: {stderr}");
    stderr
}

/// Asserts that the working state on `target` has work items and that none of them is completed.
pub fn assert_no_work_item_completed(target: &str) {
    let _ = get_json(&format!("{target}/.migrations_working_state/_refresh"));
    let found = get_json(&format!(
        "{target}/.migrations_working_state/_search?size=1000"
    ));
    let items: Vec<&serde_json::Value> = found["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["_id"] != "shard_setup")
        .collect();
    assert!(!items.is_empty(), "work items were created");
    assert!(
        items.iter().all(|h| h["_source"]["completedAt"].is_null()),
        "no work item is completed: {items:?}"
    );
}

pub fn get_json(url: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-s", url])
        .output()
        .expect("curl");
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// Documents in `index` on `target` after a refresh (0 when the index does not exist).
pub fn doc_count(target: &str, index: &str) -> u64 {
    let _ = get_json(&format!("{target}/{index}/_refresh"));
    get_json(&format!("{target}/{index}/_count"))["count"]
        .as_u64()
        .unwrap_or(0)
}

/// The sum of `failedDocuments` over the work items of `.migrations_working_state` on `target`.
pub fn failed_documents_recorded(target: &str) -> u64 {
    let _ = get_json(&format!("{target}/.migrations_working_state/_refresh"));
    let items = get_json(&format!(
        "{target}/.migrations_working_state/_search?size=100"
    ));
    items["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["_source"]["failedDocuments"].as_u64())
        .sum()
}

/// The target client for an open test server (osmem): no auth, default TLS, and no retries, so a test sees
/// every answer exactly as the server gave it.
pub fn target_client(url: &str) -> backfill::cluster::Client {
    use backfill::cluster::{Auth, Client, RetryPolicy, TlsSettings};
    Client::new(url, Auth::None, TlsSettings::default())
        .expect("target client")
        .with_retry_policy(RetryPolicy::none())
}

/// Percent-encodes an id for a URL path (ids may hold `/`, `:` and non-ASCII).
pub fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Asserts that `target` holds the expected document `doc` (`id`, `routing` when it has one, `source` as JSON
/// text) in `index` with that source; the failure message is `{context}{index}/{id}`.
pub fn assert_document_landed(target: &str, index: &str, doc: &Value, context: &str) {
    let id = doc["id"].as_str().expect("id");
    let routing = doc["routing"]
        .as_str()
        .map(|r| format!("?routing={r}"))
        .unwrap_or_default();
    let got = get_json(&format!("{target}/{index}/_doc/{}{routing}", encode(id)));
    let want: Value =
        serde_json::from_str(doc["source"].as_str().expect("source")).expect("source json");
    assert_eq!(got["_source"], want, "{context}{index}/{id}");
}

/// `DELETE url` (the answer is ignored: deleting what is not there is fine).
pub fn delete(url: &str) {
    let _ = Command::new("curl")
        .args(["-s", "-XDELETE", url])
        .output()
        .expect("curl");
}
