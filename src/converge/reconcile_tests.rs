//! Table tests of `reconcile` over declared × observed, plus exhaustive invariants (pure, fake clock).

use std::time::Duration;

use super::*;
use crate::converge::lifecycle::RampPolicy;
use crate::converge::ports::{FleetObservation, HealthSample};
use crate::time::Timestamp;

const NOW: Timestamp = Timestamp::from_epoch_seconds(1_800_000_000);

#[derive(Clone, Copy, Debug)]
enum Ws {
    Absent,
    SettingUp,
    Half,
    Done,
    DoneWithErrors,
}

fn ws(w: Ws) -> WorkingStateObservation {
    let mut p = WorkProgress {
        setup_completed_at: Some(NOW - Duration::from_secs(3600)),
        total: 10,
        completed: 5,
        incomplete: 5,
        in_progress: 2,
        unclaimed: 3,
        documents_in_index: 11,
        ..Default::default()
    };
    match w {
        Ws::Absent => return WorkingStateObservation::Absent,
        Ws::SettingUp => {
            p = WorkProgress::default();
        }
        Ws::Half => {}
        Ws::Done => {
            p.completed = 10;
            p.incomplete = 0;
            p.in_progress = 0;
            p.unclaimed = 0;
        }
        Ws::DoneWithErrors => {
            p.completed = 10;
            p.incomplete = 0;
            p.failed_documents = Some(3);
        }
    }
    WorkingStateObservation::Present(p)
}

fn fleet(desired: u32, running: u32, pending: u32) -> FleetObservation {
    FleetObservation {
        exists: true,
        desired,
        running,
        pending,
    }
}

fn observed(f: FleetObservation, w: Ws) -> Observed {
    Observed {
        fleet: f,
        working_state: ws(w),
        health: None,
        ramp: RampMemory::default(),
        stop: StopMemory::default(),
        failures: Vec::new(),
        failures_since: None,
    }
}

fn declared(state: DeclaredState, workers: u32, stop_when_complete: bool) -> Declared {
    Declared {
        stop_when_complete,
        ..Declared::new(state, workers)
    }
}

use DeclaredState::{Paused as P, Running as R, Stopped as S};
use Status::*;

type Row = (
    &'static str,
    DeclaredState,
    bool,
    (u32, u32, u32),
    Ws,
    Vec<Action>,
    Status,
    bool,
);

fn scale(n: u32) -> Vec<Action> {
    vec![Action::Scale { desired: n }]
}

