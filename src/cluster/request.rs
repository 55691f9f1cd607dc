//! One request on the wire: the endpoint URL, the encoded (optionally gzipped) body, and how an answer maps to
//! the `JsonTransport` contract.
//!
//! Guarantees: a body is encoded once and the same bytes are sent (and signed) on every attempt; URLs shown in
//! messages never carry user info; 2xx and 404 are answers (empty body → `null`), anything else is
//! [`classify`]'d.

use std::io::Write;

use reqwest::Url;
use serde_json::Value;

use super::error::ClusterError;
use super::transport::{Body, JsonResponse, Method, TransportError, classify};

/// A request body encoded once and reused by every attempt.
pub(crate) struct PreparedBody {
    pub content_type: &'static str,
    pub bytes: bytes::Bytes,
    pub gzip: bool,
}

pub(crate) fn prepare(body: Body, gzip: bool) -> Result<PreparedBody, String> {
    let (content_type, raw) = match body {
        Body::Json(v) => ("application/json", v.to_string().into_bytes()),
        Body::Ndjson(s) => ("application/x-ndjson", s.into_bytes()),
    };
    let bytes = if gzip { gzip_bytes(&raw)? } else { raw };
    Ok(PreparedBody {
        content_type,
        bytes: bytes.into(),
        gzip,
    })
}

/// Gzip at the fast level: bulk bodies are repetitive JSON, so most of the gain comes cheaply.
pub(crate) fn gzip_bytes(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(raw)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip of the request body failed: {e}"))
}

/// Maps a final answer to the transport contract: 2xx/404 → JSON (empty → `null`), else [`classify`].
pub(crate) fn finish(
    url: &str,
    path: &str,
    status: u16,
    text: &str,
) -> Result<JsonResponse, TransportError> {
    if !(200..300).contains(&status) && status != 404 {
        return Err(classify(url, path, status, text));
    }
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).map_err(|e| TransportError::Decode {
            url: url.to_string(),
            path: path.to_string(),
            message: e.to_string(),
        })?
    };
    Ok(JsonResponse { status, body })
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

    use super::*;

    #[test]
    fn answers_follow_the_transport_contract() {
        let ok = finish("u", "/p", 200, r#"{"a":1}"#).unwrap();
        assert_eq!(ok.body["a"], 1);
        assert_eq!(finish("u", "/p", 404, "").unwrap().body, Value::Null);
        assert!(matches!(
            finish("u", "/p", 403, "no"),
            Err(TransportError::Unauthorized { status: 403, .. })
        ));
        assert!(matches!(
            finish("u", "/p", 409, "{}"),
            Err(TransportError::Http { status: 409, .. })
        ));
        assert!(matches!(
            finish("u", "/p", 200, "<html>"),
            Err(TransportError::Decode { .. })
        ));
    }

    #[test]
    fn gzip_bodies_round_trip() {
        let ndjson = "{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n".repeat(50);
        let body = prepare(Body::Ndjson(ndjson.clone()), true).unwrap();
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
}
