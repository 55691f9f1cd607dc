//! The preflight's judgement of whose working state the target holds, on literal observations.

use super::*;

fn with_owner(recorded: Recorded, adopt_unrecorded: bool, source: SourceObservation) -> Preflight {
    evaluate(&Observations {
        selection: IndexSelection::default(),
        type_mappings: Default::default(),
        source,
        target: opensearch(vec![]),
        working_state: WorkingStateObservation {
            adopt_unrecorded,
            recorded: OwnerRead::Read(recorded),
            ..free_working_state()
        },
    })
}

/// What a worker of the declared migration records for the snapshot the tests read.
fn recorded_by_our_worker() -> Identity {
    Identity::new("m", "/repo", "snap")
        .resolved("snap-uuid", [("logs", "id-logs"), ("events", "id-events")])
}

fn selected() -> SourceObservation {
    snapshot(vec![plain("logs"), plain("events")])
}

#[test]
fn a_free_or_our_own_working_state_is_no_problem() {
    assert!(with_owner(Recorded::Absent, false, selected()).ok());
    let ours = Recorded::Migration {
        identity: recorded_by_our_worker(),
    };
    let report = with_owner(ours, false, selected());
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn another_migrations_working_state_is_a_problem_with_both_ways_out() {
    let theirs = Recorded::Migration {
        identity: Identity::new("other", "/repo", "snap"),
    };
    let report = with_owner(theirs, false, selected());
    assert_eq!(kinds(&report), [ProblemKind::WorkingStateNotOurs]);
    let problem = &report.problems[0];
    assert!(problem.message.contains("other"), "{}", problem.message);
    assert!(problem.ways_out.len() >= 2, "{:?}", problem.ways_out);
}

#[test]
fn the_same_names_over_another_selection_are_another_migration() {
    // The record names this migration, but its workers read other indices (or another snapshot's uuid): the
    // snapshot the preflight read decides, without reading it again.
    let other_selection =
        Identity::new("m", "/repo", "snap").resolved("snap-uuid", [("logs", "id-logs")]);
    let report = with_owner(
        Recorded::Migration {
            identity: other_selection,
        },
        false,
        selected(),
    );
    assert_eq!(kinds(&report), [ProblemKind::WorkingStateNotOurs]);
}

#[test]
fn an_unreadable_snapshot_compares_names_only_and_says_so() {
    let source = SourceObservation::Unreadable {
        location: "/repo".into(),
        message: "no such directory".into(),
        s3: false,
    };
    let report = with_owner(
        Recorded::Migration {
            identity: recorded_by_our_worker(),
        },
        false,
        source,
    );
    assert!(!kinds(&report).contains(&ProblemKind::WorkingStateNotOurs));
    assert!(
        report.warnings.iter().any(|w| w
            .message
            .contains("only the migration, repository and snapshot names")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn an_unrecorded_working_state_is_refused_unless_adopted() {
    let refused = with_owner(Recorded::Unrecorded, false, selected());
    assert_eq!(kinds(&refused), [ProblemKind::WorkingStateNotOurs]);
    assert!(with_owner(Recorded::Unrecorded, true, selected()).ok());
}

#[test]
fn an_unread_owner_is_named_among_what_was_not_checked() {
    let report = evaluate(&Observations {
        selection: IndexSelection::default(),
        type_mappings: Default::default(),
        source: selected(),
        target: opensearch(vec![]),
        working_state: WorkingStateObservation {
            recorded: OwnerRead::Failed("HTTP 500".into()),
            ..free_working_state()
        },
    });
    assert!(report.ok());
    assert!(
        report
            .not_checked
            .iter()
            .any(|n| n.contains("whose working state .migrations_working_state is: HTTP 500")),
        "{:?}",
        report.not_checked
    );
}
