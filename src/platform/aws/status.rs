//! Pure decisions on CloudFormation status strings, in one home (as rain's `MapStatus`): the category and action
//! of any stack or resource status ([`deploy_status`], what events carry), what a plan may do with a stack in a
//! given state, when a wait is over and whether it succeeded, which event is the root cause, and what the "no
//! changes" trap looks like. No other module reads a CloudFormation status string. Unit-tested without I/O.

use crate::platform::{DeployAction, DeployStatus, FailedResource, StatusCategory};

/// The category of any CloudFormation stack, resource or change-set status: anything with `ROLLBACK` is a
/// rollback (under way, done, or failed), `REVIEW_IN_PROGRESS` has not started, then by suffix.
pub(crate) fn category(status: &str) -> StatusCategory {
    if status.ends_with("_FAILED") {
        StatusCategory::Failed
    } else if status.contains("ROLLBACK") && status.ends_with("_IN_PROGRESS") {
        StatusCategory::RollingBack
    } else if status.contains("ROLLBACK") {
        StatusCategory::RolledBack
    } else if status == "REVIEW_IN_PROGRESS" {
        StatusCategory::Pending
    } else if status.ends_with("_IN_PROGRESS") {
        StatusCategory::InProgress
    } else if status.ends_with("_COMPLETE") {
        StatusCategory::Complete
    } else if status.ends_with("_SKIPPED") {
        StatusCategory::Skipped
    } else {
        // A status this version does not know: not final, so waits keep following it.
        StatusCategory::InProgress
    }
}

/// The action a status names by its prefix (`UPDATE_ROLLBACK_…` is an update's); `None` for a stack's own
/// `ROLLBACK_…` (of a create), `REVIEW_…` and the like.
fn action(status: &str) -> Option<DeployAction> {
    let prefix = status.split('_').next()?;
    match prefix {
        "CREATE" => Some(DeployAction::Create),
        "UPDATE" => Some(DeployAction::Update),
        "DELETE" => Some(DeployAction::Delete),
        "IMPORT" => Some(DeployAction::Import),
        _ => None,
    }
}

/// A CloudFormation status as deployment events carry it: category, action, and the status itself to show.
pub(crate) fn deploy_status(status: &str) -> DeployStatus {
    DeployStatus {
        category: category(status),
        action: action(status),
        native: Some(status.to_string()),
    }
}

/// What planning may do with an existing stack, by its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Updatable: plan an `UPDATE` change set.
    Update,
    /// Must be deleted before it can be created again (`ROLLBACK_COMPLETE`, or a `REVIEW_IN_PROGRESS`
    /// placeholder whose change set was never executed): `StackAction::Recreate`.
    Recreate { note: String },
    /// An operation is running: wait for it to settle, then decide again.
    Busy,
    /// Nothing is deployed (`DELETE_COMPLETE`, only visible by stack id).
    Gone,
    /// No deployment can start from here; `fix` says what to run.
    Stuck { fix: String },
}

/// Classifies an existing stack's status for planning.
pub(crate) fn classify_existing(stack: &str, status: &str) -> Existing {
    match status {
        "ROLLBACK_COMPLETE" => Existing::Recreate {
            note: format!(
                "stack {stack} failed its first create (ROLLBACK_COMPLETE) and can only be deleted: apply deletes it, then creates it again"
            ),
        },
        "REVIEW_IN_PROGRESS" => Existing::Recreate {
            note: format!(
                "stack {stack} is an empty placeholder left by a change set that was never executed (REVIEW_IN_PROGRESS): apply deletes it, then creates the stack"
            ),
        },
        "UPDATE_ROLLBACK_FAILED" => Existing::Stuck {
            fix: format!(
                "the update failed and so did its rollback; fix the resources named in the stack events, then run `aws cloudformation continue-update-rollback --stack-name {stack}` (add `--resources-to-skip ID` for resources that cannot be fixed) and plan again"
            ),
        },
        "ROLLBACK_FAILED" | "DELETE_FAILED" => Existing::Stuck {
            fix: format!(
                "delete it with `aws cloudformation delete-stack --stack-name {stack}` (add `--retain-resources ID` for resources that cannot be deleted), then plan again"
            ),
        },
        "DELETE_COMPLETE" => Existing::Gone,
        s if matches!(
            category(s),
            StatusCategory::InProgress | StatusCategory::RollingBack
        ) =>
        {
            Existing::Busy
        }
        _ => Existing::Update,
    }
}

/// Where a stack operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Still running.
    No,
    /// Ended in the expected status.
    Succeeded,
    /// Ended anywhere else (a rollback, a `_FAILED` status).
    Failed,
}

/// Whether an operation expected to end in `expected` (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, `DELETE_COMPLETE`)
/// is over, given the stack's current status. `REVIEW_IN_PROGRESS` counts as not started yet.
pub(crate) fn settled(status: &str, expected: &str) -> Settled {
    if status == expected {
        Settled::Succeeded
    } else if category(status).is_final() {
        Settled::Failed
    } else {
        Settled::No
    }
}

/// One stack event, as the waits see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StackEvent {
    pub event_id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// RFC 3339.
    pub timestamp: String,
}

/// CloudFormation's cascade reasons: resources cancelled because another one failed are not the cause.
const CASCADE_REASONS: [&str; 3] = [
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
];

