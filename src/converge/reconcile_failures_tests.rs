//! `reconcile` with worker failures: `Failing` with the cause, restarts stopped (fleet to 0, settled) on a
//! permanent crash loop, and failures ignored once the backfill completed or is paused (pure, fixed instants).

use std::time::Duration;

use super::*;
use crate::converge::failures::WorkerFailure;
use crate::converge::ports::FleetObservation;
use crate::time::Timestamp;

const NOW: Timestamp = Timestamp::from_epoch_seconds(1_800_000_000);

fn failing(codes: &[i32], ago: Duration, since: Option<Timestamp>) -> Observed {
    let progress = WorkProgress {
        setup_completed_at: Some(NOW - Duration::from_secs(3600)),
        total: 4,
        completed: 1,
        incomplete: 3,
        ..Default::default()
    };
    Observed {
        fleet: FleetObservation {
            exists: true,
            desired: 2,
            running: 1,
            pending: 1,
        },
        working_state: WorkingStateObservation::Present(progress),
        health: None,
        ramp: RampMemory::default(),
        stop: StopMemory::default(),
        failures: codes
            .iter()
            .enumerate()
            .map(|(i, &code)| WorkerFailure {
                worker: format!("worker-{i}-1"),
                exit_code: Some(code),
                stopped_at: NOW - ago,
                message: format!("failure {i}"),
            })
            .collect(),
        failures_since: since,
    }
}

#[test]
fn transient_failures_are_failing_with_the_cause_and_keep_the_fleet() {
    let d = reconcile(
        &Declared::new(DeclaredState::Running, 2),
        &failing(&[1, 1], Duration::from_secs(10), None),
        NOW,
    );
    assert_eq!(d.status.status, Status::Failing);
    assert_eq!(
        d.status.reason,
        "2 workers exited 1 in the last 5 minutes: failure 1; 1 worker running; 1 of 4 work items complete (25.0%)"
    );
    assert!(d.actions.is_empty() && !d.restarts_stopped());
}

#[test]
fn a_permanent_crash_loop_stops_the_fleet_and_settles() {
    let d = reconcile(
        &Declared::new(DeclaredState::Running, 2),
        &failing(&[5, 5, 5], Duration::from_secs(10), None),
        NOW,
    );
    assert_eq!(d.status.status, Status::Failing);
    assert!(
        d.status.reason.starts_with("3 workers exited 5"),
        "{}",
        d.status.reason
    );
    assert_eq!(d.actions, vec![Action::Scale { desired: 0 }]);
    assert!(d.settled && d.restarts_stopped());
}

#[test]
fn a_loop_started_after_the_failures_tries_again() {
    let since = Some(NOW - Duration::from_secs(5));
    let d = reconcile(
        &Declared::new(DeclaredState::Running, 2),
        &failing(&[5, 5, 5], Duration::from_secs(10), since),
        NOW,
    );
    assert_eq!(d.status.status, Status::Running);
    assert!(d.failure.is_none());
}

#[test]
fn failures_do_not_matter_once_complete_or_paused() {
    let mut done = failing(&[5, 5, 5], Duration::from_secs(10), None);
    if let WorkingStateObservation::Present(p) = &mut done.working_state {
        p.completed = 4;
        p.incomplete = 0;
    }
    let d = reconcile(&Declared::new(DeclaredState::Running, 2), &done, NOW);
    assert_eq!(d.status.status, Status::Completed);
    let d = reconcile(
        &Declared::new(DeclaredState::Paused, 2),
        &failing(&[5, 5, 5], Duration::from_secs(10), None),
        NOW,
    );
    assert_eq!(d.status.status, Status::Paused);
    assert!(!d.restarts_stopped());
}
