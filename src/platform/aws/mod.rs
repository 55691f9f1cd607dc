//! AWS platform: the three stacks as CloudFormation stacks planned with change sets, and the worker fleet as an
//! ECS service.
//!
//! - [`clients`]: the SDK clients from the standard configuration chain, and SDK errors as `PlatformError`s;
//! - [`CloudFormation`] (`stacks`, `execute`): [`crate::platform::Stacks`] — plan (change sets, concurrently),
//!   apply (execute in order, follow stack events), destroy, discard;
//! - `changes`, [`template_diff`], `status`: the pure parts — change sets to plan entries, the template-diff
//!   fallback for change sets without details, and every decision on a status string;
//! - [`EcsFleet`]: [`crate::platform::Fleet`] over DescribeServices / UpdateService.

mod changes;
pub mod clients;
mod ecs;
mod execute;
mod stacks;
mod status;
pub mod template_diff;

pub use changes::{REPLACING, forces_replacement};
pub use clients::AwsClients;
pub use ecs::EcsFleet;
pub use stacks::{CloudFormation, Timing};
