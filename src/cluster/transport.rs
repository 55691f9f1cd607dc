//! The narrow HTTP seam between everything that talks to the target and the target client.
//!
//! Coordination (leases, progress, archive, restore), the worker's bulk requests and clock check, and the
//! converge loop's health reads need only "send a JSON (or NDJSON) request, get status + JSON back" (or the
//! JSON text unparsed, [`JsonTransport::send_raw`], when parsing all of a large answer would cost more than
//! the request). Keeping that
//! behind [`JsonTransport`] keeps them free of auth, TLS and retries, which the one implementation,
//! [`crate::cluster::Client`], adds. The seam sits here, at the bottom of the crate, so
//! every module above depends downwards on it. Errors are classified once, in [`classify`], so a missing index,
//! an unreachable target and a 401/403 are always told apart and never silently dropped.

use std::future::Future;

use serde_json::Value;

/// Request body.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    /// Newline-delimited JSON (`_bulk`), as shared bytes: a body built once is sent again without a copy.
    Ndjson(bytes::Bytes),
}

/// HTTP method subset the target is asked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
}

/// A response with a 2xx or 404 status (other statuses become [`TransportError`]s).
#[derive(Debug, Clone)]
pub struct JsonResponse {
    pub status: u16,
    pub body: Value,
}

/// A 2xx or 404 answer with its body as received, for a caller that reads only part of a large answer (the
/// worker reads a bulk response's `errors` flag and parses its items only when it is true).
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: bytes::Bytes,
}

impl RawResponse {
    /// The body as JSON (empty → `null`); a body that is not JSON is a [`TransportError::Decode`] naming `url`
    /// and `path`.
    pub fn into_json(self, url: &str, path: &str) -> Result<JsonResponse, TransportError> {
        let body = if self.body.trim_ascii().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body).map_err(|e| TransportError::Decode {
                url: url.to_string(),
                path: path.to_string(),
                message: e.to_string(),
            })?
        };
        Ok(JsonResponse {
            status: self.status,
            body,
        })
    }
}

/// Why a request to the target failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("target {url} is unreachable: {message}")]
    Unreachable { url: String, message: String },
    #[error("target {url} refused the credentials (HTTP {status}) for {path}")]
    Unauthorized {
        url: String,
        path: String,
        status: u16,
    },
    #[error("target {url} answered HTTP {status} to {path}: {body}")]
    Http {
        url: String,
        path: String,
        status: u16,
        body: String,
    },
    #[error("target {url} sent a response to {path} that is not JSON: {message}")]
    Decode {
        url: String,
        path: String,
        message: String,
    },
}

/// Sends one request to the target. Implemented by [`crate::cluster::Client`].
pub trait JsonTransport: Send + Sync {
    /// Base URL, for messages only (never contains credentials).
    fn url(&self) -> &str;
    /// Sends `method path` with an optional body. 2xx and 404 are returned with the body unparsed; anything
    /// else is an error.
    fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> impl Future<Output = Result<RawResponse, TransportError>> + Send;

    /// [`JsonTransport::send_raw`] with the answer parsed as JSON.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> impl Future<Output = Result<JsonResponse, TransportError>> + Send {
        async move {
            self.send_raw(method, path, body)
                .await?
                .into_json(self.url(), path)
        }
    }
}

/// Maps a non-success status to the right error (401/403 → Unauthorized, others → Http).
pub(crate) fn classify(url: &str, path: &str, status: u16, body: &str) -> TransportError {
    if status == 401 || status == 403 {
        TransportError::Unauthorized {
            url: url.to_string(),
            path: path.to_string(),
            status,
        }
    } else {
        let mut text: String = body.chars().take(300).collect();
        if body.len() > text.len() {
            text.push('…');
        }
        TransportError::Http {
            url: url.to_string(),
            path: path.to_string(),
            status,
            body: text,
        }
    }
}
