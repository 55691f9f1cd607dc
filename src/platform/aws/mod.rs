//! AWS platform: the three stacks as CloudFormation stacks planned with change sets, and the worker fleet as an
//! ECS service.
//!
//! - [`clients`]: the SDK clients from the standard configuration chain, and SDK errors as `PlatformError`s;
//! - [`CloudFormation`] (`stacks`, `planning`, `execute`): [`crate::platform::Stacks`] — plan (change sets,
//!   concurrently), apply (execute in order, follow stack events), destroy, discard; `dashboard_name`: the plan's
//!   note when the dashboard's name is taken outside the stack;
//! - `changes`, [`template_diff`], `status`, `desired_count`: the pure parts — change sets to plan entries, the
//!   template-diff fallback for change sets without details, every decision on a status string, and the
//!   service's `DesiredCount` (0 at creation, left out of every update);
//! - [`EcsFleet`]: [`crate::converge::ports::Fleet`] over DescribeServices / UpdateService, and stopped tasks as
//!   worker failures with the last error of their CloudWatch Logs stream (`task_logs`);
//! - [`CloudWatchHealth`]: the ramp's health on Amazon OpenSearch Service (CloudWatch `AWS/ES` CPU and JVM).
//!
//! Tested against `moto_server` (`tests/aws_stacks.rs`), which differs from CloudFormation in ways the code
//! tolerates on purpose: change sets carry no property details and no `Replacement` (hence the template diff and
//! the replacement table), a parameter-only change yields an executable change set with no changes, an empty
//! update is refused by CreateChangeSet itself, and a failing resource fails ExecuteChangeSet synchronously
//! instead of rolling back.

mod changes;
pub(crate) mod clients;
mod dashboard_name;
mod desired_count;
mod ecs;
mod execute;
pub(crate) mod health;
mod planning;
mod stacks;
mod status;
mod task_logs;
pub(crate) mod template_diff;

pub use clients::AwsClients;
pub use ecs::EcsFleet;
pub use health::CloudWatchHealth;
pub use stacks::{CloudFormation, Timing};
