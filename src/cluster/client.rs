//! The target client: one [`JsonTransport`] with auth, TLS, timeouts, retries and optional gzip.
//!
//! It replaces the plain `HttpTransport` with the same answer semantics (2xx and 404 are returned, any other
//! status goes through [`classify`], so 401/403 become `Unauthorized`) and adds what a long backfill against a
//! managed cluster needs: basic or SigV4 auth, a custom CA, bounded retries of throttled or dropped requests,
//! and gzip request bodies.
//!
//! Guarantees:
//! - a request is retried only when [`is_repeatable`] and the failure is [`is_retryable_status`] or a
//!   connection error, at most `max_attempts` sends in all; every attempt is signed afresh;
//! - with gzip on, the body on the wire is gzip with `Content-Encoding: gzip`, and SigV4 hashes those bytes;
//! - the password and AWS keys never appear in `Debug` output, in [`ClusterError`]s or [`TransportError`]s;
//!   [`JsonTransport::url`] is the endpoint without any user info.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use reqwest::Url;
use reqwest::header::HeaderValue;
use serde_json::Value;

use super::auth::{Auth, resolve_password};
use super::error::ClusterError;
use super::retry::{RetryPolicy, is_repeatable, is_retryable_status};
use super::sigv4::{RequestParts, Signer, aws_error_text, signing_name};
use super::tls::{Timeouts, TlsSettings, build_http};
use crate::config::Env;
use crate::config::{Target, TargetAuth};
use crate::coordination::transport::{
    Body, JsonResponse, JsonTransport, Method, TransportError, classify,
};

/// HTTP client for the target cluster. Cheap to clone (the connection pool and auth are shared).
#[derive(Clone)]
pub struct Client {
    base: Url,
    /// `base` without user info and trailing `/`: what messages show.
    display: String,
    http: reqwest::Client,
    auth: Arc<Auth>,
    tls: TlsSettings,
    timeouts: Timeouts,
    retry: RetryPolicy,
    gzip: bool,
}

impl Client {
    /// A client for `endpoint` (`http(s)://host[:port]`) with resolved `auth` and trust settings.
    pub fn new(endpoint: &str, auth: Auth, tls: TlsSettings) -> Result<Client, ClusterError> {
        let base = parse_endpoint(endpoint)?;
        let display = display_url(&base);
        let timeouts = Timeouts::default();
        let http = build_http(&display, &tls, timeouts)?;
        Ok(Client {
            base,
            display,
            http,
            auth: Arc::new(auth),
            tls,
            timeouts,
            retry: RetryPolicy::default(),
            gzip: false,
        })
    }

    /// Builds the client the configuration describes. Resolves the basic-auth password (environment variable
    /// via `env`, or Secrets Manager) and, for SigV4, checks that AWS credentials exist. `aws` is the SDK
    /// configuration to use for Secrets Manager and credentials; `None` loads the default chain only if the
    /// auth needs AWS (SigV4 signs in the configured `region` either way).
    pub async fn from_target(
        target: &Target,
        env: &dyn Env,
        aws: Option<&SdkConfig>,
    ) -> Result<Client, ClusterError> {
        let tls = TlsSettings::from_config(&target.tls)?;
        parse_endpoint(&target.endpoint)?;
        let auth = match &target.auth {
            TargetAuth::None => Auth::None,
            TargetAuth::Basic { username, password } => {
                let loaded;
                let aws = match aws {
                    Some(aws) => aws,
                    None => {
                        loaded = aws_config::defaults(BehaviorVersion::latest()).load().await;
                        &loaded
                    }
                };
                let password = resolve_password(username, password, env, aws).await?;
                Auth::Basic {
                    username: username.clone(),
                    password,
                }
            }
            TargetAuth::Sigv4 { service, region } => {
                let provider = match aws {
                    Some(aws) => aws.credentials_provider(),
                    None => aws_config::defaults(BehaviorVersion::latest())
                        .region(Region::new(region.clone()))
                        .load()
                        .await
                        .credentials_provider(),
                };
                let provider = provider.ok_or_else(|| ClusterError::NoAwsCredentials {
                    reason: "the AWS configuration has no credentials provider".into(),
                })?;
                let signer = Signer::new(*service, region.clone(), provider);
                signer
                    .credentials()
                    .await
                    .map_err(|reason| ClusterError::NoAwsCredentials { reason })?;
                Auth::Sigv4(signer)
            }
        };
        Client::new(&target.endpoint, auth, tls)
    }

    /// Replaces the retry policy (attempt limit and backoff).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends request bodies gzip-compressed (`Content-Encoding: gzip`) when `on`.
    pub fn with_gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// Replaces the connect and request timeouts (rebuilds the connection pool).
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Result<Self, ClusterError> {
        self.http = build_http(&self.display, &self.tls, timeouts)?;
        self.timeouts = timeouts;
        Ok(self)
    }

    /// True when TLS certificate verification is off (`insecure_skip_verify: true`); callers should warn.
    pub fn insecure_tls(&self) -> bool {
        self.tls.insecure
    }

