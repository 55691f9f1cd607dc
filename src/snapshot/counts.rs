//! What a snapshot holds, counted without reading a document: each shard is opened (its file list from
//! `snap-<uuid>.dat`, then `segments_N`, `.si` and the deletions, as [`Repository::open_shard`] does) and reports
//! its live documents and the bytes of the files it lists. `plan`'s preflight and `compare` count this way.
//!
//! Opening a shard is a handful of small reads, each a round trip on S3, so index metadata and shards are read a
//! few at a time on scoped threads (the reader is synchronous). Results come back in input order.

use std::sync::mpsc;

use super::{IndexInfo, Repository, SnapshotError, SnapshotInfo};

/// How many index metadata blobs or shards are read at once by default: enough to hide S3 latency, few enough
/// not to be throttled.
pub(crate) const READ_CONCURRENCY: usize = 8;

/// One shard, from its metadata only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ShardCounts {
    /// Documents that are neither hard- nor soft-deleted.
    pub(crate) live_documents: u64,
    /// Bytes of the Lucene files the shard snapshot lists.
    pub(crate) bytes: u64,
}

impl SnapshotInfo {
    /// The names of this snapshot's indices that `keep` accepts (a migration's selection), in snapshot order.
    pub(crate) fn indices_where(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        self.indices.iter().filter(|n| keep(n)).cloned().collect()
    }
}

impl Repository {
    /// The metadata of the named indices of `snapshot`, read `concurrency` at a time.
    pub(crate) fn read_indices(
        &self,
        snapshot: &SnapshotInfo,
        names: &[String],
        concurrency: usize,
    ) -> Vec<Result<IndexInfo, SnapshotError>> {
        bounded_map(names, concurrency, |name| self.index(snapshot, name))
    }

    /// Per index, per shard (`result[i][s]` for shard `s` of `indices[i]`): live documents and bytes, shards
    /// opened `concurrency` at a time.
    pub(crate) fn count_shards(
        &self,
        snapshot: &SnapshotInfo,
        indices: &[IndexInfo],
        concurrency: usize,
    ) -> Vec<Vec<Result<ShardCounts, SnapshotError>>> {
        let shards: Vec<(usize, u32)> = indices
            .iter()
            .enumerate()
            .flat_map(|(i, index)| (0..index.shards).map(move |s| (i, s)))
            .collect();
        let counted = bounded_map(&shards, concurrency, |&(i, shard)| {
            self.open_shard(snapshot, &indices[i], shard)
                .map(|open| ShardCounts {
                    live_documents: open.lucene.live_doc_count(),
                    bytes: open.bytes,
                })
        });
        let mut out: Vec<Vec<_>> = indices.iter().map(|_| Vec::new()).collect();
        for ((i, _), result) in shards.into_iter().zip(counted) {
            out[i].push(result);
        }
        out
    }
}

/// `f` over `items` on at most `concurrency` scoped threads; results in input order.
fn bounded_map<T: Sync, R: Send>(
    items: &[T],
    concurrency: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = concurrency.clamp(1, items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, f) = (&next, &f);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, f(item))).is_err() {
                        break;
                    }
                }
            });
        }
    });
    drop(tx);
    let mut slots: Vec<Option<R>> = items.iter().map(|_| None).collect();
    for (i, result) in rx {
        slots[i] = Some(result);
    }
    // Every index below `items.len()` was taken by exactly one thread, and scoped threads all finished.
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_keeps_the_input_order_whatever_the_concurrency() {
        let items: Vec<u32> = (0..50).collect();
        for concurrency in [0, 1, 3, 8, 100] {
            let doubled = bounded_map(&items, concurrency, |n| n * 2);
            assert_eq!(doubled, (0..50).map(|n| n * 2).collect::<Vec<_>>());
        }
        assert!(bounded_map(&Vec::<u32>::new(), 4, |n| *n).is_empty());
    }
}
