//! `status` and the working state's owner: the report carries the owner record it read, and when the index
//! records another migration the report says so (status `Failed`, the owner and both ways out) instead of
//! showing that migration's counts as this one's. An unrecorded working state is reported as it is, with its
//! counts: `status` always works on it.

use super::lifecycle::{DerivedStatus, Status};
use super::status::{StatusReport, WorkingStateAccess};
use crate::coordination::identity::Recorded;
use crate::coordination::ownership::WorkingStateRefusal;

/// Adds the owner record to `report`; `refusal` (another migration's state) replaces its progress and
/// status (pure).
pub(crate) fn with_owner(
    mut report: StatusReport,
    recorded: Recorded,
    refusal: Option<&WorkingStateRefusal>,
) -> StatusReport {
    report.owner = Some(recorded);
    if let Some(refusal @ WorkingStateRefusal::OtherMigration { .. }) = refusal {
        let text = refusal.to_string();
        report.progress = None;
        report.working_state = WorkingStateAccess::OtherMigration;
        // The first line (whose it is); the reason carries the ways out too.
        report.working_state_error = text.lines().next().map(str::to_string);
        report.status = DerivedStatus::new(Status::Failed, text);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converge::ports::FleetObservation;
    use crate::converge::status::derive_report;
    use crate::coordination::identity::{Identity, Ownership};
    use crate::coordination::progress::WorkProgress;
    use crate::time::Timestamp;

    fn report() -> StatusReport {
        let fleet = FleetObservation {
            exists: true,
            desired: 0,
            running: 0,
            pending: 0,
        };
        let done = WorkProgress {
            setup_completed_at: Some(Timestamp::from_epoch_seconds(1)),
            total: 2,
            completed: 2,
            ..Default::default()
        };
        derive_report(
            None,
            Ok(fleet),
            Ok(Vec::new()),
            "i",
            Ok(done),
            Timestamp::from_epoch_seconds(10),
        )
    }

    #[test]
    fn another_migrations_counts_are_not_reported_as_ours() {
        let (a, b) = (
            Identity::new("mig-a", "/r", "s"),
            Identity::new("mig-b", "/r", "s"),
        );
        assert_eq!(report().status.status, Status::Completed, "the bug: theirs");
        let refusal =
            WorkingStateRefusal::of("i", &b, &Ownership::Other { owner: a.clone() }, false);
        let r = with_owner(
            report(),
            Recorded::Migration { identity: a },
            refusal.as_ref(),
        );
        assert_eq!(r.status.status, Status::Failed);
        assert!(r.status.reason.contains("belongs to migration `mig-a`"));
        assert_eq!(r.progress, None);
        assert_eq!(r.working_state, WorkingStateAccess::OtherMigration);
        assert!(r.has_problem());
    }

    #[test]
    fn an_unrecorded_state_keeps_its_counts() {
        let b = Identity::new("mig-b", "/r", "s");
        let refusal = WorkingStateRefusal::of("i", &b, &Ownership::Unrecorded, false);
        let r = with_owner(report(), Recorded::Unrecorded, refusal.as_ref());
        assert_eq!(r.status.status, Status::Completed);
        assert_eq!(r.owner, Some(Recorded::Unrecorded));
        assert!(!r.has_problem());
    }
}
