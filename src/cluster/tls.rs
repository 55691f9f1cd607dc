//! The connection layer under the client: TLS trust and timeouts, turned into a `reqwest::Client`.
//!
//! Guarantees: certificate verification is on unless the configuration says `insecure_skip_verify: true`
//! (and then [`TlsSettings::insecure`] is true so the caller can warn; nothing is printed here); a
//! `ca_file` adds its certificates to the platform's roots rather than replacing them; a `ca_file` that is
//! unreadable or holds no PEM certificate is an error at construction, never a silent fallback.

use std::time::Duration;

use reqwest::Certificate;

use super::error::ClusterError;
use crate::config::Tls;

/// Connect and whole-request timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS handshake.
    pub connect: Duration,
    /// From sending the request to the last byte of the answer (a large `_bulk` can take a while).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(65),
        }
    }
}

/// Trust settings resolved from [`Tls`]: extra roots read from the CA file, and the insecure flag.
#[derive(Clone, Default)]
pub struct TlsSettings {
    pub extra_roots: Vec<Certificate>,
    pub insecure: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("extra_roots", &self.extra_roots.len())
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl TlsSettings {
    /// Reads `tls.ca_file` (a PEM bundle) if set.
    pub(crate) fn from_config(tls: &Tls) -> Result<Self, ClusterError> {
        let mut extra_roots = Vec::new();
        if let Some(path) = &tls.ca_file {
            let ca_error = |reason: String| ClusterError::CaFile {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(format!("cannot read it: {e}")))?;
            extra_roots = Certificate::from_pem_bundle(&pem)
                .map_err(|e| ca_error(format!("not a PEM certificate bundle: {e}")))?;
            if extra_roots.is_empty() {
                return Err(ca_error("it holds no PEM certificate".into()));
            }
        }
        Ok(TlsSettings {
            extra_roots,
            insecure: tls.insecure_skip_verify,
        })
    }
}

/// An HTTP client with these trust settings and timeouts.
pub(crate) fn build_http(
    endpoint: &str,
    tls: &TlsSettings,
    timeouts: Timeouts,
) -> Result<reqwest::Client, ClusterError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request);
    if !tls.extra_roots.is_empty() {
        builder = builder.tls_certs_merge(tls.extra_roots.iter().cloned());
    }
    if tls.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| ClusterError::Http {
        endpoint: endpoint.to_string(),
        reason: super::sigv4::aws_error_text(&e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_five_and_sixty_five_seconds() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Duration::from_secs(5));
        assert_eq!(t.request, Duration::from_secs(65));
    }

    #[test]
    fn missing_or_empty_ca_file_is_an_error_naming_the_path() {
        let tls = Tls {
            ca_file: Some("/nonexistent/ca.pem".into()),
            insecure_skip_verify: false,
        };
        let err = TlsSettings::from_config(&tls).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let tls = Tls {
            ca_file: Some(empty),
            insecure_skip_verify: false,
        };
        assert!(matches!(
            TlsSettings::from_config(&tls),
            Err(ClusterError::CaFile { .. })
        ));
    }

    #[test]
    fn verification_is_on_by_default_and_insecure_is_reported() {
        let settings = TlsSettings::from_config(&Tls::default()).unwrap();
        assert!(!settings.insecure);
        assert!(settings.extra_roots.is_empty());
        let insecure = TlsSettings::from_config(&Tls {
            ca_file: None,
            insecure_skip_verify: true,
        })
        .unwrap();
        assert!(insecure.insecure);
        build_http("https://x", &insecure, Timeouts::default()).unwrap();
    }
}
