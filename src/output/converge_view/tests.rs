use std::time::Duration;

use futures::FutureExt;

use super::*;
use crate::converge::lifecycle::{DerivedStatus, RampMemory, Status, StopMemory};
use crate::converge::ports::FleetObservation;
use crate::converge::reconcile::Decision;
use crate::coordination::archive::ArchiveReport;
use crate::coordination::progress::WorkProgress;
use crate::output::testing::{closed, live, plain};
use crate::time::Timestamp;

const START: Timestamp = Timestamp::from_epoch_seconds(1_784_642_531);

fn pass(status: Status, reason: &str, running: u32, desired: u32, completed: u64) -> ConvergeEvent {
    ConvergeEvent::Pass {
        now: START + Duration::from_secs(400),
        fleet: FleetObservation {
            exists: true,
            desired,
            running,
            pending: desired - running,
        },
        progress: Some(WorkProgress {
            setup_completed_at: Some(START),
            total: 7,
            completed,
            incomplete: 7 - completed,
            in_progress: 1,
            unclaimed: 6 - completed,
            documents_migrated: Some(48_000),
            ..Default::default()
        }),
        decision: Box::new(Decision {
            actions: vec![],
            requeue_after: Duration::from_secs(5),
            status: DerivedStatus::new(status, reason),
            settled: false,
            ramp_reason: None,
            ramp: RampMemory::default(),
            stop: StopMemory::default(),
            failure: None,
        }),
    }
}

/// A view on `printer` that has rendered [`a_run`].
fn after_a_run(printer: Printer) -> ConvergeView {
    let mut view = ConvergeView::new(printer);
    for event in a_run() {
        view.event(&event);
    }
    view
}

/// A start: scaled up by the ramp, running (reported twice, printed once), an error and its retry, then done.
fn a_run() -> Vec<ConvergeEvent> {
    vec![
        pass(Status::Starting, "workers are starting", 0, 2, 0),
        ConvergeEvent::Ramp {
            reason: "target healthy: 2 -> 4 workers".into(),
        },
        ConvergeEvent::Acted {
            action: Action::Scale { desired: 4 },
        },
        pass(Status::Running, "4 workers migrating", 4, 4, 4),
        pass(Status::Running, "4 workers migrating", 4, 4, 4),
        ConvergeEvent::Error {
            message: "target unreachable".into(),
            retry_in: Duration::from_secs(90),
        },
        ConvergeEvent::Acted {
            action: Action::ArchiveWorkingState,
        },
        ConvergeEvent::Archived {
            report: ArchiveReport {
                location: "s3://bucket/archive/working_state_backup_1.json".into(),
                index: ".migrations_working_state".into(),
                documents: 8,
                sha256: "ab12".into(),
                bytes: 1024,
                index_deleted: true,
            },
        },
    ]
}

#[test]
fn plain_progress_lines_are_printed_when_something_changes() {
    let (printer, out, err) = plain(Format::Human);
    let mut view = after_a_run(printer);
    view.finish().expect("printed");
    assert_eq!(out.text(), "", "progress is not the command's result");
    insta::assert_snapshot!(err.text());
}

#[test]
fn live_the_bar_counts_work_items_and_lines_print_above_it() {
    let (printer, out, err) = live();
    let mut view = after_a_run(printer);
    view.finish().expect("printed");
    assert_eq!(out.text(), "");
    let screen = err.text();
    assert!(screen.contains("4/7 work items"), "{screen:?}");
    assert!(
        screen.contains("| Running | workers 4/4 120 docs/s ETA 5m 0s"),
        "{screen:?}"
    );
    assert!(
        screen.contains("Running: 4 workers migrating"),
        "{screen:?}"
    );
    assert!(
        screen.contains("error: target unreachable; retrying in 1m 30s"),
        "{screen:?}"
    );
}

#[test]
fn json_is_one_document_per_event_on_stdout() {
    let (printer, out, err) = plain(Format::Json);
    let mut view = after_a_run(printer);
    view.finish().expect("printed");
    assert_eq!(err.text(), "");
    assert_eq!(
        out.json_lines().len(),
        a_run().len(),
        "JSON keeps repeated passes"
    );
}

#[test]
fn a_failed_write_wakes_the_driver_and_is_returned_at_the_end() {
    for format in [Format::Human, Format::Json] {
        let mut view = ConvergeView::new(closed(format));
        let woken = view.closed();
        for event in a_run() {
            view.event(&event);
        }
        // The permit is stored: a driver that starts waiting after the failure still wakes at once.
        assert!(woken.notified().now_or_never().is_some());
        let err = view.finish().expect_err("nothing was written");
        assert!(err.is_closed_pipe());
        assert!(view.finish().is_ok(), "the error is returned once");
    }
}
