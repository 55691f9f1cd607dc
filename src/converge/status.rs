//! `backfill status` as a value: fleet counts, exact progress, the derived status — and every reason the
//! report may be incomplete (missing index, unreachable target, refused credentials), never dropped silently.
//!
//! The derived status is the one [`reconcile`] would report, so `status`, `converge` and `apply --wait`
//! always agree. Without a declared lifecycle it is inferred from the fleet (desired > 0 means running).

use serde::Serialize;

use super::failures::WorkerFailure;
use super::lifecycle::{
    Declared, DeclaredState, DerivedStatus, Observed, RampMemory, Status, StopMemory,
    WorkingStateObservation, console_fleet_state,
};
use super::ports::{Fleet, FleetObservation, PlatformError};
use super::reconcile::reconcile;
use crate::cluster::transport::{JsonTransport, TransportError};
use crate::coordination::identity::Recorded;
use crate::coordination::progress::{ProgressError, WorkProgress, fetch_progress};
use crate::time::Timestamp;

/// What happened when reading the working state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkingStateAccess {
    Ok,
    Missing,
    Unreachable,
    Unauthorized,
    Error,
    /// The index records another migration: its counts are not shown as this one's.
    OtherMigration,
}

/// Everything `status` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// When observed.
    #[serde(with = "crate::time::epoch_seconds")]
    pub observed_at: Timestamp,
    /// `RUNNING` / `STARTING` / `STOPPED`, as the console derives it from the fleet.
    pub console_state: Option<&'static str>,
    pub fleet: Option<FleetObservation>,
    /// Why fleet counts are missing.
    pub fleet_error: Option<String>,
    pub index: String,
    pub working_state: WorkingStateAccess,
    /// Why the working state could not be read (for anything but `ok`).
    pub working_state_error: Option<String>,
    pub progress: Option<WorkProgress>,
    /// Workers that ended in failure recently (newest last), as the platform reports them.
    pub failures: Vec<WorkerFailure>,
    /// Why they could not be read (the report goes on without them).
    pub failures_error: Option<String>,
    pub status: DerivedStatus,
    /// The index's owner record, when it was read (`status_owner.rs`).
    pub owner: Option<Recorded>,
}

impl StatusReport {
    /// The report is missing something the user asked for (sets a non-zero exit code).
    pub fn has_problem(&self) -> bool {
        self.fleet_error.is_some() || self.working_state != WorkingStateAccess::Ok
    }
}

fn classify(e: &ProgressError) -> WorkingStateAccess {
    match e {
        ProgressError::MissingIndex { .. } => WorkingStateAccess::Missing,
        ProgressError::Transport(TransportError::Unreachable { .. }) => {
            WorkingStateAccess::Unreachable
        }
        ProgressError::Transport(TransportError::Unauthorized { .. }) => {
            WorkingStateAccess::Unauthorized
        }
        _ => WorkingStateAccess::Error,
    }
}

