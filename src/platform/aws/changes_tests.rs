use aws_sdk_cloudformation::types::{
    ChangeAction, EvaluationType, Replacement, RequiresRecreation, ResourceAttribute,
    ResourceChange as CfnChange, ResourceChangeDetail, ResourceTargetDefinition,
};

use super::*;

fn detail(
    name: &str,
    evaluation: EvaluationType,
    recreation: RequiresRecreation,
    before: &str,
    after: &str,
) -> ResourceChangeDetail {
    ResourceChangeDetail::builder()
        .evaluation(evaluation)
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name(name)
                .requires_recreation(recreation)
                .before_value(before)
                .after_value(after)
                .build(),
        )
        .build()
}

fn modify(
    kind: &str,
    replacement: Option<Replacement>,
    details: Vec<ResourceChangeDetail>,
) -> CfnChange {
    CfnChange::builder()
        .action(ChangeAction::Modify)
        .logical_resource_id("R")
        .resource_type(kind)
        .set_replacement(replacement)
        .set_details(Some(details))
        .build()
}

#[test]
fn actions_map_to_terraform_symbols() {
    let plain = |action| {
        resource_change(
            &CfnChange::builder()
                .action(action)
                .logical_resource_id("R")
                .resource_type("T")
                .build(),
        )
        .action
    };
    assert_eq!(plain(ChangeAction::Add), Action::Add);
    assert_eq!(plain(ChangeAction::Remove), Action::Remove);
    assert_eq!(plain(ChangeAction::Dynamic), Action::Dynamic);
    assert_eq!(plain(ChangeAction::Modify), Action::Modify);
    let with = |r| resource_change(&modify("T", Some(r), vec![])).action;
    assert_eq!(with(Replacement::True), Action::Replace);
    assert_eq!(with(Replacement::Conditional), Action::MaybeReplace);
    assert_eq!(with(Replacement::False), Action::Modify);
}

#[test]
fn dynamic_static_pair_of_a_parameter_merges_into_the_static_detail() {
    let rc = modify(
        "AWS::Logs::LogGroup",
        Some(Replacement::False),
        vec![
            detail(
                "RetentionInDays",
                EvaluationType::Dynamic,
                RequiresRecreation::Never,
                "{{RetentionInDays}}",
                "{{RetentionInDays}}",
            ),
            detail(
                "RetentionInDays",
                EvaluationType::Static,
                RequiresRecreation::Never,
                "30",
                "60",
            ),
        ],
    );
    let change = resource_change(&rc);
    assert_eq!(change.action, Action::Modify);
    assert_eq!(
        change.properties,
        vec![PropertyChange {
            name: "RetentionInDays".into(),
            before: Some("30".into()),
            after: Some("60".into()),
            forces_replacement: false,
        }]
    );
}

#[test]
fn replacement_reason_names_the_forcing_property() {
    let rc = modify(
        "AWS::ECS::Service",
        Some(Replacement::True),
        vec![detail(
            "ServiceName",
            EvaluationType::Static,
            RequiresRecreation::Always,
            "a",
            "b",
        )],
    );
    let change = resource_change(&rc);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(
        change.reason.as_deref(),
        Some("ServiceName forces replacement")
    );
    assert!(change.properties[0].forces_replacement);
}

fn diff_of(id: &str, kind: &str, name: &str, before: &str, after: &str) -> ResourceDiff {
    ResourceDiff {
        logical_id: id.into(),
        resource_type: kind.into(),
        kind: DiffKind::Modified,
        properties: vec![PropertyChange {
            name: name.into(),
            before: Some(before.into()),
            after: Some(after.into()),
            forces_replacement: false,
        }],
    }
}

#[test]
fn details_missing_are_filled_from_the_template_diff_and_the_replacement_table() {
    // What moto returns for a renamed log group: Modify, no Replacement, no details.
    let mut changes = vec![resource_change(&modify(
        "AWS::Logs::LogGroup",
        None,
        vec![],
    ))];
    supplement(
        &mut changes,
        &[diff_of(
            "R",
            "AWS::Logs::LogGroup",
            "LogGroupName",
            "/a",
            "/b",
        )],
    );
    assert_eq!(changes[0].action, Action::Replace);
    assert_eq!(
        changes[0].reason.as_deref(),
        Some("LogGroupName forces replacement")
    );
    assert!(changes[0].properties[0].forces_replacement);
}

#[test]
fn an_empty_change_set_takes_the_template_diff() {
    let mut changes = Vec::new();
    supplement(
        &mut changes,
        &[diff_of(
            "WorkerLogGroup",
            "AWS::Logs::LogGroup",
            "RetentionInDays",
            "30",
            "60",
        )],
    );
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].action, Action::Modify);
    assert_eq!(changes[0].properties[0].after.as_deref(), Some("60"));
}

#[test]
fn the_table_covers_the_rendered_types() {
    assert!(forces_replacement("AWS::ECS::Service", "Cluster"));
    assert!(forces_replacement("AWS::ECS::TaskDefinition", "Cpu"));
    assert!(!forces_replacement(
        "AWS::Logs::LogGroup",
        "RetentionInDays"
    ));
    assert!(!forces_replacement("AWS::ECS::Service", "DesiredCount"));
}

#[test]
fn parameter_and_tag_differences() {
    let kv = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let changes = key_value_changes(
        &kv(&[("a", "1"), ("b", "2"), ("gone", "x")]),
        &kv(&[("a", "1"), ("b", "3"), ("new", "y")]),
    );
    let names: Vec<_> = changes
        .iter()
        .map(|c| (c.name.as_str(), c.before.as_deref(), c.after.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("b", Some("2"), Some("3")),
            ("new", None, Some("y")),
            ("gone", Some("x"), None)
        ]
    );
}

#[test]
fn all_added_keeps_template_order() {
    let t = serde_json::json!({ "Resources": {
        "B": { "Type": "AWS::IAM::Role" }, "A": { "Type": "AWS::ECS::Service" }
    }});
    let ids: Vec<_> = all_added(&t).into_iter().map(|c| c.logical_id).collect();
    assert_eq!(ids, vec!["B", "A"]);
}
