//! The one seam between the tool and where things run.
//!
//! `aws`: CloudFormation stacks and an ECS service. `local` (the default, the embedded runtime): the same
//! logical resources on this machine — a state directory instead of stacks, a supervisor of worker processes
//! instead of ECS, log files instead of a log group, an HTML page instead of the CloudWatch dashboard.
//!
//! Each platform implements two small traits: [`Stacks`] (plan / apply / destroy / discard, `deploy.rs`), which
//! `cli` drives, and the converge loop's ports ([`crate::converge::ports`]: [`Fleet`](crate::converge::ports::Fleet)
//! to observe and scale the workers, and on AWS a [`HealthSource`](crate::converge::ports::HealthSource)), which
//! `converge` defines and `cli` wires. Errors talking to a platform are
//! [`PlatformError`](crate::converge::ports::PlatformError)s.

pub mod aws;
pub(crate) mod deploy;
pub(crate) mod local;
pub(crate) mod worker_log;

pub use deploy::{
    DeployAction, DeployError, DeployEvent, DeployStatus, FailedResource, Stacks, StatusCategory,
};
