//! The target client (`backfill::cluster::Client`) against real servers: osmem-server for the document API,
//! moto_server for Secrets Manager, and a tiny header-capture listener (not an OpenSearch fake: it records the
//! raw request and replays scripted statuses) to check auth headers, retries and gzip on the wire.

use crate::support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use backfill::aws_sdk::AwsSdk;
use backfill::cluster::transport::{Body, JsonTransport, Method, TransportError};
use backfill::cluster::{Client, ClusterError, RetryPolicy};
use backfill::config::{MapEnv, PasswordSource, Sigv4Service, Target, TargetAuth, Tls};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------------------
// Header-capture listener

/// One request as it arrived.
#[derive(Debug, Clone)]
struct Captured {
    request_line: String,
    /// Lower-case header names.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// What the listener does with the next request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// A status with a `Retry-After` of this many seconds.
    RetryAfter(u16, u32),
    /// Close the connection without answering (a dropped connection).
    Drop,
}

/// A loopback listener that records requests and answers them from a script (the last entry repeats).
struct Capture {
    url: String,
    seen: Arc<Mutex<Vec<Captured>>>,
}

impl Capture {
    fn start(script: &[Reply]) -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind capture listener");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (script, record) = (script.to_vec(), seen.clone());
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let reply = script[i.min(script.len() - 1)];
                serve(stream, reply, &record);
            }
        });
        Capture { url, seen }
    }

    fn requests(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }
}

/// Records the request *before* answering, so a client that has its answer always finds its request recorded.
fn serve(stream: std::net::TcpStream, reply: Reply, record: &Mutex<Vec<Captured>>) -> Option<()> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    record.lock().ok()?.push(Captured {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    });
    let mut stream = stream;
    let (status, extra) = match reply {
        Reply::Status(status) => (status, String::new()),
        Reply::RetryAfter(status, seconds) => (status, format!("retry-after: {seconds}\r\n")),
        Reply::Drop => return Some(()),
    };
    let text = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 2\r\n{extra}connection: close\r\n\r\n{{}}"
    );
    stream.write_all(text.as_bytes()).ok()?;
    Some(())
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

fn target(endpoint: &str, auth: TargetAuth) -> Target {
    Target {
        endpoint: endpoint.to_string(),
        auth,
        tls: Tls::default(),
        emit_type: Default::default(),
        aws: Default::default(),
    }
}

fn static_aws(endpoint: Option<&str>) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "AKIDTESTING",
                "secret-key-testing",
                None,
                None,
                "test",
            )),
        );
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

async fn none_client(url: &str) -> Client {
    Client::from_target(
        &target(url, TargetAuth::None),
        &MapEnv::default(),
        &AwsSdk::default(),
    )
    .await
    .expect("client")
}

const NDJSON: &str = "{\"index\":{\"_index\":\"books\",\"_id\":\"2\"}}\n{\"title\":\"Dune\"}\n\
                      {\"index\":{\"_index\":\"books\",\"_id\":\"3\"}}\n{\"title\":\"Emma\"}\n";

// ---------------------------------------------------------------------------------------------------------
// Against osmem-server

#[tokio::test]
async fn documents_search_missing_index_and_bulk_against_osmem() {
    let osmem = support::Osmem::start();
    let client = none_client(&osmem.url).await;
    assert_eq!(client.url(), osmem.url);

    let put = client
        .send(
            Method::Put,
            "/books/_doc/1?refresh=true",
            Some(Body::Json(json!({"title": "Ulysses"}))),
        )
        .await
        .expect("index a document");
    assert!((200..300).contains(&put.status), "{put:?}");

    let missing = client
        .send(Method::Get, "/no-such-index/_doc/1", None)
        .await
        .expect("404 is an answer, not an error");
    assert_eq!(missing.status, 404);

    let bulk = client
        .send(
            Method::Post,
            "/_bulk?refresh=true",
            Some(Body::Ndjson(NDJSON.into())),
        )
        .await
        .expect("bulk");
    assert_eq!(bulk.status, 200);
    assert_eq!(bulk.body["errors"], json!(false), "{:?}", bulk.body);
    assert_eq!(bulk.body["items"].as_array().map(Vec::len), Some(2));

    let search = client
        .send(
            Method::Post,
            "/books/_search",
            Some(Body::Json(json!({"query": {"match_all": {}}}))),
        )
        .await
        .expect("search");
    assert_eq!(
        search.body["hits"]["total"]["value"],
        json!(3),
        "{:?}",
        search.body
    );

    let got = client
        .send(Method::Get, "/books/_doc/2", None)
        .await
        .expect("get");
    assert_eq!(got.body["_source"]["title"], json!("Dune"));
}

