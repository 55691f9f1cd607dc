//! The owner record over the target: read it (`GET /<index>/_mapping`), write it (`PUT /<index>/_mapping`
//! with `_meta`), and claim a working state for the declared migration — the one gate every user of a
//! working state passes (workers before they create or take work items, `apply` before it changes anything,
//! the converge loop every pass, `destroy`/`stopped` before they archive, `restore-state`).
//!
//! A refusal is a typed [`WorkingStateRefusal`] whose text names the owner and both ways out, so `plan`,
//! `apply`, `status` and the worker's log say the same thing.

use std::future::Future;

use serde_json::{Value, json};

use super::coordinator::{CoordinationError, Coordinator};
use super::identity::{
    Identity, META_KEY, MalformedRecord, Ownership, Recorded, compare, parse_record,
};
use super::progress::working_state_index;
use crate::cluster::transport::{Body, JsonTransport, Method, TransportError};

/// The working state cannot be used (or archived, or deleted) by the declared migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkingStateRefusal {
    #[error(
        "the working state {index} on the target belongs to {owner_text}, not to {mine}; they differ in the {differences}.\n{ways}",
        owner_text = owner.describe(),
        mine = declared.describe(),
        differences = and_list(&declared.differences(owner)),
        ways = ways_text(&self.ways_out())
    )]
    OtherMigration {
        index: String,
        owner: Identity,
        declared: Identity,
    },
    #[error(
        "the working state {index} on the target records no migration (Migration Assistant's worker or an older backfill wrote it), so migration `{}` does not use it.\n{ways}",
        declared.migration,
        ways = ways_text(&self.ways_out())
    )]
    Unrecorded { index: String, declared: Identity },
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(items: &[&str]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn ways_text(ways: &[String]) -> String {
    let mut text = "Ways out:".to_string();
    for (n, way) in ways.iter().enumerate() {
        text.push_str(&format!("\n  {}. {way}", n + 1));
    }
    text
}

impl WorkingStateRefusal {
    /// The refusal for `ownership`, if any: another migration's state always; an unrecorded one unless
    /// `adopt_unrecorded` (`backfill.adopt_unrecorded_working_state: true`).
    pub(crate) fn of(
        index: &str,
        declared: &Identity,
        ownership: &Ownership,
        adopt_unrecorded: bool,
    ) -> Option<Self> {
        match ownership {
            Ownership::Other { owner } => Some(WorkingStateRefusal::OtherMigration {
                index: index.to_string(),
                owner: owner.clone(),
                declared: declared.clone(),
            }),
            Ownership::Unrecorded if !adopt_unrecorded => Some(WorkingStateRefusal::Unrecorded {
                index: index.to_string(),
                declared: declared.clone(),
            }),
            _ => None,
        }
    }

    pub(crate) fn index(&self) -> &str {
        match self {
            WorkingStateRefusal::OtherMigration { index, .. }
            | WorkingStateRefusal::Unrecorded { index, .. } => index,
        }
    }

    /// Both ways out, as sentences with the exact command or key.
    pub(crate) fn ways_out(&self) -> Vec<String> {
        match self {
            WorkingStateRefusal::OtherMigration {
                index,
                owner,
                declared,
            } => vec![
                format!(
                    "finish with it: run `backfill destroy` with the migration file of `{}` (it archives that working state, then deletes it; `backfill restore-state` brings it back)",
                    owner.migration
                ),
                session_way(
                    index,
                    &declared.migration,
                    "both migrations share the target",
                ),
            ],
            WorkingStateRefusal::Unrecorded { index, declared } => vec![
                format!(
                    "if it is this migration's, set `backfill.adopt_unrecorded_working_state: true`: `backfill apply` then records it as `{}`'s and uses it (and `destroy` may archive and delete it)",
                    declared.migration
                ),
                session_way(index, &declared.migration, "that one is left alone"),
            ],
        }
    }
}

/// `set backfill.session: NAME …`, with a name that is not the index's own session already.
fn session_way(index: &str, migration: &str, tail: &str) -> String {
    let session = if working_state_index(Some(migration)) == index {
        format!("{migration}-2")
    } else {
        migration.to_string()
    };
    format!(
        "keep it: set `backfill.session: {session}` in this migration's file; this migration then uses {}, and {tail}",
        working_state_index(Some(&session))
    )
}

/// Why the owner could not be read, written or claimed.
#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error(transparent)]
    Refused(#[from] WorkingStateRefusal),
    #[error(transparent)]
    Malformed(#[from] MalformedRecord),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("creating the working state: {0}")]
    Create(#[from] CoordinationError),
    #[error(
        "the working state {index} was deleted and re-created while this migration claimed it; try again"
    )]
    Unstable { index: String },
}

/// Reads the owner record of `index` (`Absent` when the index does not exist).
pub(crate) async fn read_record<T: JsonTransport>(
    transport: &T,
    index: &str,
) -> Result<Recorded, OwnershipError> {
    let resp = transport
        .send(Method::Get, &format!("/{index}/_mapping"), None)
        .await?;
    if resp.status == 404 {
        return Ok(Recorded::Absent);
    }
    Ok(parse_record(index, &resp.body)?)
}

/// Records `identity` as the owner of the existing `index` (adoption), keeping any other `_meta` keys.
pub(crate) async fn record<T: JsonTransport>(
    transport: &T,
    index: &str,
    identity: &Identity,
) -> Result<(), OwnershipError> {
    let resp = transport
        .send(Method::Get, &format!("/{index}/_mapping"), None)
        .await?;
    let mut meta = resp
        .body
        .as_object()
        .and_then(|i| i.values().next())
        .and_then(|i| i.pointer("/mappings/_meta"))
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    meta[META_KEY] = identity.to_meta()[META_KEY].clone();
    transport
        .send(
            Method::Put,
            &format!("/{index}/_mapping"),
            Some(Body::Json(json!({ "_meta": meta }))),
        )
        .await?;
    Ok(())
}

/// What [`claim`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// The index already recorded this migration.
    Ours,
    /// The index did not exist; it was created with this migration's record.
    Created,
    /// The index recorded nothing; this migration's record was written into it (opt-in).
    Adopted,
}

