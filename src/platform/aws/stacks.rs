//! [`CloudFormation`]: the AWS implementation of [`Stacks`] — plans are real change sets (see `planning`),
//! created for the three stacks concurrently and read back with property values; apply executes them (see
//! `execute`). This file holds the shared calls: DescribeStacks, change set creation and polling.
//!
//! Planning never changes a deployed stack. It does leave change sets behind (and, for a stack that does not
//! exist yet, the `REVIEW_IN_PROGRESS` placeholder CloudFormation makes for a `CREATE` change set): apply
//! executes them, [`Stacks::discard`] removes them. The plan's baseline is read *after* the change set exists,
//! so a saved plan of a new stack stays fresh until something else touches it.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};

use super::clients::{AwsClients, api_error, is_missing_stack};
use super::status::is_no_changes;
use crate::plan::{StackAction, StackBaseline, StackPlan};
use crate::platform::{DeployError, DeployEvent, Stacks};
use crate::render::{RenderedStack, RenderedStacks};
use crate::time::{Clock, SystemClock};

/// How often and how long to poll.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First pause between polls; each pause is 1.5 times the previous one, up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
    /// Bound on a change set's creation.
    pub change_set_wait: Duration,
    /// Bound on waiting for another operation on a stack to end before planning it.
    pub busy_wait: Duration,
    /// Bound on one stack operation (create, update, delete).
    pub stack_wait: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            first_poll: Duration::from_millis(200),
            max_poll: Duration::from_secs(5),
            change_set_wait: Duration::from_secs(5 * 60),
            busy_wait: Duration::from_secs(10 * 60),
            stack_wait: Duration::from_secs(60 * 60),
        }
    }
}

/// A growing pause with a deadline.
pub(super) struct Poll {
    next: Duration,
    max: Duration,
    started: Instant,
    bound: Duration,
}

impl Poll {
    pub(super) fn new(timing: &Timing, bound: Duration) -> Self {
        Poll {
            next: timing.first_poll,
            max: timing.max_poll,
            started: Instant::now(),
            bound,
        }
    }

    /// Sleeps before the next poll; false once the bound has passed.
    pub(super) async fn wait(&mut self) -> bool {
        if self.started.elapsed() >= self.bound {
            return false;
        }
        tokio::time::sleep(self.next).await;
        self.next = self.next.mul_f32(1.5).min(self.max);
        true
    }

    pub(super) fn waited_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// CloudFormation stacks: plan with change sets, apply, destroy.
#[derive(Debug, Clone)]
pub struct CloudFormation {
    pub(super) clients: AwsClients,
    pub(super) timing: Timing,
}

/// A stack as DescribeStacks reports it.
#[derive(Debug, Clone)]
pub(super) struct Deployed {
    pub id: String,
    pub status: String,
    pub last_updated: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

impl Deployed {
    pub(super) fn baseline(&self) -> StackBaseline {
        StackBaseline {
            stack_id: Some(self.id.clone()),
            status: Some(self.status.clone()),
            last_updated: self.last_updated.clone(),
        }
    }
}

/// A change set once CloudFormation has finished creating it.
pub(super) struct ReadyChangeSet {
    pub id: String,
    pub status: String,
    pub reason: String,
    pub changes: Vec<aws_sdk_cloudformation::types::ResourceChange>,
}

impl CloudFormation {
    pub fn new(clients: AwsClients) -> Self {
        CloudFormation {
            clients,
            timing: Timing::default(),
        }
    }

    /// Shorter or longer polls and bounds (tests against moto poll fast).
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    pub fn clients(&self) -> &AwsClients {
        &self.clients
    }

    /// DescribeStacks by name or id; `None` when there is no such stack.
    pub(super) async fn describe(&self, stack: &str) -> Result<Option<Deployed>, DeployError> {
        let out = match self
            .clients
            .cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err) if is_missing_stack(&err) => return Ok(None),
            Err(err) => {
                return Err(api_error(&format!("stack {stack}"), "DescribeStacks", &err).into());
            }
        };
        let Some(s) = out.stacks().first() else {
            return Ok(None);
        };
        let time = s.last_updated_time().or(s.creation_time());
        Ok(Some(Deployed {
            id: s.stack_id().unwrap_or(stack).to_string(),
            status: s
                .stack_status()
                .map(|x| x.as_str().to_string())
                .unwrap_or_default(),
            last_updated: time.and_then(|t| {
                t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                    .ok()
            }),
            parameters: s
                .parameters()
                .iter()
                .map(|p| {
                    let key = p.parameter_key().unwrap_or_default().to_string();
                    (key, p.parameter_value().unwrap_or_default().to_string())
                })
                .collect(),
            tags: s
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        }))
    }

