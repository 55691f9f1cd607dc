//! The ramp's health on Amazon OpenSearch Service against real servers: `osmem-server` as the target and
//! `moto_server` as the AWS endpoint. moto 5.2.5 does not serve the CloudWatch protocol the current SDK speaks
//! (RPC v2 CBOR: it answers 404), which exercises the fallback: CloudWatch unreadable → the target's own
//! `_nodes/stats` figures stand and the sample still succeeds. The CloudWatch reading itself (ListMetrics for the
//! domain's full dimensions, newest `Maximum`) is unit-tested in `src/platform/aws/health.rs`.

use crate::support;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use backfill::cluster::{Auth, Client, TlsSettings};
use backfill::converge::health::TargetHealth;
use backfill::converge::ports::HealthSource;
use backfill::platform::aws::CloudWatchHealth;

async fn sdk_config(moto: &support::Moto) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

#[tokio::test]
async fn when_cloudwatch_cannot_be_read_the_targets_own_figures_stand() {
    let moto = support::Moto::start();
    let osmem = support::Osmem::start();
    let target = || TargetHealth {
        transport: Client::new(&osmem.url, Auth::None, TlsSettings::default()).expect("client"),
    };
    let own = target().sample().await.expect("target sample");
    let health = CloudWatchHealth {
        target: target(),
        cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk_config(&moto).await),
        domain: "orders".into(),
    };
    match (own.max_cpu_percent, health.sample().await) {
        (Some(_), Ok(sample)) => {
            assert_eq!(sample.cluster_status, own.cluster_status);
            assert_eq!(sample.max_cpu_percent, own.max_cpu_percent);
            assert_eq!(
                sample.max_jvm_memory_pressure_percent,
                own.max_jvm_memory_pressure_percent
            );
        }
        (None, Err(e)) => assert!(e.contains("no CPU figure"), "{e}"),
        (cpu, other) => panic!("target cpu {cpu:?}, sample {other:?}"),
    }
}
