//! How the client proves who it is to the target: nothing, HTTP basic, or AWS SigV4.
//!
//! Basic-auth passwords are resolved once, when the client is built: from an environment variable (through the
//! [`Env`] trait, the only environment reader) or from a Secrets Manager secret whose string is either the bare
//! password or JSON `{"username": .., "password": ..}`. A missing variable or unusable secret is a typed
//! [`ClusterError`] naming the variable or ARN.
//!
//! Guarantee: the password lives only in a [`Password`], whose `Debug` prints `<redacted>` and which has no
//! `Display`; it is handed to the HTTP layer as a sensitive header and never formatted into errors or logs.

use std::fmt;

use aws_config::Region;
use serde_json::Value;

use super::error::ClusterError;
use super::sigv4::{Signer, aws_error_text};
use crate::aws_sdk::AwsSdk;
use crate::config::Env;
use crate::config::PasswordSource;

/// A password that never prints.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    #[cfg(test)]
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Password(value.into())
    }

    /// The password itself, for building the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The resolved authentication of a client.
#[derive(Debug)]
pub enum Auth {
    None,
    Basic {
        username: String,
        password: Password,
    },
    Sigv4(Signer),
}

/// The password for `username` from `source`. Secrets Manager is reached with `aws`'s configuration (loaded
/// only for a secret), in the ARN's region when it has one, so a secret in another region than the
/// configured one still resolves.
pub(crate) async fn resolve_password(
    username: &str,
    source: &PasswordSource,
    env: &dyn Env,
    aws: &AwsSdk,
) -> Result<Password, ClusterError> {
    match source {
        PasswordSource::Env(var) => env
            .var(var)
            .filter(|v| !v.is_empty())
            .map(Password)
            .ok_or_else(|| ClusterError::PasswordEnvUnset { var: var.clone() }),
        PasswordSource::SecretArn(arn) => {
            let text = fetch_secret_string(arn, aws).await?;
            password_from_secret(arn, username, &text)
        }
    }
}

async fn fetch_secret_string(arn: &str, aws: &AwsSdk) -> Result<String, ClusterError> {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(aws.config().await);
    if let Some(region) = arn_region(arn) {
        config = config.region(Region::new(region.to_string()));
    }
    let client = aws_sdk_secretsmanager::Client::from_conf(config.build());
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| ClusterError::SecretFetch {
            arn: arn.to_string(),
            reason: aws_error_text(&e),
        })?;
    out.secret_string
        .ok_or_else(|| ClusterError::SecretUnusable {
            arn: arn.to_string(),
            reason: "it has no secret string (binary secrets are not supported)".into(),
        })
}

/// The region field of `arn:partition:secretsmanager:region:account:secret:name`, if present.
pub(crate) fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    let (Some("arn"), Some(_partition), Some(_service), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (!region.is_empty()).then_some(region)
}

/// Reads the password out of a secret string: JSON with a `password` field, or the whole string.
pub(crate) fn password_from_secret(
    arn: &str,
    username: &str,
    text: &str,
) -> Result<Password, ClusterError> {
    let unusable = |reason: &str| ClusterError::SecretUnusable {
        arn: arn.to_string(),
        reason: reason.to_string(),
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            if let Some(in_secret) = map.get("username").and_then(Value::as_str)
                && in_secret != username
            {
                return Err(ClusterError::SecretUsernameMismatch {
                    arn: arn.to_string(),
                    configured: username.to_string(),
                    in_secret: in_secret.to_string(),
                });
            }
            match map.get("password") {
                Some(Value::String(p)) if !p.is_empty() => Ok(Password(p.clone())),
                Some(Value::String(_)) => Err(unusable("its JSON `password` is empty")),
                Some(_) => Err(unusable("its JSON `password` is not a string")),
                None => Err(unusable("it is a JSON object without a `password` field")),
            }
        }
        _ if text.is_empty() => Err(unusable("the secret string is empty")),
        _ => Ok(Password(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:target-AbCdEf";

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::new("hunter2");
        assert_eq!(format!("{p:?}"), "<redacted>");
        let auth = Auth::Basic {
            username: "admin".into(),
            password: p,
        };
        let debug = format!("{auth:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("admin"));
    }

    #[test]
    fn secret_string_may_be_bare_or_json() {
        assert_eq!(
            password_from_secret(ARN, "admin", "s3cr3t!")
                .unwrap()
                .expose(),
            "s3cr3t!"
        );
        let json = r#"{"username":"admin","password":"s3cr3t!"}"#;
        assert_eq!(
            password_from_secret(ARN, "admin", json).unwrap().expose(),
            "s3cr3t!"
        );
        let json = r#"{"password":"only"}"#;
        assert_eq!(
            password_from_secret(ARN, "admin", json).unwrap().expose(),
            "only"
        );
    }

    #[test]
    fn unusable_secrets_are_typed_errors_without_the_secret() {
        let err = password_from_secret(ARN, "admin", r#"{"user":"x","pass":"leak"}"#).unwrap_err();
        assert!(matches!(err, ClusterError::SecretUnusable { .. }));
        let text = err.to_string();
        assert!(text.contains(ARN) && !text.contains("leak"), "{text}");

        let err = password_from_secret(ARN, "admin", r#"{"username":"root","password":"leak"}"#)
            .unwrap_err();
        assert!(matches!(err, ClusterError::SecretUsernameMismatch { .. }));
        assert!(!err.to_string().contains("leak"));

        assert!(password_from_secret(ARN, "admin", "").is_err());
    }

    #[tokio::test]
    async fn env_password_is_read_through_the_env_trait() {
        let env = MapEnv::default().with("TARGET_PW", "pw-from-env");
        let source = PasswordSource::Env("TARGET_PW".into());
        let p = resolve_password("admin", &source, &env, &AwsSdk::default())
            .await
            .unwrap();
        assert_eq!(p.expose(), "pw-from-env");

        let missing = PasswordSource::Env("NOT_SET".into());
        let err = resolve_password("admin", &missing, &env, &AwsSdk::default())
            .await
            .unwrap_err();
        assert!(matches!(&err, ClusterError::PasswordEnvUnset { var } if var == "NOT_SET"));
        assert!(err.to_string().contains("export NOT_SET="), "{err}");
    }

    #[test]
    fn region_comes_from_the_arn() {
        assert_eq!(arn_region(ARN), Some("eu-west-1"));
        assert_eq!(arn_region("my-secret-name"), None);
    }
}
