//! The plan's tests, and plans for the tests of the views that render them.

use super::*;
use crate::config::DesiredState;
use crate::converge::ports::FleetObservation;

pub(crate) fn stack(name: &str, action: StackAction, resources: Vec<ResourceChange>) -> StackPlan {
    StackPlan {
        stack_name: name.into(),
        action,
        resources,
        parameters: vec![],
        tags: vec![],
        capabilities: vec![],
        note: None,
        change_set_id: None,
        baseline: StackBaseline::default(),
    }
}

pub(crate) fn change(id: &str, action: Action) -> ResourceChange {
    ResourceChange {
        logical_id: id.into(),
        resource_type: "AWS::Logs::LogGroup".into(),
        action,
        reason: None,
        properties: vec![],
    }
}

pub(crate) fn fleet(desired: u32, state: DesiredState, workers: u32) -> FleetPlan {
    FleetPlan {
        observed: FleetObservation {
            exists: desired > 0,
            desired,
            running: desired,
            pending: 0,
        },
        declared_state: state,
        declared_workers: workers,
        ramp_step: None,
        destroy: false,
    }
}

pub(crate) fn plan(stacks: Vec<StackPlan>, fleet: FleetPlan) -> Plan {
    Plan {
        format_version: FORMAT_VERSION,
        operation: Operation::Apply,
        migration: "m".into(),
        platform: "aws".into(),
        config_hash: "h".into(),
        stacks,
        fleet,
        preflight: None,
    }
}

#[test]
fn summary_counts_a_replacement_as_add_and_destroy() {
    let p = plan(
        vec![
            stack(
                "a",
                StackAction::Create,
                vec![change("A", Action::Add), change("B", Action::Add)],
            ),
            stack(
                "b",
                StackAction::Update,
                vec![change("C", Action::Modify), change("D", Action::Replace)],
            ),
            stack("c", StackAction::NoChange, vec![]),
        ],
        fleet(0, DesiredState::Running, 4),
    );
    assert_eq!(
        p.summary(),
        Summary {
            add: 3,
            change: 1,
            destroy: 1
        }
    );
    assert_eq!(
        p.summary_line(),
        "Plan: 3 to add, 1 to change, 1 to destroy; fleet 0 -> 4."
    );
    assert!(p.has_changes());
}

#[test]
fn no_changes_anywhere_is_an_empty_plan() {
    let p = plan(
        vec![stack("a", StackAction::NoChange, vec![])],
        fleet(2, DesiredState::Running, 2),
    );
    assert!(!p.has_changes());
    assert_eq!(
        p.summary_line(),
        "Plan: 0 to add, 0 to change, 0 to destroy; fleet 2 (no change)."
    );
}

#[test]
fn a_parameter_only_update_counts_as_a_change() {
    let mut s = stack("a", StackAction::Update, vec![]);
    s.parameters.push(PropertyChange {
        name: "Image".into(),
        before: Some("a".into()),
        after: Some("b".into()),
        forces_replacement: false,
    });
    let p = plan(vec![s], fleet(0, DesiredState::Paused, 4));
    assert_eq!(p.summary().change, 1);
    assert!(p.has_changes());
}

#[test]
fn fleet_lines_name_the_lifecycle_reason() {
    assert_eq!(
        fleet(0, DesiredState::Running, 4).line(),
        "~ workers 0 -> 4 (start backfill)"
    );
    assert_eq!(
        fleet(4, DesiredState::Paused, 4).line(),
        "~ workers 4 -> 0 (pause: working state kept)"
    );
    assert_eq!(
        fleet(4, DesiredState::Stopped, 4).line(),
        "~ workers 4 -> 0 (stop: working state archived, then deleted)"
    );
    assert_eq!(
        fleet(2, DesiredState::Running, 6).line(),
        "~ workers 2 -> 6 (scale up)"
    );
    assert_eq!(
        fleet(3, DesiredState::Running, 3).line(),
        "  workers 3 (no change; 3 running)"
    );
    let mut ramped = fleet(0, DesiredState::Running, 8);
    ramped.ramp_step = Some(2);
    assert_eq!(
        ramped.line(),
        "~ workers 0 -> 8 (start backfill, ramped 2 at a time while the target is healthy)"
    );
}

#[test]
fn saved_plan_round_trips_and_detects_staleness() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let mut s = stack(
        "logs",
        StackAction::Update,
        vec![change("LogGroup", Action::Modify)],
    );
    s.baseline = StackBaseline {
        stack_id: Some("arn:1".into()),
        status: Some("CREATE_COMPLETE".into()),
        last_updated: Some("2026-01-01T00:00:00Z".into()),
    };
    let p = plan(vec![s.clone()], fleet(0, DesiredState::Running, 1));
    p.save(&path).unwrap();
    let loaded = Plan::load(&path).unwrap();
    assert_eq!(loaded, p);

    let same = |_: &str| s.baseline.clone();
    assert!(loaded.check_fresh("h", &same, false).is_ok());
    let err = loaded.check_fresh("other", &same, false).unwrap_err();
    assert!(err.to_string().contains("migration.yaml changed"), "{err}");
    let moved = |_: &str| StackBaseline {
        last_updated: Some("2026-01-02T00:00:00Z".into()),
        ..s.baseline.clone()
    };
    let err = loaded.check_fresh("h", &moved, false).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("stale plan: stack logs changed"),
        "{err}"
    );
    let err = loaded.check_fresh("h", &same, true).unwrap_err();
    assert!(err.to_string().contains("worker service appeared"), "{err}");
}

#[test]
fn load_rejects_other_documents_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(&path, "{\"hello\": 1}").unwrap();
    let err = Plan::load(&path).unwrap_err().to_string();
    assert!(err.contains("is not a saved plan"), "{err}");
    assert!(err.contains("backfill plan --out"), "{err}");
    std::fs::write(&path, "{\"format_version\": 99}").unwrap();
    let err = Plan::load(&path).unwrap_err().to_string();
    assert!(err.contains("format 99"), "{err}");
}
