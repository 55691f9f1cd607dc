//! Why a target client could not be built.
//!
//! Construction is where everything that can be checked before the first request is checked: the password
//! variable or secret, AWS credentials for SigV4, the CA bundle, the endpoint URL. Each variant names the
//! thing that failed (variable, ARN, path, endpoint) and says how to fix it. Guarantee: no variant carries a
//! password or secret value; messages hold only names, ARNs, paths and the underlying error's text (SDK and
//! TLS errors never echo secret values).
//!
//! Failures of individual requests are [`crate::cluster::transport::TransportError`]s, as for every
//! other `JsonTransport`.

use std::path::PathBuf;

/// A target client could not be built from the configuration.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// `target.endpoint` is not a usable `http(s)://` URL.
    #[error("target endpoint {endpoint:?} is not a valid http(s) URL: {reason}")]
    Endpoint { endpoint: String, reason: String },

    /// `password_env` names a variable that is unset or empty.
    #[error(
        "the target password variable {var} is not set (target.auth.password_env); export {var}=<password> \
         before running, or store the password in Secrets Manager and use password_secret_arn"
    )]
    PasswordEnvUnset { var: String },

    /// Secrets Manager refused or failed the `GetSecretValue` call.
    #[error(
        "could not read the target password from Secrets Manager secret {arn}: {reason}; check the ARN, its \
         region, and that these AWS credentials allow secretsmanager:GetSecretValue on it"
    )]
    SecretFetch { arn: String, reason: String },

    /// The secret exists but holds no usable password.
    #[error(
        "Secrets Manager secret {arn} holds no usable password: {reason}; store either the bare password or \
         JSON {{\"username\": \"..\", \"password\": \"..\"}} as the secret string"
    )]
    SecretUnusable { arn: String, reason: String },

    /// The secret is JSON with a `username` that differs from `target.auth.username`.
    #[error(
        "Secrets Manager secret {arn} is for user {in_secret:?} but target.auth.username is {configured:?}; \
         make them agree"
    )]
    SecretUsernameMismatch {
        arn: String,
        configured: String,
        in_secret: String,
    },

    /// SigV4 was asked for but the AWS credential chain produced nothing.
    #[error(
        "SigV4 auth for the target needs AWS credentials, but none were found: {reason}; set AWS_PROFILE or \
         AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role"
    )]
    NoAwsCredentials { reason: String },

    /// `target.tls.ca_file` could not be read or holds no PEM certificate.
    #[error("target.tls.ca_file {path}: {reason}; point it at a PEM bundle of CA certificates")]
    CaFile { path: PathBuf, reason: String },

    /// The HTTP client itself could not be built (TLS backend setup).
    #[error("could not build the HTTP client for target {endpoint}: {reason}")]
    Http { endpoint: String, reason: String },
}
