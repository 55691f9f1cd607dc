//! The one seam between the tool and where things run.
//!
//! `aws`: CloudFormation stacks and an ECS service. `local` (the default, the embedded runtime): the same
//! logical resources on this machine — a state directory instead of stacks, a supervisor of worker processes
//! instead of ECS, log files instead of a log group, an HTML page instead of the CloudWatch dashboard.
//!
//! Two small traits: [`Fleet`] (observe and scale the workers; what the converge loop drives) and the stack
//! operations (plan / apply / destroy), which land with the AWS platform issue.

pub mod aws;
pub mod deploy;
pub mod local;

pub use deploy::{
    DeployAction, DeployError, DeployEvent, DeployStatus, FailedResource, Stacks, StatusCategory,
};

use std::future::Future;

pub use crate::plan::FleetObservation;

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
}
