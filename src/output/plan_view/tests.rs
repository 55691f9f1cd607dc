use super::*;
use crate::config::DesiredState;
use crate::output::testing::{closed, plain};
use crate::plan::ResourceChange;
use crate::plan::tests::{fleet, plan, stack};

fn change(id: &str, resource_type: &str, action: Action) -> ResourceChange {
    ResourceChange {
        resource_type: resource_type.into(),
        ..crate::plan::tests::change(id, action)
    }
}

fn property(name: &str, before: Option<&str>, after: Option<&str>) -> PropertyChange {
    PropertyChange {
        name: name.into(),
        before: before.map(String::from),
        after: after.map(String::from),
        forces_replacement: false,
    }
}

/// Every kind of change: adds, an in-place change, a replacement with the property that forces it, a
/// conditional replacement, a dynamic change, a removal, parameters, tags, capabilities and a note.
fn every_kind_of_change() -> Plan {
    let mut logs = stack(
        "m-logs",
        StackAction::Update,
        vec![
            ResourceChange {
                properties: vec![property("RetentionInDays", Some("7"), Some("30"))],
                ..change("LogGroup", "AWS::Logs::LogGroup", Action::Modify)
            },
            ResourceChange {
                reason: Some("a property that cannot change in place".into()),
                properties: vec![PropertyChange {
                    forces_replacement: true,
                    ..property("BucketName", Some("old-bucket"), Some("new-bucket"))
                }],
                ..change("FailedDocuments", "AWS::S3::Bucket", Action::Replace)
            },
            change("Alarm", "AWS::CloudWatch::Alarm", Action::Remove),
        ],
    );
    logs.parameters = vec![property("Retention", Some("7"), Some("30"))];
    logs.tags = vec![property("team", None, Some("search"))];
    let mut workers = stack(
        "m-workers",
        StackAction::Create,
        vec![
            ResourceChange {
                properties: vec![property("Family", None, Some("m-worker"))],
                ..change("TaskDefinition", "AWS::ECS::TaskDefinition", Action::Add)
            },
            change("Service", "AWS::ECS::Service", Action::Add),
            change("TaskRole", "AWS::IAM::Role", Action::MaybeReplace),
            change("Policy", "AWS::IAM::Policy", Action::Dynamic),
        ],
    );
    workers.capabilities = vec!["CAPABILITY_NAMED_IAM".into()];
    let mut dashboard = stack("m-dashboard", StackAction::NoChange, vec![]);
    dashboard.note = Some("the dashboard body is unchanged".into());
    let mut fleet = fleet(0, DesiredState::Running, 4);
    fleet.ramp_step = Some(2);
    plan(vec![logs, workers, dashboard], fleet)
}

#[test]
fn every_kind_of_change_and_the_summary_line() {
    let (printer, out, err) = plain(Format::Human);
    print(&every_kind_of_change(), &printer).expect("printed");
    assert_eq!(out.text(), "", "the human plan is not the command's result");
    insta::assert_snapshot!(err.text());
}

#[test]
fn the_summary_line_counts_a_replacement_as_an_add_and_a_destroy() {
    let lines = plan_lines(&every_kind_of_change(), &plain(Format::Human).0);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("Plan: 4 to add, 2 to change, 3 to destroy; fleet 0 -> 4.")
    );
}

#[test]
fn a_destroy_plan_says_what_goes_and_what_is_already_absent() {
    let mut plan = every_kind_of_change();
    plan.operation = Operation::Destroy;
    plan.fleet.destroy = true;
    plan.fleet.observed.desired = 4;
    plan.stacks = vec![
        stack(
            "m-workers",
            StackAction::Delete,
            vec![
                change("Service", "AWS::ECS::Service", Action::Remove),
                change("TaskRole", "AWS::IAM::Role", Action::Remove),
            ],
        ),
        stack("m-logs", StackAction::Absent, vec![]),
    ];
    let (printer, _, err) = plain(Format::Human);
    print(&plan, &printer).expect("printed");
    insta::assert_snapshot!(err.text());
}

#[test]
fn long_values_are_cut_and_unknown_ones_say_so() {
    let long = "x".repeat(200);
    let line = property_line(&property("Template", None, Some(&long)));
    assert_eq!(line, format!("+ Template: {}...", "x".repeat(117)));
    let line = property_line(&PropertyChange {
        forces_replacement: true,
        ..property("Image", Some("a"), None)
    });
    assert_eq!(line, "- Image: a  # forces replacement");
    assert_eq!(
        property_line(&property("Image", None, None)),
        "~ Image: (unknown) -> (unknown)"
    );
}

#[test]
fn symbols_are_coloured_only_when_colours_are_on() {
    let plan = every_kind_of_change();
    let mut printer = plain(Format::Human).0;
    printer.color = true;
    let lines = plan_lines(&plan, &printer);
    assert!(lines.contains(&"  \x1b[32m+\x1b[0m Service (AWS::ECS::Service)".to_string()));
    assert!(lines.contains(&"  \x1b[31m-\x1b[0m Alarm (AWS::CloudWatch::Alarm)".to_string()));
}

#[test]
fn json_is_one_document_on_stdout_with_the_summary() {
    let (printer, out, err) = plain(Format::Json);
    print(&every_kind_of_change(), &printer).expect("printed");
    assert_eq!(err.text(), "");
    let documents = out.json_lines();
    assert_eq!(documents.len(), 1);
    let v = &documents[0];
    assert_eq!(v["summary"], json!({"add": 4, "change": 2, "destroy": 3}));
    assert_eq!(v["has_changes"], json!(true));
    assert_eq!(
        v["summary_line"],
        json!("Plan: 4 to add, 2 to change, 3 to destroy; fleet 0 -> 4.")
    );
    assert_eq!(v["stacks"][0]["resources"][1]["action"], json!("replace"));
}

#[test]
fn a_plan_that_cannot_be_written_is_an_error() {
    for format in [Format::Human, Format::Json] {
        let err = print(&every_kind_of_change(), &closed(format)).expect_err("closed");
        assert!(err.is_closed_pipe());
    }
}
