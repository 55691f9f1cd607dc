//! Apply and destroy for [`CloudFormation`]: execute the planned change sets in order (re-creating stacks that
//! must be deleted first), delete stacks, and follow each operation through its stack events until the stack
//! settles, emitting [`DeployEvent`]s. Every wait is bounded; the first failure stops everything after it.
//!
//! Events are those newer than the newest event before the operation (by event id, not by clock, so a skewed
//! local clock cannot drop or repeat any), deduplicated, oldest first. A failure names the first failed
//! resource (`status::first_failure`).

use std::collections::HashSet;
use std::time::Instant;

use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::ChangeSetType;

use super::clients::{api_error, describe_error, is_missing_stack};
use super::stacks::{CloudFormation, Poll};
use super::status::{Settled, StackEvent, deploy_status, first_failure, settled};
use crate::converge::ports::PlatformError;
use crate::plan::{StackAction, StackPlan};
use crate::platform::{DeployError, DeployEvent, FailedResource};
use crate::render::RenderedStacks;

type Events<'a> = &'a (dyn Fn(DeployEvent) + Send + Sync);

/// Event pages read per poll at most (100 events each on AWS).
const MAX_EVENT_PAGES: usize = 5;

impl CloudFormation {
    pub(super) async fn apply_plans(
        &self,
        stacks: &[StackPlan],
        rendered: &RenderedStacks,
        events: Events<'_>,
    ) -> Result<(), DeployError> {
        for plan in stacks.iter().filter(|p| p.has_changes()) {
            let name = plan.stack_name.as_str();
            match plan.action {
                StackAction::Create | StackAction::Update => {
                    let id = plan
                        .change_set_id
                        .as_deref()
                        .ok_or_else(|| PlatformError::Api {
                            resource: format!("stack {name}"),
                            message: "the plan has no change set to execute; run plan again".into(),
                        })?;
                    let operation = if plan.action == StackAction::Create {
                        "create"
                    } else {
                        "update"
                    };
                    self.execute(name, id, operation, events).await?;
                }
                StackAction::Recreate => {
                    let r = rendered
                        .stacks
                        .iter()
                        .find(|r| r.stack_name == name)
                        .ok_or_else(|| PlatformError::Api {
                            resource: format!("stack {name}"),
                            message: "not among the rendered stacks; run plan again".into(),
                        })?;
                    let status = plan.baseline.status.as_deref().unwrap_or("unknown");
                    events(DeployEvent::Notice {
                        stack: name.to_string(),
                        message: format!(
                            "deleting the stack {name} ({status}) before creating it again"
                        ),
                    });
                    self.delete_stack(name, "delete", events).await?;
                    let cs = self.create_change_set(r, ChangeSetType::Create).await?;
                    if cs.status != "CREATE_COMPLETE" {
                        self.delete_change_set(&cs.id).await;
                        return Err(PlatformError::Api {
                            resource: format!("stack {name}"),
                            message: format!("the change set {}: {}", cs.status, cs.reason),
                        }
                        .into());
                    }
                    self.execute(name, &cs.id, "create", events).await?;
                }
                StackAction::Delete => self.delete_stack(name, "delete", events).await?,
                StackAction::NoChange | StackAction::Absent => {}
            }
        }
        Ok(())
    }

    /// Executes a change set and follows the stack until it settles.
    async fn execute(
        &self,
        name: &str,
        change_set_id: &str,
        operation: &str,
        events: Events<'_>,
    ) -> Result<(), DeployError> {
        let stack_id = self
            .describe(name)
            .await?
            .map(|d| d.id)
            .unwrap_or_else(|| name.to_string());
        let marker = self.newest_event(&stack_id).await?;
        let started = Instant::now();
        events(DeployEvent::StackStarted {
            stack: name.to_string(),
            operation: operation.to_string(),
        });
        let executed = self
            .clients
            .cfn
            .execute_change_set()
            .change_set_name(change_set_id)
            .send()
            .await;
        if let Err(err) = executed {
            if !matches!(
                err,
                aws_sdk_cloudformation::error::SdkError::ServiceError(_)
            ) {
                return Err(api_error(&format!("stack {name}"), "ExecuteChangeSet", &err).into());
            }
            // Rejected by the service (moto also reports resource failures here, synchronously).
            let outcome = self
                .describe(&stack_id)
                .await?
                .map(|d| d.status)
                .unwrap_or_else(|| "absent".into());
            finish(events, name, &outcome, false, started);
            return Err(DeployError::Failed {
                stack: name.to_string(),
                root_cause: Some(Box::new(FailedResource {
                    logical_id: name.to_string(),
                    resource_type: "AWS::CloudFormation::Stack".into(),
                    status: deploy_status("EXECUTE_FAILED"),
                    reason: describe_error(&err),
                })),
                outcome,
            });
        }
        let expected = if operation == "create" {
            "CREATE_COMPLETE"
        } else {
            "UPDATE_COMPLETE"
        };
        self.follow(name, &stack_id, marker, expected, events, started)
            .await
    }

