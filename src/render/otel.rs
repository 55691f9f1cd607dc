//! The OpenTelemetry collector sidecar of `engine: rfs`: Migration Assistant's Java worker reports its metrics
//! over OTLP only, so each worker task runs the collector Migration Assistant's CDK runs beside it (the ADOT
//! image its `otelCollector` Dockerfile builds on, its `otel-config-aws-metrics.yaml` verbatim, passed inline in
//! `AOT_CONFIG_CONTENT`, which the ADOT image reads instead of a file). The collector writes CloudWatch EMF to
//! the namespace `OpenSearchMigrations` with the dimensions `qualifier` (set to the migration's name) and
//! `OTelLib` (the Java meter's scope); the dashboard's rfs charts query exactly those.

use serde_json::{Value, json};

use crate::config::Migration;

/// Migration Assistant's `TrafficCapture/dockerSolution/src/main/docker/otelCollector/Dockerfile` base image.
pub(crate) const COLLECTOR_IMAGE: &str =
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3";
/// Where the worker sends OTLP (gRPC); Migration Assistant's `OtelCollectorSidecar.getOtelLocalhostEndpoint`.
pub(crate) const COLLECTOR_ENDPOINT: &str = "http://localhost:4317";
const CONTAINER_NAME: &str = "otel-collector";
/// The log group awsemf writes when the config names none (the config below names none, as upstream's).
const EMF_LOG_GROUP: &str = "/metrics/default";

/// `otel-config-aws-metrics.yaml` of Migration Assistant (commit 631dc8f8), unchanged.
const COLLECTOR_CONFIG: &str = r#"receivers:
  otlp:
    protocols:
      grpc:
        endpoint: :4317
      http:
        endpoint: :4318
processors:
  batch:
    timeout: 10s
    send_batch_size: 8192
    send_batch_max_size: 10000
  cumulativetodelta:
  resource/metrics:
    attributes:
      - key: qualifier
        value: ${env:QUALIFIER}
        action: upsert
  resource/remove_default_attributes:
    attributes:
      - key: telemetry.sdk.name
        action: delete
      - key: telemetry.sdk.version
        action: delete
      - key: telemetry.sdk.language
        action: delete
      - key: service.name
        action: delete
extensions:
  health_check:
    endpoint: :13133
exporters:
  awsemf:
    namespace: 'OpenSearchMigrations'
    dimension_rollup_option: NoDimensionRollup
    resource_to_telemetry_conversion:
      enabled: true
service:
  extensions: [health_check]
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [batch, resource/remove_default_attributes, resource/metrics, cumulativetodelta]
      exporters: [awsemf]
"#;

/// The collector's container definition: essential, healthy before the worker starts (the worker's
/// `DependsOn`), logging to the migration's log group under the `otel-collector` prefix.
pub(crate) fn collector_container(m: &Migration) -> Value {
    json!({
        "Name": CONTAINER_NAME,
        "Image": COLLECTOR_IMAGE,
        "Essential": true,
        "Environment": [
            { "Name": "AOT_CONFIG_CONTENT", "Value": COLLECTOR_CONFIG },
            { "Name": "QUALIFIER", "Value": m.name },
        ],
        "PortMappings": [
            { "ContainerPort": 4317, "HostPort": 4317, "Protocol": "tcp" },
            { "ContainerPort": 13133, "HostPort": 13133, "Protocol": "tcp" },
        ],
        "HealthCheck": {
            "Command": ["CMD", "/healthcheck"],
            "Interval": 5, "Timeout": 3, "Retries": 2, "StartPeriod": 5,
        },
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": { "Ref": "LogGroupName" },
                "awslogs-region": { "Ref": "AWS::Region" },
                "awslogs-stream-prefix": CONTAINER_NAME,
            }
        }
    })
}

/// The worker waits for a healthy collector, as in Migration Assistant's sidecar.
pub(crate) fn worker_depends_on() -> Value {
    json!([{ "ContainerName": CONTAINER_NAME, "Condition": "HEALTHY" }])
}

/// What awsemf needs of the task role: create and write its log group and streams (no retention is set and
/// the configuration is inline, so neither `logs:PutRetentionPolicy` nor `ssm:GetParameters` is granted).
pub(crate) fn emf_statement() -> Value {
    let group = format!(
        "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{EMF_LOG_GROUP}"
    );
    json!({
        "Sid": "CollectorWritesEmfMetrics",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        "Resource": [{ "Fn::Sub": group.clone() }, { "Fn::Sub": format!("{group}:*") }],
    })
}

/// The first Migration Assistant release whose worker takes `--otel-metrics-collector-endpoint` (commit
/// e6ea2443a); earlier workers refuse the flag, so their tasks would fail at start.
const FIRST_RELEASE_WITH_METRICS_FLAG: (u32, u32, u32) = (3, 3, 4);

/// Whether the rfs worker `image` takes `--otel-metrics-collector-endpoint`: yes unless its tag is a release
/// number before [`FIRST_RELEASE_WITH_METRICS_FLAG`] (`:3.3.3`, `:v2.1.0`); `latest`, digests and other tags
/// are taken to be current.
pub(crate) fn takes_metrics_flag(image: &str) -> bool {
    let name = image.rsplit('/').next().unwrap_or(image);
    let Some((_, tag)) = name.split_once(':') else {
        return true;
    };
    let tag = tag.split('@').next().unwrap_or(tag);
    let mut parts = tag
        .trim_start_matches('v')
        .split('.')
        .map(str::parse::<u32>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch))) => {
            (major, minor, patch) >= FIRST_RELEASE_WITH_METRICS_FLAG
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_before_3_3_4_are_not_given_the_metrics_flag() {
        let repo = "public.ecr.aws/opensearchproject/opensearch-migrations-reindex-from-snapshot";
        for (tag, takes) in [
            ("", true),
            (":latest", true),
            (":3.3.4", true),
            (":3.4.0", true),
            (":v4.0.1", true),
            (":3.3.3", false),
            (":2.6.0", false),
            (":v3.0.0", false),
            (":3.3.3@sha256:abc", false),
        ] {
            assert_eq!(takes_metrics_flag(&format!("{repo}{tag}")), takes, "{tag}");
        }
        assert!(
            takes_metrics_flag("registry.local:5000/rfs"),
            "a port is not a tag"
        );
        assert!(!takes_metrics_flag("registry.local:5000/rfs:3.2.1"));
    }

    #[test]
    fn the_config_is_migration_assistants_metrics_pipeline() {
        for line in [
            "namespace: 'OpenSearchMigrations'",
            "dimension_rollup_option: NoDimensionRollup",
            "value: ${env:QUALIFIER}",
            "processors: [batch, resource/remove_default_attributes, resource/metrics, cumulativetodelta]",
            "exporters: [awsemf]",
            "endpoint: :13133",
        ] {
            assert!(COLLECTOR_CONFIG.contains(line), "{line}");
        }
        assert!(!COLLECTOR_CONFIG.contains("awsxray"), "metrics only");
    }
}
