//! A null-sink target for the worker benchmark (`scripts/bench-worker`): it answers the worker's `_bulk`
//! requests for data indices itself — counting the action lines and answering one `items` entry per action,
//! shaped like OpenSearch's (`_index`, `_id`, `_version`, `result`, `_shards`, `_seq_no`, `_primary_term`,
//! `status`) so the worker parses an answer of realistic size, or, for a request with a `filter_path` (the
//! worker's), only each item's status as a target then answers — and forwards every other request (the working
//! state, the clock check, the gzip probe) to a real target, osmem-server. It stores nothing, so the worker,
//! not the target, sets the pace.
//!
//! One thread (a current-thread runtime), so it never takes more than one of the machine's cores from the
//! worker. A gzip body is inflated with ISA-L (the size is in the gzip trailer) into one buffer reused from
//! request to request; the thread CPU time of that inflation is counted apart (`gunzip_cpu_s`), as is the whole process's (`cpu_s`).
//!
//! `cargo run --release --example null_sink -- --forward URL [--addr 127.0.0.1:0] [--gzip on|off]`: prints
//! `{"url": "http://127.0.0.1:PORT"}` once listening and stops when its standard input closes. `--gzip off`
//! answers 415 to any gzip-encoded request that is not a data `_bulk`, so the worker's probe turns gzip off;
//! `--gzip on` inflates such a request and forwards it plain. `GET /_null_sink/stats` answers the counts:
//! `bulk_requests`, `actions`, `body_bytes` (as inflated), `wire_bytes`, `gzip_requests`, `gunzip_cpu_s`,
//! `cpu_s`, `forwarded`, `first_bulk_s`/`last_bulk_s` (since the sink started: the bulk phase).

use std::cell::RefCell;
use std::convert::Infallible;
use std::io::BufRead as _;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[path = "support/cpu.rs"]
mod cpu;

/// What the sink has seen.
#[derive(Default)]
struct Stats {
    bulk_requests: u64,
    actions: u64,
    body_bytes: u64,
    wire_bytes: u64,
    gzip_requests: u64,
    gunzip_cpu_s: f64,
    forwarded: u64,
    first_bulk_s: Option<f64>,
    last_bulk_s: f64,
}

struct Sink {
    forward: String,
    gzip: bool,
    http: reqwest::Client,
    started: Instant,
    stats: RefCell<Stats>,
    /// The last gzip body inflated: its allocation serves the next one.
    inflated: RefCell<Vec<u8>>,
}

/// Inflates a (single-member) gzip body into `out`, whose allocation is reused from request to request (so a
/// body no larger than the last one costs neither an allocation nor zeroing); its uncompressed size comes from
/// the trailer. ISA-L's inflate (the worker's compressor's library) checks the trailer's CRC and size.
fn gunzip_into(wire: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let size = wire
        .len()
        .checked_sub(4)
        .and_then(|at| wire.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map(u32::from_le_bytes)
        .ok_or("a gzip body shorter than its trailer")?;
    out.resize(size as usize, 0);
    let n =
        isal::decompress_into(wire, out, isal::Codec::Gzip).map_err(|e| format!("gunzip: {e}"))?;
    out.truncate(n);
    Ok(())
}

/// The verb of an action line (`index`, `create`, `update`, `delete`): the first key.
fn verb(action: &[u8]) -> &[u8] {
    let start = action.iter().position(|&b| b == b'"').map_or(0, |p| p + 1);
    let rest = &action[start..];
    &rest[..rest.iter().position(|&b| b == b'"').unwrap_or(rest.len())]
}

/// One `items` entry for `action`: its own metadata object with OpenSearch's answer fields appended.
fn push_item(out: &mut Vec<u8>, action: &[u8]) {
    let action = action.trim_ascii();
    match action.strip_suffix(b"}}") {
        Some(head) if head.ends_with(b"{") => {
            out.extend_from_slice(head);
            out.extend_from_slice(b"\"status\":201}}");
        }
        Some(head) => {
            out.extend_from_slice(head);
            out.extend_from_slice(b",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,\"status\":201}}");
        }
        None => {
            out.extend_from_slice(b"{\"");
            out.extend_from_slice(verb(action));
            out.extend_from_slice(b"\":{\"status\":201}}");
        }
    }
}

/// One `items` entry for `action` as a target answers under the worker's `filter_path` (`errors`, and per
/// item its status and error): `{"<verb>":{"status":201}}`.
fn push_filtered_item(out: &mut Vec<u8>, action: &[u8]) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(verb(action.trim_ascii()));
    out.extend_from_slice(b"\":{\"status\":201}}");
}

/// Answers a bulk body: one item per action line (an action other than `delete` is followed by its source),
/// in full or, for a request with a `filter_path`, as the worker's filter leaves it (the sink knows only that
/// filter). Lines are found with `memchr`, so the sink's own cost stays small beside the worker's.
fn bulk_answer(body: &[u8], filtered: bool) -> (u64, Vec<u8>) {
    let mut out = Vec::with_capacity(body.len() / 8);
    out.extend_from_slice(if filtered {
        b"{\"errors\":false,\"items\":[".as_slice()
    } else {
        b"{\"took\":1,\"errors\":false,\"items\":[".as_slice()
    });
    let mut start = 0;
    let mut lines = memchr::memchr_iter(b'\n', body)
        .chain(std::iter::once(body.len()))
        .map(|end| {
            let line = &body[start..end];
            start = end + 1;
            line
        })
        .filter(|l| !l.trim_ascii().is_empty());
    let mut actions = 0u64;
    while let Some(action) = lines.next() {
        if actions > 0 {
            out.push(b',');
        }
        if filtered {
            push_filtered_item(&mut out, action);
        } else {
            push_item(&mut out, action);
        }
        actions += 1;
        if verb(action) != b"delete" {
            lines.next();
        }
    }
    out.extend_from_slice(b"]}");
    (actions, out)
}

