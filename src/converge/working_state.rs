//! The runner's [`WorkingState`] over the target: exact progress (one request) and verified
//! archive-then-delete (coordination module), with archives named per stop time under a destination.

use super::runner::WorkingState;
use crate::cluster::transport::JsonTransport;
use crate::coordination::archive::{
    ArchiveDestination, ArchiveError, ArchiveReport, ArchiveStore, archive_and_delete,
};
use crate::coordination::progress::{
    ProgressError, WorkProgress, observe_progress, working_state_index,
};
use crate::time::Timestamp;

/// The working-state index of one session on the target.
pub struct TargetWorkingState<T, S> {
    pub transport: T,
    pub store: S,
    pub session: Option<String>,
    pub destination: ArchiveDestination,
}

impl<T: JsonTransport, S: ArchiveStore> TargetWorkingState<T, S> {
    pub fn index(&self) -> String {
        working_state_index(self.session.as_deref())
    }
}

impl<T: JsonTransport, S: ArchiveStore> WorkingState for TargetWorkingState<T, S> {
    async fn observe(&self, now: Timestamp) -> Result<Option<WorkProgress>, ProgressError> {
        observe_progress(&self.transport, &self.index(), now).await
    }

    async fn archive_and_delete(&self, now: Timestamp) -> Result<ArchiveReport, ArchiveError> {
        let location = self.destination.location_at(now);
        archive_and_delete(
            &self.transport,
            &self.store,
            self.session.as_deref(),
            &location,
            true,
        )
        .await
    }
}
