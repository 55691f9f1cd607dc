//! [`CloudFormation`]: the AWS implementation of [`Stacks`] — plans are real change sets, created for the three
//! stacks concurrently and read back with property values; apply executes them (see `execute`).
//!
//! Planning never changes a deployed stack. It does leave change sets behind (and, for a stack that does not
//! exist yet, the `REVIEW_IN_PROGRESS` placeholder CloudFormation makes for a `CREATE` change set): apply
//! executes them, [`Stacks::discard`] removes them. The plan's baseline is read *after* the change set exists,
//! so a saved plan of a new stack stays fresh until something else touches it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
use serde_json::Value;

use super::changes;
use super::clients::{AwsClients, api_error, is_missing_stack};
use super::status::{Existing, classify_existing, is_no_changes};
use super::template_diff;
use crate::plan::{Action, ResourceChange, StackAction, StackBaseline, StackPlan};
use crate::platform::{DeployError, DeployEvent, PlatformError, Stacks};
use crate::render::{RenderedStack, RenderedStacks};

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
    fn baseline(&self) -> StackBaseline {
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
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
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
            .await
            .map_err(|e| api_error(&format!("stack {name}"), "CreateChangeSet", &e))?;
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
        let _ = self
            .clients
            .cfn
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await;
    }

    /// The deployed template, when it is JSON.
    async fn deployed_template(&self, stack: &str) -> Result<Option<Value>, DeployError> {
        let out = self
            .clients
            .cfn
            .get_template()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| api_error(&format!("stack {stack}"), "GetTemplate", &e))?;
        Ok(out
            .template_body()
            .and_then(|t| serde_json::from_str(t).ok()))
    }

    async fn plan_stack(&self, r: &RenderedStack) -> Result<StackPlan, DeployError> {
        let name = &r.stack_name;
        let template: Value =
            serde_json::from_str(&r.template_body).map_err(|e| PlatformError::Api {
                resource: format!("stack {name}"),
                message: format!("the rendered template is not JSON: {e}"),
            })?;
        let mut poll = Poll::new(&self.timing, self.timing.busy_wait);
        loop {
            let deployed = self.describe(name).await?;
            let decision = deployed
                .as_ref()
                .map(|d| classify_existing(name, &d.status));
            match (deployed, decision) {
                (None, _) | (_, Some(Existing::Gone)) => {
                    return self.plan_change_set(r, &template, None).await;
                }
                (Some(d), Some(Existing::Update)) => {
                    return self.plan_change_set(r, &template, Some(d)).await;
                }
                (Some(d), Some(Existing::Recreate { note })) => {
                    return Ok(StackPlan {
                        note: Some(note),
                        ..new_stack_plan(r, &template, StackAction::Recreate, d.baseline())
                    });
                }
                (Some(d), Some(Existing::Stuck { fix })) => {
                    return Err(DeployError::Stuck {
                        stack: name.clone(),
                        status: d.status,
                        fix,
                    });
                }
                (Some(d), _) => {
                    if !poll.wait().await {
                        return Err(DeployError::Timeout {
                            stack: name.clone(),
                            status: d.status,
                            waited_s: poll.waited_s(),
                        });
                    }
                }
            }
        }
    }

    async fn plan_change_set(
        &self,
        r: &RenderedStack,
        template: &Value,
        deployed: Option<Deployed>,
    ) -> Result<StackPlan, DeployError> {
        let name = &r.stack_name;
        let kind = if deployed.is_some() {
            ChangeSetType::Update
        } else {
            ChangeSetType::Create
        };
        let cs = self.create_change_set(r, kind).await?;
        let baseline = self
            .describe(name)
            .await?
            .map(|d| d.baseline())
            .unwrap_or_default();
        let no_change = StackPlan {
            change_set_id: None,
            resources: Vec::new(),
            parameters: Vec::new(),
            tags: Vec::new(),
            ..new_stack_plan(r, template, StackAction::NoChange, baseline.clone())
        };
        if cs.status != "CREATE_COMPLETE" {
            self.delete_change_set(&cs.id).await;
            if is_no_changes(&cs.reason) {
                return Ok(no_change);
            }
            if deployed.is_none() {
                self.delete_placeholder(name).await;
            }
            return Err(PlatformError::Api {
                resource: format!("stack {name}"),
                message: format!("the change set {}: {}", cs.status, cs.reason),
            }
            .into());
        }
        let Some(deployed) = deployed else {
            return Ok(StackPlan {
                resources: cs.changes.iter().map(changes::resource_change).collect(),
                change_set_id: Some(cs.id),
                ..new_stack_plan(r, template, StackAction::Create, baseline)
            });
        };
        let mut resources: Vec<ResourceChange> =
            cs.changes.iter().map(changes::resource_change).collect();
        let lacks_detail = resources.is_empty()
            || resources.iter().any(|c| {
                c.properties.is_empty() && matches!(c.action, Action::Modify | Action::Dynamic)
            });
        if lacks_detail && let Some(old) = self.deployed_template(name).await? {
            let diff = template_diff::diff(&old, &deployed.parameters, template, &r.parameters);
            changes::supplement(&mut resources, &diff);
        }
        let parameters = changes::key_value_changes(&deployed.parameters, &r.parameters);
        let tags = changes::key_value_changes(&deployed.tags, &r.tags);
        if resources.is_empty() && parameters.is_empty() && tags.is_empty() {
            // An executable change set that changes nothing (moto makes these after a parameter-only update).
            self.delete_change_set(&cs.id).await;
            return Ok(no_change);
        }
        Ok(StackPlan {
            action: StackAction::Update,
            resources,
            parameters,
            tags,
            change_set_id: Some(cs.id),
            ..no_change
        })
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

    async fn plan_delete(&self, name: &str) -> Result<StackPlan, DeployError> {
        let absent = StackPlan {
            stack_name: name.to_string(),
            action: StackAction::Absent,
            resources: Vec::new(),
            parameters: Vec::new(),
            tags: Vec::new(),
            capabilities: Vec::new(),
            note: None,
            change_set_id: None,
            baseline: StackBaseline::default(),
        };
        let Some(d) = self
            .describe(name)
            .await?
            .filter(|d| d.status != "DELETE_COMPLETE")
        else {
            return Ok(absent);
        };
        let out = self
            .clients
            .cfn
            .describe_stack_resources()
            .stack_name(&d.id)
            .send()
            .await
            .map_err(|e| api_error(&format!("stack {name}"), "DescribeStackResources", &e))?;
        let resources = out
            .stack_resources()
            .iter()
            .map(|r| ResourceChange {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                action: Action::Remove,
                reason: Some("the stack is deleted".into()),
                properties: Vec::new(),
            })
            .collect();
        Ok(StackPlan {
            action: StackAction::Delete,
            resources,
            baseline: d.baseline(),
            ..absent
        })
    }
}

/// The plan of a stack created from scratch: every resource added, every parameter and tag new.
fn new_stack_plan(
    r: &RenderedStack,
    template: &Value,
    action: StackAction,
    baseline: StackBaseline,
) -> StackPlan {
    StackPlan {
        stack_name: r.stack_name.clone(),
        action,
        resources: changes::all_added(template),
        parameters: changes::key_value_changes(&[], &r.parameters),
        tags: changes::key_value_changes(&[], &r.tags),
        capabilities: r.capabilities.clone(),
        note: None,
        change_set_id: None,
        baseline,
    }
}

impl Stacks for CloudFormation {
    fn platform_name(&self) -> &'static str {
        "aws"
    }

    async fn plan(&self, rendered: &RenderedStacks) -> Result<Vec<StackPlan>, DeployError> {
        let results =
            futures::future::join_all(rendered.stacks.iter().map(|r| self.plan_stack(r))).await;
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