fn table() -> Vec<Row> {
    vec![
        (
            "running from nothing scales up",
            R,
            true,
            (0, 0, 0),
            Ws::Absent,
            scale(4),
            Starting,
            false,
        ),
        (
            "running, tasks pending, no state",
            R,
            true,
            (4, 0, 4),
            Ws::Absent,
            vec![],
            Starting,
            false,
        ),
        (
            "running, workers creating state",
            R,
            true,
            (4, 4, 0),
            Ws::Absent,
            vec![],
            Starting,
            true,
        ),
        (
            "running, setup not done",
            R,
            true,
            (4, 4, 0),
            Ws::SettingUp,
            vec![],
            Starting,
            true,
        ),
        (
            "running steady",
            R,
            true,
            (4, 4, 0),
            Ws::Half,
            vec![],
            Running,
            true,
        ),
        (
            "running, some workers down",
            R,
            true,
            (4, 2, 2),
            Ws::Half,
            vec![],
            Running,
            false,
        ),
        (
            "resume after pause",
            R,
            true,
            (0, 0, 0),
            Ws::Half,
            scale(4),
            Starting,
            false,
        ),
        (
            "scale changed in yaml",
            R,
            true,
            (8, 8, 0),
            Ws::Half,
            scale(4),
            Running,
            false,
        ),
        (
            "completion scales to 0",
            R,
            true,
            (4, 4, 0),
            Ws::Done,
            scale(0),
            Completed,
            false,
        ),
        (
            "completion, draining",
            R,
            true,
            (0, 1, 0),
            Ws::Done,
            vec![],
            Completed,
            false,
        ),
        (
            "completed and idle",
            R,
            true,
            (0, 0, 0),
            Ws::Done,
            vec![],
            Completed,
            true,
        ),
        (
            "completed with errors",
            R,
            true,
            (4, 4, 0),
            Ws::DoneWithErrors,
            scale(0),
            CompletedWithErrors,
            false,
        ),
        (
            "complete, keep fleet",
            R,
            false,
            (4, 4, 0),
            Ws::Done,
            vec![],
            Completed,
            true,
        ),
        (
            "complete, keep fleet, restore count",
            R,
            false,
            (0, 0, 0),
            Ws::Done,
            scale(4),
            Completed,
            true,
        ),
        (
            "pause a running fleet",
            P,
            true,
            (4, 4, 0),
            Ws::Half,
            scale(0),
            Paused,
            false,
        ),
        (
            "pausing, draining",
            P,
            true,
            (0, 2, 0),
            Ws::Half,
            vec![],
            Paused,
            false,
        ),
        ("paused", P, true, (0, 0, 0), Ws::Half, vec![], Paused, true),
        (
            "paused before start",
            P,
            true,
            (0, 0, 0),
            Ws::Absent,
            vec![],
            NotStarted,
            true,
        ),
        (
            "paused but complete",
            P,
            true,
            (0, 0, 0),
            Ws::Done,
            vec![],
            Completed,
            true,
        ),
        (
            "stop a running fleet",
            S,
            true,
            (4, 4, 0),
            Ws::Half,
            scale(0),
            Stopping,
            false,
        ),
        (
            "stopping, draining",
            S,
            true,
            (0, 1, 1),
            Ws::Half,
            vec![],
            Stopping,
            false,
        ),
        (
            "stopped fleet archives",
            S,
            true,
            (0, 0, 0),
            Ws::Half,
            vec![Action::ArchiveWorkingState],
            Stopping,
            false,
        ),
        (
            "stopped after completion archives",
            S,
            true,
            (0, 0, 0),
            Ws::Done,
            vec![Action::ArchiveWorkingState],
            Stopping,
            false,
        ),
        (
            "stopped",
            S,
            true,
            (0, 0, 0),
            Ws::Absent,
            vec![],
            Stopped,
            true,
        ),
    ]
}

#[test]
fn table_of_transitions() {
    for (name, state, swc, (d, r, p), w, actions, status, settled) in table() {
        let decision = reconcile(&declared(state, 4, swc), &observed(fleet(d, r, p), w), NOW);
        assert_eq!(decision.actions, actions, "{name}");
        assert_eq!(
            decision.status.status, status,
            "{name}: {}",
            decision.status.reason
        );
        assert_eq!(
            decision.settled, settled,
            "{name}: {}",
            decision.status.reason
        );
        assert!(!decision.status.reason.is_empty(), "{name}");
    }
}

#[test]
fn missing_service_fails_unless_stopped_and_gone() {
    let mut o = observed(FleetObservation::default(), Ws::Half);
    let d = reconcile(&declared(R, 4, true), &o, NOW);
    assert_eq!((d.status.status, d.actions.len()), (Failed, 0));
    assert!(d.status.reason.contains("backfill apply"));
    o.working_state = WorkingStateObservation::Absent;
    let d = reconcile(&declared(S, 4, true), &o, NOW);
    assert_eq!((d.status.status, d.settled), (Stopped, true));
}

#[test]
fn stop_wait_is_bounded_and_reported() {
    let decl = Declared {
        stop_timeout: Duration::from_secs(60),
        ..declared(S, 4, true)
    };
    let mut o = observed(fleet(0, 2, 0), Ws::Half);
    let d = reconcile(&decl, &o, NOW);
    assert_eq!(d.stop.waiting_since, Some(NOW));
    assert!(d.status.reason.contains("0s of 60s"), "{}", d.status.reason);
    o.stop = d.stop;
    let d = reconcile(&decl, &o, NOW + Duration::from_secs(61));
    assert_eq!(d.status.status, Failed);
    assert!(
        d.status.reason.contains("timed out after 61s"),
        "{}",
        d.status.reason
    );
    assert!(
        d.status.reason.contains("not archived"),
        "{}",
        d.status.reason
    );
    assert!(d.actions.is_empty(), "never archives while tasks run");
}

