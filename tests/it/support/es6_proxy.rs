//! A real HTTP proxy in front of osmem that makes it answer as an Elasticsearch 6.8 target, for the tests of
//! `_type` in bulk actions: it rewrites only the `GET /` answer's version (`6.8.23`, no `distribution`), reads
//! every `_bulk` request's action lines and checks each carries a `_type` (what Elasticsearch 6 requires),
//! records them, and strips `_type` before forwarding (osmem, like OpenSearch 2, refuses it). Everything else
//! is forwarded as it came. A test harness around the real server, not a fake of it.
//!
//! One thread per connection, one request per connection (`Connection: close`); gzip request bodies are
//! decompressed to be read (and forwarded plain), chunked responses are de-chunked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One bulk action line as the worker sent it.
#[derive(Debug, Clone)]
pub struct SeenAction {
    pub index: String,
    pub id: String,
    /// `None`: the action had no `_type` (an Elasticsearch 6 target would refuse it).
    pub doc_type: Option<String>,
}

/// The running proxy; stops accepting when the test process ends.
pub struct Es6Proxy {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    seen: Arc<Mutex<Vec<SeenAction>>>,
}

impl Es6Proxy {
    /// Starts a proxy in front of `upstream` (osmem's base URL).
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, recorded) = (upstream.clone(), recorded.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(client, &upstream, &recorded) {
                        eprintln!("es6 proxy: {e}");
                    }
                });
            }
        });
        Es6Proxy { url, seen }
    }

    /// Every bulk action line seen so far.
    pub fn actions(&self) -> Vec<SeenAction> {
        self.seen.lock().expect("proxy lock").clone()
    }
}

type Headers = Vec<(String, String)>;

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The start line and headers of a message.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<(String, Headers)> {
    let mut start = String::new();
    reader.read_line(&mut start)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok((start.trim_end().to_string(), headers))
}

/// A body by `Content-Length`, `Transfer-Encoding: chunked`, or (responses) until the end of the stream.
fn read_body(
    reader: &mut impl BufRead,
    headers: &Headers,
    until_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if header(headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = header(headers, "content-length").and_then(|v| v.parse().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if until_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

fn serve(client: TcpStream, upstream: &str, seen: &Mutex<Vec<SeenAction>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let (start, headers) = read_head(&mut reader)?;
    let mut body = read_body(&mut reader, &headers, false)?;
    if header(&headers, "content-encoding").is_some_and(|v| v.eq_ignore_ascii_case("gzip")) {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain)?;
        body = plain;
    }
    let path = start.split(' ').nth(1).unwrap_or("/").to_string();
    if path
        .split('?')
        .next()
        .is_some_and(|p| p.ends_with("/_bulk"))
    {
        body = strip_types(&body, seen);
    }
    let mut out = TcpStream::connect(upstream)?;
    // Forwarded plain (the body was decompressed) and answered plain (no Accept-Encoding), one per connection.
    let dropped = [
        "content-length",
        "content-encoding",
        "connection",
        "accept-encoding",
        "transfer-encoding",
    ];
    write_message(&mut out, &start, &headers, &dropped, &body)?;
    let mut upstream_reader = BufReader::new(out);
    let (status, response_headers) = read_head(&mut upstream_reader)?;
    let mut response = read_body(&mut upstream_reader, &response_headers, true)?;
    if start.starts_with("GET / ") && status.contains(" 200") {
        let mut root: Value = serde_json::from_slice(&response).unwrap_or(Value::Null);
        if let Some(version) = root.get_mut("version").and_then(Value::as_object_mut) {
            version.insert("number".into(), Value::String("6.8.23".into()));
            version.remove("distribution");
        }
        response = serde_json::to_vec(&root).expect("json");
    }
    let mut client = client;
    let dropped = ["content-length", "connection", "transfer-encoding"];
    write_message(&mut client, &status, &response_headers, &dropped, &response)
}

/// Writes a message: its start line, its headers but the `dropped` ones, then `Content-Length`,
/// `Connection: close` and the body.
fn write_message(
    to: &mut TcpStream,
    start: &str,
    headers: &Headers,
    dropped: &[&str],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("{start}\r\n");
    for (k, v) in headers {
        if !dropped.iter().any(|d| k.eq_ignore_ascii_case(d)) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    to.write_all(head.as_bytes())?;
    to.write_all(body)?;
    to.flush()
}

/// Records every action line of an NDJSON bulk body and returns the body with `_type` removed.
fn strip_types(body: &[u8], seen: &Mutex<Vec<SeenAction>>) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        if n % 2 == 0 && !line.trim().is_empty() {
            let mut action: Value = serde_json::from_str(line).expect("bulk action line is JSON");
            if let Some(meta) = action
                .as_object_mut()
                .and_then(|a| a.values_mut().next())
                .and_then(Value::as_object_mut)
            {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
                seen.lock().expect("proxy lock").push(SeenAction {
                    index: text(meta.get("_index")).unwrap_or_default(),
                    id: text(meta.get("_id")).unwrap_or_default(),
                    doc_type: text(meta.get("_type")),
                });
                meta.remove("_type");
            }
            out.push_str(&action.to_string());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out.into_bytes()
}
