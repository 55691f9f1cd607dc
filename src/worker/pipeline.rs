//! Which checkpoint is safe while up to `max_connections` bulk requests are in flight. Batches are numbered in
//! the order they were read; they may be acknowledged in any order, but the checkpoint (the successor's
//! starting document) only moves past a *contiguous prefix* of acknowledged batches. An acknowledged batch
//! behind an unacknowledged one does not count yet, so a handoff never skips a document; it only re-sends the
//! batches after the first unacknowledged one (index-by-id makes that harmless). Nor does it move past a
//! document whose stored fields have not been checksum-verified yet (the reader streams a file and checks its
//! checksum at its end): a damaged byte that reached the target before the checksum caught it is re-sent by
//! whoever resumes from the checkpoint once the source is repaired, never left behind. Pure: no I/O, no clock.

use std::collections::VecDeque;

/// What one acknowledged batch did with the documents read into it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchCounts {
    pub(crate) indexed: u64,
    pub(crate) rejected: u64,
    /// Source documents the configuration leaves out (type mappings, transforms with no output).
    pub(crate) skipped: u64,
    /// Documents sent beyond one per source document.
    pub(crate) extra: u64,
}

impl BatchCounts {
    #[cfg(test)]
    pub(crate) fn sent(indexed: u64, rejected: u64) -> Self {
        BatchCounts {
            indexed,
            rejected,
            ..Default::default()
        }
    }

    fn add(&mut self, other: &BatchCounts) {
        self.indexed += other.indexed;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.extra += other.extra;
    }
}

/// One dispatched batch: its sequence number, the document after it, and its counts once acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dispatched {
    seq: u64,
    next_doc: u64,
    counts: Option<BatchCounts>,
}

/// The in-flight window of one work item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AckTracker {
    /// The first document after the acknowledged prefix (the item's starting document until one is acked).
    checkpoint: u64,
    /// Sequence number the next dispatched batch gets.
    next_seq: u64,
    /// Dispatched batches not yet folded into the checkpoint, oldest first.
    window: VecDeque<Dispatched>,
    /// Counts of the acknowledged prefix: what a handed-off item may claim, since the successor re-sends
    /// everything after the checkpoint.
    prefix_counts: BatchCounts,
    /// Every document below this one was read from checksum-verified stored fields.
    verified_below: u64,
}

impl AckTracker {
    /// A tracker for an item that starts at global document `starting_doc`.
    pub(crate) fn new(starting_doc: u64) -> Self {
        AckTracker {
            checkpoint: starting_doc,
            next_seq: 0,
            window: VecDeque::new(),
            prefix_counts: BatchCounts::default(),
            verified_below: starting_doc,
        }
    }

    /// Records that every document below global doc `doc` was read from stored fields whose checksum
    /// matched: acknowledged batches up to there may now fold into the checkpoint.
    pub(crate) fn verified_below(&mut self, doc: u64) {
        self.verified_below = self.verified_below.max(doc);
        self.fold();
    }