#[test]
fn running_with_ramp_steps_and_logs_reason() {
    let decl = Declared {
        ramp: Some(RampPolicy {
            step: 2,
            every: Duration::from_secs(120),
            max_cpu_percent: None,
            max_jvm_memory_pressure_percent: None,
        }),
        ..declared(R, 6, true)
    };
    let mut o = observed(fleet(0, 0, 0), Ws::Absent);
    o.health = Some(HealthSample {
        cluster_status: "green".into(),
        write_rejections: Some(0),
        ..Default::default()
    });
    let d = reconcile(&decl, &o, NOW);
    assert_eq!(d.actions, scale(2));
    assert!(
        d.ramp_reason
            .as_deref()
            .unwrap_or("")
            .contains("stepping up 0 → 2")
    );
    assert!(d.requeue_after <= Duration::from_secs(120));
    assert!(!d.settled);
    o.fleet = fleet(2, 2, 0);
    o.ramp = d.ramp;
    let d = reconcile(&decl, &o, NOW + Duration::from_secs(30));
    assert!(d.actions.is_empty(), "holds until `every` elapsed");
    let d = reconcile(&decl, &o, NOW + Duration::from_secs(120));
    assert_eq!(d.actions, scale(4));
}

/// Applies a decision to a simulated world where tasks follow the desired count by the next pass.
fn apply(o: &Observed, d: &Decision) -> Observed {
    let mut next = o.clone();
    next.ramp = d.ramp;
    next.stop = d.stop;
    for a in &d.actions {
        match a {
            Action::Scale { desired } => next.fleet = fleet(*desired, *desired, 0),
            Action::ArchiveWorkingState => next.working_state = WorkingStateObservation::Absent,
        }
    }
    next.fleet = fleet(next.fleet.desired, next.fleet.desired, 0);
    next
}

#[test]
fn exhaustive_invariants_and_idempotence() {
    let states = [R, P, S];
    let wss = [
        Ws::Absent,
        Ws::SettingUp,
        Ws::Half,
        Ws::Done,
        Ws::DoneWithErrors,
    ];
    let counts = [0u32, 1, 4, 9];
    for state in states {
        for swc in [true, false] {
            for w in wss {
                for &desired in &counts {
                    for &running in &counts {
                        for &pending in &[0u32, 2] {
                            let decl = declared(state, 4, swc);
                            let o = observed(fleet(desired, running, pending), w);
                            let d = reconcile(&decl, &o, NOW);
                            let ctx = format!(
                                "{state:?} swc={swc} {w:?} d={desired} r={running} p={pending}"
                            );
                            assert!(!d.status.reason.is_empty(), "{ctx}");
                            assert!(d.requeue_after > Duration::ZERO, "{ctx}");
                            for a in &d.actions {
                                if let Action::Scale { desired: n } = a {
                                    assert_ne!(*n, desired, "no-op scale: {ctx}");
                                }
                                if *a == Action::ArchiveWorkingState {
                                    assert_eq!(
                                        (desired, running, pending),
                                        (0, 0, 0),
                                        "archive only when idle: {ctx}"
                                    );
                                }
                            }
                            if state != R {
                                assert!(
                                    d.actions.iter().all(|a| *a != Action::Scale { desired: 4 }),
                                    "{ctx}"
                                );
                            }
                            // Converges within a few passes, and then reconciling again changes nothing.
                            let mut world = o.clone();
                            let mut last = d;
                            for _ in 0..4 {
                                world = apply(&world, &last);
                                last = reconcile(&decl, &world, NOW);
                            }
                            assert!(
                                last.actions.is_empty(),
                                "not idempotent: {ctx}: {:?}",
                                last.actions
                            );
                            assert!(last.settled, "never settles: {ctx}: {}", last.status.reason);
                        }
                    }
                }
            }
        }
    }
}
