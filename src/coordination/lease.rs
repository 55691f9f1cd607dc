//! Work items and their lease transitions, as pure functions over the stored document — the decisions of the
//! optimistic-concurrency protocol (worker.md 1.5) without any I/O. The adapter that performs the conditional
//! writes (`_create`, `if_seq_no`/`if_primary_term`) applies exactly these values, so the guarantees below are
//! properties of this file plus "every write is a compare-and-set on the version that was read":
//!
//! 1. At most one live lease per item: a claim is computed only from a version whose lease has expired (or
//!    that does not exist), and the write is conditional on that version.
//! 2. Each claim raises `expiration` to `now + 2^exponent × window` and increments the exponent exactly once,
//!    so a re-acquired item gets twice the previous lease.
//! 3. `completedAt` is terminal: no transition clears it, and none succeeds on a completed item.
//! 4. Only the holder (by `leaseHolderId`) may record successors or complete.
//! 5. `successor_items` is write-once: recording succeeds only when absent or equal. The order is always
//!    successors recorded → successors created (create-only) → parent completed.
//!
//! Stored times are epoch seconds, as the upstream workers write them (`now` comes in as a [`Timestamp`] and is
//! rounded down to its second); ids are `base64url(index)__shard__startDoc`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::item_counts::ItemCounts;
use crate::time::Timestamp;

/// The version of this document schema; workers of different versions must not share a working state.
pub(crate) const SCRIPT_VERSION: &str = "3.0";
/// The id of the one-time setup mutex.
pub(crate) const SHARD_SETUP_ID: &str = "shard_setup";

/// Which part of which shard an item covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkItemId {
    pub index: String,
    pub shard: u32,
    /// First global document to migrate (0 for a whole shard; a checkpoint for successors).
    pub starting_doc: u64,
}

impl WorkItemId {
    /// `base64url_nopad(index)__<shard>__<startingDoc>`.
    pub fn to_id(&self) -> String {
        format!(
            "{}__{}__{}",
            URL_SAFE_NO_PAD.encode(self.index.as_bytes()),
            self.shard,
            self.starting_doc
        )
    }

    /// Parses an id written by this tool or by the upstream workers; `None` for other documents.
    pub(crate) fn parse(id: &str) -> Option<WorkItemId> {
        let parts: Vec<&str> = id.split("__").filter(|p| !p.is_empty()).collect();
        let [index, shard, start] = parts.as_slice() else {
            return None;
        };
        let index = String::from_utf8(URL_SAFE_NO_PAD.decode(index).ok()?).ok()?;
        Some(WorkItemId {
            index,
            shard: shard.parse().ok()?,
            starting_doc: start.parse().ok()?,
        })
    }
}

/// A work-item document as stored in `.migrations_working_state` (field names as upstream writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkItem {
    pub script_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    pub expiration: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_holder_id: Option<String>,
    #[serde(default)]
    pub next_acquisition_lease_exponent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<i64>,
    #[serde(
        rename = "successor_items",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub successor_items: Option<String>,
    /// Documents this item's holder migrated (our addition; `status` sums it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_migrated: Option<u64>,
    /// Documents the target rejected for good (our addition; makes `CompletedWithErrors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_documents: Option<u64>,
    /// Source documents not sent because the configuration says so (our addition; see [`ItemCounts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_documents: Option<u64>,
    /// Documents sent beyond one per source document (our addition; see [`ItemCounts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_documents: Option<u64>,
    /// Target indices this item sent documents to (our addition; see [`ItemCounts`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_indices: Option<Vec<String>>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the item is already completed")]
    Completed,
    #[error("the item is leased by {holder} until {until}")]
    Leased { holder: String, until: i64 },
    #[error("this worker does not hold the lease (holder: {holder:?})")]
    NotHolder { holder: Option<String> },
    #[error("successors `{existing}` are already recorded")]
    OtherSuccessors { existing: String },
    #[error("the item was written by schema version {found}, this worker uses {SCRIPT_VERSION}")]
    VersionMismatch { found: String },
}

