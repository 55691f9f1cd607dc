//! From a change set to the plan model: CloudFormation's `ResourceChange`s as [`ResourceChange`]s with
//! Terraform's actions, property details merged (the `Dynamic`/`Static` pair of a property fed by a parameter
//! becomes one line, the `Static` one kept), parameter and tag differences, and the fallbacks for change sets
//! without details (see [`supplement`]). Pure; the SDK types are only read.
//!
//! **Replacement fallback.** When a change set names a modified resource without saying whether it is replaced
//! (moto never does), the properties found by the template diff are checked against [`REPLACING`], a table of
//! the properties that force replacement in real CloudFormation for the resource types we render (from the
//! "Update requires: Replacement" notes of the resource reference).

use aws_sdk_cloudformation::types as cfn;

use super::template_diff::{DiffKind, ResourceDiff};
use crate::plan::{Action, PropertyChange, ResourceChange};

/// Properties whose change replaces the resource, per resource type. `*`: every property (an ECS task
/// definition is immutable: any change registers a new revision, which CloudFormation reports as replacement).
pub(crate) const REPLACING: &[(&str, &[&str])] = &[
    ("AWS::Logs::LogGroup", &["LogGroupName"]),
    (
        "AWS::ECS::Service",
        &[
            "ServiceName",
            "Cluster",
            "LaunchType",
            "Role",
            "SchedulingStrategy",
        ],
    ),
    ("AWS::ECS::Cluster", &["ClusterName"]),
    ("AWS::ECS::TaskDefinition", &["*"]),
    ("AWS::IAM::Role", &["RoleName", "Path"]),
    ("AWS::CloudWatch::Dashboard", &["DashboardName"]),
];

/// Changing `property` of a `resource_type` replaces the resource, by [`REPLACING`].
pub(crate) fn forces_replacement(resource_type: &str, property: &str) -> bool {
    REPLACING
        .iter()
        .filter(|(t, _)| *t == resource_type)
        .any(|(_, props)| props.iter().any(|p| *p == "*" || *p == property))
}

/// One change-set resource change as the plan shows it.
pub(crate) fn resource_change(rc: &cfn::ResourceChange) -> ResourceChange {
    let properties = merged_details(rc.details());
    let action = match (
        rc.action().map(|a| a.as_str()),
        rc.replacement().map(|r| r.as_str()),
    ) {
        (Some("Add" | "Import"), _) => Action::Add,
        (Some("Remove"), _) => Action::Remove,
        (Some("Dynamic"), _) => Action::Dynamic,
        (_, Some("True")) => Action::Replace,
        (_, Some("Conditional")) => Action::MaybeReplace,
        _ => Action::Modify,
    };
    let reason = match action {
        Action::Replace | Action::MaybeReplace => replacement_reason(rc.details()),
        Action::Remove => Some("no longer in the template".into()),
        _ => None,
    };
    ResourceChange {
        logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
        resource_type: rc.resource_type().unwrap_or_default().to_string(),
        action,
        reason,
        properties,
    }
}