    /// True when request bodies are gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// One send: signs, sends, reads the answer. `Err(Ok(e))` is final, `Err(Err(msg))` a connection failure.
    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        body: Option<&PreparedBody>,
    ) -> Result<(u16, String), Result<TransportError, String>> {
        let mut req = self.http.request(reqwest_method(method), url.clone());
        let mut signed: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = body {
            req = req.header("content-type", b.content_type);
            signed.push(("content-type", b.content_type));
            if b.gzip {
                req = req.header("content-encoding", "gzip");
                signed.push(("content-encoding", "gzip"));
            }
        }
        match self.auth.as_ref() {
            Auth::None => {}
            Auth::Basic { username, password } => {
                req = req.basic_auth(username, Some(password.expose()));
            }
            Auth::Sigv4(signer) => {
                let bytes = body.map(|b| b.bytes.as_ref()).unwrap_or(&[]);
                let headers = signer
                    .sign(RequestParts {
                        method: method_name(method),
                        url: url.as_str(),
                        headers: &signed,
                        body: bytes,
                    })
                    .await
                    .map_err(|message| {
                        Ok(TransportError::Unreachable {
                            url: self.display.clone(),
                            message,
                        })
                    })?;
                for (name, value, sensitive) in headers {
                    let mut value = HeaderValue::from_str(&value).map_err(|e| {
                        Ok(TransportError::Unreachable {
                            url: self.display.clone(),
                            message: format!("SigV4 produced an invalid {name} header: {e}"),
                        })
                    })?;
                    value.set_sensitive(sensitive || name == "authorization");
                    req = req.header(name, value);
                }
            }
        }
        if let Some(b) = body {
            req = req.body(b.bytes.clone());
        }
        let resp = req.send().await.map_err(|e| Err(aws_error_text(&e)))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| Err(aws_error_text(&e)))?;
        Ok((status, text))
    }
}

/// A request body encoded once and reused by every attempt.
struct PreparedBody {
    content_type: &'static str,
    bytes: bytes::Bytes,
    gzip: bool,
}

fn prepare(body: Body, gzip: bool) -> Result<PreparedBody, String> {
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
pub fn gzip_bytes(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(raw)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip of the request body failed: {e}"))
}

impl JsonTransport for Client {
    fn url(&self) -> &str {
        &self.display
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<JsonResponse, TransportError> {
        let unreachable = |message: String| TransportError::Unreachable {
            url: self.display.clone(),
            message,
        };
        let url = Url::parse(&format!(
            "{}{}",
            self.base.as_str().trim_end_matches('/'),
            path
        ))
        .map_err(|e| unreachable(format!("cannot form a request URL from path {path:?}: {e}")))?;
        let body = body
            .map(|b| prepare(b, self.gzip))
            .transpose()
            .map_err(unreachable)?;
        let repeatable = is_repeatable(method, path);
        let mut attempt = 1u32;
        loop {
            let may_retry = repeatable && attempt < self.retry.max_attempts;
            match self.send_once(method, &url, body.as_ref()).await {
                Ok((status, _)) if may_retry && is_retryable_status(status) => {}
                Ok((status, text)) => return finish(&self.display, path, status, &text),
                Err(Err(_)) if may_retry => {}
                Err(Err(message)) => return Err(unreachable(message)),
                Err(Ok(error)) => return Err(error),
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// Maps a final answer to the transport contract: 2xx/404 → JSON (empty → `null`), else [`classify`].
fn finish(url: &str, path: &str, status: u16, text: &str) -> Result<JsonResponse, TransportError> {
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

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth.as_ref() {
            Auth::None => "none".to_string(),
            Auth::Basic { username, .. } => format!("basic(user={username}, password=<redacted>)"),
            Auth::Sigv4(s) => format!(
                "sigv4(service={}, region={})",
                signing_name(s.service()),
                s.region()
            ),
        };
        f.debug_struct("Client")
            .field("url", &self.display)
            .field("auth", &auth)
            .field("tls", &self.tls)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("gzip", &self.gzip)
            .finish()
    }
}

fn parse_endpoint(endpoint: &str) -> Result<Url, ClusterError> {
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
fn display_url(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.as_str().trim_end_matches('/').to_string()
}

/// Drops anything before the last `@` (after `scheme://`) from an endpoint before it goes into an error.
fn redact_userinfo(endpoint: &str) -> String {
    let Some(at) = endpoint.rfind('@') else {
        return endpoint.to_string();
    };
    let scheme = match endpoint.find("://") {
        Some(s) if s < at => &endpoint[..s + 3],
        _ => "",
    };
    format!("{scheme}<redacted>@{}", &endpoint[at + 1..])
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn method_name(method: Method) -> &'static str {
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
    use crate::cluster::auth::Password;

    fn basic_client() -> Client {
        let auth = Auth::Basic {
            username: "admin".into(),
            password: Password::new("pa55-Secret"),
        };
        Client::new(
            "https://admin:pa55-Secret@search.example.com:9200/",
            auth,
            TlsSettings::default(),
        )
        .unwrap()
    }

    #[test]
    fn debug_and_url_never_show_the_password() {
        let client = basic_client();
        let debug = format!("{client:?}");
        assert!(!debug.contains("pa55-Secret"), "{debug}");
        assert!(debug.contains("password=<redacted>"), "{debug}");
        assert_eq!(client.url(), "https://search.example.com:9200");
        assert!(!client.insecure_tls());
        assert!(!client.gzip() && client.with_gzip(true).gzip());
    }

    #[test]
    fn bad_endpoints_are_errors_without_user_info() {
        let err = Client::new(
            "ftp://u:pa55-Secret@host",
            Auth::None,
            TlsSettings::default(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("ftp") && !text.contains("pa55-Secret"),
            "{text}"
        );
        let err = Client::new(
            "not a url u:pa55-Secret@x",
            Auth::None,
            TlsSettings::default(),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("pa55-Secret"), "{err}");
    }

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