/// A new, unleased item (`expiration: 0` = claimable at once).
pub(crate) fn unassigned(id: &WorkItemId, creator: &str, exponent: u32) -> WorkItem {
    WorkItem {
        script_version: SCRIPT_VERSION.to_string(),
        index_name: Some(id.index.clone()),
        expiration: 0,
        creator_id: Some(creator.to_string()),
        lease_holder_id: None,
        next_acquisition_lease_exponent: exponent,
        completed_at: None,
        successor_items: None,
        documents_migrated: None,
        failed_documents: None,
        skipped_documents: None,
        extra_documents: None,
        target_indices: None,
    }
}

fn check_version(item: &WorkItem) -> Result<(), Refusal> {
    if item.script_version != SCRIPT_VERSION {
        return Err(Refusal::VersionMismatch {
            found: item.script_version.clone(),
        });
    }
    Ok(())
}

/// Lease length for an exponent: `window × 2^exponent`, capped so it never overflows.
pub(crate) fn lease_seconds(window_seconds: u64, exponent: u32) -> i64 {
    let factor = 1u64.checked_shl(exponent.min(20)).unwrap_or(1 << 20);
    i64::try_from(window_seconds.saturating_mul(factor)).unwrap_or(i64::MAX / 4)
}

/// Claims an expired, incomplete item for `me`: the new document to write conditionally.
pub(crate) fn claim(
    item: &WorkItem,
    me: &str,
    now: Timestamp,
    window_seconds: u64,
) -> Result<WorkItem, Refusal> {
    check_version(item)?;
    let now = now.epoch_seconds();
    if item.completed_at.is_some() {
        return Err(Refusal::Completed);
    }
    if item.expiration >= now {
        return Err(Refusal::Leased {
            holder: item.lease_holder_id.clone().unwrap_or_default(),
            until: item.expiration,
        });
    }
    let mut next = item.clone();
    next.lease_holder_id = Some(me.to_string());
    next.expiration = now.saturating_add(lease_seconds(
        window_seconds,
        item.next_acquisition_lease_exponent,
    ));
    next.next_acquisition_lease_exponent = item.next_acquisition_lease_exponent.saturating_add(1);
    Ok(next)
}

fn check_holder(item: &WorkItem, me: &str) -> Result<(), Refusal> {
    check_version(item)?;
    if item.completed_at.is_some() {
        return Err(Refusal::Completed);
    }
    if item.lease_holder_id.as_deref() != Some(me) {
        return Err(Refusal::NotHolder {
            holder: item.lease_holder_id.clone(),
        });
    }
    Ok(())
}

/// Records the successors (write-once) with the counts of the prefix this item covers: the first step of a
/// checkpoint handoff. The counts travel with the successors, so whoever finishes the handoff (this worker, or
/// another one after a crash between the steps) completes the item with the right numbers.
pub(crate) fn record_successors(
    item: &WorkItem,
    me: &str,
    successors: &[String],
    counts: &ItemCounts,
) -> Result<WorkItem, Refusal> {
    check_holder(item, me)?;
    let joined = successors.join(",");
    match &item.successor_items {
        Some(existing) if *existing != joined => Err(Refusal::OtherSuccessors {
            existing: existing.clone(),
        }),
        Some(_) => Ok(item.clone()),
        None => {
            let mut next = item.clone();
            next.successor_items = Some(joined);
            counts.record_in(&mut next);
            Ok(next)
        }
    }
}

/// The successors an interrupted handoff recorded: an item claimed with these must not be migrated again from
/// its start; the claimer finishes the handoff instead (creates them, completes the item), as upstream does.
pub(crate) fn recorded_successors(item: &WorkItem) -> Option<Vec<WorkItemId>> {
    let joined = item.successor_items.as_deref()?;
    Some(
        joined
            .split(',')
            .filter(|id| !id.is_empty())
            .filter_map(WorkItemId::parse)
            .collect(),
    )
}

/// Completes an item whose handoff was interrupted after its successors were recorded, keeping the counts the
/// handing-off holder recorded with them.
pub(crate) fn complete_handoff(
    item: &WorkItem,
    me: &str,
    now: Timestamp,
) -> Result<WorkItem, Refusal> {
    check_holder(item, me)?;
    let mut next = item.clone();
    next.completed_at = Some(now.epoch_seconds());
    next.documents_migrated = Some(item.documents_migrated.unwrap_or(0));
    next.failed_documents = Some(item.failed_documents.unwrap_or(0));
    next.skipped_documents = Some(item.skipped_documents.unwrap_or(0));
    Ok(next)
}

