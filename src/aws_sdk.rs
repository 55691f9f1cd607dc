//! The one builder of the AWS SDK configuration. Every AWS client of the program starts from [`load`]:
//! CloudFormation, ECS and CloudWatch (`platform::aws`), S3 for snapshot repositories (`snapshot`), failed
//! documents (`worker`) and working-state archives (`coordination`, through the CLI), and Secrets Manager and
//! SigV4 credentials (`cluster`). So `aws.profile` and `aws.region` of `migration.yaml` mean the same for all.
//!
//! [`load`] is the SDK's standard chain (`aws_config::defaults`) with the file's profile and region taking
//! precedence. Everything else comes from that chain, as for the AWS CLI: credentials, `AWS_PROFILE` and
//! `AWS_REGION` when the file names none, and the endpoint override: `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>`, or `endpoint_url` in the selected profile (how the tests reach moto_server).
//! This program does not read the override itself: the SDK ranks a service's own variable above the general
//! one and honours `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, and an endpoint set from code would override both.
//!
//! S3 clients ([`s3_client`]) use path-style addressing (S3-compatible stores and test servers need it) and
//! may name their own region (a bucket's `source.region`).
//!
//! Loading can take a moment (the region and credentials may come from the instance metadata service), so
//! [`AwsSdk`] loads once, on first use: commands and workers that never touch AWS never load it.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use tokio::sync::OnceCell;

use crate::config::AwsSettings;

/// The SDK configuration for `aws`: the standard chain, with `aws.profile` and `aws.region` when set.
pub(crate) async fn load(aws: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// An S3 client over `config` with path-style addressing, in `region` when given (else the configuration's).
pub(crate) fn s3_client(config: &SdkConfig, region: Option<&str>) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config).force_path_style(true);
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// The SDK configuration of one command, loaded by [`load`] on first use and then shared.
#[derive(Debug, Default)]
pub struct AwsSdk {
    settings: AwsSettings,
    config: OnceCell<SdkConfig>,
}

impl AwsSdk {
    /// Loads from `settings` when first needed.
    pub(crate) fn new(settings: &AwsSettings) -> Self {
        AwsSdk {
            settings: settings.clone(),
            config: OnceCell::new(),
        }
    }

    /// An already loaded configuration (tests build one with static credentials pointing at moto_server).
    pub fn loaded(config: SdkConfig) -> Self {
        AwsSdk {
            settings: AwsSettings::default(),
            config: OnceCell::new_with(Some(config)),
        }
    }

    /// The configuration, loaded now if it was not yet.
    pub(crate) async fn config(&self) -> &SdkConfig {
        self.config.get_or_init(|| load(&self.settings)).await
    }

    /// An S3 client (see [`s3_client`]).
    pub(crate) async fn s3(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        s3_client(self.config().await, region)
    }
}