    /// Registers a batch about to be sent whose last document is `last_doc`; returns its sequence number.
    pub(crate) fn dispatch(&mut self, last_doc: u64) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.window.push_back(Dispatched {
            seq,
            next_doc: last_doc.saturating_add(1),
            counts: None,
        });
        seq
    }

    /// Records that batch `seq` was acknowledged by the target (every item indexed or rejected for good).
    /// Unknown or repeated sequence numbers are ignored.
    #[cfg(test)]
    pub(crate) fn ack(&mut self, seq: u64) {
        self.ack_counted(seq, BatchCounts::default());
    }

    /// [`AckTracker::ack`] with the batch's document counts.
    pub(crate) fn ack_counted(&mut self, seq: u64, counts: BatchCounts) {
        if let Some(entry) = self.window.iter_mut().find(|d| d.seq == seq) {
            entry.counts.get_or_insert(counts);
        }
        self.fold();
    }

    /// Folds the acknowledged, verified batches at the front of the window into the checkpoint.
    fn fold(&mut self) {
        while let Some(&Dispatched {
            next_doc,
            counts: Some(counts),
            ..
        }) = self.window.front()
        {
            if next_doc > self.verified_below {
                break;
            }
            self.checkpoint = next_doc;
            self.prefix_counts.add(&counts);
            self.window.pop_front();
        }
    }

    /// Counts of the acknowledged prefix.
    pub(crate) fn prefix_counts(&self) -> BatchCounts {
        self.prefix_counts
    }

    /// The first document not covered by the acknowledged prefix: where a successor must start.
    pub(crate) fn checkpoint(&self) -> u64 {
        self.checkpoint
    }

    /// Batches dispatched and not yet folded into the checkpoint (in flight, or acked behind one in flight).
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_acknowledged_prefix_only() {
        let mut t = AckTracker::new(0);
        t.verified_below(u64::MAX);
        let a = t.dispatch(99);
        let b = t.dispatch(199);
        t.ack_counted(b, BatchCounts::sent(100, 0));
        assert_eq!(
            t.prefix_counts(),
            BatchCounts::default(),
            "b is behind a, which is in flight"
        );
        t.ack_counted(a, BatchCounts::sent(98, 2));
        assert_eq!(t.prefix_counts(), BatchCounts::sent(198, 2));
        assert_eq!(t.checkpoint(), 200);
    }

    #[test]
    fn the_checkpoint_follows_in_order_acks() {
        let mut t = AckTracker::new(1_000);
        t.verified_below(u64::MAX);
        assert_eq!(t.checkpoint(), 1_000);
        let a = t.dispatch(1_099);
        let b = t.dispatch(1_199);
        assert_eq!(t.outstanding(), 2);
        t.ack(a);
        assert_eq!(t.checkpoint(), 1_100);
        t.ack(b);
        assert_eq!((t.checkpoint(), t.outstanding()), (1_200, 0));
    }

    #[test]
    fn an_ack_behind_an_unacknowledged_batch_does_not_move_the_checkpoint() {
        let mut t = AckTracker::new(0);
        t.verified_below(u64::MAX);
        let a = t.dispatch(99);
        let b = t.dispatch(199);
        let c = t.dispatch(299);
        t.ack(c);
        t.ack(b);
        assert_eq!(t.checkpoint(), 0, "batch a is still in flight");
        assert_eq!(t.outstanding(), 3);
        t.ack(a);
        assert_eq!((t.checkpoint(), t.outstanding()), (300, 0));
    }

    #[test]
    fn a_gap_holds_the_checkpoint_at_the_last_contiguous_batch() {
        let mut t = AckTracker::new(0);
        t.verified_below(u64::MAX);
        let seqs: Vec<u64> = (0..5).map(|i| t.dispatch(i * 10 + 9)).collect();
        for s in [0, 1, 3, 4] {
            t.ack(seqs[s]);
        }
        assert_eq!(t.checkpoint(), 20, "batch 2 (docs 20..29) never came back");
        // Unknown and repeated acks change nothing.
        t.ack(99);
        t.ack(seqs[0]);
        assert_eq!(t.checkpoint(), 20);
    }

    #[test]
    fn documents_skipped_between_batches_are_covered_by_the_next_batch() {
        // Deleted documents take global positions: a batch ends at its last live document.
        let mut t = AckTracker::new(0);
        t.verified_below(u64::MAX);
        let a = t.dispatch(149); // docs 0..=149 (some deleted)
        t.ack(a);
        assert_eq!(t.checkpoint(), 150);
    }

    #[test]
    fn the_checkpoint_waits_for_the_stored_fields_checksum() {
        let mut t = AckTracker::new(0);
        let a = t.dispatch(99);
        let b = t.dispatch(199);
        t.ack_counted(a, BatchCounts::sent(100, 0));
        t.ack_counted(b, BatchCounts::sent(100, 0));
        assert_eq!(
            (t.checkpoint(), t.prefix_counts()),
            (0, BatchCounts::sent(0, 0)),
            "acknowledged, but read before any checksum was checked"
        );
        t.verified_below(150);
        assert_eq!(
            (t.checkpoint(), t.prefix_counts()),
            (100, BatchCounts::sent(100, 0))
        );
        t.verified_below(u64::MAX);
        assert_eq!(
            (t.checkpoint(), t.prefix_counts()),
            (200, BatchCounts::sent(200, 0))
        );
    }
}
