//! The worker under target faults: a fault-injecting proxy in front of a real `osmem-server` answers some `_bulk`
//! requests with 429 (never forwarded), and forwards others but drops the connection before the response (the
//! documents landed; the worker cannot know). The worker must retry both and leave the target holding exactly
//! every expected document — no loss, and no duplicate (bulk is index-by-id). A gateway answering `_bulk` with
//! its own JSON 404 must fail the work item, not complete it.

use crate::support;
use crate::synthetic;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// Counts of what the proxy did.
#[derive(Default)]
struct Faults {
    bulks: AtomicU32,
    throttled: AtomicU32,
    dropped: AtomicU32,
}

/// Reads one HTTP/1.1 request (request line, headers, content-length body); `None` at end of stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<String>, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
        headers.push(h);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_string(), headers, body))
}

/// Forwards one request to `upstream` (a fresh connection, `connection: close`) and returns the raw response.
fn forward(upstream: &str, line: &str, headers: &[String], body: &[u8]) -> Vec<u8> {
    let mut conn = TcpStream::connect(upstream).expect("connect osmem");
    let mut req = format!("{line}\r\n");
    for h in headers {
        let lower = h.to_ascii_lowercase();
        if !lower.starts_with("connection:") && !lower.starts_with("host:") {
            req.push_str(h);
            req.push_str("\r\n");
        }
    }
    req.push_str(&format!("host: {upstream}\r\nconnection: close\r\n\r\n"));
    conn.write_all(req.as_bytes()).expect("write");
    conn.write_all(body).expect("write body");
    let mut resp = Vec::new();
    conn.read_to_end(&mut resp).expect("read response");
    resp
}

/// What the proxy does with one request instead of forwarding it and relaying the answer.
enum Fault {
    /// Forward and relay, as a plain proxy.
    None,
    /// Answer this instead (status line and JSON body); the request is not forwarded.
    Answer(&'static str, &'static str),
    /// Forward, then close the connection without relaying the answer.
    DropAnswer,
}

/// Starts a proxy in front of `upstream` (host:port) that asks `fault` what to do with each request line; one
/// request per connection (the upstream answers `connection: close`, and so does the proxy).
fn serve(upstream: String, fault: impl Fn(&str) -> Fault + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let fault = Arc::new(fault);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (upstream, fault) = (upstream.clone(), fault.clone());
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                let Some((line, headers, body)) = read_request(&mut reader) else {
                    return;
                };
                match fault(&line) {
                    Fault::Answer(status, body) => {
                        let _ = write!(
                            writer,
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Fault::DropAnswer => {
                        let _ = forward(&upstream, &line, &headers, &body);
                    }
                    Fault::None => {
                        let resp = forward(&upstream, &line, &headers, &body);
                        let _ = writer.write_all(&resp);
                    }
                }
            });
        }
    });
    url
}

/// Starts the proxy; every 3rd `_bulk` is throttled, every 5th is applied but its response is dropped.
fn start_proxy(upstream: String, faults: Arc<Faults>) -> String {
    serve(upstream, move |line| {
        if !line.contains("/_bulk") {
            return Fault::None;
        }
        let n = faults.bulks.fetch_add(1, Ordering::SeqCst) + 1;
        if n.is_multiple_of(3) {
            faults.throttled.fetch_add(1, Ordering::SeqCst);
            Fault::Answer(
                "429 Too Many Requests",
                r#"{"error":{"type":"es_rejected_execution_exception"},"status":429}"#,
            )
        } else if n.is_multiple_of(5) {
            faults.dropped.fetch_add(1, Ordering::SeqCst);
            Fault::DropAnswer
        } else {
            Fault::None
        }
    })
}

#[test]
fn throttled_and_dropped_bulk_requests_are_retried_and_every_document_lands_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(tmp.path(), &[("faults", 2, 400)]);
    let osmem = support::Osmem::start();
    let faults = Arc::new(Faults::default());
    let upstream = osmem.url.trim_start_matches("http://").to_string();
    let proxy = start_proxy(upstream, faults.clone());
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: faults\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {proxy}\n\
             worker:\n  max_connections: 2\n  batch:\n    max_docs: 40\n",
            snap.repository.display(),
            snap.snapshot
        ),
    )
    .expect("config");
    let stdout = support::run_worker_json(&["-c", config.to_str().expect("utf8")], &[]);
    assert!(
        faults.throttled.load(Ordering::SeqCst) >= 3,
        "429s injected"
    );
    assert!(
        faults.dropped.load(Ordering::SeqCst) >= 2,
        "responses dropped"
    );
    let retries: u64 = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["BulkRetries"].as_u64())
        .sum();
    assert!(retries >= 5, "the worker counted its retries ({retries})");

    let _ = support::get_json(&format!("{}/faults/_refresh", osmem.url));
    let count = support::get_json(&format!("{}/faults/_count", osmem.url));
    assert_eq!(
        count["count"].as_u64(),
        Some(snap.total() as u64),
        "exactly once"
    );
    for doc in snap.expected["faults"].iter().step_by(23) {
        let got = support::get_json(&format!("{}/faults/_doc/{}", osmem.url, doc.id));
        let want: Value = serde_json::from_str(&doc.source).expect("json");
        assert_eq!(got["_source"], want, "{}", doc.id);
    }
}

/// Starts a proxy that answers every data `_bulk` as an API gateway in front of a wrong path would — HTTP 404
/// with `{"message":"Not Found"}` — and forwards everything else (the working state) to `upstream`.
fn start_gateway_proxy(upstream: String) -> String {
    serve(upstream, |line| {
        if line.starts_with("POST /_bulk") {
            Fault::Answer("404 Not Found", r#"{"message":"Not Found"}"#)
        } else {
            Fault::None
        }
    })
}

/// Before, any 2xx or 404 answer without `"errors": true` counted as every document acknowledged: a gateway's
/// JSON 404 completed the work items with nothing written. Now such an answer fails the item, with the cause.
#[test]
fn a_bulk_answer_that_is_not_one_is_never_counted_as_migrated_documents() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snap = synthetic::build(tmp.path(), &[("gateway", 1, 30)]);
    let osmem = support::Osmem::start();
    let proxy = start_gateway_proxy(osmem.url.trim_start_matches("http://").to_string());
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: gateway\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {proxy}\n",
            snap.repository.display(),
            snap.snapshot
        ),
    )
    .expect("config");
    let stderr = support::run_worker_expecting_failure(&config);
    assert!(
        stderr.contains("HTTP 404: not a bulk answer"),
        "the cause is named: {stderr}"
    );
    support::assert_no_work_item_completed(&osmem.url);
}
