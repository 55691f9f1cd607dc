//! One request on the wire: the endpoint URL, the encoded (optionally gzipped) body, and how an answer maps to
//! the `JsonTransport` contract.
//!
//! Guarantees: a body is encoded once and the same bytes are sent (and signed) on every attempt; URLs shown in
//! messages never carry user info; 2xx and 404 are answers (empty body → `null`), anything else is
//! [`classify`]'d.

use bytes::Bytes;
use reqwest::Url;

use super::error::ClusterError;
use super::transport::{Body, Method, RawResponse, TransportError, classify};

/// A request body encoded once and reused by every attempt.
pub(crate) struct PreparedBody {
    pub content_type: &'static str,
    pub bytes: bytes::Bytes,
    pub gzip: bool,
}

pub(crate) fn prepare(body: Body, gzip: bool) -> Result<PreparedBody, String> {
    let (content_type, raw) = match body {
        Body::Json(v) => ("application/json", Bytes::from(v.to_string())),
        Body::Ndjson(b) => ("application/x-ndjson", b),
    };
    let bytes = if gzip { gzip_pooled(&raw)? } else { raw };
    Ok(PreparedBody {
        content_type,
        bytes,
        gzip,
    })
}

/// Bodies from this size on are gzipped on a blocking thread ([`prepare_off_thread`]).
const GZIP_OFF_THREAD_BYTES: usize = 64 * 1024;

/// [`prepare`], with a large body gzipped on tokio's blocking pool: compressing a bulk body of a few MB takes
/// milliseconds, which must not stall the async threads (other requests' answers, the lease clock), and the
/// bulk requests a worker keeps in flight then compress in parallel instead of one after another — as many at
/// once as the machine has cores ([`GZIP_SLOTS`]): more would only hold more buffers at the same speed.
pub async fn prepare_off_thread(body: Body, gzip: bool) -> Result<PreparedBody, String> {
    let large = matches!(&body, Body::Ndjson(b) if b.len() >= GZIP_OFF_THREAD_BYTES);
    if !(gzip && large) {
        return prepare(body, gzip);
    }
    let slots = GZIP_SLOTS.get_or_init(|| tokio::sync::Semaphore::new(cores()));
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| format!("gzip of the request body stopped: {e}"))?;
    tokio::task::spawn_blocking(move || prepare(body, true))
        .await
        .map_err(|e| format!("gzip of the request body stopped: {e}"))?
}

/// The compressions that may run at once, process-wide: one per core.
static GZIP_SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();

/// The machine's cores (asked once: the answer takes system calls).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Gzip with ISA-L's igzip at level 1, in one stateless call over the whole body: on bulk bodies about twice
/// as fast as zlib-rs at its fastest level, with a smaller output (README, "Deflate").
pub fn gzip_bytes(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let len = gzip_into(raw, &mut out)?;
    out.truncate(len);
    Ok(out)
}

/// [`gzip_bytes`] into a buffer of [`GZIP_BUFFERS`]: the body is shared by every attempt as usual and its
/// buffer goes back to the pool when the last of them is done with it, so steady bulk traffic neither
/// allocates nor zero-fills an output buffer per body.
fn gzip_pooled(raw: &[u8]) -> Result<Bytes, String> {
    let mut buffer = GzipBuffer {
        bytes: lock_gzip_buffers().pop().unwrap_or_default(),
        len: 0,
    };
    buffer.len = gzip_into(raw, &mut buffer.bytes)?;
    Ok(Bytes::from_owner(buffer))
}

/// Gzips `raw` into the front of `out`, growing it (and zero-filling only the growth) to the worst case first:
/// input that does not compress at all is written as stored blocks (5 bytes of framing per 64 KiB), plus the
/// gzip header and trailer. Returns the gzip's length; `out` keeps its length, so its bytes past the gzip stay
/// initialised for the next body.
fn gzip_into(raw: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
    let worst = raw.len() + raw.len() / 4096 + 1024;
    if out.len() < worst {
        out.resize(worst, 0);
    }
    isal::compress_into(raw, out, isal::CompressionLevel::One, isal::Codec::Gzip)
        .map_err(|e| format!("gzip of the request body failed: {e}"))
}

/// Output buffers of earlier gzipped bodies, for the next ones: at most one per compression slot and one per
/// request in flight (about two per core); any more are freed.
static GZIP_BUFFERS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

fn lock_gzip_buffers() -> std::sync::MutexGuard<'static, Vec<Vec<u8>>> {
    // The list stays valid whatever a panicking holder did, so a poisoned lock is used as it is.
    GZIP_BUFFERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A gzipped body in a pooled buffer (its first `len` bytes); the owner of the body's `Bytes`, so it is
