//! Runner tests with an in-memory fleet, working state and clock (pure: no I/O, no real time).

use std::sync::Mutex;

use super::*;
use crate::converge::failures::WorkerFailure;
use crate::converge::lifecycle::{DeclaredState, Status};
use crate::coordination::progress::WorkProgress;
use crate::time::ManualClock;

#[derive(Default)]
struct FakeFleet {
    state: Mutex<FleetObservation>,
    scaled: Mutex<Vec<u32>>,
    failures_left: Mutex<u32>,
    workers_failed: Mutex<Vec<WorkerFailure>>,
}

impl Fleet for FakeFleet {
    async fn observe(&self) -> Result<FleetObservation, PlatformError> {
        let mut left = self.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(PlatformError::Api {
                resource: "svc".into(),
                message: "throttled".into(),
            });
        }
        let mut s = self.state.lock().unwrap();
        let seen = *s;
        // Tasks follow the desired count one step per observation.
        if s.running > s.desired {
            s.running -= 1;
        } else if s.running < s.desired {
            s.running += 1;
        }
        Ok(seen)
    }
    async fn scale(&self, desired: u32) -> Result<(), PlatformError> {
        self.state.lock().unwrap().desired = desired;
        self.scaled.lock().unwrap().push(desired);
        Ok(())
    }
    async fn failures(&self) -> Result<Vec<WorkerFailure>, PlatformError> {
        Ok(self.workers_failed.lock().unwrap().clone())
    }
}

#[derive(Default)]
struct FakeState {
    progress: Mutex<Option<WorkProgress>>,
    archived: Mutex<u32>,
    unauthorized: bool,
}

impl WorkingState for FakeState {
    async fn observe(&self, _now: Timestamp) -> Result<Option<WorkProgress>, ProgressError> {
        if self.unauthorized {
            return Err(ProgressError::Transport(TransportError::Unauthorized {
                url: "http://t".into(),
                path: "/x".into(),
                status: 403,
            }));
        }
        Ok(self.progress.lock().unwrap().clone())
    }
    async fn archive_and_delete(&self, _now: Timestamp) -> Result<ArchiveReport, ArchiveError> {
        *self.archived.lock().unwrap() += 1;
        let p = self.progress.lock().unwrap().take();
        Ok(ArchiveReport {
            location: "mem".into(),
            index: ".migrations_working_state".into(),
            documents: p.map(|p| p.documents_in_index).unwrap_or(0),
            sha256: String::new(),
            bytes: 0,
            index_deleted: true,
        })
    }
}

fn progress(total: u64, completed: u64) -> WorkProgress {
    WorkProgress {
        setup_completed_at: Some(Timestamp::from_epoch_seconds(1)),
        total,
        completed,
        incomplete: total - completed,
        documents_in_index: total + 1,
        ..Default::default()
    }
}

fn runner(
    state: DeclaredState,
    fleet: FakeFleet,
    ws: FakeState,
) -> Runner<FakeFleet, FakeState, NoHealth, ManualClock> {
    fleet.state.lock().unwrap().exists = true;
    Runner::new(
        Declared::new(state, 3),
        fleet,
        ws,
        NoHealth,
        ManualClock::default(),
    )
}

#[tokio::test]
async fn running_scales_up_then_completion_scales_to_zero() {
    let mut r = runner(
        DeclaredState::Running,
        FakeFleet::default(),
        FakeState::default(),
    );
    let mut events = Vec::new();
    let d = r
        .run_until_settled(&SettleOptions::default(), &mut |e| events.push(e))
        .await
        .unwrap();
    assert_eq!(d.status.status, Status::Starting, "{}", d.status.reason);
    assert_eq!(*r.fleet.scaled.lock().unwrap(), vec![3]);

    *r.working_state.progress.lock().unwrap() = Some(progress(10, 10));
    let d = r
        .run_until_settled(&SettleOptions::default(), &mut |e| events.push(e))
        .await
        .unwrap();
    assert_eq!(d.status.status, Status::Completed);
    assert_eq!(
        *r.fleet.scaled.lock().unwrap(),
        vec![3, 0],
        "scaled once each way"
    );
    let obs = *r.fleet.state.lock().unwrap();
    assert_eq!((obs.desired, obs.running), (0, 0));
    // Running once more changes nothing.
    let d = r.pass(&mut |_| {}).await.unwrap();
    assert!(d.actions.is_empty());
}

