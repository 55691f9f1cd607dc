//! Planning one stack: classify what is deployed, create and read the change set, and complete it where the
//! change set lacks detail (template diff, replacement table); and planning a stack's deletion.

use aws_sdk_cloudformation::types::ChangeSetType;
use serde_json::Value;

use super::changes;
use super::clients::api_error;
use super::desired_count;
use super::stacks::{CloudFormation, Deployed, Poll};
use super::status::{Existing, classify_existing, is_no_changes};
use super::template_diff;
use crate::converge::ports::PlatformError;
use crate::plan::{Action, ResourceChange, StackAction, StackBaseline, StackPlan};
use crate::platform::DeployError;
use crate::render::RenderedStack;

impl CloudFormation {
    /// The deployed template, when it is JSON, without the `DesiredCount` the stack no longer owns (see
    /// `desired_count`), so it compares with what an update submits.
    async fn deployed_template(&self, stack: &str) -> Result<Option<Value>, DeployError> {
        let out = self
            .clients
            .cfn
            .get_template()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| api_error(&format!("stack {stack}"), "GetTemplate", &e))?;
        let mut template: Option<Value> = out
            .template_body()
            .and_then(|t| serde_json::from_str(t).ok());
        if let Some(t) = &mut template {
            desired_count::strip(t);
        }
        Ok(template)
    }

    pub(super) async fn plan_stack(&self, r: &RenderedStack) -> Result<StackPlan, DeployError> {
        let name = &r.stack_name;
        let template: Value =
            serde_json::from_str(&r.template_body).map_err(|e| PlatformError::Api {
                resource: format!("stack {name}"),
                message: format!("the rendered template is not JSON: {e}"),
            })?;
        let mut poll = Poll::new(&self.timing, self.timing.busy_wait);
        // First look: the stack and its template together (one round trip), so an unchanged stack is known
        // to be unchanged without creating a change set (CloudFormation takes seconds per change set).
        let (first, old_template) = tokio::join!(self.describe(name), self.deployed_template(name));
        let mut first = Some(first);
        let old_template = old_template.ok().flatten();
        loop {
            let deployed = match first.take() {
                Some(d) => d?,
                None => self.describe(name).await?,
            };
            let decision = deployed
                .as_ref()
                .map(|d| classify_existing(name, &d.status));
            match (deployed, decision) {
                (None, _) | (_, Some(Existing::Gone)) => {
                    return self.plan_change_set(r, &template, None).await;
                }
                (Some(d), Some(Existing::Update)) => {
                    let (update, template) = desired_count::for_update(r, &template);
                    if old_template.as_ref() == Some(&template) && unchanged_inputs(&d, r) {
                        return Ok(StackPlan {
                            resources: Vec::new(),
                            parameters: Vec::new(),
                            tags: Vec::new(),
                            ..new_stack_plan(r, &template, StackAction::NoChange, d.baseline())
                        });
                    }
                    return self.plan_change_set(&update, &template, Some(d)).await;
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
        desired_count::hide(&mut resources);
        let lacks_detail = resources.is_empty()
            || resources.iter().any(|c| {
                c.properties.is_empty() && matches!(c.action, Action::Modify | Action::Dynamic)
            });
        if lacks_detail && let Some(old) = self.deployed_template(name).await? {
            let diff = template_diff::diff(&old, &deployed.parameters, template, &r.parameters);
            desired_count::drop_count_only(&mut resources, &diff);
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

    pub(super) async fn plan_delete(&self, name: &str) -> Result<StackPlan, DeployError> {
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

/// The deployed stack already has the rendered parameters and tags (the template is compared separately).
fn unchanged_inputs(d: &Deployed, r: &RenderedStack) -> bool {
    changes::key_value_changes(&d.parameters, &r.parameters).is_empty()
        && changes::key_value_changes(&d.tags, &r.tags).is_empty()
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
