//! The ports of the converge loop: what it needs from where the workers run, defined here, in the terms of the
//! loop, and implemented by each platform (`platform::aws`: the ECS service and CloudWatch; `platform::local`:
//! the supervisor), wired together in `cli`.
//!
//! Dependency direction: `platform` (and the plan's fleet layer, which shows a [`FleetObservation`]) depend on
//! this module; `converge` never depends on `platform`. The observations are plain values, so
//! [`super::reconcile`] stays a pure function of them.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// Worker failures and the crash-loop policy are part of the port: the platforms record failures and the local
/// supervisor stops its own restarts by the same policy as the converge loop.
pub(crate) use super::failures::{CRASH_LOOP, FailureAssessment, WorkerFailure};

/// What the platform reports about the worker fleet, in ECS's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FleetObservation {
    /// The worker service exists (stack deployed / supervisor started).
    pub exists: bool,
    /// Workers asked for.
    pub desired: u32,
    /// Workers running now.
    pub running: u32,
    /// Workers starting.
    pub pending: u32,
}

/// Errors talking to the platform, with the resource they concern.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("{resource}: {message}")]
    Api { resource: String, message: String },
    #[error("{resource} does not exist yet; run `backfill apply` first")]
    Missing { resource: String },
}

/// The worker fleet: ECS service or the local supervisor. The converge loop is generic over it.
pub trait Fleet: Send + Sync {
    /// Current desired/running/pending counts.
    fn observe(&self) -> impl Future<Output = Result<FleetObservation, PlatformError>> + Send;
    /// Sets the desired count (idempotent).
    fn scale(&self, desired: u32) -> impl Future<Output = Result<(), PlatformError>> + Send;
    /// Workers that ended in failure recently (at least [`super::failures::CRASH_LOOP`]'s window), with
    /// their exit codes and last error lines. A fleet that keeps no record reports none.
    fn failures(&self) -> impl Future<Output = Result<Vec<WorkerFailure>, PlatformError>> + Send {
        std::future::ready(Ok(Vec::new()))
    }
}

/// One sample of target health, used by the ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HealthSample {
    /// `_cluster/health` status: `green`, `yellow` or `red`.
    pub cluster_status: String,
    /// Cumulative write thread-pool rejections over all nodes (`_nodes/stats`).
    pub write_rejections: Option<u64>,
    /// Highest node CPU percentage (CloudWatch `CPUUtilization` or `_nodes/stats` os.cpu.percent).
    pub max_cpu_percent: Option<f64>,
    /// Highest JVM memory pressure percentage.
    pub max_jvm_memory_pressure_percent: Option<f64>,
}

/// Reads target health for the ramp (`_cluster/health` + `_nodes/stats`, or CloudWatch on Amazon OpenSearch).
pub trait HealthSource: Send + Sync {
    fn sample(&self) -> impl Future<Output = Result<HealthSample, String>> + Send;
}
