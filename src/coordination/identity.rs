//! Which migration a working state belongs to: the record a working-state index carries, and the pure
//! comparison with the migration a command declares.
//!
//! The record lives in the index mapping's `_meta` (`_meta.backfill`), written in the same request that
//! creates the index, so it never adds a document: every count (`status`, the console's, the archive's)
//! stays exactly what it was. It names the migration, its repository, its snapshot (name and uuid) and a
//! digest of the resolved index selection (sorted index names with their uuids), because a working state is
//! only meaningful for exactly that set of shards.
//!
//! Invariants of [`compare`]: an absent index is [`Ownership::Free`]; an index without a record (Migration
//! Assistant's Java worker, an older `backfill`) is [`Ownership::Unrecorded`] and never silently ours; a
//! record is [`Ownership::Ours`] only when every field known on both sides is equal. A declared identity
//! whose snapshot could not be read (or was not needed) has no uuid and digest; those two fields are then
//! compared only where both sides know them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Migration;

/// The key under the mapping's `_meta` that holds the record.
pub(crate) const META_KEY: &str = "backfill";
/// Version of the record's layout (stored, not compared).
pub(crate) const RECORD_VERSION: u32 = 1;

/// One migration's identity, as declared (migration.yaml + snapshot metadata) or as recorded on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `name` of migration.yaml.
    pub migration: String,
    /// `source.repository` (`s3://bucket/prefix` or a path).
    pub repository: String,
    /// `source.snapshot`.
    pub snapshot: String,
    /// The snapshot's uuid in the repository; `None` when the snapshot was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_uuid: Option<String>,
    /// [`selection_digest`] of the selected indices; `None` when the snapshot was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_digest: Option<String>,
    /// Layout version of a record ([`RECORD_VERSION`] when written by this build).
    #[serde(default)]
    pub version: u32,
}

impl Identity {
    /// The identity from the migration file alone (snapshot not read).
    pub(crate) fn new(migration: &str, repository: &str, snapshot: &str) -> Self {
        Identity {
            migration: migration.to_string(),
            repository: repository.to_string(),
            snapshot: snapshot.to_string(),
            snapshot_uuid: None,
            selection_digest: None,
            version: RECORD_VERSION,
        }
    }

    /// The identity `m` declares by its file alone: its name, repository and snapshot name.
    pub(crate) fn declared_by(m: &Migration) -> Self {
        Identity::new(
            &m.name,
            &m.source.repository.to_string(),
            &m.source.snapshot,
        )
    }

    /// Completes the identity with what the snapshot says: its uuid and the selected indices as
    /// `(name, uuid)` pairs (any order).
    pub(crate) fn resolved<'a>(
        mut self,
        snapshot_uuid: &str,
        indices: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        self.snapshot_uuid = Some(snapshot_uuid.to_string());
        self.selection_digest = Some(selection_digest(indices));
        self
    }

    /// The snapshot's uuid and the selection digest are known.
    pub(crate) fn is_resolved(&self) -> bool {
        self.snapshot_uuid.is_some() && self.selection_digest.is_some()
    }

    /// Migration, repository and snapshot name are the same (what is known without reading the snapshot).
    pub(crate) fn same_names(&self, other: &Identity) -> bool {
        self.migration == other.migration
            && self.repository == other.repository
            && self.snapshot == other.snapshot
    }

    /// The fields whose values differ from `recorded`'s; unknown fields (on either side) never differ.
    pub(crate) fn differences(&self, recorded: &Identity) -> Vec<&'static str> {
        let known_differ =
            |a: Option<&str>, b: Option<&str>| matches!((a, b), (Some(a), Some(b)) if a != b);
        [
            ("migration", self.migration != recorded.migration),
            ("repository", self.repository != recorded.repository),
            ("snapshot", self.snapshot != recorded.snapshot),
            (
                "snapshot uuid",
                known_differ(
                    self.snapshot_uuid.as_deref(),
                    recorded.snapshot_uuid.as_deref(),
                ),
            ),
            (
                "index selection",
                known_differ(
                    self.selection_digest.as_deref(),
                    recorded.selection_digest.as_deref(),
                ),
            ),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect()
    }

    /// The mapping `_meta` object that records this identity: `{"backfill": {...}}`.
    pub(crate) fn to_meta(&self) -> Value {
        let mut record = self.clone();
        record.version = RECORD_VERSION;
        json!({ META_KEY: record })
    }

    /// One line for people: `migration `x` (snapshot `s` of /repo)`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "migration `{}` (snapshot `{}` of {})",
            self.migration, self.snapshot, self.repository
        )
    }
}

/// `sha256:<hex>` over the sorted `name\tuuid\n` lines of the selected indices: stable under any order.
pub(crate) fn selection_digest<'a>(
    indices: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut lines: Vec<String> = indices
        .into_iter()
        .map(|(name, uuid)| format!("{name}\t{uuid}\n"))
        .collect();
    lines.sort();
    lines.dedup();
    let mut hasher = Sha256::new();
    for line in &lines {
        hasher.update(line.as_bytes());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// What the working-state index says about its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recorded {
    /// The index does not exist.
    Absent,
    /// The index exists and records no migration (Migration Assistant's worker, an older `backfill`).
    Unrecorded,
    /// The index records this identity (`kind: recorded` when serialized).
    #[serde(rename = "recorded")]
    Migration { identity: Identity },
}

/// Why a mapping's record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the working-state index {index} has an unreadable `_meta.{META_KEY}` record: {message}")]
pub struct MalformedRecord {
    pub index: String,
    pub message: String,
}