/// Builds the report from observations (pure).
pub fn derive_report(
    declared: Option<&Declared>,
    fleet: Result<FleetObservation, String>,
    failures: Result<Vec<WorkerFailure>, String>,
    index: &str,
    progress: Result<WorkProgress, (WorkingStateAccess, String)>,
    now: Timestamp,
) -> StatusReport {
    let (fleet, fleet_error) = match fleet {
        Ok(f) => (Some(f), None),
        Err(e) => (None, Some(e)),
    };
    let (mut failures, failures_error) = match failures {
        Ok(f) => (f, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    failures.sort_by_key(|f| f.stopped_at);
    let (access, ws_error, progress) = match progress {
        Ok(p) => (WorkingStateAccess::Ok, None, Some(p)),
        Err((access, message)) => (access, Some(message), None),
    };
    let status = match (&fleet, &access) {
        (
            _,
            WorkingStateAccess::Unreachable
            | WorkingStateAccess::Unauthorized
            | WorkingStateAccess::Error,
        ) => DerivedStatus::new(
            Status::Failed,
            format!(
                "cannot read the working state: {}",
                ws_error.clone().unwrap_or_default()
            ),
        ),
        (None, _) => DerivedStatus::new(
            Status::Failed,
            format!(
                "cannot read the worker fleet: {}",
                fleet_error.clone().unwrap_or_default()
            ),
        ),
        (Some(f), _) => {
            let inferred;
            let declared = match declared {
                Some(d) => d,
                None => {
                    let state = if f.desired > 0 {
                        DeclaredState::Running
                    } else {
                        DeclaredState::Paused
                    };
                    inferred = Declared::new(state, f.desired);
                    &inferred
                }
            };
            let observed = Observed {
                fleet: *f,
                working_state: match &progress {
                    Some(p) => WorkingStateObservation::Present(p.clone()),
                    None => WorkingStateObservation::Absent,
                },
                health: None,
                ramp: RampMemory::default(),
                stop: StopMemory::default(),
                failures: failures.clone(),
                failures_since: None,
            };
            reconcile(declared, &observed, now).status
        }
    };
    StatusReport {
        observed_at: now,
        console_state: fleet.as_ref().map(console_fleet_state),
        fleet,
        fleet_error,
        index: index.to_string(),
        working_state: access,
        working_state_error: ws_error,
        progress,
        failures,
        failures_error,
        status,
        owner: None,
    }
}

/// Observes the fleet and the working state (one request) and builds the report.
pub async fn collect<F: Fleet, T: JsonTransport>(
    declared: Option<&Declared>,
    fleet: Option<&F>,
    transport: &T,
    index: &str,
    now: Timestamp,
) -> StatusReport {
    let (fleet_obs, failures) = match fleet {
        Some(f) => (
            f.observe().await.map_err(|e| e.to_string()),
            f.failures().await.map_err(|e| e.to_string()),
        ),
        None => (
            Err("no platform configured for the worker fleet".to_string()),
            Ok(Vec::new()),
        ),
    };
    let progress = fetch_progress(transport, index, now)
        .await
        .map_err(|e| (classify(&e), e.to_string()));
    derive_report(declared, fleet_obs, failures, index, progress, now)
}

/// A fleet that cannot be observed (no platform wired): keeps `collect`'s type parameter concrete.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFleet;

impl Fleet for NoFleet {
    async fn observe(&self) -> Result<FleetObservation, PlatformError> {
        Err(PlatformError::Missing {
            resource: "worker fleet".into(),
        })
    }
    async fn scale(&self, _desired: u32) -> Result<(), PlatformError> {
        Err(PlatformError::Missing {
            resource: "worker fleet".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(epoch_seconds: i64) -> Timestamp {
        Timestamp::from_epoch_seconds(epoch_seconds)
    }

    fn fleet(d: u32, r: u32, p: u32) -> FleetObservation {
        FleetObservation {
            exists: true,
            desired: d,
            running: r,
            pending: p,
        }
    }

    fn half() -> WorkProgress {
        WorkProgress {
            setup_completed_at: Some(at(100)),
            total: 4,
            completed: 2,
            incomplete: 2,
            ..Default::default()
        }
    }

    #[test]
    fn derived_status_matches_reconcile_and_infers_declared() {
        let r = derive_report(
            None,
            Ok(fleet(1, 1, 0)),
            Ok(vec![]),
            "i",
            Ok(half()),
            at(200),
        );
        assert_eq!(r.console_state, Some("RUNNING"));
        assert_eq!(r.status.status, Status::Running);
        assert!(!r.has_problem());
        let r = derive_report(
            None,
            Ok(fleet(0, 0, 0)),
            Ok(vec![]),
            "i",
            Ok(half()),
            at(200),
        );
        assert_eq!(
            (r.console_state, r.status.status),
            (Some("STOPPED"), Status::Paused)
        );
        let done = WorkProgress {
            completed: 4,
            incomplete: 0,
            ..half()
        };
        let r = derive_report(None, Ok(fleet(1, 1, 0)), Ok(vec![]), "i", Ok(done), at(200));
        assert_eq!(
            (r.console_state, r.status.status),
            (Some("RUNNING"), Status::Completed)
        );
    }

    #[test]
    fn problems_are_reported_not_dropped() {
        let r = derive_report(
            None,
            Ok(fleet(1, 0, 1)),
            Ok(vec![]),
            "i",
            Err((WorkingStateAccess::Unauthorized, "HTTP 403".into())),
            at(0),
        );
        assert_eq!(r.console_state, Some("STARTING"));
        assert_eq!(r.status.status, Status::Failed);
        assert!(r.status.reason.contains("403"));
        assert!(r.has_problem());
        let r = derive_report(
            None,
            Ok(fleet(0, 0, 0)),
            Ok(vec![]),
            "i",
            Err((WorkingStateAccess::Missing, "gone".into())),
            at(0),
        );
        assert_eq!(r.status.status, Status::NotStarted);
        assert!(r.has_problem());
        let r = derive_report(
            None,
            Err("no service".into()),
            Ok(vec![]),
            "i",
            Ok(half()),
            at(0),
        );
        assert_eq!((r.console_state, r.status.status), (None, Status::Failed));
    }
}