    /// Creates a change set for `r` and waits until CloudFormation has computed it.
    pub(super) async fn create_change_set(
        &self,
        r: &RenderedStack,
        kind: ChangeSetType,
    ) -> Result<ReadyChangeSet, DeployError> {
        let name = &r.stack_name;
        let millis = SystemClock.now().epoch_millis();
        let out = self
            .clients
            .cfn
            .create_change_set()
            .stack_name(name)
            .change_set_name(format!("backfill-{millis}"))
            .change_set_type(kind)
            .template_body(&r.template_body)
            .set_parameters(Some(
                r.parameters
                    .iter()
                    .map(|(k, v)| {
                        Parameter::builder()
                            .parameter_key(k)
                            .parameter_value(v)
                            .build()
                    })
                    .collect(),
            ))
            .set_tags(Some(
                r.tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .set_capabilities(Some(
                r.capabilities
                    .iter()
                    .map(|c| Capability::from(c.as_str()))
                    .collect(),
            ))
            .include_nested_stacks(false)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            // Some implementations (moto; CloudFormation's UpdateStack) refuse an empty update up front.
            Err(err) if err.message().is_some_and(is_no_changes) => {
                return Ok(ReadyChangeSet {
                    id: String::new(),
                    status: "FAILED".into(),
                    reason: err.message().unwrap_or_default().to_string(),
                    changes: Vec::new(),
                });
            }
            Err(err) => {
                return Err(api_error(&format!("stack {name}"), "CreateChangeSet", &err).into());
            }
        };
        let id = out.id().unwrap_or_default().to_string();
        self.wait_change_set(name, id).await
    }

    /// Polls DescribeChangeSet (with property values) until the change set is complete or failed.
    async fn wait_change_set(
        &self,
        stack: &str,
        id: String,
    ) -> Result<ReadyChangeSet, DeployError> {
        let mut poll = Poll::new(&self.timing, self.timing.change_set_wait);
        let resource = format!("stack {stack}");
        loop {
            let mut changes = Vec::new();
            let mut token: Option<String> = None;
            let (status, reason) = loop {
                let out = self
                    .clients
                    .cfn
                    .describe_change_set()
                    .change_set_name(&id)
                    .include_property_values(true)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| api_error(&resource, "DescribeChangeSet", &e))?;
                changes.extend(
                    out.changes()
                        .iter()
                        .filter_map(|c| c.resource_change().cloned()),
                );
                let status = out
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                let reason = out.status_reason().unwrap_or_default().to_string();
                match out.next_token() {
                    Some(next) if status == "CREATE_COMPLETE" => token = Some(next.to_string()),
                    _ => break (status, reason),
                }
            };
            if !matches!(status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
                return Ok(ReadyChangeSet {
                    id,
                    status,
                    reason,
                    changes,
                });
            }
            if !poll.wait().await {
                return Err(DeployError::Timeout {
                    stack: stack.to_string(),
                    status: format!("change set {status}"),
                    waited_s: poll.waited_s(),
                });
            }
        }
    }

    /// Deletes a change set, ignoring failures (it may be gone already).
    pub(super) async fn delete_change_set(&self, id: &str) {
        if id.is_empty() {
            return;
        }
        let _ = self
            .clients
            .cfn
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await;
    }

    /// Deletes the empty `REVIEW_IN_PROGRESS` stack a `CREATE` change set made, if that is all there is.
    pub(super) async fn delete_placeholder(&self, name: &str) {
        if let Ok(Some(d)) = self.describe(name).await
            && d.status == "REVIEW_IN_PROGRESS"
        {
            let _ = self
                .clients
                .cfn
                .delete_stack()
                .stack_name(&d.id)
                .send()
                .await;
        }
    }
}

impl Stacks for CloudFormation {
    fn platform_name(&self) -> &'static str {
        "aws"
    }

    async fn plan(&self, rendered: &RenderedStacks) -> Result<Vec<StackPlan>, DeployError> {
        let results = futures::future::join_all(rendered.stacks.iter().map(|r| async move {
            let mut plan = self.plan_stack(r).await?;
            if plan.has_changes()
                && let Some(note) = self.dashboard_name_note(r).await
            {
                plan.note = Some(match plan.note.take() {
                    Some(first) => format!("{first}; {note}"),
                    None => note,
                });
            }
            Ok::<_, DeployError>(plan)
        }))
        .await;
        let mut plans = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Ok(plan) => plans.push(plan),
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            None => Ok(plans),
            Some(err) => {
                // The plans that succeeded will not be shown: drop their change sets.
                self.discard(&plans).await;
                Err(err)
            }
        }
    }

    async fn plan_destroy(&self, stack_names: &[String]) -> Result<Vec<StackPlan>, DeployError> {
        let plans =
            futures::future::join_all(stack_names.iter().rev().map(|n| self.plan_delete(n))).await;
        plans.into_iter().collect()
    }

    async fn baseline(&self, stack_name: &str) -> Result<StackBaseline, DeployError> {
        Ok(self
            .describe(stack_name)
            .await?
            .map(|d| d.baseline())
            .unwrap_or_default())
    }

    async fn apply(
        &self,
        stacks: &[StackPlan],
        rendered: &RenderedStacks,
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<(), DeployError> {
        self.apply_plans(stacks, rendered, events).await
    }

    async fn destroy(
        &self,
        stacks: &[StackPlan],
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<(), DeployError> {
        for plan in stacks.iter().filter(|p| p.action == StackAction::Delete) {
            self.delete_stack(&plan.stack_name, "delete", events)
                .await?;
        }
        Ok(())
    }

    async fn discard(&self, stacks: &[StackPlan]) {
        for plan in stacks {
            if let Some(id) = &plan.change_set_id {
                self.delete_change_set(id).await;
                if plan.action == StackAction::Create {
                    self.delete_placeholder(&plan.stack_name).await;
                }
            }
        }
    }
}
