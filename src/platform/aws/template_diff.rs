//! A property-level diff of two CloudFormation templates (JSON), the fallback when a change set says *that* a
//! resource changes but not *what* (moto lists resources without details, and lists none at all for a change
//! that only comes through a parameter).
//!
//! Both sides are compared with their parameters resolved (`{"Ref": "RetentionInDays"}` becomes the value the
//! stack runs with, or will run with), so a parameter-only change shows as the property it feeds. Only the
//! top-level keys of `Properties` are compared; values print as the bare string for strings and compact JSON
//! otherwise. Pure: no I/O, unit-tested below.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::plan::PropertyChange;

/// How one resource differs between the deployed and the rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiffKind {
    Added,
    Removed,
    Modified,
}

/// One resource that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceDiff {
    pub logical_id: String,
    /// The rendered type (the deployed one for removals).
    pub resource_type: String,
    pub kind: DiffKind,
    /// Changed `Properties` keys (empty for additions and removals).
    pub properties: Vec<PropertyChange>,
}

/// Differences between `before` (deployed template and the stack's parameters) and `after` (rendered template
/// and parameters), in the order of the rendered template, removals last.
pub(crate) fn diff(
    before: &Value,
    before_parameters: &[(String, String)],
    after: &Value,
    after_parameters: &[(String, String)],
) -> Vec<ResourceDiff> {
    let old = resolved_resources(before, before_parameters);
    let new = resolved_resources(after, after_parameters);
    let mut out = Vec::new();
    for (id, resource) in &new {
        let resource_type = type_of(resource);
        match old.get(id) {
            None => out.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type,
                kind: DiffKind::Added,
                properties: Vec::new(),
            }),
            Some(previous) => {
                let mut properties = property_changes(previous, resource);
                if type_of(previous) != resource_type {
                    properties.insert(
                        0,
                        PropertyChange {
                            name: "Type".into(),
                            before: Some(type_of(previous)),
                            after: Some(resource_type.clone()),
                            forces_replacement: true,
                        },
                    );
                }
                if !properties.is_empty() {
                    out.push(ResourceDiff {
                        logical_id: id.clone(),
                        resource_type,
                        kind: DiffKind::Modified,
                        properties,
                    });
                }
            }
        }
    }
    for (id, resource) in &old {
        if !new.contains_key(id) {
            out.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type: type_of(resource),
                kind: DiffKind::Removed,
                properties: Vec::new(),
            });
        }
    }
    out
}

/// The `Resources` of a template with references to its parameters replaced by their values.
fn resolved_resources(template: &Value, parameters: &[(String, String)]) -> Map<String, Value> {
    let declared = template.get("Parameters").and_then(Value::as_object);
    let value_of = |name: &str| -> Option<Value> {
        let declared = declared?.get(name)?;
        parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| Value::String(v.clone()))
            .or_else(|| declared.get("Default").cloned())
    };
    let mut resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for resource in resources.values_mut() {
        resolve(resource, &value_of);
    }
    resources
}

fn resolve(value: &mut Value, value_of: &dyn Fn(&str) -> Option<Value>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(name)) = map.get("Ref")
                && let Some(resolved) = value_of(name)
            {
                *value = resolved;
                return;
            }
            for v in map.values_mut() {
                resolve(v, value_of);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, value_of)),
        _ => {}
    }
}

fn type_of(resource: &Value) -> String {
    resource
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn property_changes(before: &Value, after: &Value) -> Vec<PropertyChange> {
    let empty = Map::new();
    let props = |r: &Value| -> Map<String, Value> {
        r.get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let (old, new) = (props(before), props(after));
    // Rendered order first, then keys only the deployed side has.
    let mut keys: Vec<&String> = new.keys().collect();
    let seen: BTreeSet<&String> = keys.iter().copied().collect();
    keys.extend(old.keys().filter(|k| !seen.contains(k)));
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| PropertyChange {
            name: k.clone(),
            before: old.get(k).map(display),
            after: new.get(k).map(display),
            forces_replacement: false,
        })
        .collect()
}

/// The bare string for strings, compact JSON for anything else.
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn logs(name: &str, retention: Value) -> Value {
        json!({
            "Parameters": { "RetentionInDays": { "Type": "Number" } },
            "Resources": {
                "WorkerLogGroup": {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": { "LogGroupName": name, "RetentionInDays": retention }
                }
            }
        })
    }

    fn params(retention: &str) -> Vec<(String, String)> {
        vec![("RetentionInDays".into(), retention.into())]
    }

    #[test]
    fn parameter_only_change_shows_as_the_property_it_feeds() {
        let t = logs("/g", json!({ "Ref": "RetentionInDays" }));
        let d = diff(&t, &params("30"), &t, &params("60"));
        assert_eq!(
            d,
            vec![ResourceDiff {
                logical_id: "WorkerLogGroup".into(),
                resource_type: "AWS::Logs::LogGroup".into(),
                kind: DiffKind::Modified,
                properties: vec![PropertyChange {
                    name: "RetentionInDays".into(),
                    before: Some("30".into()),
                    after: Some("60".into()),
                    forces_replacement: false,
                }],
            }]
        );
        assert!(diff(&t, &params("30"), &t, &params("30")).is_empty());
    }

    #[test]
    fn literal_changes_and_non_string_values_print_as_compact_json() {
        let d = diff(&logs("/g", json!(30)), &[], &logs("/h", json!([1, 2])), &[]);
        let props = &d[0].properties;
        assert_eq!(props[0].name, "LogGroupName");
        assert_eq!(props[0].before.as_deref(), Some("/g"));
        assert_eq!(props[1].after.as_deref(), Some("[1,2]"));
    }

    #[test]
    fn added_removed_and_dropped_properties() {
        let before = json!({ "Resources": {
            "A": { "Type": "AWS::IAM::Role", "Properties": { "RoleName": "r", "Path": "/" } },
            "Gone": { "Type": "AWS::Logs::LogGroup" }
        }});
        let after = json!({ "Resources": {
            "A": { "Type": "AWS::IAM::Role", "Properties": { "RoleName": "r" } },
            "New": { "Type": "AWS::ECS::Cluster", "Properties": {} }
        }});
        let d = diff(&before, &[], &after, &[]);
        let kinds: Vec<_> = d.iter().map(|r| (r.logical_id.as_str(), &r.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("A", &DiffKind::Modified),
                ("New", &DiffKind::Added),
                ("Gone", &DiffKind::Removed)
            ]
        );
        assert_eq!(d[0].properties[0].name, "Path");
        assert_eq!(d[0].properties[0].after, None);
    }

    #[test]
    fn unknown_refs_and_parameter_defaults() {
        let t = json!({
            "Parameters": { "P": { "Type": "String", "Default": "d" } },
            "Resources": { "X": { "Type": "T", "Properties": {
                "A": { "Ref": "P" }, "B": { "Ref": "OtherResource" }
            }}}
        });
        let resolved = resolved_resources(&t, &[]);
        assert_eq!(resolved["X"]["Properties"]["A"], json!("d"));
        assert_eq!(
            resolved["X"]["Properties"]["B"],
            json!({ "Ref": "OtherResource" })
        );
    }
}