// ---------------------------------------------------------------------------------------------------------
// Basic auth from Secrets Manager (moto) and from the environment

async fn create_secret(aws: &SdkConfig, name: &str, value: &str) -> String {
    let sm = aws_sdk_secretsmanager::Client::new(aws);
    let out = sm
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret in moto");
    out.arn.expect("secret ARN")
}

fn basic_header(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

#[tokio::test]
async fn basic_auth_password_comes_from_a_secrets_manager_secret() {
    let moto = support::Moto::start();
    let aws = static_aws(Some(&moto.url));
    let json_arn = create_secret(
        &aws,
        "target-json",
        r#"{"username":"admin","password":"Js0n-Pa55!"}"#,
    )
    .await;
    let raw_arn = create_secret(&aws, "target-raw", "Raw-Pa55!").await;

    let capture = Capture::start(&[Reply::Status(200)]);
    for (arn, password) in [(&json_arn, "Js0n-Pa55!"), (&raw_arn, "Raw-Pa55!")] {
        let auth = TargetAuth::Basic {
            username: "admin".into(),
            password: PasswordSource::SecretArn(arn.clone()),
        };
        let client = Client::from_target(
            &target(&capture.url, auth),
            &MapEnv::default(),
            &AwsSdk::loaded(aws.clone()),
        )
        .await
        .expect("basic-auth client from the secret");
        let debug = format!("{client:?}");
        assert!(!debug.contains(password), "{debug}");
        client.send(Method::Get, "/", None).await.expect("send");
        let last = capture.requests().pop().expect("a request");
        assert_eq!(
            last.headers.get("authorization"),
            Some(&basic_header("admin", password))
        );
    }

    // A secret that does not exist: a typed error naming the ARN.
    let missing =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist-AbCdEf".to_string();
    let auth = TargetAuth::Basic {
        username: "admin".into(),
        password: PasswordSource::SecretArn(missing.clone()),
    };
    let err = Client::from_target(
        &target(&capture.url, auth),
        &MapEnv::default(),
        &AwsSdk::loaded(aws.clone()),
    )
    .await
    .expect_err("missing secret");
    assert!(
        matches!(&err, ClusterError::SecretFetch { arn, .. } if *arn == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains(&missing), "{err}");
}

#[tokio::test]
async fn basic_auth_from_env_and_unauthorized_answers_hold_no_password() {
    let capture = Capture::start(&[Reply::Status(401)]);
    let auth = TargetAuth::Basic {
        username: "admin".into(),
        password: PasswordSource::Env("TARGET_PASSWORD".into()),
    };
    let env = MapEnv::default().with("TARGET_PASSWORD", "Env-Pa55!");
    let client = Client::from_target(
        &target(&capture.url, auth.clone()),
        &env,
        &AwsSdk::default(),
    )
    .await
    .expect("client");
    let err = client
        .send(Method::Get, "/_cluster/health", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("Env-Pa55!") && !format!("{err:?}").contains("Env-Pa55!"));
    assert!(!format!("{client:?}").contains("Env-Pa55!"));
    let seen = capture.requests();
    assert_eq!(seen.len(), 1, "401 is not retried");
    assert_eq!(
        seen[0].headers.get("authorization"),
        Some(&basic_header("admin", "Env-Pa55!"))
    );

    let err = Client::from_target(
        &target(&capture.url, auth),
        &MapEnv::default(),
        &AwsSdk::default(),
    )
    .await
    .expect_err("unset variable");
    assert!(matches!(&err, ClusterError::PasswordEnvUnset { var } if var == "TARGET_PASSWORD"));
}

// ---------------------------------------------------------------------------------------------------------
// SigV4

#[tokio::test]
async fn sigv4_signs_every_request_with_a_body_hash_for_es_and_aoss() {
    let aws = static_aws(None);
    for (service, name, gzip) in [
        (Sigv4Service::Es, "es", false),
        (Sigv4Service::Aoss, "aoss", true),
    ] {
        let capture = Capture::start(&[Reply::Status(200)]);
        let auth = TargetAuth::Sigv4 {
            service,
            region: "eu-west-1".into(),
        };
        let client = Client::from_target(
            &target(&capture.url, auth),
            &MapEnv::default(),
            &AwsSdk::loaded(aws.clone()),
        )
        .await
        .expect("sigv4 client")
        .with_gzip(gzip);
        assert!(!format!("{client:?}").contains("secret-key-testing"));
        client
            .send(Method::Post, "/_bulk", Some(Body::Ndjson(NDJSON.into())))
            .await
            .expect("signed bulk");
        let seen = capture.requests();
        let req = seen.last().expect("request");
        let auth = req.headers.get("authorization").expect("authorization");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTESTING/")
                && auth.contains(&format!("/eu-west-1/{name}/aws4_request")),
            "{auth}"
        );
        assert!(
            auth.contains("x-amz-content-sha256") && auth.contains("x-amz-date"),
            "{auth}"
        );
        assert!(req.headers.contains_key("x-amz-date"));
        let hash = hex::encode(Sha256::digest(&req.body));
        assert_eq!(
            req.headers.get("x-amz-content-sha256"),
            Some(&hash),
            "hash of the bytes on the wire"
        );
        if gzip {
            assert!(
                auth.contains("content-encoding"),
                "content-encoding is signed: {auth}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Retries

async fn fast_client(url: &str, attempts: u32) -> Client {
    none_client(url)
        .await
        .with_retry_policy(RetryPolicy::immediate(attempts))
}

#[tokio::test]
async fn throttled_requests_succeed_after_retries() {
    let capture = Capture::start(&[Reply::Status(429), Reply::Status(429), Reply::Status(200)]);
    let client = fast_client(&capture.url, 6).await;
    let answer = client
        .send(Method::Post, "/_bulk", Some(Body::Ndjson(NDJSON.into())))
        .await
        .expect("third attempt succeeds");
    assert_eq!(answer.status, 200);
    let seen = capture.requests();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|r| r.body == NDJSON.as_bytes()),
        "each attempt resends the body"
    );
}

#[tokio::test]
async fn a_retry_after_is_waited_for_up_to_the_policy_limit() {
    let cases = [
        // (Retry-After seconds, the policy's limit, the least wait)
        (1, Duration::from_secs(5), Duration::from_secs(1)),
        (3600, Duration::from_millis(300), Duration::from_millis(300)),
    ];
    for (asked, limit, least) in cases {
        let capture = Capture::start(&[Reply::RetryAfter(503, asked), Reply::Status(200)]);
        let policy = RetryPolicy {
            max_retry_after: limit,
            ..RetryPolicy::immediate(3)
        };
        let client = none_client(&capture.url).await.with_retry_policy(policy);
        let start = std::time::Instant::now();
        let answer = client
            .send(Method::Get, "/idx/_doc/1", None)
            .await
            .expect("second attempt succeeds");
        let waited = start.elapsed();
        assert_eq!(answer.status, 200);
        assert_eq!(capture.requests().len(), 2);
        assert!(
            waited >= least && waited < least + Duration::from_secs(20),
            "asked {asked} s, limit {limit:?}: waited {waited:?}"
        );
    }
}

#[tokio::test]
async fn client_errors_and_conflicts_are_not_retried() {
    for status in [400, 409] {
        let capture = Capture::start(&[Reply::Status(status), Reply::Status(200)]);
        let client = fast_client(&capture.url, 6).await;
        let err = client
            .send(Method::Put, "/idx/_doc/1", Some(Body::Json(json!({}))))
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransportError::Http { status: s, .. } if s == status),
            "{err:?}"
        );
        assert_eq!(capture.requests().len(), 1, "HTTP {status} is sent once");
    }
}

#[tokio::test]
async fn non_repeatable_posts_are_sent_once_and_attempts_are_bounded() {
    let capture = Capture::start(&[Reply::Status(503)]);
    let client = fast_client(&capture.url, 4).await;
    let err = client
        .send(Method::Post, "/idx/_doc", Some(Body::Json(json!({}))))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(capture.requests().len(), 1, "auto-id POST is not repeated");

    let err = client
        .send(Method::Get, "/idx/_count", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(
        capture.requests().len(),
        1 + 4,
        "GET tried max_attempts times"
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_and_unreachable_targets_reported() {
    let capture = Capture::start(&[Reply::Drop, Reply::Status(200)]);
    let client = fast_client(&capture.url, 3).await;
    let answer = client
        .send(Method::Get, "/", None)
        .await
        .expect("second attempt succeeds");
    assert_eq!(answer.status, 200);
    assert_eq!(capture.requests().len(), 2);

    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let client = fast_client(&closed, 2).await;
    let err = client.send(Method::Get, "/", None).await.unwrap_err();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------------------
// gzip

#[tokio::test]
async fn gzip_bodies_arrive_compressed_and_decompress_to_the_ndjson() {
    let capture = Capture::start(&[Reply::Status(200)]);
    let client = none_client(&capture.url).await.with_gzip(true);
    client
        .send(Method::Post, "/_bulk", Some(Body::Ndjson(NDJSON.into())))
        .await
        .expect("gzip bulk");
    let req = capture.requests().pop().expect("request");
    assert!(
        req.request_line.starts_with("POST /_bulk "),
        "{}",
        req.request_line
    );
    assert_eq!(
        req.headers.get("content-encoding").map(String::as_str),
        Some("gzip")
    );
    assert_eq!(
        req.headers.get("content-type").map(String::as_str),
        Some("application/x-ndjson")
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(req.body.as_slice())
        .read_to_string(&mut text)
        .expect("gunzip");
    assert_eq!(text, NDJSON);
}

// ---------------------------------------------------------------------------------------------------------
// TLS: a private CA, trusted only through `tls.ca_file`

/// Python (the test venv's, with `cryptography`) for a throwaway HTTPS server with its own CA.
const HTTPS_SERVER: &str = r#""""A throwaway HTTPS server for the target client's TLS tests.

Makes a private CA and a leaf certificate for 127.0.0.1/localhost, writes the CA to <dir>/ca.pem, serves
`{}` to every GET over TLS with the leaf, and prints {"port": N} once listening. Exits when stdin closes.
"""

import datetime
import http.server
import ipaddress
import json
import pathlib
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def main():
    out = pathlib.Path(sys.argv[1])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("backfill test CA"))
        .issuer_name(name("backfill test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (out / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (out / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (out / "leaf.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(out / "leaf.pem", out / "leaf.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
"#;

/// The HTTPS server above; stops when dropped (it exits when its stdin closes).
struct Https {
    child: Child,
    _stdin: ChildStdin,
    url: String,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Https {
    fn start() -> Https {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(support::venv().join("bin/python"))
            .args(["-c", HTTPS_SERVER])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the HTTPS test server");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read port");
        let port = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .unwrap_or_else(|| panic!("HTTPS test server did not start: {line:?}"));
        Https {
            child,
            _stdin: stdin,
            url: format!("https://127.0.0.1:{port}"),
            ca: dir.path().join("ca.pem"),
            _dir: dir,
        }
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn tls_trusts_the_ca_file_verifies_by_default_and_reports_insecure() {
    let server = Https::start();
    let with_tls = |tls: Tls| Target {
        endpoint: server.url.clone(),
        auth: TargetAuth::None,
        tls,
        emit_type: Default::default(),
        aws: Default::default(),
    };
    let env = MapEnv::default();

    let trusted = Client::from_target(
        &with_tls(Tls {
            ca_file: Some(server.ca.clone()),
            insecure_skip_verify: false,
        }),
        &env,
        &AwsSdk::default(),
    )
    .await
    .expect("client with ca_file")
    .with_retry_policy(RetryPolicy::none());
    assert!(!trusted.insecure_tls());
    let answer = trusted
        .send(Method::Get, "/", None)
        .await
        .expect("CA from ca_file is trusted");
    assert_eq!(answer.status, 200);

    let default = Client::from_target(&with_tls(Tls::default()), &env, &AwsSdk::default())
        .await
        .expect("client")
        .with_retry_policy(RetryPolicy::none());
    let err = default.send(Method::Get, "/", None).await.unwrap_err();
    assert!(
        matches!(err, TransportError::Unreachable { .. }),
        "unknown CA must fail: {err:?}"
    );

    let insecure = Client::from_target(
        &with_tls(Tls {
            ca_file: None,
            insecure_skip_verify: true,
        }),
        &env,
        &AwsSdk::default(),
    )
    .await
    .expect("client")
    .with_retry_policy(RetryPolicy::none());
    assert!(insecure.insecure_tls(), "the caller is told so it can warn");
    assert_eq!(
        insecure
            .send(Method::Get, "/", None)
            .await
            .expect("no verification")
            .status,
        200
    );
}
