//! AWS Signature Version 4 for Amazon OpenSearch Service (`es`) and OpenSearch Serverless (`aoss`).
//!
//! Signing is split in two so the cryptography is testable without I/O or a clock:
//! - [`sign_headers`] is pure: credentials, a fixed time, the request parts → the headers to add;
//! - [`Signer`] owns the credentials provider from the AWS default chain and keeps the current credentials,
//!   fetching new ones when they are within [`REFRESH_BEFORE_EXPIRY`] of expiring (the default chain does not
//!   cache by itself, and role credentials rotate), so every request is signed with valid credentials.
//!
//! Guarantees: the payload hash is always computed over the exact bytes sent (after gzip) and sent as
//! `x-amz-content-sha256` (required by `aoss`, accepted by `es`); the signed headers are `host`,
//! `content-type`/`content-encoding` when present, `x-amz-date`, `x-amz-content-sha256` and, for temporary
//! credentials, `x-amz-security-token`. Secret keys never appear in `Debug` output (the SDK's `Credentials`
//! redacts them and [`Signer`]'s `Debug` prints only service and region).

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use tokio::sync::Mutex;

use crate::config::Sigv4Service;

/// Credentials closer than this to their expiry are replaced before signing.
pub(crate) const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The signing name AWS expects for `service`.
pub(crate) fn signing_name(service: Sigv4Service) -> &'static str {
    match service {
        Sigv4Service::Es => "es",
        Sigv4Service::Aoss => "aoss",
    }
}

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestParts<'a> {
    pub method: &'a str,
    /// Full URL, already percent-encoded as it goes on the wire.
    pub url: &'a str,
    /// The request's own headers to cover (lower-case names), besides `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes sent.
    pub body: &'a [u8],
}

/// The headers that sign `request` at `time`, as `(name, value, sensitive)` triples.
pub(crate) fn sign_headers(
    credentials: &Credentials,
    service: Sigv4Service,
    region: &str,
    time: SystemTime,
    request: RequestParts<'_>,
) -> Result<Vec<(&'static str, String, bool)>, String> {
    let RequestParts {
        method,
        url,
        headers,
        body,
    } = request;
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name(service))
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("SigV4 parameters: {e}"))?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("SigV4 cannot sign {url}: {e}"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| format!("SigV4 signing failed: {e}"))?
        .into_parts();
    let (new_headers, _query) = instructions.into_parts();
    Ok(new_headers
        .into_iter()
        .map(|h| (h.name(), h.value().to_string(), h.sensitive()))
        .collect())
}

/// Signs requests with credentials from an AWS credentials provider, refreshing them before they expire.
pub struct Signer {
    service: Sigv4Service,
    region: String,
    provider: SharedCredentialsProvider,
    current: Mutex<Option<Credentials>>,
}

impl Signer {
    pub(crate) fn new(
        service: Sigv4Service,
        region: String,
        provider: SharedCredentialsProvider,
    ) -> Self {
        Signer {
            service,
            region,
            provider,
            current: Mutex::new(None),
        }
    }

