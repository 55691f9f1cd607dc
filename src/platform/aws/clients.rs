//! The AWS SDK clients the platform uses, built once from the one SDK configuration builder
//! ([`crate::aws_sdk::load`]: `aws.profile` and `aws.region` over the standard chain, whose endpoint override
//! the tests point at `moto_server`), and the one place SDK errors become [`PlatformError`]s.

use aws_config::SdkConfig;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::AwsSettings;
use crate::converge::ports::PlatformError;

/// CloudFormation, ECS, CloudWatch and CloudWatch Logs clients sharing one configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub cfn: aws_sdk_cloudformation::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl AwsClients {
    /// Clients over [`crate::aws_sdk::load`]'s configuration for `aws`.
    pub async fn load(aws: &AwsSettings) -> Self {
        Self::from_sdk_config(&crate::aws_sdk::load(aws).await)
    }

    /// Clients from an already loaded configuration (tests build one pointing at `moto_server`).
    pub fn from_sdk_config(config: &SdkConfig) -> Self {
        AwsClients {
            cfn: aws_sdk_cloudformation::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
        }
    }
}

/// The service's error code (`ValidationError`, `ClusterNotFoundException`), when the service answered.
pub(crate) fn error_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(_) => err.code(),
        _ => None,
    }
}

/// `code: message` of a service error, or the SDK's own description of a transport or build failure.
/// Never the debug form: request details (and anything credential-shaped) stay out of messages.
pub(crate) fn describe_error<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (err, err.code(), err.message()) {
        (SdkError::ServiceError(_), Some(code), Some(message)) => format!("{code}: {message}"),
        (SdkError::ServiceError(_), Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// A [`PlatformError::Api`] for `resource` (`stack X`, `ECS service Y`) from a failed `operation`.
pub(crate) fn api_error<E, R>(
    resource: &str,
    operation: &str,
    err: &SdkError<E, R>,
) -> PlatformError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    PlatformError::Api {
        resource: resource.to_string(),
        message: format!("{operation} failed: {}", describe_error(err)),
    }
}

/// CloudFormation's way of saying a stack does not exist: a `ValidationError` "Stack with id X does not exist".
pub(crate) fn is_missing_stack<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    error_code(err) == Some("ValidationError")
        && err.message().is_some_and(|m| m.contains("does not exist"))
}
