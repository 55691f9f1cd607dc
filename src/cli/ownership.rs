//! Shared glue for the working state's owner: the one place the declared identity is computed from
//! migration.yaml and the snapshot metadata, the working-state index a migration uses (`backfill.session`),
//! and the check `status`, `destroy` and the converge loop run (`plan` and `apply` have it in the preflight).

use anyhow::Context as _;

use crate::cluster::transport::JsonTransport;
use crate::config::Migration;
use crate::converge::working_state::OwnerGate;
use crate::coordination::identity::Identity;
use crate::coordination::ownership::{self, OwnershipCheck};
use crate::coordination::progress::working_state_index;
use crate::snapshot::{self, IndexInfo, Repository, SnapshotInfo};

/// The working-state index of `m`: `.migrations_working_state[_<backfill.session>]`.
pub(crate) fn state_index(m: &Migration) -> String {
    working_state_index(m.backfill.session.as_deref())
}

/// The identity migration.yaml alone declares (the snapshot not read).
pub(crate) fn declared_identity(m: &Migration) -> Identity {
    Identity::declared_by(m)
}

/// The full declared identity: the file's names with the snapshot's uuid and the digest of the selected
/// indices (each index's `index.uuid` from its metadata, or the repository's index id when it has none).
pub(crate) fn resolved_identity(
    m: &Migration,
    snapshot: &SnapshotInfo,
    selected: &[IndexInfo],
) -> Identity {
    declared_identity(m).resolved(
        &snapshot.uuid,
        selected.iter().map(|i| (i.name.as_str(), i.uuid())),
    )
}

/// Reads the snapshot's metadata (only the selected indices') and resolves the declared identity.
pub(crate) async fn read_resolved_identity(m: &Migration) -> Result<Identity, String> {
    let (location, aws, region) = (
        m.source.repository.clone(),
        m.aws.clone(),
        m.source.region.clone(),
    );
    let (name, selection) = (m.source.snapshot.clone(), m.source.indices.clone());
    let read = tokio::task::spawn_blocking(move || -> Result<_, snapshot::SnapshotError> {
        let repository =
            Repository::open(snapshot::blob_source(&location, &aws, region.as_deref())?)?;
        let info = repository.snapshot(&name)?;
        let selected = info
            .indices
            .iter()
            .filter(|i| selection.matches(i))
            .map(|i| repository.index(&info, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((info, selected))
    })
    .await
    .map_err(|e| e.to_string())?;
    let (info, selected) = read.map_err(|e| e.to_string())?;
    Ok(resolved_identity(m, &info, &selected))
}

/// Who may use `m`'s working state (for the converge loop, `destroy` and `stopped`).
pub(crate) fn owner_gate(m: &Migration) -> OwnerGate {
    OwnerGate {
        declared: declared_identity(m),
        adopt_unrecorded: m.backfill.adopt_unrecorded_working_state,
    }
}

/// Reads the owner of `m`'s working state and compares it with `m` (the snapshot read only when needed).
pub(crate) async fn check<T: JsonTransport>(
    m: &Migration,
    transport: &T,
) -> anyhow::Result<OwnershipCheck> {
    let index = state_index(m);
    ownership::check(transport, &index, declared_identity(m), || {
        read_resolved_identity(m)
    })
    .await
    .with_context(|| format!("cannot read whose working state {index} is"))
}
