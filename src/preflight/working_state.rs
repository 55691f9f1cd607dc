//! The preflight's judgement of whose working state the target holds (pure): another migration's, or one that
//! records no owner (without `backfill.adopt_unrecorded_working_state`), is a problem naming the owner and both
//! ways out, listed with every other problem. The snapshot already read by the preflight completes the declared
//! identity when the names alone do not decide, so nothing is read twice.

use super::observe::{OwnerRead, SourceObservation, WorkingStateObservation};
use super::{Preflight, Problem, ProblemKind, Warning};
use crate::coordination::identity::Identity;
use crate::coordination::ownership::{self, WorkingStateRefusal};

/// Adds the working-state owner's problem, warning or "not checked" line to `report`.
pub(super) fn judge(
    observed: &WorkingStateObservation,
    source: &SourceObservation,
    report: &mut Preflight,
) {
    let index = &observed.index;
    let recorded = match &observed.recorded {
        OwnerRead::Skipped(why) => {
            report
                .not_checked
                .push(format!("whose working state {index} is ({why})"));
            return;
        }
        OwnerRead::Failed(why) => {
            report
                .not_checked
                .push(format!("whose working state {index} is: {why}"));
            return;
        }
        OwnerRead::Read(recorded) => recorded.clone(),
    };
    let resolved = ownership::needs_snapshot(&observed.declared, &recorded)
        .then(|| resolved_identity(&observed.declared, source));
    let check = ownership::judge(index, observed.declared.clone(), recorded, resolved);
    if let Some(note) = &check.note {
        report.warnings.push(Warning::new(
            Some(format!("working state {index}")),
            note.clone(),
        ));
    }
    if let Some(refusal) = check.refusal(observed.adopt_unrecorded) {
        report.add_problems([refusal_problem(&refusal)]);
    }
}

/// The declared identity completed from the snapshot the preflight read: its uuid and every selected index's
/// uuid (the same digest a worker records), or why it cannot be.
fn resolved_identity(declared: &Identity, source: &SourceObservation) -> Result<Identity, String> {
    let snapshot = match source {
        SourceObservation::Read(snapshot) => snapshot,
        SourceObservation::Skipped { reason, .. } => return Err(reason.clone()),
        SourceObservation::TimedOut { seconds, .. } => {
            return Err(format!("not read within {seconds} s"));
        }
        SourceObservation::Unreadable { message, .. } => return Err(message.clone()),
        SourceObservation::NoSuchSnapshot { snapshot, .. } => {
            return Err(format!("no snapshot {snapshot} in the repository"));
        }
    };
    let indices = snapshot
        .selected
        .iter()
        .map(|index| match &index.metadata {
            Ok(info) => Ok((info.name.as_str(), info.uuid())),
            Err(why) => Err(format!("index {}: {why}", index.name)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(declared.clone().resolved(&snapshot.uuid, indices))
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