/// Makes `index` this migration's before it is used: creates it with the record when absent (the record is
/// part of the creating request), adopts an unrecorded one only with `adopt_unrecorded`, and refuses any
/// other migration's. A creation race is settled by reading the record again: whoever created it owns it.
pub(crate) async fn claim<T: JsonTransport>(
    transport: &T,
    index: &str,
    declared: &Identity,
    adopt_unrecorded: bool,
) -> Result<Claimed, OwnershipError> {
    let mut created = false;
    for _ in 0..3 {
        let recorded = read_record(transport, index).await?;
        match compare(declared, &recorded) {
            Ownership::Ours if created => return Ok(Claimed::Created),
            Ownership::Ours => return Ok(Claimed::Ours),
            Ownership::Free => {
                Coordinator::new(transport, index, "owner-record", 1)
                    .setup_index_recording(Some(&declared.to_meta()))
                    .await?;
                created = true;
            }
            Ownership::Unrecorded if adopt_unrecorded => {
                record(transport, index, declared).await?;
                return Ok(Claimed::Adopted);
            }
            other => {
                if let Some(refusal) =
                    WorkingStateRefusal::of(index, declared, &other, adopt_unrecorded)
                {
                    return Err(refusal.into());
                }
            }
        }
    }
    Err(OwnershipError::Unstable {
        index: index.to_string(),
    })
}

/// The owner as `plan`, `apply`, `status` and `destroy` see it: read once, compared with the declared
/// migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnershipCheck {
    pub index: String,
    /// The declared identity, resolved from the snapshot when the comparison needed it.
    pub declared: Identity,
    pub recorded: Recorded,
    pub ownership: Ownership,
    /// Set when the comparison could not use the snapshot (why, and what was compared instead).
    pub note: Option<String>,
}

impl OwnershipCheck {
    /// The refusal for the declared migration, if any (see [`WorkingStateRefusal::of`]).
    pub(crate) fn refusal(&self, adopt_unrecorded: bool) -> Option<WorkingStateRefusal> {
        WorkingStateRefusal::of(
            &self.index,
            &self.declared,
            &self.ownership,
            adopt_unrecorded,
        )
    }
}

