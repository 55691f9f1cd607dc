//! The plan: what `apply` (or `destroy`) would change, for both platforms, as one value.
//!
//! A plan has two layers, shown together so nobody is surprised:
//! - **stacks**: one [`StackPlan`] per stack (CloudFormation change set on AWS, the state directory locally) with
//!   one [`ResourceChange`] per resource, Terraform's symbols (`+`, `~`, `-/+`, `-`) and property before/after;
//! - **fleet**: the lifecycle the converge loop will drive ([`FleetPlan`]: `~ workers 0 -> 4 (start backfill)`),
//!   which CloudFormation never touches (the ECS service has no `DesiredCount`).
//!
//! An apply plan also carries what the preflight found (`crate::preflight::Preflight`: problems, warnings, the
//! source summary, the detected target).
//!
//! A plan saved with `plan --out` records each stack's [`StackBaseline`] (id, status, last update), the fleet as
//! observed and a hash of the config; [`Plan::check_fresh`] refuses a plan whose world has moved since.
//! Everything here is pure; the platforms build plans and the output module renders them.

mod fleet;
mod saved;

pub(crate) use fleet::FleetPlan;

use serde::{Deserialize, Serialize};

/// Version of the saved/`--json` plan document; bumped on incompatible changes.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `+` created.
    Add,
    /// `~` updated in place.
    Modify,
    /// `-/+` destroyed and re-created.
    Replace,
    /// `-/+?` may be replaced (CloudFormation's `Conditional`).
    MaybeReplace,
    /// `-` destroyed.
    Remove,
    /// `?` decided only during deployment (CloudFormation's `Dynamic`).
    Dynamic,
}

impl Action {
    /// Terraform-style symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Add => "+",
            Action::Modify => "~",
            Action::Replace => "-/+",
            Action::MaybeReplace => "-/+?",
            Action::Remove => "-",
            Action::Dynamic => "?",
        }
    }
}

/// One property (or parameter, or tag) that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyChange {
    /// Property path (`RetentionInDays`, `Properties.TaskDefinition`), parameter or tag name.
    pub name: String,
    /// Value before, when known.
    pub before: Option<String>,
    /// Value after, when known.
    pub after: Option<String>,
    /// This change alone forces the resource to be replaced.
    #[serde(default)]
    pub forces_replacement: bool,
}

/// One resource that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// Logical id in the template (`LogGroup`), or the local resource's name.
    pub logical_id: String,
    /// `AWS::Logs::LogGroup`, or `local::WorkerService`.
    pub resource_type: String,
    pub action: Action,
    /// Why it is replaced, or why it is removed.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub properties: Vec<PropertyChange>,
}

/// What happens to a whole stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackAction {
    /// The stack does not exist: created.
    Create,
    /// The stack exists and changes.
    Update,
    /// Nothing to do.
    NoChange,
    /// The stack failed its first create (`ROLLBACK_COMPLETE`): deleted, then created again.
    Recreate,
    /// Deleted (destroy).
    Delete,
    /// Destroy found nothing to delete.
    Absent,
}

/// The stack as it was when the plan was made: a saved plan applies only while this still holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackBaseline {
    /// Stack id (ARN), `None` when the stack did not exist.
    pub stack_id: Option<String>,
    /// Stack status (`CREATE_COMPLETE`...).
    pub status: Option<String>,
    /// Last update (or creation) time, RFC 3339.
    pub last_updated: Option<String>,
}

/// The plan for one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackPlan {
    pub stack_name: String,
    pub action: StackAction,
    #[serde(default)]
    pub resources: Vec<ResourceChange>,
    /// Stack parameters that change.
    #[serde(default)]
    pub parameters: Vec<PropertyChange>,
    /// Stack tags that change.
    #[serde(default)]
    pub tags: Vec<PropertyChange>,
    /// Capabilities the deployment acknowledges (`CAPABILITY_NAMED_IAM`): shown, never implied.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Something the reader must know (e.g. why the stack is re-created).
    #[serde(default)]
    pub note: Option<String>,
    /// The change set that executes this plan (AWS).
    #[serde(default)]
    pub change_set_id: Option<String>,
    pub baseline: StackBaseline,
}

impl StackPlan {
    /// True when applying this stack plan changes something.
    pub(crate) fn has_changes(&self) -> bool {
        !matches!(self.action, StackAction::NoChange | StackAction::Absent)
    }
}

/// Apply the config, or destroy everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Operation {
    Apply,
    Destroy,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub format_version: u32,
    pub operation: Operation,
    /// Migration name.
    pub migration: String,
    /// `aws` or `local`.
    pub platform: String,
    /// `Migration::content_hash()` of the config the plan was made from.
    pub config_hash: String,
    /// Stacks in deployment order (logs, workers, dashboard).
    pub stacks: Vec<StackPlan>,
    /// The lifecycle the converge loop drives after the stacks.
    pub fleet: FleetPlan,
    /// What the preflight found (apply plans; `apply` checks again before it changes anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<crate::preflight::Preflight>,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    /// Resource counts; a replacement counts as one add and one destroy (as in Terraform).
    pub(crate) fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in self.stacks.iter().flat_map(|s| &s.resources) {
            match change.action {
                Action::Add => summary.add += 1,
                Action::Modify | Action::Dynamic => summary.change += 1,
                Action::Replace | Action::MaybeReplace => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Remove => summary.destroy += 1,
            }
        }
        // Parameter- or tag-only stack updates change the stack even without resource changes.
        for stack in &self.stacks {
            if stack.action == StackAction::Update
                && stack.resources.is_empty()
                && (!stack.parameters.is_empty() || !stack.tags.is_empty())
            {
                summary.change += 1;
            }
        }
        summary
    }

    /// Stacks or the fleet change.
    pub(crate) fn has_changes(&self) -> bool {
        self.stacks.iter().any(StackPlan::has_changes) || self.fleet.changes()
    }

    /// The stacks change (what CloudFormation / the state directory executes).
    pub(crate) fn stacks_change(&self) -> bool {
        self.stacks.iter().any(StackPlan::has_changes)
    }

    /// `Plan: 2 to add, 1 to change, 0 to destroy; fleet 0 -> 4.`
    pub(crate) fn summary_line(&self) -> String {
        let s = self.summary();
        let verb = match self.operation {
            Operation::Apply => "Plan",
            Operation::Destroy => "Destroy plan",
        };
        format!(
            "{verb}: {} to add, {} to change, {} to destroy; {}.",
            s.add,
            s.change,
            s.destroy,
            self.fleet.summary()
        )
    }
}

#[cfg(test)]
pub(crate) mod tests;