/// The root cause among an operation's events (oldest first): the first `*_FAILED` resource event with a real
/// reason; failing that the first `*_FAILED` event of the stack itself.
pub(crate) fn first_failure(stack: &str, events: &[StackEvent]) -> Option<FailedResource> {
    let failed = |e: &&StackEvent| category(&e.status) == StatusCategory::Failed;
    let is_stack =
        |e: &StackEvent| e.resource_type == "AWS::CloudFormation::Stack" && e.logical_id == stack;
    let cascade = |e: &StackEvent| {
        e.reason
            .as_deref()
            .is_some_and(|r| CASCADE_REASONS.iter().any(|c| r.starts_with(c)))
    };
    let pick = events
        .iter()
        .filter(failed)
        .find(|e| !is_stack(e) && !cascade(e))
        .or_else(|| events.iter().filter(failed).find(|e| !is_stack(e)))
        .or_else(|| events.iter().find(failed))?;
    Some(FailedResource {
        logical_id: pick.logical_id.clone(),
        resource_type: pick.resource_type.clone(),
        status: deploy_status(&pick.status),
        reason: pick.reason.clone().unwrap_or_default(),
    })
}

/// The change set failed only because nothing differs ("didn't contain changes" / "No updates are to be
/// performed."): a no-op, not an error.
pub(crate) fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(logical: &str, kind: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            event_id: format!("{logical}-{status}"),
            logical_id: logical.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: reason.map(str::to_string),
            timestamp: "2024-11-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn every_status_has_one_category_and_its_action() {
        use StatusCategory::*;
        for (status, want) in [
            ("CREATE_IN_PROGRESS", InProgress),
            ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", InProgress),
            ("CREATE_COMPLETE", Complete),
            ("IMPORT_COMPLETE", Complete),
            ("CREATE_FAILED", Failed),
            ("EXECUTE_FAILED", Failed),
            ("UPDATE_ROLLBACK_FAILED", Failed),
            ("ROLLBACK_IN_PROGRESS", RollingBack),
            ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", RollingBack),
            ("ROLLBACK_COMPLETE", RolledBack),
            ("UPDATE_ROLLBACK_COMPLETE", RolledBack),
            ("REVIEW_IN_PROGRESS", Pending),
            ("DELETE_SKIPPED", Skipped),
            ("SOMETHING_NEW", InProgress),
        ] {
            assert_eq!(category(status), want, "{status}");
        }
        let s = deploy_status("UPDATE_ROLLBACK_IN_PROGRESS");
        assert_eq!(
            (s.category, s.action, s.to_string()),
            (
                RollingBack,
                Some(DeployAction::Update),
                "UPDATE_ROLLBACK_IN_PROGRESS".to_string()
            )
        );
        assert_eq!(deploy_status("ROLLBACK_COMPLETE").action, None);
        assert_eq!(
            deploy_status("DELETE_COMPLETE").action,
            Some(DeployAction::Delete)
        );
    }

    #[test]
    fn planning_decisions_by_status() {
        assert_eq!(classify_existing("s", "CREATE_COMPLETE"), Existing::Update);
        assert_eq!(
            classify_existing("s", "UPDATE_ROLLBACK_COMPLETE"),
            Existing::Update
        );
        assert!(matches!(
            classify_existing("s", "ROLLBACK_COMPLETE"),
            Existing::Recreate { .. }
        ));
        assert!(matches!(
            classify_existing("s", "REVIEW_IN_PROGRESS"),
            Existing::Recreate { .. }
        ));
        assert_eq!(classify_existing("s", "UPDATE_IN_PROGRESS"), Existing::Busy);
        assert_eq!(
            classify_existing("s", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            Existing::Busy
        );
        assert_eq!(classify_existing("s", "DELETE_COMPLETE"), Existing::Gone);
        let Existing::Stuck { fix } = classify_existing("orders-logs", "UPDATE_ROLLBACK_FAILED")
        else {
            panic!("UPDATE_ROLLBACK_FAILED must be stuck");
        };
        assert!(
            fix.contains("aws cloudformation continue-update-rollback --stack-name orders-logs")
        );
        assert!(matches!(
            classify_existing("s", "DELETE_FAILED"),
            Existing::Stuck { .. }
        ));
    }

    #[test]
    fn waits_end_on_expected_or_any_other_terminal_status() {
        assert_eq!(
            settled("CREATE_IN_PROGRESS", "CREATE_COMPLETE"),
            Settled::No
        );
        assert_eq!(
            settled("REVIEW_IN_PROGRESS", "CREATE_COMPLETE"),
            Settled::No
        );
        assert_eq!(
            settled("ROLLBACK_IN_PROGRESS", "CREATE_COMPLETE"),
            Settled::No
        );
        assert_eq!(
            settled("CREATE_COMPLETE", "CREATE_COMPLETE"),
            Settled::Succeeded
        );
        assert_eq!(
            settled("ROLLBACK_COMPLETE", "CREATE_COMPLETE"),
            Settled::Failed
        );
        assert_eq!(
            settled("UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"),
            Settled::Failed
        );
        assert_eq!(settled("DELETE_FAILED", "DELETE_COMPLETE"), Settled::Failed);
        assert_eq!(
            settled(
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
                "UPDATE_COMPLETE"
            ),
            Settled::No
        );
    }

    #[test]
    fn root_cause_skips_cascades_and_the_stack_itself() {
        let events = vec![
            event(
                "s",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                None,
            ),
            event(
                "Role",
                "AWS::IAM::Role",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            event(
                "WorkerService",
                "AWS::ECS::Service",
                "CREATE_FAILED",
                Some("Cluster not found"),
            ),
            event(
                "s",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [WorkerService]"),
            ),
        ];
        let root = first_failure("s", &events).expect("a failure");
        assert_eq!(root.logical_id, "WorkerService");
        assert_eq!(root.status.to_string(), "CREATE_FAILED");
        assert_eq!(root.reason, "Cluster not found");
        assert_eq!(first_failure("s", &events[..1]), None);
    }

    #[test]
    fn both_no_change_wordings_are_recognised() {
        assert!(is_no_changes(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(is_no_changes("No updates are to be performed."));
        assert!(!is_no_changes("Template format error"));
    }
}
