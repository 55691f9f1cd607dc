//! What a work item records about its documents when it completes or hands off, so that a target holding fewer
//! (or more) documents than the source is explained by the working state, never silent:
//!
//! - `documentsMigrated` / `failedDocuments`: sent and indexed / failed for good (the target rejected them, or
//!   they could not become bulk actions);
//! - `skippedDocuments`: source documents not sent because the configuration says so — a type that
//!   `source.type_mappings` leaves out, or a document a `transforms` program turns into no document;
//! - `extraDocuments`: documents sent beyond one per source document (a program with several outputs);
//! - `targetIndices`: the target indices the item's documents went to (after type mapping and transforms), at
//!   most [`MAX_TARGET_INDICES`] names, then [`MORE_TARGET_INDICES`] (`*` is never a valid index name).
//!
//! `compare` reads them back to say how many documents each target index should hold. Pure: no I/O.

use std::collections::BTreeSet;

use super::lease::WorkItem;

/// Names recorded per item before [`MORE_TARGET_INDICES`] stands for the rest.
pub const MAX_TARGET_INDICES: usize = 32;
/// Recorded last in `targetIndices` when an item sent documents to more than [`MAX_TARGET_INDICES`] indices.
pub const MORE_TARGET_INDICES: &str = "*";

/// One item's document counts (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemCounts {
    pub migrated: u64,
    pub failed: u64,
    pub skipped: u64,
    pub extra: u64,
    /// Target indices documents were sent to: at most [`MAX_TARGET_INDICES`] names, then
    /// [`MORE_TARGET_INDICES`].
    pub targets: BTreeSet<String>,
}

impl ItemCounts {
    /// Counts of an item that only sent documents (nothing skipped, one document per source document).
    pub fn sent(migrated: u64, failed: u64) -> Self {
        ItemCounts {
            migrated,
            failed,
            ..Default::default()
        }
    }

    /// Adds a target index name, keeping at most [`MAX_TARGET_INDICES`] (then [`MORE_TARGET_INDICES`]).
    pub fn add_target(&mut self, index: &str) {
        if self.targets.contains(index) || self.targets.contains(MORE_TARGET_INDICES) {
            return;
        }
        if self.targets.len() >= MAX_TARGET_INDICES {
            self.targets.insert(MORE_TARGET_INDICES.to_string());
        } else {
            self.targets.insert(index.to_string());
        }
    }

    /// Writes the counts into `item` (every field present, so readers can tell our items from upstream's).
    pub(crate) fn record_in(&self, item: &mut WorkItem) {
        item.documents_migrated = Some(self.migrated);
        item.failed_documents = Some(self.failed);
        item.skipped_documents = Some(self.skipped);
        item.extra_documents = Some(self.extra);
        item.target_indices = Some(self.targets.iter().cloned().collect());
    }

    /// The counts `item` recorded; `None` for items that record no target indices (written by upstream or
    /// an older backfill, or not finished): their documents' destinations are unknown.
    pub(crate) fn recorded_in(item: &WorkItem) -> Option<Self> {
        let targets = item.target_indices.as_ref()?;
        Some(ItemCounts {
            migrated: item.documents_migrated.unwrap_or(0),
            failed: item.failed_documents.unwrap_or(0),
            skipped: item.skipped_documents.unwrap_or(0),
            extra: item.extra_documents.unwrap_or(0),
            targets: targets.iter().cloned().collect(),
        })
    }

    /// Whether some target index names were not recorded.
    pub fn targets_overflow(&self) -> bool {
        self.targets.contains(MORE_TARGET_INDICES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::lease::{WorkItemId, unassigned};

    #[test]
    fn target_names_are_capped_and_the_cap_is_marked() {
        let mut c = ItemCounts::default();
        for n in 0..40 {
            c.add_target(&format!("logs-{n:02}"));
        }
        c.add_target("logs-00");
        assert_eq!(c.targets.len(), MAX_TARGET_INDICES + 1);
        assert!(c.targets_overflow());
        assert!(!ItemCounts::sent(1, 0).targets_overflow());
    }

    #[test]
    fn counts_round_trip_through_the_stored_item_and_upstream_items_record_none() {
        let id = WorkItemId {
            index: "orders".into(),
            shard: 0,
            starting_doc: 0,
        };
        let mut item = unassigned(&id, "w0", 0);
        assert_eq!(ItemCounts::recorded_in(&item), None);
        let mut counts = ItemCounts {
            migrated: 7,
            failed: 1,
            skipped: 3,
            extra: 2,
            ..Default::default()
        };
        counts.add_target("orders-refunds");
        counts.add_target("orders");
        counts.record_in(&mut item);
        let stored = serde_json::to_value(&item).expect("json");
        assert_eq!(stored["skippedDocuments"], 3);
        assert_eq!(stored["extraDocuments"], 2);
        assert_eq!(
            stored["targetIndices"],
            serde_json::json!(["orders", "orders-refunds"])
        );
        let back: WorkItem = serde_json::from_value(stored).expect("parse");
        assert_eq!(ItemCounts::recorded_in(&back), Some(counts));
    }
}