/// Whether comparing `declared` with `recorded` needs the snapshot read: the record names this migration,
/// repository and snapshot, and `declared` lacks the snapshot's uuid and selection digest.
pub(crate) fn needs_snapshot(declared: &Identity, recorded: &Recorded) -> bool {
    matches!(recorded, Recorded::Migration { identity } if identity.same_names(declared))
        && !declared.is_resolved()
}

/// The pure comparison behind [`check`] and the preflight: `resolved` is the declared identity completed from
/// the snapshot (or why it could not be), given when [`needs_snapshot`] asked for it. When it could not be
/// read, the names decide and [`OwnershipCheck::note`] says so.
pub(crate) fn judge(
    index: &str,
    declared: Identity,
    recorded: Recorded,
    resolved: Option<Result<Identity, String>>,
) -> OwnershipCheck {
    let (declared, note) = match resolved {
        Some(Ok(full)) => (full, None),
        Some(Err(why)) => (
            declared,
            Some(format!(
                "the snapshot could not be read ({why}); only the migration, repository and snapshot names were compared"
            )),
        ),
        None => (declared, None),
    };
    let ownership = compare(&declared, &recorded);
    OwnershipCheck {
        index: index.to_string(),
        declared,
        recorded,
        ownership,
        note,
    }
}

/// Reads the owner of `index` and compares it with `declared`, reading the snapshot (`resolve`) only when
/// [`needs_snapshot`] says it decides.
pub(crate) async fn check<T, F, Fut>(
    transport: &T,
    index: &str,
    declared: Identity,
    resolve: F,
) -> Result<OwnershipCheck, OwnershipError>
where
    T: JsonTransport,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Identity, String>>,
{
    let recorded = read_record(transport, index).await?;
    let resolved = if needs_snapshot(&declared, &recorded) {
        Some(resolve().await)
    } else {
        None
    };
    Ok(judge(index, declared, recorded, resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> Identity {
        Identity::new(name, "/repo", "snap").resolved("u", [("logs", "x")])
    }

    #[test]
    fn another_migrations_state_names_the_owner_and_both_ways_out() {
        let refusal = WorkingStateRefusal::of(
            ".migrations_working_state",
            &id("mig-b"),
            &Ownership::Other { owner: id("mig-a") },
            true,
        )
        .expect("refused even with the opt-in");
        let text = refusal.to_string();
        assert!(text.contains("belongs to migration `mig-a`"), "{text}");
        assert!(
            text.contains("not to migration `mig-b`") && text.contains("differ in the migration."),
            "{text}"
        );
        assert!(
            text.contains("run `backfill destroy` with the migration file of `mig-a`"),
            "{text}"
        );
        assert!(
            text.contains("set `backfill.session: mig-b`")
                && text.contains(".migrations_working_state_mig-b"),
            "{text}"
        );
        assert_eq!(refusal.ways_out().len(), 2);
    }

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn a_session_already_named_after_the_migration_suggests_another_name() {
        let refusal = WorkingStateRefusal::of(
            ".migrations_working_state_mig-b",
            &id("mig-b"),
            &Ownership::Other { owner: id("mig-a") },
            false,
        )
        .expect("refused");
        assert!(refusal.ways_out()[1].contains("`backfill.session: mig-b-2`"));
    }

    #[test]
    fn an_unrecorded_state_is_refused_without_the_opt_in_only() {
        let refusal = WorkingStateRefusal::of("i", &id("mig-b"), &Ownership::Unrecorded, false)
            .expect("refused");
        let text = refusal.to_string();
        assert!(text.contains("records no migration"), "{text}");
        assert!(
            text.contains("`backfill.adopt_unrecorded_working_state: true`"),
            "{text}"
        );
        assert!(text.contains("`backfill.session: mig-b`"), "{text}");
        assert_eq!(
            WorkingStateRefusal::of("i", &id("mig-b"), &Ownership::Unrecorded, true),
            None
        );
        assert_eq!(
            WorkingStateRefusal::of("i", &id("mig-b"), &Ownership::Ours, false),
            None
        );
        assert_eq!(
            WorkingStateRefusal::of("i", &id("mig-b"), &Ownership::Free, false),
            None
        );
    }
}