/// Completes the item (terminal), with the holder's document counts.
pub(crate) fn complete(
    item: &WorkItem,
    me: &str,
    now: Timestamp,
    counts: &ItemCounts,
) -> Result<WorkItem, Refusal> {
    check_holder(item, me)?;
    let mut next = item.clone();
    next.completed_at = Some(now.epoch_seconds());
    counts.record_in(&mut next);
    Ok(next)
}

/// Gives the lease back without progress (nothing acknowledged yet): `expiration: 0` makes the item claimable at
/// once, the holder is cleared, the exponent is kept (the next claim gets the doubled lease, as upstream).
pub(crate) fn release(item: &WorkItem, me: &str) -> Result<WorkItem, Refusal> {
    check_holder(item, me)?;
    let mut next = item.clone();
    next.expiration = 0;
    next.lease_holder_id = None;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(epoch_seconds: i64) -> Timestamp {
        Timestamp::from_epoch_seconds(epoch_seconds)
    }

    fn id() -> WorkItemId {
        WorkItemId {
            index: "my-index".into(),
            shard: 3,
            starting_doc: 0,
        }
    }

    #[test]
    fn ids_match_the_upstream_form_and_allow_double_underscores_in_names() {
        assert_eq!(
            WorkItemId {
                index: "my-index".into(),
                shard: 0,
                starting_doc: 0
            }
            .to_id(),
            "bXktaW5kZXg__0__0"
        );
        let odd = WorkItemId {
            index: "a__b".into(),
            shard: 12,
            starting_doc: 4096,
        };
        assert_eq!(WorkItemId::parse(&odd.to_id()), Some(odd));
        assert_eq!(WorkItemId::parse(SHARD_SETUP_ID), None);
        assert_eq!(WorkItemId::parse("bXktaW5kZXg__x__0"), None);
    }

    #[test]
    fn a_claim_takes_an_expired_item_and_doubles_the_next_lease() {
        let item = unassigned(&id(), "w0", 0);
        let first = claim(&item, "w1", at(1_000), 600).expect("claimable");
        assert_eq!(
            (
                first.lease_holder_id.as_deref(),
                first.expiration,
                first.next_acquisition_lease_exponent
            ),
            (Some("w1"), 1_600, 1)
        );
        // Held: nobody else may claim before it expires.
        assert_eq!(
            claim(&first, "w2", at(1_599), 600),
            Err(Refusal::Leased {
                holder: "w1".into(),
                until: 1_600
            })
        );
        assert!(
            claim(&first, "w2", at(1_600), 600).is_err(),
            "expiration is inclusive"
        );
        // Expired: the next claim gets twice the lease.
        let second = claim(&first, "w2", at(1_601), 600).expect("expired");
        assert_eq!(
            (second.expiration, second.next_acquisition_lease_exponent),
            (1_601 + 1_200, 2)
        );
    }

    #[test]
    fn completion_is_terminal_and_only_the_holder_may_write() {
        let held = claim(&unassigned(&id(), "w0", 0), "w1", at(10), 60).expect("claim");
        assert_eq!(
            complete(&held, "w2", at(20), &ItemCounts::sent(5, 0)),
            Err(Refusal::NotHolder {
                holder: Some("w1".into())
            })
        );
        let done =
            complete(&held, "w1", at(20), &ItemCounts::sent(5, 1)).expect("holder completes");
        assert_eq!(
            (
                done.completed_at,
                done.documents_migrated,
                done.failed_documents
            ),
            (Some(20), Some(5), Some(1))
        );
        assert_eq!(claim(&done, "w2", at(10_000), 60), Err(Refusal::Completed));
        assert_eq!(
            complete(&done, "w1", at(30), &ItemCounts::sent(5, 0)),
            Err(Refusal::Completed)
        );
        assert_eq!(
            record_successors(&done, "w1", &["x".into()], &ItemCounts::sent(0, 0)),
            Err(Refusal::Completed)
        );
    }

    #[test]
    fn a_release_makes_the_item_claimable_at_once_and_only_the_holder_may_release() {
        let held = claim(&unassigned(&id(), "w0", 0), "w1", at(10), 60).expect("claim");
        assert!(matches!(
            release(&held, "w2"),
            Err(Refusal::NotHolder { .. })
        ));
        let free = release(&held, "w1").expect("holder releases");
        assert_eq!(
            (
                free.expiration,
                free.lease_holder_id.as_deref(),
                free.next_acquisition_lease_exponent
            ),
            (0, None, 1)
        );
        assert!(claim(&free, "w2", at(11), 60).is_ok());
    }

    #[test]
    fn successors_are_write_once_and_idempotent() {
        let held = claim(&unassigned(&id(), "w0", 0), "w1", at(10), 60).expect("claim");
        let next = WorkItemId {
            starting_doc: 500,
            ..id()
        }
        .to_id();
        let recorded = record_successors(
            &held,
            "w1",
            std::slice::from_ref(&next),
            &ItemCounts::sent(7, 1),
        )
        .expect("first");
        assert_eq!(
            (recorded.documents_migrated, recorded.failed_documents),
            (Some(7), Some(1))
        );
        assert_eq!(
            record_successors(
                &recorded,
                "w1",
                std::slice::from_ref(&next),
                &ItemCounts::sent(9, 9)
            ),
            Ok(recorded.clone()),
            "same value again is fine"
        );
        assert!(matches!(
            record_successors(&recorded, "w1", &["other".into()], &ItemCounts::sent(7, 1)),
            Err(Refusal::OtherSuccessors { .. })
        ));
    }

    #[test]
    fn an_interrupted_handoff_is_finished_by_the_next_claimer_with_the_recorded_counts() {
        let held = claim(&unassigned(&id(), "w0", 0), "w1", at(10), 60).expect("claim");
        let successor = WorkItemId {
            starting_doc: 200,
            ..id()
        };
        let recorded =
            record_successors(&held, "w1", &[successor.to_id()], &ItemCounts::sent(200, 3))
                .expect("record");
        // w1 dies here: the lease runs out, w2 claims the item and must not migrate it from document 0.
        let reclaimed = claim(&recorded, "w2", at(10_000), 60).expect("expired lease is claimable");
        assert_eq!(recorded_successors(&reclaimed), Some(vec![successor]));
        let done = complete_handoff(&reclaimed, "w2", at(10_001)).expect("holder finishes");
        assert_eq!(
            (
                done.completed_at,
                done.documents_migrated,
                done.failed_documents
            ),
            (Some(10_001), Some(200), Some(3))
        );
        assert!(matches!(
            complete_handoff(&reclaimed, "w1", at(10_001)),
            Err(Refusal::NotHolder { .. })
        ));
        assert_eq!(recorded_successors(&held), None);
    }

    #[test]
    fn documents_of_another_schema_version_are_refused() {
        let mut item = unassigned(&id(), "w0", 0);
        item.script_version = "2.0".into();
        assert_eq!(
            claim(&item, "w1", at(10), 60),
            Err(Refusal::VersionMismatch {
                found: "2.0".into()
            })
        );
    }

    #[test]
    fn lease_lengths_never_overflow() {
        assert_eq!(lease_seconds(600, 0), 600);
        assert_eq!(lease_seconds(600, 3), 4_800);
        assert!(lease_seconds(u64::MAX, 64) > 0);
    }

    #[test]
    fn stored_documents_use_the_upstream_field_names() {
        let item = claim(&unassigned(&id(), "w0", 0), "w1", at(10), 60).expect("claim");
        let json = serde_json::to_value(&item).expect("json");
        for key in [
            "scriptVersion",
            "expiration",
            "creatorId",
            "leaseHolderId",
            "nextAcquisitionLeaseExponent",
            "indexName",
        ] {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        let upstream = serde_json::json!({"scriptVersion": "3.0", "expiration": 0, "creatorId": "x", "nextAcquisitionLeaseExponent": 0, "successor_items": "a,b", "completedAt": 5});
        let parsed: WorkItem = serde_json::from_value(upstream).expect("reads upstream items");
        assert_eq!(
            (parsed.successor_items.as_deref(), parsed.completed_at),
            (Some("a,b"), Some(5))
        );
    }
}
