//! The target client: one [`JsonTransport`] with auth, TLS, timeouts, retries and optional gzip.
//!
//! Answer semantics are the seam's (2xx and 404 are returned, any other status goes through
//! [`classify`](super::transport::classify), so 401/403 become `Unauthorized`); on top it adds what a long
//! backfill against a managed cluster needs: basic or SigV4 auth, a custom CA, bounded retries of throttled or
//! dropped requests, and gzip request bodies.
//!
//! Guarantees:
//! - a request is retried only when [`is_repeatable`] and the failure is [`is_retryable_status`] or a
//!   connection error, at most `max_attempts` sends in all, after the backoff or the answer's `Retry-After`,
//!   whichever is longer (see [`RetryPolicy::delay_after`]); every attempt is signed afresh;
//! - with gzip on, the body on the wire is gzip with `Content-Encoding: gzip`, and SigV4 hashes those bytes;
//! - the password and AWS keys never appear in `Debug` output, in [`ClusterError`]s or [`TransportError`]s;
//!   [`JsonTransport::url`] is the endpoint without any user info.

use std::fmt;
use std::sync::Arc;

use reqwest::Url;
use reqwest::header::HeaderValue;

use super::auth::{Auth, resolve_password};
use super::error::ClusterError;
use super::request::{
    PreparedBody, display_url, finish, method_name, parse_endpoint, prepare_off_thread,
    redact_userinfo, reqwest_method,
};
use super::retry::{RetryPolicy, is_repeatable, is_retryable_status, parse_retry_after};
use super::sigv4::{RequestParts, Signer, aws_error_text, signing_name};
use super::tls::{Timeouts, TlsSettings, build_http};
use super::transport::{Body, JsonTransport, Method, RawResponse, TransportError};
use crate::aws_sdk::AwsSdk;
use crate::config::Env;
use crate::config::{Target, TargetAuth};
use crate::time::{Clock, SystemClock};

/// HTTP client for the target cluster. Cheap to clone (the connection pool and auth are shared).
#[derive(Clone)]
pub struct Client {
    /// The endpoint without user info (credentials in the URL are never sent or shown).
    base: Url,
    /// `base` without the trailing `/`: what messages show.
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
        let base = Url::parse(&display_url(&parse_endpoint(endpoint)?)).map_err(|e| {
            ClusterError::Endpoint {
                endpoint: redact_userinfo(endpoint),
                reason: e.to_string(),
            }
        })?;
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
    /// configuration for Secrets Manager and credentials, loaded only if the auth needs AWS (SigV4 signs in
    /// the configured `region` either way).
    pub async fn from_target(
        target: &Target,
        env: &dyn Env,
        aws: &AwsSdk,
    ) -> Result<Client, ClusterError> {
        let tls = TlsSettings::from_config(&target.tls)?;
        parse_endpoint(&target.endpoint)?;
        let auth = match &target.auth {
            TargetAuth::None => Auth::None,
            TargetAuth::Basic { username, password } => {
                let password = resolve_password(username, password, env, aws).await?;
                Auth::Basic {
                    username: username.clone(),
                    password,
                }
            }
            TargetAuth::Sigv4 { service, region } => {
                let provider = aws.config().await.credentials_provider();
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

    /// Whether the target accepts gzip-compressed request bodies: one small `_search` (`size: 0`) sent
    /// compressed. Elasticsearch and OpenSearch decompress request bodies; a proxy or service that does not
    /// answers 4xx, and the caller keeps bodies uncompressed.
    pub(crate) async fn accepts_gzip(&self) -> bool {
        let probe = self
            .clone()
            .with_gzip(true)
            .with_retry_policy(RetryPolicy::none());
        probe
            .send(
                Method::Post,
                "/_search?size=0",
                Some(Body::Json(serde_json::json!({"query": {"match_none": {}}}))),
            )
            .await
            .is_ok_and(|r| (200..300).contains(&r.status))
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

    /// True when TLS certificate verification is off (`insecure_skip_verify: true`); callers should warn.
    pub fn insecure_tls(&self) -> bool {
        self.tls.insecure
    }

    /// One send: signs, sends, reads the answer (status, body, and the wait its `Retry-After` asks for).
    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        body: Option<&PreparedBody>,
    ) -> Result<Answer, Failure> {
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
                        Failure::Final(TransportError::Unreachable {
                            url: self.display.clone(),
                            message,
                        })
                    })?;
                for (name, value, sensitive) in headers {
                    let mut value = HeaderValue::from_str(&value).map_err(|e| {
                        Failure::Final(TransportError::Unreachable {
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
        let connection = |e: reqwest::Error| Failure::Connection(aws_error_text(&e));
        let resp = req.send().await.map_err(connection)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemClock.now()));
        let body = resp.bytes().await.map_err(connection)?;
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }
}

/// One answer from the target.
struct Answer {
    status: u16,
    body: bytes::Bytes,
    /// The wait the answer's `Retry-After` header asks for, if it has one.
    retry_after: Option<std::time::Duration>,
}

/// Why one send produced no answer.
enum Failure {
    /// The connection failed or dropped (retryable for repeatable requests).
    Connection(String),
    /// Nothing to retry (e.g. no credentials to sign with).
    Final(TransportError),
}

impl JsonTransport for Client {
    fn url(&self) -> &str {
        &self.display
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<RawResponse, TransportError> {
        let unreachable = |message: String| TransportError::Unreachable {
            url: self.display.clone(),
            message,
        };
        let slash = if path.starts_with('/') { "" } else { "/" };
        let url = Url::parse(&format!(
            "{}{slash}{path}",
            self.base.as_str().trim_end_matches('/'),
        ))
        .map_err(|e| unreachable(format!("cannot form a request URL from path {path:?}: {e}")))?;
        let body = match body {
            Some(b) => Some(
                prepare_off_thread(b, self.gzip)
                    .await
                    .map_err(unreachable)?,
            ),
            None => None,
        };
        let repeatable = is_repeatable(method, path);
        let mut attempt = 1u32;
        loop {
            let may_retry = repeatable && attempt < self.retry.max_attempts;
            let retry_after = match self.send_once(method, &url, body.as_ref()).await {
                Ok(answer) if may_retry && is_retryable_status(answer.status) => answer.retry_after,
                Ok(answer) => return finish(&self.display, path, answer.status, answer.body),
                Err(Failure::Connection(_)) if may_retry => None,
                Err(Failure::Connection(message)) => return Err(unreachable(message)),
                Err(Failure::Final(error)) => return Err(error),
            };
            let delay = self
                .retry
                .delay_after(attempt, retry_after, &mut rand::rng());
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
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

#[cfg(test)]
mod tests {
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
        assert_eq!(
            client.base.as_str(),
            "https://search.example.com:9200/",
            "user info is dropped"
        );
        assert!(!client.insecure_tls());
        assert!(!client.gzip && client.with_gzip(true).gzip);
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
}