/// Whether a `_bulk` request is for data indices (answered here) rather than the working state (forwarded).
fn is_data_bulk(path: &str, body: &[u8]) -> bool {
    let mut parts = path.trim_start_matches('/').split('/');
    let first = parts.next().unwrap_or("");
    let index = match (first, parts.next()) {
        ("_bulk", None) => {
            // No index in the path: the first action names it.
            let line = body.split(|&b| b == b'\n').next().unwrap_or(b"");
            let key = b"\"_index\":\"";
            line.windows(key.len())
                .position(|w| w == key)
                .map(|p| String::from_utf8_lossy(&line[p + key.len()..]).into_owned())
                .unwrap_or_default()
        }
        (index, Some("_bulk")) => index.to_string(),
        _ => return false,
    };
    !index.starts_with('.')
}

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

impl Sink {
    fn stats(&self) -> String {
        let s = self.stats.borrow();
        serde_json::json!({
            "bulk_requests": s.bulk_requests,
            "actions": s.actions,
            "body_bytes": s.body_bytes,
            "wire_bytes": s.wire_bytes,
            "gzip_requests": s.gzip_requests,
            "gunzip_cpu_s": s.gunzip_cpu_s,
            "cpu_s": cpu::process_seconds(),
            "forwarded": s.forwarded,
            "first_bulk_s": s.first_bulk_s,
            "last_bulk_s": s.last_bulk_s,
        })
        .to_string()
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let arrived = self.started.elapsed().as_secs_f64();
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        if path == "/_null_sink/stats" {
            return answer(StatusCode::OK, self.stats());
        }
        let wire = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return answer(StatusCode::BAD_REQUEST, format!("{{\"error\":\"{e}\"}}")),
        };
        let gzipped = parts
            .headers
            .get(hyper::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        // A gzip body is inflated into the sink's reused buffer and looked at there; only a request that is
        // forwarded is copied out of it (the buffer is never held across an await).
        let plain = {
            let mut inflated = self.inflated.borrow_mut();
            let body: &[u8] = if gzipped {
                let cpu = cpu::thread_seconds();
                let done = gunzip_into(&wire, &mut inflated);
                self.stats.borrow_mut().gunzip_cpu_s += cpu::thread_seconds() - cpu;
                if let Err(e) = done {
                    return answer(StatusCode::BAD_REQUEST, format!("{{\"error\":\"{e}\"}}"));
                }
                &inflated
            } else {
                &wire
            };
            if parts.method == hyper::Method::POST
                && path.ends_with("/_bulk")
                && is_data_bulk(&path, body)
            {
                let filtered = parts
                    .uri
                    .query()
                    .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("filter_path=")));
                let (actions, out) = bulk_answer(body, filtered);
                let mut s = self.stats.borrow_mut();
                s.bulk_requests += 1;
                s.actions += actions;
                s.body_bytes += body.len() as u64;
                s.wire_bytes += wire.len() as u64;
                s.gzip_requests += u64::from(gzipped);
                s.first_bulk_s.get_or_insert(arrived);
                s.last_bulk_s = self.started.elapsed().as_secs_f64();
                return answer(StatusCode::OK, out);
            }
            if gzipped {
                Bytes::copy_from_slice(body)
            } else {
                wire
            }
        };
        if gzipped && !self.gzip {
            return answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{\"error\":\"this sink runs with --gzip off\"}",
            );
        }
        self.forward(parts, plain).await
    }

    /// Sends the request to the real target and relays its answer.
    async fn forward(&self, parts: http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        self.stats.borrow_mut().forwarded += 1;
        let url = format!(
            "{}{}",
            self.forward,
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        let mut req = self.http.request(parts.method, url);
        if let Some(ct) = parts.headers.get(hyper::header::CONTENT_TYPE) {
            req = req.header(hyper::header::CONTENT_TYPE, ct);
        }
        let resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => return answer(StatusCode::BAD_GATEWAY, format!("{{\"error\":\"{e}\"}}")),
        };
        let status = resp.status();
        let content_type = resp.headers().get(hyper::header::CONTENT_TYPE).cloned();
        let bytes = resp.bytes().await.unwrap_or_default();
        let mut out = answer(status, bytes);
        if let Some(ct) = content_type {
            out.headers_mut().insert(hyper::header::CONTENT_TYPE, ct);
        }
        out
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let Some(forward) = flag("--forward") else {
        eprintln!("usage: null_sink --forward URL [--addr 127.0.0.1:0] [--gzip on|off]");
        std::process::exit(2);
    };
    let addr = flag("--addr").unwrap_or_else(|| "127.0.0.1:0".into());
    let gzip = flag("--gzip").is_none_or(|v| v != "off");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        println!(
            "{{\"url\":\"http://{}\"}}",
            listener.local_addr().expect("address")
        );
        let sink = Rc::new(Sink {
            forward: forward.trim_end_matches('/').to_string(),
            gzip,
            http: reqwest::Client::new(),
            started: Instant::now(),
            stats: RefCell::default(),
            inflated: RefCell::default(),
        });
        // Stop when standard input closes (the driving script ended).
        std::thread::spawn(|| {
            for _ in std::io::stdin().lock().lines() {}
            std::process::exit(0);
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let sink = sink.clone();
            tokio::task::spawn_local(async move {
                let service = hyper::service::service_fn(move |req| {
                    let sink = sink.clone();
                    async move { Ok::<_, Infallible>(sink.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
