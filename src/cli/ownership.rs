//! Shared glue for the working state's owner: the one place the declared identity is computed from
//! migration.yaml and the snapshot metadata, the working-state index a migration uses (`backfill.session`),
//! and the check `plan` and `apply` run before they change anything.

use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::platforms;
use crate::cluster::RetryPolicy;
use crate::cluster::transport::JsonTransport;
use crate::config::{Migration, ProcessEnv};
use crate::converge::working_state::OwnerGate;
use crate::coordination::identity::Identity;
use crate::coordination::ownership::{self, OwnershipCheck, WorkingStateRefusal};
use crate::coordination::progress::working_state_index;
use crate::preflight::{self, Preflight, Problem, ProblemKind, Warning};
use crate::snapshot::{self, IndexInfo, Repository, SnapshotInfo};

/// The working-state index of `m`: `.migrations_working_state[_<backfill.session>]`.
pub(crate) fn state_index(m: &Migration) -> String {
    working_state_index(m.backfill.session.as_deref())
}

/// The identity migration.yaml alone declares (the snapshot not read).
pub(crate) fn declared_identity(m: &Migration) -> Identity {
    Identity::new(
        &m.name,
        &m.source.repository.to_string(),
        &m.source.snapshot,
    )
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
        selected.iter().map(|i| (i.name.as_str(), index_uuid(i))),
    )
}

fn index_uuid(index: &IndexInfo) -> &str {
    index
        .settings
        .get("index.uuid")
        .or_else(|| index.settings.pointer("/index/uuid"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or(&index.id)
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

/// How long `plan` and `apply` wait to learn whose working state the target holds (the snapshot's metadata
/// may be read to decide).
const OWNER_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The preflight of `plan` and `apply`, with whose working state the target holds folded in, so every problem
/// is listed at once: another migration's (or an unrecorded) working state is a problem naming the owner and
/// both ways out; a comparison made without the snapshot is a warning; a check that could not run is said.
pub(crate) async fn preflight(
    ctx: &Context,
    m: &Migration,
    options: &preflight::Options,
) -> Preflight {
    let (mut report, owner) = tokio::join!(
        preflight::check(m, &ProcessEnv, options),
        owner_check(ctx, m, options.offline)
    );
    let index = state_index(m);
    match owner {
        OwnerCheck::Skipped(why) => report
            .not_checked
            .push(format!("whose working state {index} is ({why})")),
        OwnerCheck::Failed(why) => report
            .not_checked
            .push(format!("whose working state {index} is: {why}")),
        OwnerCheck::Done(check) => {
            if let Some(note) = &check.note {
                report.warnings.push(Warning::new(
                    Some(format!("working state {index}")),
                    note.clone(),
                ));
            }
            if let Some(refusal) = check.refusal(m.backfill.adopt_unrecorded_working_state) {
                report.add_problems([refusal_problem(&refusal)]);
            }
        }
    }
    report
}

enum OwnerCheck {
    Skipped(String),
    Failed(String),
    Done(Box<OwnershipCheck>),
}

async fn owner_check(ctx: &Context, m: &Migration, offline: bool) -> OwnerCheck {
    if offline {
        return OwnerCheck::Skipped("--offline".into());
    }
    let checked = async {
        let client = platforms::target_client(m, ctx)
            .await?
            .with_retry_policy(RetryPolicy::none());
        check(m, &client).await
    };
    match tokio::time::timeout(OWNER_CHECK_TIMEOUT, checked).await {
        Ok(Ok(check)) => OwnerCheck::Done(Box::new(check)),
        Ok(Err(err)) => OwnerCheck::Failed(format!("{err:#}")),
        Err(_) => OwnerCheck::Failed(format!(
            "no answer within {} s",
            OWNER_CHECK_TIMEOUT.as_secs()
        )),
    }
}

/// A refusal as a preflight problem: its first sentence, and both ways out.
fn refusal_problem(refusal: &WorkingStateRefusal) -> Problem {
    let text = refusal.to_string();
    let message = text.lines().next().unwrap_or_default().to_string();
    Problem::new(
        ProblemKind::WorkingStateNotOurs,
        Some(format!("working state {}", refusal.index())),
        message,
    )
    .with_ways_out(refusal.ways_out())
}