/// Reads the record from a `GET /<index>/_mapping` response body (typeless, or one mapping type as
/// Elasticsearch 6 returns it). The response is keyed by the concrete index name; the first one is read.
pub(crate) fn parse_record(
    index: &str,
    mapping_response: &Value,
) -> Result<Recorded, MalformedRecord> {
    let mappings = mapping_response
        .as_object()
        .and_then(|indices| indices.values().next())
        .and_then(|i| i.get("mappings"));
    let Some(mappings) = mappings else {
        return Ok(Recorded::Unrecorded);
    };
    let meta = mappings.get("_meta").or_else(|| {
        // Elasticsearch 6: {"mappings": {"<type>": {"_meta": ...}}}
        mappings
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.values().next())
            .and_then(|typed| typed.get("_meta"))
    });
    let Some(record) = meta.and_then(|m| m.get(META_KEY)) else {
        return Ok(Recorded::Unrecorded);
    };
    serde_json::from_value(record.clone())
        .map(|identity| Recorded::Migration { identity })
        .map_err(|e| MalformedRecord {
            index: index.to_string(),
            message: e.to_string(),
        })
}

/// Whose working state an index is, seen from the declared migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Ownership {
    /// No working state: this migration may create it.
    Free,
    /// It records the declared migration.
    Ours,
    /// It records another migration (or the same name over another snapshot or selection).
    Other { owner: Identity },
    /// It records nothing: usable only with `backfill.adopt_unrecorded_working_state: true`.
    Unrecorded,
}

/// Compares the declared identity with what the index records (pure).
pub(crate) fn compare(declared: &Identity, recorded: &Recorded) -> Ownership {
    match recorded {
        Recorded::Absent => Ownership::Free,
        Recorded::Unrecorded => Ownership::Unrecorded,
        Recorded::Migration { identity } if declared.differences(identity).is_empty() => {
            Ownership::Ours
        }
        Recorded::Migration { identity } => Ownership::Other {
            owner: identity.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Identity {
        Identity::new("orders", "s3://b/snaps", "snap-1")
            .resolved("uuid-1", [("orders", "u-o"), ("items", "u-i")])
    }

    fn recorded(identity: Identity) -> Recorded {
        Recorded::Migration { identity }
    }

    #[test]
    fn the_digest_is_stable_under_order_and_changes_with_any_index_or_uuid() {
        let a = selection_digest([("a", "1"), ("b", "2")]);
        assert_eq!(a, selection_digest([("b", "2"), ("a", "1")]));
        assert!(a.starts_with("sha256:") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, selection_digest([("a", "1"), ("b", "3")]));
        assert_ne!(a, selection_digest([("a", "1")]));
        assert_ne!(a, selection_digest([("a", "1"), ("b", "2"), ("c", "3")]));
        // The separators keep names and uuids apart.
        assert_ne!(
            selection_digest([("ab", "c")]),
            selection_digest([("a", "bc")])
        );
    }

    #[test]
    fn absent_is_free_and_no_record_is_unrecorded_never_ours() {
        assert_eq!(compare(&declared(), &Recorded::Absent), Ownership::Free);
        assert_eq!(
            compare(&declared(), &Recorded::Unrecorded),
            Ownership::Unrecorded
        );
    }

    #[test]
    fn the_same_identity_is_ours_and_any_difference_is_another_migration() {
        assert_eq!(compare(&declared(), &recorded(declared())), Ownership::Ours);
        let mut changes: Vec<Identity> = Vec::new();
        for f in 0..5 {
            let mut other = declared();
            match f {
                0 => other.migration = "billing".into(),
                1 => other.repository = "s3://b/other".into(),
                2 => other.snapshot = "snap-2".into(),
                3 => other.snapshot_uuid = Some("uuid-2".into()),
                _ => other.selection_digest = Some(selection_digest([("orders", "u-o")])),
            }
            changes.push(other);
        }
        for other in changes {
            assert_eq!(
                compare(&declared(), &recorded(other.clone())),
                Ownership::Other {
                    owner: other.clone()
                },
                "{other:?}"
            );
            assert_eq!(declared().differences(&other).len(), 1, "{other:?}");
        }
    }

    #[test]
    fn unknown_snapshot_fields_are_compared_only_where_both_sides_know_them() {
        let names_only = Identity::new("orders", "s3://b/snaps", "snap-1");
        assert!(!names_only.is_resolved());
        assert_eq!(compare(&names_only, &recorded(declared())), Ownership::Ours);
        assert_eq!(
            compare(&declared(), &recorded(names_only.clone())),
            Ownership::Ours
        );
        let mut renamed = names_only;
        renamed.migration = "billing".into();
        assert!(matches!(
            compare(&declared(), &recorded(renamed)),
            Ownership::Other { .. }
        ));
    }

    #[test]
    fn the_record_round_trips_through_a_mapping_response() {
        let id = declared();
        let response = json!({".migrations_working_state": {"mappings": {
            "_meta": id.to_meta(), "properties": {"expiration": {"type": "long"}}
        }}});
        assert_eq!(
            parse_record("i", &response),
            Ok(Recorded::Migration {
                identity: id.clone()
            })
        );
        let typed = json!({"i": {"mappings": {"doc": {"_meta": id.to_meta()}}}});
        assert_eq!(
            parse_record("i", &typed),
            Ok(Recorded::Migration { identity: id })
        );
        let upstream = json!({"i": {"mappings": {"properties": {"expiration": {"type": "long"}}}}});
        assert_eq!(parse_record("i", &upstream), Ok(Recorded::Unrecorded));
        let foreign_meta = json!({"i": {"mappings": {"_meta": {"owner": "team"}}}});
        assert_eq!(parse_record("i", &foreign_meta), Ok(Recorded::Unrecorded));
        let broken = json!({"i": {"mappings": {"_meta": {"backfill": {"migration": 3}}}}});
        assert!(parse_record("i", &broken).is_err());
    }
}
