//! Stack operations every platform offers: plan, apply a plan, plan a destroy, destroy — with progress events.
//!
//! The CLI (`plan`, `apply`, `destroy`) is generic over [`Stacks`]; AWS implements it with CloudFormation change
//! sets, the local platform with its state directory. Implementations never print: they emit [`DeployEvent`]s
//! that `output::deploy_view` renders (live bars on a TTY, one line per event otherwise, NDJSON with `--json`).

use std::future::Future;

use crate::converge::ports::PlatformError;
use crate::plan::{StackBaseline, StackPlan};
use crate::render::RenderedStacks;

/// One thing that happened during apply/destroy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DeployEvent {
    /// A stack operation began (`create`, `update`, `delete`, `recreate`).
    StackStarted { stack: String, operation: String },
    /// A resource changed status (`CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `UPDATE_FAILED`...).
    Resource {
        stack: String,
        logical_id: String,
        resource_type: String,
        status: String,
        reason: Option<String>,
        /// When the platform recorded it (RFC 3339).
        timestamp: String,
    },
    /// A stack operation ended with the stack in `status`.
    StackFinished {
        stack: String,
        status: String,
        ok: bool,
        elapsed_ms: u64,
    },
    /// Something the user must know (e.g. "deleting the failed stack X before creating it again").
    Notice { stack: String, message: String },
}

/// The first failed resource of a failed deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

/// Why apply/destroy stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A stack operation failed; `root_cause` is the first failed resource, `outcome` the stack's final status.
    #[error("{}", failed_message(stack, root_cause.as_deref(), outcome))]
    Failed {
        stack: String,
        root_cause: Option<Box<FailedResource>>,
        outcome: String,
    },
    /// The stack is in a state no deployment can start from; `fix` says what to run.
    #[error("stack {stack} is in {status}: {fix}")]
    Stuck {
        stack: String,
        status: String,
        fix: String,
    },
    /// Waiting took longer than the bound.
    #[error(
        "stack {stack} still in {status} after {waited_s} s; the operation continues in the platform — watch it with `backfill status` or the AWS console, then run apply again"
    )]
    Timeout {
        stack: String,
        status: String,
        waited_s: u64,
    },
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

fn failed_message(stack: &str, root: Option<&FailedResource>, outcome: &str) -> String {
    match root {
        Some(r) => format!(
            "stack {stack} failed: {} ({}) {}: {}; the stack is now {outcome}",
            r.logical_id, r.resource_type, r.status, r.reason
        ),
        None => format!("stack {stack} failed; the stack is now {outcome}"),
    }
}

/// Stack operations of a platform.
pub trait Stacks: Send + Sync {
    /// `aws` or `local`.
    fn platform_name(&self) -> &'static str;

    /// Plans every rendered stack against what is deployed (on AWS: creates and waits for change sets,
    /// concurrently). Stacks come back in the rendered order.
    fn plan(
        &self,
        rendered: &RenderedStacks,
    ) -> impl Future<Output = Result<Vec<StackPlan>, DeployError>> + Send;

    /// Plans deleting every stack (reverse order); absent stacks are `StackAction::Absent`.
    fn plan_destroy(
        &self,
        stack_names: &[String],
    ) -> impl Future<Output = Result<Vec<StackPlan>, DeployError>> + Send;

    /// The stack as it is now (for the saved-plan staleness check).
    fn baseline(
        &self,
        stack_name: &str,
    ) -> impl Future<Output = Result<StackBaseline, DeployError>> + Send;

    /// Executes the planned stacks in order, emitting events; stops at the first failure.
    fn apply(
        &self,
        stacks: &[StackPlan],
        rendered: &RenderedStacks,
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> impl Future<Output = Result<(), DeployError>> + Send;

    /// Deletes the planned stacks in the given order, emitting events.
    fn destroy(
        &self,
        stacks: &[StackPlan],
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> impl Future<Output = Result<(), DeployError>> + Send;

    /// Drops what planning left behind that will not be executed (unexecuted change sets).
    fn discard(&self, stacks: &[StackPlan]) -> impl Future<Output = ()> + Send;
}
