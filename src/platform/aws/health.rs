//! Target health for the ramp on Amazon OpenSearch Service: cluster status and write rejections from the target
//! itself (`_cluster/health`, `_nodes/stats`), CPU and JVM memory pressure from CloudWatch (`AWS/ES`
//! `CPUUtilization` and `JVMMemoryPressure`, the figures the service itself alarms on and the dashboard charts).
//!
//! The domain's metrics carry two dimensions, `DomainName` and `ClientId` (the account). Only the domain name is
//! configured (`dashboard.target_domain`), so the full dimension set is found with `ListMetrics` first. The
//! newest datapoint's `Maximum` of the last 10 minutes is used; without one (a new domain, no permission, an
//! endpoint that does not speak CloudWatch's protocol) the `_nodes/stats` value stays; with neither the sample
//! fails and the ramp holds ("health unknown").

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Statistic};

use crate::converge::ports::{HealthSample, HealthSource};

/// Health of an Amazon OpenSearch Service domain: the target's own health (`target`, in practice the converge
/// loop's `TargetHealth`) with CPU and JVM memory pressure from CloudWatch.
pub struct CloudWatchHealth<H> {
    pub target: H,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// The domain name (`dashboard.target_domain`).
    pub domain: String,
}

/// How far back a datapoint may be.
const WINDOW_SECS: i64 = 600;

impl<H> CloudWatchHealth<H> {
    /// The newest `Maximum` of `AWS/ES` `metric` for the domain, if CloudWatch has one.
    async fn latest(&self, metric: &str) -> Result<Option<f64>, String> {
        let listed = self
            .cloudwatch
            .list_metrics()
            .namespace("AWS/ES")
            .metric_name(metric)
            .dimensions(
                DimensionFilter::builder()
                    .name("DomainName")
                    .value(&self.domain)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "CloudWatch ListMetrics {metric}: {}",
                    aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
                )
            })?;
        let Some(found) = listed.metrics().first() else {
            return Ok(None);
        };
        let dimensions: Vec<Dimension> = found.dimensions().to_vec();
        let now = std::time::SystemTime::now();
        let end = DateTime::from(now);
        let start = DateTime::from_secs(end.secs() - WINDOW_SECS);
        let stats = self
            .cloudwatch
            .get_metric_statistics()
            .namespace("AWS/ES")
            .metric_name(metric)
            .set_dimensions(Some(dimensions))
            .start_time(start)
            .end_time(end)
            .period(60)
            .statistics(Statistic::Maximum)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "CloudWatch GetMetricStatistics {metric}: {}",
                    aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
                )
            })?;
        let points: Vec<(i64, f64)> = stats
            .datapoints()
            .iter()
            .filter_map(|d| Some((d.timestamp()?.secs(), d.maximum()?)))
            .collect();
        Ok(newest(&points))
    }
}

/// The value of the newest datapoint.
fn newest(points: &[(i64, f64)]) -> Option<f64> {
    points.iter().max_by_key(|(t, _)| *t).map(|(_, v)| *v)
}

impl<H: HealthSource> HealthSource for CloudWatchHealth<H> {
    async fn sample(&self) -> Result<HealthSample, String> {
        let mut sample = self.target.sample().await?;
        // CloudWatch is the better source, not the only one: when it cannot be read, the target's own figures
        // stand; when neither exists the ramp holds on "unknown".
        let cpu = self.latest("CPUUtilization").await;
        let jvm = self.latest("JVMMemoryPressure").await;
        if let Ok(Some(cpu)) = cpu {
            sample.max_cpu_percent = Some(cpu);
        }
        if let Ok(Some(jvm)) = jvm {
            sample.max_jvm_memory_pressure_percent = Some(jvm);
        }
        match (cpu, &sample.max_cpu_percent) {
            (Err(e), None) => Err(format!("no CPU figure: {e}, and the target reports none")),
            _ => Ok(sample),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::newest;

    #[test]
    fn the_newest_datapoint_wins() {
        assert_eq!(newest(&[(10, 50.0), (30, 91.0), (20, 99.0)]), Some(91.0));
        assert_eq!(newest(&[]), None);
    }
}