/// dropped, and its buffer returned to [`GZIP_BUFFERS`], once no copy of the body is left.
struct GzipBuffer {
    bytes: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for GzipBuffer {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl Drop for GzipBuffer {
    fn drop(&mut self) {
        let keep = 2 * cores();
        let mut free = lock_gzip_buffers();
        if free.len() < keep {
            free.push(std::mem::take(&mut self.bytes));
        }
    }
}

/// Maps a final answer to the transport contract: 2xx/404 → the body as received, else [`classify`].
pub(crate) fn finish(
    url: &str,
    path: &str,
    status: u16,
    body: Bytes,
) -> Result<RawResponse, TransportError> {
    if !(200..300).contains(&status) && status != 404 {
        return Err(classify(url, path, status, &String::from_utf8_lossy(&body)));
    }
    Ok(RawResponse { status, body })
}

pub(crate) fn parse_endpoint(endpoint: &str) -> Result<Url, ClusterError> {
    let invalid = |reason: String| ClusterError::Endpoint {
        endpoint: redact_userinfo(endpoint),
        reason,
    };
    let url = Url::parse(endpoint).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none() {
        return Err(invalid("it has no host".into()));
    }
    Ok(url)
}

/// `url` without user name/password and trailing `/`.
pub(crate) fn display_url(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.as_str().trim_end_matches('/').to_string()
}

/// Drops anything before the last `@` (after `scheme://`) from an endpoint before it goes into an error.
pub(crate) fn redact_userinfo(endpoint: &str) -> String {
    let Some(at) = endpoint.rfind('@') else {
        return endpoint.to_string();
    };
    let scheme = match endpoint.find("://") {
        Some(s) if s < at => &endpoint[..s + 3],
        _ => "",
    };
    format!("{scheme}<redacted>@{}", &endpoint[at + 1..])
}

pub(crate) fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

pub(crate) fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use serde_json::Value;

    use super::*;

    #[test]
    fn answers_follow_the_transport_contract() {
        let json = |status, text: &'static str| {
            finish("u", "/p", status, Bytes::from_static(text.as_bytes()))
                .and_then(|raw| raw.into_json("u", "/p"))
        };
        assert_eq!(json(200, r#"{"a":1}"#).unwrap().body["a"], 1);
        assert_eq!(json(404, "").unwrap().body, Value::Null);
        assert!(matches!(
            json(403, "no"),
            Err(TransportError::Unauthorized { status: 403, .. })
        ));
        assert!(matches!(
            json(409, "{}"),
            Err(TransportError::Http { status: 409, .. })
        ));
        assert!(matches!(
            json(200, "<html>"),
            Err(TransportError::Decode { .. })
        ));
        let raw = finish("u", "/p", 200, Bytes::from_static(b"{\"items\":[]}")).unwrap();
        assert_eq!(
            raw.body.as_ref(),
            b"{\"items\":[]}",
            "a raw answer is the body as received"
        );
    }

    #[test]
    fn gzip_bodies_round_trip() {
        let ndjson = "{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n".repeat(50);
        let body = prepare(Body::Ndjson(ndjson.clone().into()), true).unwrap();
        assert!(body.gzip && body.content_type == "application/x-ndjson");
        assert!(body.bytes.len() < ndjson.len());
        let mut out = String::new();
        flate2::read::GzDecoder::new(body.bytes.as_ref())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, ndjson);
        let plain = prepare(Body::Json(serde_json::json!({"q": 1})), false).unwrap();
        assert_eq!(plain.bytes.as_ref(), br#"{"q":1}"#);
    }

    /// Pooled buffers come back holding an earlier, larger body's bytes: every body still inflates to exactly
    /// its input, whether its buffer is reused while another body is alive or after it is gone.
    #[test]
    fn pooled_gzip_bodies_do_not_carry_earlier_bytes() {
        let inflate = |gz: &[u8]| {
            let mut back = Vec::new();
            flate2::bufread::GzDecoder::new(gz)
                .read_to_end(&mut back)
                .unwrap();
            back
        };
        let mut noise = vec![0u8; 200_000];
        rand::Rng::fill(&mut rand::rng(), noise.as_mut_slice());
        let bodies = [
            noise.clone(),
            b"small".to_vec(),
            Vec::new(),
            noise,
            b"b".repeat(50_000),
        ];
        let mut alive = Vec::new();
        for (i, raw) in bodies.iter().enumerate() {
            let gz = gzip_pooled(raw).unwrap();
            assert_eq!(&inflate(&gz), raw, "body {i}");
            if i % 2 == 0 {
                alive.push((gz, raw));
            }
        }
        for (gz, raw) in alive {
            assert_eq!(
                &inflate(&gz),
                raw,
                "a body kept while later ones were gzipped"
            );
        }
    }

    /// Any body is one valid gzip member that inflates to it: empty, and bytes that do not compress at all
    /// (stored blocks, the largest output [`gzip_bytes`] allocates for), across several 64 KiB blocks.
    #[test]
    fn gzip_handles_empty_and_incompressible_bodies() {
        let mut noise = vec![0u8; 300_000];
        rand::Rng::fill(&mut rand::rng(), noise.as_mut_slice());
        for raw in [Vec::new(), noise, b"a".repeat(1_000_000)] {
            let gz = gzip_bytes(&raw).unwrap();
            let mut decoder = flate2::bufread::GzDecoder::new(gz.as_slice());
            let mut back = Vec::new();
            decoder.read_to_end(&mut back).unwrap();
            assert!(back == raw, "a gzip body inflates to its input");
            assert!(
                decoder.into_inner().is_empty(),
                "one gzip member, nothing after it"
            );
        }
    }
}