    /// Deletes a stack (if it exists) and follows it until it is gone.
    pub(super) async fn delete_stack(
        &self,
        name: &str,
        operation: &str,
        events: Events<'_>,
    ) -> Result<(), DeployError> {
        let Some(deployed) = self.describe(name).await? else {
            return Ok(());
        };
        let marker = self.newest_event(&deployed.id).await?;
        let started = Instant::now();
        events(DeployEvent::StackStarted {
            stack: name.to_string(),
            operation: operation.to_string(),
        });
        self.clients
            .cfn
            .delete_stack()
            .stack_name(&deployed.id)
            .send()
            .await
            .map_err(|e| api_error(&format!("stack {name}"), "DeleteStack", &e))?;
        self.follow(
            name,
            &deployed.id,
            marker,
            "DELETE_COMPLETE",
            events,
            started,
        )
        .await
    }

    /// Streams the stack's new events until it reaches a terminal status; emits `StackFinished`.
    async fn follow(
        &self,
        name: &str,
        stack_id: &str,
        marker: Option<String>,
        expected: &str,
        events: Events<'_>,
        started: Instant,
    ) -> Result<(), DeployError> {
        let mut poll = Poll::new(&self.timing, self.timing.stack_wait);
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        loop {
            // Status first, then events: the events read include everything up to that status.
            let status = self
                .describe(stack_id)
                .await?
                .map(|d| d.status)
                .unwrap_or_else(|| "DELETE_COMPLETE".into());
            let fresh = self
                .new_events(stack_id, marker.as_deref(), &mut seen)
                .await?;
            for e in &fresh {
                events(DeployEvent::Resource {
                    stack: name.to_string(),
                    logical_id: e.logical_id.clone(),
                    resource_type: e.resource_type.clone(),
                    status: deploy_status(&e.status),
                    reason: e.reason.clone(),
                    timestamp: e.timestamp.clone(),
                });
            }
            all.extend(fresh);
            match settled(&status, expected) {
                Settled::Succeeded => {
                    finish(events, name, &status, true, started);
                    return Ok(());
                }
                Settled::Failed => {
                    finish(events, name, &status, false, started);
                    return Err(DeployError::Failed {
                        stack: name.to_string(),
                        root_cause: first_failure(name, &all).map(Box::new),
                        outcome: status,
                    });
                }
                Settled::No if !poll.wait().await => {
                    finish(events, name, &status, false, started);
                    return Err(DeployError::Timeout {
                        stack: name.to_string(),
                        status,
                        waited_s: poll.waited_s(),
                    });
                }
                Settled::No => {}
            }
        }
    }

    /// The id of the stack's newest event, the marker before an operation.
    async fn newest_event(&self, stack_id: &str) -> Result<Option<String>, DeployError> {
        let out = match self
            .clients
            .cfn
            .describe_stack_events()
            .stack_name(stack_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) if is_missing_stack(&err) => return Ok(None),
            Err(err) => {
                return Err(
                    api_error(&format!("stack {stack_id}"), "DescribeStackEvents", &err).into(),
                );
            }
        };
        Ok(out
            .stack_events()
            .first()
            .and_then(|e| e.event_id())
            .map(str::to_string))
    }

    /// Events newer than `marker` not yet seen, oldest first.
    async fn new_events(
        &self,
        stack_id: &str,
        marker: Option<&str>,
        seen: &mut HashSet<String>,
    ) -> Result<Vec<StackEvent>, DeployError> {
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        'pages: for _ in 0..MAX_EVENT_PAGES {
            let out = match self
                .clients
                .cfn
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(err) if is_missing_stack(&err) => break,
                Err(err) => {
                    return Err(api_error(
                        &format!("stack {stack_id}"),
                        "DescribeStackEvents",
                        &err,
                    )
                    .into());
                }
            };
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default();
                if Some(id) == marker || seen.contains(id) {
                    break 'pages;
                }
                fresh.push(StackEvent {
                    event_id: id.to_string(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                    timestamp: e
                        .timestamp()
                        .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
                        .unwrap_or_default(),
                });
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        fresh.reverse();
        seen.extend(fresh.iter().map(|e| e.event_id.clone()));
        Ok(fresh)
    }
}

fn finish(events: Events<'_>, name: &str, status: &str, ok: bool, started: Instant) {
    events(DeployEvent::StackFinished {
        stack: name.to_string(),
        status: deploy_status(status),
        ok,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
}
