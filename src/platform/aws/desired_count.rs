//! The fleet size belongs to the converge loop (UpdateService), never to the workers stack. The rendered
//! template creates the ECS service with `DesiredCount: 0`, so a new service (even of a paused migration) starts
//! no task; every later update leaves `DesiredCount` out of the template it submits, and CloudFormation then
//! leaves the count out of its UpdateService call ("for existing services, if a desired count is not specified,
//! it is omitted from the operation"), so no stack update resets a scaled fleet.
//!
//! Plans compare templates with `DesiredCount` removed on both sides, and a change set's `DesiredCount` detail
//! is dropped: the property the stack no longer owns never shows as a change. Pure; tested below.

use serde_json::Value;

use super::template_diff::ResourceDiff;
use crate::plan::{Action, ResourceChange};
use crate::render::RenderedStack;

const SERVICE_TYPE: &str = "AWS::ECS::Service";
const PROPERTY: &str = "DesiredCount";

/// Removes `DesiredCount` from every ECS service of `template`; true when one was removed.
pub(crate) fn strip(template: &mut Value) -> bool {
    let Some(resources) = template.get_mut("Resources").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut removed = false;
    for resource in resources.values_mut() {
        if resource.get("Type").and_then(Value::as_str) == Some(SERVICE_TYPE)
            && let Some(properties) = resource
                .get_mut("Properties")
                .and_then(Value::as_object_mut)
        {
            removed |= properties.remove(PROPERTY).is_some();
        }
    }
    removed
}

/// `r` as submitted to update a deployed stack: its template without `DesiredCount`, and that template.
pub(crate) fn for_update(r: &RenderedStack, template: &Value) -> (RenderedStack, Value) {
    let mut stripped = template.clone();
    if !strip(&mut stripped) {
        return (r.clone(), stripped);
    }
    let mut body = serde_json::to_string_pretty(&stripped).unwrap_or_default();
    body.push('\n');
    let update = RenderedStack {
        template_body: body,
        ..r.clone()
    };
    (update, stripped)
}

/// Drops `DesiredCount` details of ECS services from a change set's changes, and a modified service whose
/// only detail it was.
pub(crate) fn hide(changes: &mut Vec<ResourceChange>) {
    changes.retain_mut(|change| {
        if change.resource_type != SERVICE_TYPE || change.properties.is_empty() {
            return true;
        }
        change.properties.retain(|p| p.name != PROPERTY);
        !(change.properties.is_empty() && matches!(change.action, Action::Modify | Action::Dynamic))
    });
}

/// Drops a modified ECS service that a change set lists without details when the template diff (both sides
/// without the count) finds nothing in it: the count was its only difference. (moto lists changes by template
/// text and gives no details; CloudFormation's details are handled by [`hide`].)
pub(crate) fn drop_count_only(changes: &mut Vec<ResourceChange>, diff: &[ResourceDiff]) {
    changes.retain(|change| {
        change.resource_type != SERVICE_TYPE
            || !change.properties.is_empty()
            || !matches!(change.action, Action::Modify | Action::Dynamic)
            || diff.iter().any(|d| d.logical_id == change.logical_id)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PropertyChange;
    use serde_json::json;

    fn template() -> Value {
        json!({ "Resources": {
            "WorkerService": { "Type": "AWS::ECS::Service", "Properties": { "DesiredCount": 0, "ServiceName": "s" } },
            "Other": { "Type": "AWS::Custom::Thing", "Properties": { "DesiredCount": 3 } },
        }})
    }

    #[test]
    fn updates_leave_the_count_out_of_ecs_services_only() {
        let r = RenderedStack {
            stack_name: "x-workers".into(),
            template_body: template().to_string(),
            parameters: vec![],
            tags: vec![],
            capabilities: vec![],
        };
        let (update, stripped) = for_update(&r, &template());
        let submitted: Value = serde_json::from_str(&update.template_body).expect("json");
        assert_eq!(submitted, stripped);
        let service = &submitted["Resources"]["WorkerService"]["Properties"];
        assert_eq!(service.get(PROPERTY), None);
        assert_eq!(service["ServiceName"], "s");
        assert_eq!(submitted["Resources"]["Other"]["Properties"][PROPERTY], 3);
        // Nothing to strip: the stack is submitted as rendered.
        let (same, _) = for_update(&update, &stripped);
        assert_eq!(same, update);
    }

    fn change(resource_type: &str, action: Action, properties: &[&str]) -> ResourceChange {
        ResourceChange {
            logical_id: "R".into(),
            resource_type: resource_type.into(),
            action,
            reason: None,
            properties: properties
                .iter()
                .map(|name| PropertyChange {
                    name: name.to_string(),
                    before: Some("0".into()),
                    after: None,
                    forces_replacement: false,
                })
                .collect(),
        }
    }

    #[test]
    fn the_count_never_shows_as_a_change() {
        let mut changes = vec![
            change(SERVICE_TYPE, Action::Modify, &[PROPERTY]),
            change(SERVICE_TYPE, Action::Modify, &[PROPERTY, "TaskDefinition"]),
            change(SERVICE_TYPE, Action::Modify, &[]),
            change("AWS::Custom::Thing", Action::Modify, &[PROPERTY]),
        ];
        hide(&mut changes);
        let names: Vec<Vec<&str>> = changes
            .iter()
            .map(|c| c.properties.iter().map(|p| p.name.as_str()).collect())
            .collect();
        assert_eq!(
            names,
            vec![vec!["TaskDefinition"], vec![], vec![PROPERTY]],
            "a count-only change is dropped; one without details is kept for the template diff"
        );
        let mut undetailed = vec![
            change(SERVICE_TYPE, Action::Modify, &[]),
            change("AWS::ECS::TaskDefinition", Action::Modify, &[]),
        ];
        drop_count_only(&mut undetailed, &[]);
        assert_eq!(undetailed.len(), 1);
        assert_eq!(undetailed[0].resource_type, "AWS::ECS::TaskDefinition");
        let mut diffed = vec![change(SERVICE_TYPE, Action::Modify, &[])];
        let diff = ResourceDiff {
            logical_id: "R".into(),
            resource_type: SERVICE_TYPE.into(),
            kind: super::super::template_diff::DiffKind::Modified,
            properties: vec![],
        };
        drop_count_only(&mut diffed, &[diff]);
        assert_eq!(diffed.len(), 1, "a service the diff finds changed stays");
    }
}
