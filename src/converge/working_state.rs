//! The runner's [`WorkingState`] over the target: exact progress (one request) and verified
//! archive-then-delete (coordination module), with archives named per stop time under a destination.
//!
//! With an [`OwnerGate`], every observation first reads the index's owner record and refuses another
//! migration's working state (and an unrecorded one without the opt-in): its counts are never reported as
//! this migration's, and it is never archived or deleted. An archive of a recorded state gets its record
//! beside it (`archive_identity.rs`), written before the index is deleted.

use super::runner::WorkingState;
use crate::cluster::transport::JsonTransport;
use crate::coordination::archive::{
    ArchiveDestination, ArchiveError, ArchiveReport, ArchiveStore, archive_and_delete,
};
use crate::coordination::archive_identity::write_identity;
use crate::coordination::identity::{Identity, Recorded, compare};
use crate::coordination::ownership::{
    Claimed, OwnershipError, WorkingStateRefusal, claim, read_record,
};
use crate::coordination::progress::{
    ProgressError, WorkProgress, observe_progress, working_state_index,
};
use crate::time::Timestamp;

/// Which migration may use the working state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerGate {
    pub declared: Identity,
    /// `backfill.adopt_unrecorded_working_state`.
    pub adopt_unrecorded: bool,
}

/// The working-state index of one session on the target.
pub struct TargetWorkingState<T, S> {
    pub transport: T,
    pub store: S,
    pub session: Option<String>,
    pub destination: ArchiveDestination,
    /// `None`: no owner check (tools and tests that read any working state).
    pub owner: Option<OwnerGate>,
}

impl<T: JsonTransport, S: ArchiveStore> TargetWorkingState<T, S> {
    pub(crate) fn index(&self) -> String {
        working_state_index(self.session.as_deref())
    }

    /// The owner record, refused when it is not the declared migration's.
    async fn permitted(&self) -> Result<Recorded, OwnershipError> {
        let index = self.index();
        let recorded = read_record(&self.transport, &index).await?;
        if let Some(gate) = &self.owner {
            let ownership = compare(&gate.declared, &recorded);
            if let Some(refusal) =
                WorkingStateRefusal::of(&index, &gate.declared, &ownership, gate.adopt_unrecorded)
            {
                return Err(refusal.into());
            }
        }
        Ok(recorded)
    }

    /// Makes the working state the declared migration's before workers start (`ownership::claim`): creates
    /// it with the record when absent, records an unrecorded one with the opt-in, refuses another's.
    /// Without a gate nothing changes.
    pub(crate) async fn claim(&self) -> Result<Option<Claimed>, OwnershipError> {
        let Some(gate) = &self.owner else {
            return Ok(None);
        };
        claim(
            &self.transport,
            &self.index(),
            &gate.declared,
            gate.adopt_unrecorded,
        )
        .await
        .map(Some)
    }
}

impl<T: JsonTransport, S: ArchiveStore> WorkingState for TargetWorkingState<T, S> {
    async fn observe(&self, now: Timestamp) -> Result<Option<WorkProgress>, ProgressError> {
        if self.owner.is_some() {
            self.permitted().await.map_err(|e| match e {
                OwnershipError::Transport(t) => ProgressError::Transport(t),
                other => ProgressError::NotOurs(Box::new(other)),
            })?;
        }
        observe_progress(&self.transport, &self.index(), now).await
    }

    async fn archive_and_delete(&self, now: Timestamp) -> Result<ArchiveReport, ArchiveError> {
        let location = self.destination.location_at(now);
        let recorded = self.permitted().await.map_err(|e| match e {
            OwnershipError::Transport(t) => ArchiveError::Transport(t),
            other => ArchiveError::NotOurs(Box::new(other)),
        })?;
        if let Recorded::Migration { identity } = recorded {
            write_identity(&self.store, &location, &identity).await?;
        }
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