#[tokio::test]
async fn stop_waits_for_tasks_then_archives_once() {
    let fleet = FakeFleet::default();
    *fleet.state.lock().unwrap() = FleetObservation {
        exists: true,
        desired: 3,
        running: 3,
        pending: 0,
    };
    let ws = FakeState {
        progress: Mutex::new(Some(progress(10, 4))),
        ..Default::default()
    };
    let mut r = runner(DeclaredState::Stopped, fleet, ws);
    let mut statuses = Vec::new();
    let d = r
        .run_until_settled(&SettleOptions::default(), &mut |e| {
            if let ConvergeEvent::Pass {
                decision, fleet, ..
            } = e
            {
                statuses.push((
                    decision.status.status,
                    fleet.running,
                    decision.actions.clone(),
                ));
            }
        })
        .await
        .unwrap();
    assert_eq!(d.status.status, Status::Stopped);
    assert_eq!(*r.working_state.archived.lock().unwrap(), 1);
    for (status, running, actions) in &statuses {
        if actions.contains(&Action::ArchiveWorkingState) {
            assert_eq!(*running, 0, "archived while a task ran: {statuses:?}");
        }
        assert!(
            matches!(status, Status::Stopping | Status::Stopped),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn errors_back_off_exponentially_then_recover() {
    let fleet = FakeFleet {
        failures_left: Mutex::new(3),
        ..Default::default()
    };
    let mut r = runner(DeclaredState::Paused, fleet, FakeState::default());
    let mut retries = Vec::new();
    let d = r
        .run_until_settled(&SettleOptions::default(), &mut |e| {
            if let ConvergeEvent::Error { retry_in, .. } = e {
                retries.push(retry_in.as_secs());
            }
        })
        .await
        .unwrap();
    assert_eq!(retries, vec![1, 2, 4]);
    assert_eq!(d.status.status, Status::NotStarted);
}

#[tokio::test]
async fn gives_up_on_refused_credentials_and_after_bounded_errors() {
    let ws = FakeState {
        unauthorized: true,
        ..Default::default()
    };
    let mut r = runner(DeclaredState::Running, FakeFleet::default(), ws);
    let err = r
        .run_until_settled(&SettleOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.is_terminal(), "{err}");
    assert!(err.to_string().contains("403"), "{err}");

    let fleet = FakeFleet {
        failures_left: Mutex::new(100),
        ..Default::default()
    };
    let mut r = runner(DeclaredState::Running, fleet, FakeState::default());
    let opts = SettleOptions {
        max_consecutive_errors: 4,
        ..Default::default()
    };
    let err = r.run_until_settled(&opts, &mut |_| {}).await.unwrap_err();
    assert!(
        matches!(err, ConvergeError::TooManyErrors { errors: 4, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn times_out_with_the_last_status() {
    let mut r = runner(
        DeclaredState::Running,
        FakeFleet::default(),
        FakeState::default(),
    );
    // The fake starts one task per pass: 1000 workers cannot all run within 60 s.
    r.declared.workers = 1000;
    let opts = SettleOptions {
        timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let err = r.run_until_settled(&opts, &mut |_| {}).await.unwrap_err();
    assert!(matches!(err, ConvergeError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("Starting"), "{err}");
}

#[test]
fn backoff_doubles_and_caps() {
    let b: Vec<u64> = error_delays().take(8).map(|d| d.as_secs()).collect();
    assert_eq!(b, vec![1, 2, 4, 8, 16, 32, 60, 60]);
}

#[tokio::test]
async fn a_permanent_crash_loop_after_the_start_ends_the_wait_with_the_cause() {
    let fleet = FakeFleet::default();
    let failed = |at: Timestamp| WorkerFailure {
        worker: "worker-0-1".into(),
        exit_code: Some(5),
        stopped_at: at,
        message: "the snapshot cannot be read: gone".into(),
    };
    let mut r = runner(DeclaredState::Running, fleet, FakeState::default());
    let start = r.clock.now();
    // Two failures from before this loop (the run a fix came for) do not count.
    *r.fleet.workers_failed.lock().unwrap() = vec![
        failed(start - Duration::from_secs(30)),
        failed(start - Duration::from_secs(20)),
    ];
    let d = r.pass(&mut |_| {}).await.expect("pass");
    assert_eq!(d.status.status, Status::Starting);
    assert_eq!(*r.fleet.scaled.lock().unwrap(), vec![3]);
    r.clock.advance(Duration::from_secs(5));
    let now = r.clock.now();
    r.fleet
        .workers_failed
        .lock()
        .unwrap()
        .extend([failed(now), failed(now), failed(now)]);
    let options = SettleOptions {
        until_complete: true,
        ..SettleOptions::default()
    };
    let d = r
        .run_until_settled(&options, &mut |_| {})
        .await
        .expect("settles");
    assert!(d.restarts_stopped());
    assert_eq!(d.status.status, Status::Failing);
    assert!(
        d.status
            .reason
            .contains("the snapshot cannot be read: gone"),
        "{}",
        d.status.reason
    );
    assert_eq!(*r.fleet.scaled.lock().unwrap(), vec![3, 0]);
}
