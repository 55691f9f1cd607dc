//! CloudWatch dashboard names are global to an account and region, and every migration's default is
//! `MigrationAssistant_ReindexFromSnapshot_Dashboard`. Before a stack creates or changes a dashboard, the plan
//! checks that no dashboard of that name exists outside the stack; when one does, the stack's plan carries a
//! note naming the owner and the `dashboard.name` that avoids the clash.
//!
//! How: GetDashboard says whether the name exists (then the stack's own resource says whether it is ours, and
//! DescribeStackResources by physical id names the owning stack, where CloudFormation answers it). When
//! CloudWatch cannot answer (no `cloudwatch:GetDashboard` permission; `moto_server`, which does not speak the
//! SDK's CloudWatch protocol), the other stacks tagged `backfill:managed-by` are searched for a dashboard of that
//! name: the likeliest clash is another migration left at the default name.
//!
//! Best effort: a failed lookup adds no note and never fails the plan. Only plans that change the stack look,
//! so an unchanged plan stays one round of reads.

use serde_json::Value;

use super::clients::error_code;
use super::stacks::CloudFormation;
use crate::render::RenderedStack;

const DASHBOARD_TYPE: &str = "AWS::CloudWatch::Dashboard";
/// The stack tag `render` puts on every stack it makes.
const MANAGED_BY: &str = "backfill:managed-by";

impl CloudFormation {
    /// Why the dashboards `r` declares cannot take their names, if one is taken by something else.
    pub(super) async fn dashboard_name_note(&self, r: &RenderedStack) -> Option<String> {
        let template: Value = serde_json::from_str(&r.template_body).ok()?;
        let mut notes = Vec::new();
        for (logical_id, name) in dashboard_names(&template) {
            let owner = match self.dashboard_exists(&name).await {
                Some(false) => continue,
                Some(true) => {
                    if self.owns(&r.stack_name, &logical_id, &name).await {
                        continue;
                    }
                    Some(self.owner_of(&name).await)
                }
                None => self
                    .backfill_stack_with(&name, &r.stack_name)
                    .await
                    .map(Some),
            };
            if let Some(owner) = owner {
                notes.push(taken_note(&name, owner.as_deref(), &r.stack_name));
            }
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    /// GetDashboard's answer: `None` when CloudWatch could not say (an error other than "not found").
    async fn dashboard_exists(&self, name: &str) -> Option<bool> {
        match self
            .clients
            .cloudwatch
            .get_dashboard()
            .dashboard_name(name)
            .send()
            .await
        {
            Ok(_) => Some(true),
            Err(err) if error_code(&err) == Some("ResourceNotFound") => Some(false),
            Err(_) => None,
        }
    }

    /// The deployed `stack`'s own `logical_id` is the dashboard `name`.
    async fn owns(&self, stack: &str, logical_id: &str, name: &str) -> bool {
        let Ok(out) = self
            .clients
            .cfn
            .describe_stack_resource()
            .stack_name(stack)
            .logical_resource_id(logical_id)
            .send()
            .await
        else {
            return false;
        };
        out.stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            == Some(name)
    }

    /// The stack a resource with this physical id belongs to, where CloudFormation answers it.
    async fn owner_of(&self, name: &str) -> Option<String> {
        let out = self
            .clients
            .cfn
            .describe_stack_resources()
            .physical_resource_id(name)
            .send()
            .await
            .ok()?;
        out.stack_resources()
            .iter()
            .find(|r| r.resource_type() == Some(DASHBOARD_TYPE))
            .and_then(|r| r.stack_name())
            .map(str::to_string)
    }

    /// Another stack made by backfill (tag `backfill:managed-by`) with a dashboard named `name`.
    async fn backfill_stack_with(&self, name: &str, own_stack: &str) -> Option<String> {
        let mut token = None;
        loop {
            let out = self
                .clients
                .cfn
                .describe_stacks()
                .set_next_token(token.take())
                .send()
                .await
                .ok()?;
            for stack in out.stacks() {
                let Some(stack_name) = stack.stack_name() else {
                    continue;
                };
                let ours = stack.tags().iter().any(|t| t.key() == Some(MANAGED_BY));
                let live = stack
                    .stack_status()
                    .is_some_and(|s| s.as_str() != "DELETE_COMPLETE");
                if stack_name != own_stack
                    && ours
                    && live
                    && self.has_dashboard(stack_name, name).await
                {
                    return Some(stack_name.to_string());
                }
            }
            token = Some(out.next_token()?.to_string());
        }
    }

    async fn has_dashboard(&self, stack: &str, name: &str) -> bool {
        let Ok(out) = self
            .clients
            .cfn
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
        else {
            return false;
        };
        out.stack_resources().iter().any(|r| {
            r.resource_type() == Some(DASHBOARD_TYPE) && r.physical_resource_id() == Some(name)
        })
    }
}

/// `(logical id, DashboardName)` of every dashboard with a literal name.
fn dashboard_names(template: &Value) -> Vec<(String, String)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(DASHBOARD_TYPE))
        .filter_map(|(id, r)| {
            let name = r.pointer("/Properties/DashboardName")?.as_str()?;
            Some((id.clone(), name.to_string()))
        })
        .collect()
}

/// The plan's note for a dashboard name that is taken.
fn taken_note(name: &str, owner: Option<&str>, stack: &str) -> String {
    let by = match owner {
        Some(owner) => format!("stack {owner}"),
        None => {
            "a dashboard outside this stack (another stack, Migration Assistant, or made by hand)"
                .into()
        }
    };
    let migration = stack.strip_suffix("-dashboard").unwrap_or(stack);
    format!(
        "the dashboard name {name} is already used by {by}; applying would fail or take it over. Set \
         `dashboard.name` in migration.yaml to a name of this migration's own, e.g. \
         `dashboard: {{name: MigrationAssistant_ReindexFromSnapshot_{migration}}}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_dashboard_names_are_found() {
        let template = json!({ "Resources": {
            "BackfillDashboard": { "Type": DASHBOARD_TYPE, "Properties": { "DashboardName": "D" } },
            "Generated": { "Type": DASHBOARD_TYPE, "Properties": { "DashboardName": { "Ref": "P" } } },
            "Group": { "Type": "AWS::Logs::LogGroup", "Properties": { "DashboardName": "no" } },
        }});
        assert_eq!(
            dashboard_names(&template),
            vec![("BackfillDashboard".to_string(), "D".to_string())]
        );
    }

    #[test]
    fn the_note_names_the_owner_and_the_key_to_set() {
        let note = taken_note("D", Some("other-dashboard"), "orders-2024-dashboard");
        assert!(
            note.contains("already used by stack other-dashboard"),
            "{note}"
        );
        assert!(
            note.contains("name: MigrationAssistant_ReindexFromSnapshot_orders-2024"),
            "{note}"
        );
        assert!(taken_note("D", None, "x-dashboard").contains("outside this stack"));
    }
}
