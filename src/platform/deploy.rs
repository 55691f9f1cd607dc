//! Stack operations every platform offers: plan, apply a plan, plan a destroy, destroy — with progress events.
//!
//! The CLI (`plan`, `apply`, `destroy`) is generic over [`Stacks`]; AWS implements it with CloudFormation change
//! sets, the local platform with its state directory. Implementations never print: they emit [`DeployEvent`]s
//! that `output::deploy_view` renders (live bars on a TTY, one line per event otherwise, NDJSON with `--json`).
//!
//! A status is typed ([`DeployStatus`]: a [`StatusCategory`] and the [`DeployAction`]), so the view decides
//! colours and finished lines from the category; only the AWS adapter reads CloudFormation status strings
//! (`aws::status`), and the local platform has no such strings at all.

use std::fmt;
use std::future::Future;

use crate::converge::ports::PlatformError;
use crate::plan::{StackBaseline, StackPlan};
use crate::render::RenderedStacks;

/// Where a resource or stack stands, whatever the platform (as rain's `MapStatus` sorts CloudFormation's
/// statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// Not started yet (CloudFormation's `REVIEW_IN_PROGRESS`).
    Pending,
    InProgress,
    Complete,
    Failed,
    /// A failed operation is being undone.
    RollingBack,
    /// A failed operation was undone: the resource or stack is back where it was, the operation failed.
    RolledBack,
    /// Left alone on purpose (`DELETE_SKIPPED`: a retained resource).
    Skipped,
}

impl StatusCategory {
    #[cfg(test)]
    pub(crate) const ALL: [StatusCategory; 7] = [
        StatusCategory::Pending,
        StatusCategory::InProgress,
        StatusCategory::Complete,
        StatusCategory::Failed,
        StatusCategory::RollingBack,
        StatusCategory::RolledBack,
        StatusCategory::Skipped,
    ];

    /// Nothing more will happen to it in this operation.
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            StatusCategory::Complete
                | StatusCategory::Failed
                | StatusCategory::RolledBack
                | StatusCategory::Skipped
        )
    }

    /// The operation failed (or is failing: a rollback runs).
    #[cfg(test)]
    pub(crate) fn is_failure(self) -> bool {
        matches!(
            self,
            StatusCategory::Failed | StatusCategory::RollingBack | StatusCategory::RolledBack
        )
    }

    fn label(self) -> &'static str {
        match self {
            StatusCategory::Pending => "pending",
            StatusCategory::InProgress => "in progress",
            StatusCategory::Complete => "complete",
            StatusCategory::Failed => "failed",
            StatusCategory::RollingBack => "rolling back",
            StatusCategory::RolledBack => "rolled back",
            StatusCategory::Skipped => "skipped",
        }
    }
}

/// What is being done to a resource or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployAction {
    Create,
    Update,
    Delete,
    Import,
}

impl DeployAction {
    /// `create`, `update`, `delete`, `import`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeployAction::Create => "create",
            DeployAction::Update => "update",
            DeployAction::Delete => "delete",
            DeployAction::Import => "import",
        }
    }
}

/// A resource's or a stack's status in a deployment event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeployStatus {
    pub category: StatusCategory,
    /// What is being done, when the platform says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<DeployAction>,
    /// The platform's own word for the status, shown as is when there is one (CloudFormation's
    /// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`); the local platform has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
}

impl DeployStatus {
    /// A status in the platform-neutral terms alone (the local platform's).
    pub(crate) fn of(action: DeployAction, category: StatusCategory) -> Self {
        DeployStatus {
            category,
            action: Some(action),
            native: None,
        }
    }
}

/// The platform's word when it has one (what its own console shows), otherwise `create complete`.
impl fmt::Display for DeployStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.native, self.action) {
            (Some(native), _) => f.write_str(native),
            (None, Some(action)) => write!(f, "{} {}", action.as_str(), self.category.label()),
            (None, None) => f.write_str(self.category.label()),
        }
    }
}

/// One thing that happened during apply/destroy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DeployEvent {
    /// A stack operation began (`create`, `update`, `delete`, `recreate`).
    StackStarted { stack: String, operation: String },
    /// A resource changed status.
    Resource {
        stack: String,
        logical_id: String,
        resource_type: String,
        status: DeployStatus,
        reason: Option<String>,
        /// When the platform recorded it (RFC 3339).
        timestamp: String,
    },
    /// A stack operation ended with the stack in `status`; `ok` when that is where the operation meant to end
    /// (a wait that timed out is not `ok` although its status is not final).
    StackFinished {
        stack: String,
        status: DeployStatus,
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
    pub status: DeployStatus,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_shows_the_platform_word_or_the_action_and_category() {
        let local = DeployStatus::of(DeployAction::Delete, StatusCategory::InProgress);
        assert_eq!(local.to_string(), "delete in progress");
        let aws = DeployStatus {
            category: StatusCategory::InProgress,
            action: Some(DeployAction::Update),
            native: Some("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS".into()),
        };
        assert_eq!(aws.to_string(), "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS");
        let bare = DeployStatus {
            category: StatusCategory::RolledBack,
            action: None,
            native: None,
        };
        assert_eq!(bare.to_string(), "rolled back");
        assert_eq!(
            serde_json::to_value(&local).expect("json"),
            serde_json::json!({"category": "in_progress", "action": "delete"})
        );
    }

    #[test]
    fn categories_say_whether_it_is_over_and_whether_it_failed() {
        use StatusCategory::*;
        let finals: Vec<_> = StatusCategory::ALL
            .into_iter()
            .filter(|c| c.is_final())
            .collect();
        assert_eq!(finals, vec![Complete, Failed, RolledBack, Skipped]);
        assert!(RollingBack.is_failure() && RolledBack.is_failure() && Failed.is_failure());
        assert!(!Complete.is_failure() && !Skipped.is_failure() && !Pending.is_failure());
    }
}
