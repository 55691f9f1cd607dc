//! Target health for the ramp on self-managed clusters: `_cluster/health` (status) and `_nodes/stats`
//! (write thread-pool rejections summed over nodes, highest `os.cpu.percent`, highest JVM heap use).
//! A target without `_nodes/stats` (e.g. a proxy that blocks it) still reports cluster status; the missing
//! figures are `None` and the ramp does not treat them as healthy or unhealthy by themselves.

use serde_json::Value;

use super::ports::{HealthSample, HealthSource};
use crate::cluster::transport::{JsonTransport, Method};

/// Reads health from the target itself.
pub struct TargetHealth<T> {
    pub transport: T,
}

/// Parses `_nodes/stats/thread_pool,os,jvm` into (rejections, max CPU %, max heap %).
pub(crate) fn parse_node_stats(stats: &Value) -> (Option<u64>, Option<f64>, Option<f64>) {
    let Some(nodes) = stats.get("nodes").and_then(Value::as_object) else {
        return (None, None, None);
    };
    let mut rejections: Option<u64> = None;
    let mut cpu: Option<f64> = None;
    let mut heap: Option<f64> = None;
    for node in nodes.values() {
        // `write` on ES 7+/OpenSearch, `bulk` on ES 6.
        for pool in ["write", "bulk"] {
            if let Some(r) = node
                .pointer(&format!("/thread_pool/{pool}/rejected"))
                .and_then(Value::as_u64)
            {
                rejections = Some(rejections.unwrap_or(0).saturating_add(r));
            }
        }
        if let Some(c) = node.pointer("/os/cpu/percent").and_then(Value::as_f64) {
            cpu = Some(cpu.map_or(c, |m: f64| m.max(c)));
        }
        if let Some(h) = node
            .pointer("/jvm/mem/heap_used_percent")
            .and_then(Value::as_f64)
        {
            heap = Some(heap.map_or(h, |m: f64| m.max(h)));
        }
    }
    (rejections, cpu, heap)
}

impl<T: JsonTransport> HealthSource for TargetHealth<T> {
    async fn sample(&self) -> Result<HealthSample, String> {
        let health = self
            .transport
            .send(Method::Get, "/_cluster/health", None)
            .await
            .map_err(|e| e.to_string())?;
        let cluster_status = health
            .body
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| "no status in _cluster/health".to_string())?
            .to_string();
        let (write_rejections, max_cpu_percent, max_jvm_memory_pressure_percent) = match self
            .transport
            .send(Method::Get, "/_nodes/stats/thread_pool,os,jvm", None)
            .await
        {
            Ok(r) => parse_node_stats(&r.body),
            Err(_) => (None, None, None),
        };
        Ok(HealthSample {
            cluster_status,
            write_rejections,
            max_cpu_percent,
            max_jvm_memory_pressure_percent,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sums_rejections_and_takes_maxima() {
        let stats = json!({"nodes": {
            "a": {"thread_pool": {"write": {"rejected": 3}}, "os": {"cpu": {"percent": 40}}, "jvm": {"mem": {"heap_used_percent": 70}}},
            "b": {"thread_pool": {"bulk": {"rejected": 2}}, "os": {"cpu": {"percent": 85}}, "jvm": {"mem": {"heap_used_percent": 50}}}
        }});
        assert_eq!(parse_node_stats(&stats), (Some(5), Some(85.0), Some(70.0)));
        assert_eq!(parse_node_stats(&json!({"error": "x"})), (None, None, None));
    }
}
