//! The narrow HTTP seam between coordination read paths (progress, archive, restore) and the target.
//!
//! Progress and archive need only "send a JSON (or NDJSON) request, get status + JSON back". Keeping that
//! behind [`JsonTransport`] lets them run over the full `cluster` client (auth, TLS, retries) or over the
//! plain [`HttpTransport`] here. Errors are classified once, in [`classify`], so a missing index, an
//! unreachable target and a 401/403 are always told apart and never silently dropped.

use std::future::Future;
use std::time::Duration;

use serde_json::Value;

/// Request body.
#[derive(Debug, Clone)]
pub enum Body {
    Json(Value),
    /// Newline-delimited JSON (`_bulk`).
    Ndjson(String),
}

/// HTTP method subset the coordination read paths use.
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

/// Sends one request to the target. Implemented by [`HttpTransport`] (and by the `cluster` client).
pub trait JsonTransport: Send + Sync {
    /// Base URL, for messages only (never contains credentials).
    fn url(&self) -> &str;
    /// Sends `method path` with an optional body. 2xx and 404 are returned; anything else is an error.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> impl Future<Output = Result<JsonResponse, TransportError>> + Send;
}

/// Maps a non-success status to the right error (401/403 → Unauthorized, others → Http).
pub fn classify(url: &str, path: &str, status: u16, body: &str) -> TransportError {
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

/// Plain HTTP(S) transport with optional basic auth; used until the full `cluster` client is wired in.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: String,
    client: reqwest::Client,
    basic: Option<(String, String)>,
}

impl HttpTransport {
    /// `base` like `https://host:9200` (a trailing `/` is ignored).
    pub fn new(base: &str, basic: Option<(String, String)>) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(65))
            .build()
            .map_err(|e| TransportError::Unreachable {
                url: base.to_string(),
                message: e.to_string(),
            })?;
        Ok(HttpTransport {
            base: base.trim_end_matches('/').to_string(),
            client,
            basic,
        })
    }
}

impl JsonTransport for HttpTransport {
    fn url(&self) -> &str {
        &self.base
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<JsonResponse, TransportError> {
        let url = format!("{}{}", self.base, path);
        let m = match method {
            Method::Get => reqwest::Method::GET,
            Method::Head => reqwest::Method::HEAD,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut req = self.client.request(m, &url);
        if let Some((user, password)) = &self.basic {
            req = req.basic_auth(user, Some(password));
        }
        req = match body {
            Some(Body::Json(v)) => req
                .header("content-type", "application/json")
                .body(v.to_string()),
            Some(Body::Ndjson(s)) => req.header("content-type", "application/x-ndjson").body(s),
            None => req,
        };
        let resp = req.send().await.map_err(|e| TransportError::Unreachable {
            url: self.base.clone(),
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| TransportError::Unreachable {
            url: self.base.clone(),
            message: e.to_string(),
        })?;
        if !(200..300).contains(&status) && status != 404 {
            return Err(classify(&self.base, path, status, &text));
        }
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| TransportError::Decode {
                url: self.base.clone(),
                path: path.to_string(),
                message: e.to_string(),
            })?
        };
        Ok(JsonResponse { status, body })
    }
}