/// Details grouped by property (`Target.Name`, else `Target.Path`, else the attribute), keeping the `Static`
/// detail of a `Dynamic`/`Static` pair, in first-seen order.
fn merged_details(details: &[cfn::ResourceChangeDetail]) -> Vec<PropertyChange> {
    let mut out: Vec<(PropertyChange, bool)> = Vec::new();
    for detail in details {
        let Some(target) = detail.target() else {
            continue;
        };
        let name = target
            .name()
            .or(target.path())
            .or(target.attribute().map(|a| a.as_str()))
            .unwrap_or_default()
            .to_string();
        let is_static = detail.evaluation().map(|e| e.as_str()) != Some("Dynamic");
        let change = PropertyChange {
            name,
            before: target.before_value().map(str::to_string),
            after: target.after_value().map(str::to_string),
            forces_replacement: target.requires_recreation().map(|r| r.as_str()) == Some("Always"),
        };
        match out.iter_mut().find(|(c, _)| c.name == change.name) {
            Some((existing, existing_static)) => {
                if is_static && !*existing_static {
                    *existing = change;
                    *existing_static = true;
                } else {
                    existing.forces_replacement |= change.forces_replacement;
                }
            }
            None => out.push((change, is_static)),
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}

/// "ServiceName forces replacement" from the details that require recreation.
fn replacement_reason(details: &[cfn::ResourceChangeDetail]) -> Option<String> {
    let mut always = Vec::new();
    let mut maybe = Vec::new();
    for target in details.iter().filter_map(|d| d.target()) {
        let Some(name) = target.name().or(target.path()) else {
            continue;
        };
        let list = match target.requires_recreation().map(|r| r.as_str()) {
            Some("Always") => &mut always,
            Some("Conditionally") => &mut maybe,
            _ => continue,
        };
        if !list.contains(&name) {
            list.push(name);
        }
    }
    if !always.is_empty() {
        Some(forces(&always.join(", "), always.len()))
    } else if !maybe.is_empty() {
        Some(format!("{} may force replacement", maybe.join(", ")))
    } else {
        None
    }
}

fn forces(names: &str, count: usize) -> String {
    if count == 1 {
        format!("{names} forces replacement")
    } else {
        format!("{names} force replacement")
    }
}

/// Completes a change set's resource changes with the template diff when the change set lacks detail:
/// - a modified resource without property details gets the diff's properties, and then its action from the
///   [`REPLACING`] table (the change set did not say; `Replace` when a listed property changes);
/// - when the change set lists no resource at all (moto, for a change that only comes through a parameter),
///   the diff's resources are the plan.
pub(crate) fn supplement(changes: &mut Vec<ResourceChange>, diff: &[ResourceDiff]) {
    if changes.is_empty() {
        changes.extend(diff.iter().map(|d| ResourceChange {
            logical_id: d.logical_id.clone(),
            resource_type: d.resource_type.clone(),
            action: match d.kind {
                DiffKind::Added => Action::Add,
                DiffKind::Removed => Action::Remove,
                DiffKind::Modified => Action::Modify,
            },
            reason: (d.kind == DiffKind::Removed).then(|| "no longer in the template".into()),
            properties: d.properties.clone(),
        }));
        changes.iter_mut().for_each(apply_replacement_table);
        return;
    }
    for change in changes.iter_mut() {
        if change.properties.is_empty()
            && matches!(change.action, Action::Modify | Action::Dynamic)
            && let Some(found) = diff
                .iter()
                .find(|d| d.logical_id == change.logical_id && d.kind == DiffKind::Modified)
        {
            change.properties = found.properties.clone();
            if change.action == Action::Modify {
                apply_replacement_table(change);
            }
        }
    }
}

fn apply_replacement_table(change: &mut ResourceChange) {
    if change.action != Action::Modify {
        return;
    }
    for p in &mut change.properties {
        p.forces_replacement |= forces_replacement(&change.resource_type, &p.name);
    }
    let forcing: Vec<&str> = change
        .properties
        .iter()
        .filter(|p| p.forces_replacement)
        .map(|p| p.name.as_str())
        .collect();
    if !forcing.is_empty() {
        change.reason = Some(forces(&forcing.join(", "), forcing.len()));
        change.action = Action::Replace;
    }
}

/// Differences between two key/value lists (stack parameters or tags): changed, added (`before: None`) and
/// removed (`after: None`) keys, in the order of `after`, removals last.
pub(crate) fn key_value_changes(
    before: &[(String, String)],
    after: &[(String, String)],
) -> Vec<PropertyChange> {
    let get = |list: &[(String, String)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let mut out: Vec<PropertyChange> = after
        .iter()
        .filter(|(k, v)| get(before, k).as_ref() != Some(v))
        .map(|(k, v)| PropertyChange {
            name: k.clone(),
            before: get(before, k),
            after: Some(v.clone()),
            forces_replacement: false,
        })
        .collect();
    out.extend(
        before
            .iter()
            .filter(|(k, _)| get(after, k).is_none())
            .map(|(k, v)| PropertyChange {
                name: k.clone(),
                before: Some(v.clone()),
                after: None,
                forces_replacement: false,
            }),
    );
    out
}

/// Every resource of a template as an addition (a stack created, or re-created after deletion).
pub(crate) fn all_added(template: &serde_json::Value) -> Vec<ResourceChange> {
    template
        .get("Resources")
        .and_then(|r| r.as_object())
        .into_iter()
        .flatten()
        .map(|(id, r)| ResourceChange {
            logical_id: id.clone(),
            resource_type: r
                .get("Type")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_string(),
            action: Action::Add,
            reason: None,
            properties: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