    pub(crate) fn service(&self) -> Sigv4Service {
        self.service
    }

    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// Current credentials: the kept ones unless they are about to expire, else fresh ones from the provider.
    pub(crate) async fn credentials(&self) -> Result<Credentials, String> {
        let mut current = self.current.lock().await;
        if let Some(creds) = current.as_ref()
            && !needs_refresh(creds, SystemTime::now())
        {
            return Ok(creds.clone());
        }
        let fresh = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| aws_error_text(&e))?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Signature headers for one request, signed now.
    pub(crate) async fn sign(
        &self,
        request: RequestParts<'_>,
    ) -> Result<Vec<(&'static str, String, bool)>, String> {
        let credentials = self
            .credentials()
            .await
            .map_err(|e| format!("no AWS credentials to sign with: {e}"))?;
        sign_headers(
            &credentials,
            self.service,
            &self.region,
            SystemTime::now(),
            request,
        )
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("service", &signing_name(self.service))
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// True when `creds` expire within [`REFRESH_BEFORE_EXPIRY`] of `now` (credentials without expiry never do).
pub(crate) fn needs_refresh(creds: &Credentials, now: SystemTime) -> bool {
    match creds.expiry() {
        None => false,
        Some(expiry) => expiry
            .duration_since(now)
            .map(|left| left < REFRESH_BEFORE_EXPIRY)
            .unwrap_or(true),
    }
}

/// An SDK error with its whole source chain (the top-level `Display` of SDK errors is often just "service error").
pub(crate) fn aws_error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_string),
            None,
            "test",
        )
    }

    /// 2015-08-30T12:36:00Z, the time of the AWS SigV4 test suite.
    fn fixed_time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn header<'a>(headers: &'a [(&'static str, String, bool)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v, _)| v.as_str())
    }

    /// The headers that sign a bulk POST of [`BULK_BODY`] to `url` for service `es` in us-east-1 at the fixed
    /// time (`content-type` set before signing), the URL parsed as the client parses it.
    fn sign_bulk_post(url: &str) -> Vec<(&'static str, String, bool)> {
        let url = reqwest::Url::parse(url).unwrap();
        sign_headers(
            &fixed_credentials(None),
            Sigv4Service::Es,
            "us-east-1",
            fixed_time(),
            RequestParts {
                method: "POST",
                url: url.as_str(),
                headers: &[("content-type", "application/x-ndjson")],
                body: BULK_BODY,
            },
        )
        .unwrap()
    }

    const BULK_BODY: &[u8] = b"{\"index\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{\"a\":1}\n";

    /// Known vector, computed independently with botocore's `SigV4Auth` for the same request (a bulk POST with
    /// `content-type` and `x-amz-content-sha256` set before signing).
    #[test]
    fn bulk_post_matches_a_botocore_vector() {
        let headers =
            sign_bulk_post("https://search-x.us-east-1.es.amazonaws.com/_bulk?refresh=false");
        assert_eq!(header(&headers, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(
            header(&headers, "x-amz-content-sha256"),
            Some(BOTO_BODY_SHA256)
        );
        assert_eq!(header(&headers, "authorization"), Some(BOTO_AUTHORIZATION));
    }

    /// The worker's bulk path carries `filter_path=errors,items.*.status,items.*.error` with `,` and `*`
    /// percent-encoded, as the canonical query has them, so the URL is sent as signed. Vector from botocore's
    /// `SigV4Auth` for that URL. The same query with raw `,` and `*` signs the same here (the signer
    /// canonicalises it as Amazon OpenSearch Service does: `*` as `%2A`), whereas botocore would sign the raw
    /// characters and be refused. (The path is the worker's `bulk::BULK_PATH`, written out here because the
    /// cluster layer does not depend on the worker; `bulk_tests` checks the two agree.)
    #[test]
    fn a_bulk_post_with_the_workers_filter_path_matches_a_botocore_vector() {
        let botocore = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/es/aws4_request, \
             SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
             Signature=50835a5c3d3663b596aac3fe01967483a8e29ba51dddfe33e84688b953d39e26";
        for url in [
            "https://search-x.us-east-1.es.amazonaws.com/_bulk?filter_path=errors%2Citems.%2A.status%2Citems.%2A.error",
            "https://search-x.us-east-1.es.amazonaws.com/_bulk?filter_path=errors,items.*.status,items.*.error",
        ] {
            assert_eq!(
                header(&sign_bulk_post(url), "authorization"),
                Some(botocore),
                "{url}"
            );
        }
    }

    const BOTO_BODY_SHA256: &str =
        "f0d5a5a445df02d89d40a2838e1541a8d3d81e54240825290032767705a8877a";
    const BOTO_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
        Credential=AKIDEXAMPLE/20150830/us-east-1/es/aws4_request, \
        SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
        Signature=885d6712ef47c8bf337e9e8b4090bb0271f133289a335111a75d8b573b61548d";

    #[test]
    fn aoss_signature_has_the_expected_shape_and_body_hash() {
        let headers = sign_headers(
            &fixed_credentials(Some("session-token")),
            Sigv4Service::Aoss,
            "eu-west-1",
            fixed_time(),
            RequestParts {
                method: "GET",
                url: "https://abc.eu-west-1.aoss.amazonaws.com/idx/_search",
                headers: &[],
                body: b"",
            },
        )
        .unwrap();
        let auth = header(&headers, "authorization").unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/aoss/aws4_request, SignedHeaders="
        ));
        assert!(
            auth.contains(
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
            ),
            "{auth}"
        );
        let signature = auth.rsplit("Signature=").next().unwrap();
        assert_eq!(signature.len(), 64);
        assert!(signature.chars().all(|c| c.is_ascii_hexdigit()));
        // SHA-256 of the empty body.
        assert_eq!(
            header(&headers, "x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            header(&headers, "x-amz-security-token"),
            Some("session-token")
        );
        assert!(!auth.contains("wJalrXUtnFEMI"));
    }

    #[test]
    fn credentials_are_refreshed_only_near_expiry() {
        let now = fixed_time();
        let never = fixed_credentials(None);
        assert!(!needs_refresh(&never, now));
        let soon = Credentials::new("a", "b", None, Some(now + Duration::from_secs(60)), "t");
        assert!(needs_refresh(&soon, now));
        let later = Credentials::new("a", "b", None, Some(now + Duration::from_secs(3600)), "t");
        assert!(!needs_refresh(&later, now));
        let past = Credentials::new("a", "b", None, Some(now - Duration::from_secs(1)), "t");
        assert!(needs_refresh(&past, now));
    }

    #[tokio::test]
    async fn signer_fetches_credentials_from_the_provider_and_keeps_them() {
        let provider = SharedCredentialsProvider::new(fixed_credentials(None));
        let signer = Signer::new(Sigv4Service::Es, "us-east-1".into(), provider);
        let headers = signer
            .sign(RequestParts {
                method: "GET",
                url: "https://h.example.com/",
                headers: &[],
                body: b"",
            })
            .await
            .unwrap();
        assert!(header(&headers, "authorization").is_some());
        assert_eq!(
            signer.credentials().await.unwrap().access_key_id(),
            "AKIDEXAMPLE"
        );
        let debug = format!("{signer:?}");
        assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
        assert!(!debug.contains("AKIDEXAMPLE"), "{debug}");
    }
}
