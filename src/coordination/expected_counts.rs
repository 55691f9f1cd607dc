//! How many documents the target should hold, per group of indices, for `compare`: the snapshot's live
//! documents of each source index, less those the configuration leaves out (`skippedDocuments`), plus those a
//! transform emitted beyond one per source document (`extraDocuments`), compared with the target indices the
//! work items recorded sending to (`targetIndices`, after type mapping and transforms).
//!
//! Source and target indices connected by a recorded route form one group (a type mapping that splits an index,
//! or merges several, a transform that renames one); the group's sums are compared. An index whose work items
//! record no target indices (written by another tool or an older backfill) is compared under its own name when
//! the configuration changes nothing about it, and is otherwise reported as not comparable — as is one whose
//! documents went to more indices than an item records: never a false mismatch, never a false match.
//! Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::item_counts::ItemCounts;
use super::lease::{WorkItem, WorkItemId};

/// What the work items of one source index recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRecord {
    pub skipped: u64,
    pub extra: u64,
    pub targets: BTreeSet<String>,
    /// Some completed item recorded no counts (upstream or an older backfill wrote it).
    pub unrecorded: bool,
    /// Items not completed yet: their documents are not counted yet.
    pub incomplete: u64,
}

/// Folds the working state's documents (`_id` → `_source`) into a record per source index.
pub fn records(documents: &[Map<String, Value>]) -> BTreeMap<String, SourceRecord> {
    let mut out: BTreeMap<String, SourceRecord> = BTreeMap::new();
    for (doc_id, source) in documents.iter().flatten() {
        let (Some(id), Ok(item)) = (
            WorkItemId::parse(doc_id),
            serde_json::from_value::<WorkItem>(source.clone()),
        ) else {
            continue;
        };
        let record = out.entry(id.index).or_default();
        if item.completed_at.is_none() {
            record.incomplete += 1;
            continue;
        }
        match ItemCounts::recorded_in(&item) {
            Some(counts) => {
                record.skipped += counts.skipped;
                record.extra += counts.extra;
                record.targets.extend(counts.targets);
            }
            None => record.unrecorded = true,
        }
    }
    out
}

/// One source index: its live documents in the snapshot, what its work items recorded, and whether the
/// configuration (type mappings, transforms) may send its documents elsewhere than an index of its own name.
#[derive(Debug, Clone)]
pub struct SourceIndex {
    pub name: String,
    pub live: u64,
    pub record: Option<SourceRecord>,
    pub configured: bool,
}

/// The verdict of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result", content = "why")]
pub enum Verdict {
    Ok,
    Different,
    /// Not compared, and why.
    Unknown(String),
}

/// One group of source indices and the target indices their documents went to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    /// Live documents of the sources in the snapshot.
    pub source: u64,
    /// Not sent because the configuration leaves them out.
    pub skipped: u64,
    /// Sent beyond one per source document.
    pub extra: u64,
    /// What the targets should hold: `source - skipped + extra`.
    pub expected: u64,
    /// What they hold (`None` until counted, or when none exists).
    pub target: Option<u64>,
    /// Target indices that do not exist.
    pub missing: Vec<String>,
    pub verdict: Verdict,
    /// Work items not completed yet (the counts are not final).
    pub incomplete: u64,
}

/// Where a source index's documents went, or why that is unknown.
fn targets_of(s: &SourceIndex) -> Result<BTreeSet<String>, String> {
    match &s.record {
        Some(r) if r.targets.contains(super::item_counts::MORE_TARGET_INDICES) => Err(format!(
            "the documents of {} went to more than {} target indices; the working state records only the first ones",
            s.name,
            super::item_counts::MAX_TARGET_INDICES
        )),
        Some(r) if !r.unrecorded && !r.targets.is_empty() => Ok(r.targets.clone()),
        // Nothing sent: a source index that stays under its own name would still be compared by it.
        Some(r) if !r.unrecorded && !s.configured => Ok(BTreeSet::from([s.name.clone()])),
        Some(r) if !r.unrecorded && r.incomplete == 0 => Ok(BTreeSet::new()),
        _ if !s.configured => Ok(BTreeSet::from([s.name.clone()])),
        Some(r) if !r.unrecorded => Err(format!(
            "type mappings or transforms decide where the documents of {} go, and none of its work items has completed yet",
            s.name
        )),
        _ => Err(format!(
            "type mappings or transforms decide where the documents of {} go, and its work items record no target indices (written by another tool or an older backfill)",
            s.name
        )),
    }
}

/// Groups the source indices by the target indices they share. `target_counts` says how many documents each
/// target index holds (`None`: it does not exist); groups come back in the order of their first source.
pub fn groups(
    sources: &[SourceIndex],
    target_counts: &BTreeMap<String, Option<u64>>,
) -> Vec<Group> {
    // Union-find over source positions, joined through shared targets.
    let mut parent: Vec<usize> = (0..sources.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let routes: Vec<Result<BTreeSet<String>, String>> = sources.iter().map(targets_of).collect();
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, route) in routes.iter().enumerate() {
        for t in route.iter().flatten() {
            match owner.get(t.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(t, i);
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..sources.len() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Group> = by_root
        .into_values()
        .map(|members| group(&members, sources, &routes, target_counts))
        .collect();
    groups.sort_by_key(|g| {
        sources
            .iter()
            .position(|s| g.sources.first() == Some(&s.name))
    });
    groups
}

fn group(
    members: &[usize],
    sources: &[SourceIndex],
    routes: &[Result<BTreeSet<String>, String>],
    target_counts: &BTreeMap<String, Option<u64>>,
) -> Group {
    let mut g = Group {
        sources: members.iter().map(|&i| sources[i].name.clone()).collect(),
        targets: Vec::new(),
        source: 0,
        skipped: 0,
        extra: 0,
        expected: 0,
        target: None,
        missing: Vec::new(),
        verdict: Verdict::Ok,
        incomplete: 0,
    };
    let mut targets = BTreeSet::new();
    let mut unknown = None;
    for &i in members {
        let s = &sources[i];
        g.source += s.live;
        if let Some(r) = &s.record {
            g.skipped += r.skipped;
            g.extra += r.extra;
            g.incomplete += r.incomplete;
        }
        match &routes[i] {
            Ok(t) => targets.extend(t.iter().cloned()),
            Err(why) => unknown = Some(why.clone()),
        }
    }
    g.targets = targets.into_iter().collect();
    g.expected = (g.source + g.extra).saturating_sub(g.skipped);
    let mut held = None;
    for t in &g.targets {
        match target_counts.get(t).copied().flatten() {
            Some(n) => held = Some(held.unwrap_or(0) + n),
            None => g.missing.push(t.clone()),
        }
    }
    g.target = held;
    g.verdict = match unknown {
        Some(why) => Verdict::Unknown(why),
        None if held.unwrap_or(0) == g.expected && g.missing.is_empty() => Verdict::Ok,
        None => Verdict::Different,
    };
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(skipped: u64, extra: u64, targets: &[&str]) -> Option<SourceRecord> {
        Some(SourceRecord {
            skipped,
            extra,
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        })
    }

    fn source(
        name: &str,
        live: u64,
        record: Option<SourceRecord>,
        configured: bool,
    ) -> SourceIndex {
        SourceIndex {
            name: name.into(),
            live,
            record,
            configured,
        }
    }

    fn counts(pairs: &[(&str, Option<u64>)]) -> BTreeMap<String, Option<u64>> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn items_fold_into_one_record_per_source_index() {
        let id = |shard, start| {
            WorkItemId {
                index: "orders".into(),
                shard,
                starting_doc: start,
            }
            .to_id()
        };
        let item = |completed: Option<i64>, extra: Value| {
            let mut v =
                json!({"scriptVersion": "3.0", "expiration": 0, "nextAcquisitionLeaseExponent": 0});
            if let Some(at) = completed {
                v["completedAt"] = json!(at);
            }
            v.as_object_mut()
                .expect("object")
                .extend(extra.as_object().cloned().unwrap_or_default());
            v
        };
        let mut page = Map::new();
        page.insert(
            id(0, 0),
            item(
                Some(5),
                json!({"skippedDocuments": 3, "extraDocuments": 1, "targetIndices": ["orders"]}),
            ),
        );
        page.insert(
            id(0, 100),
            item(
                Some(6),
                json!({"skippedDocuments": 2, "targetIndices": ["orders-refunds"]}),
            ),
        );
        page.insert(id(1, 0), item(None, json!({})));
        page.insert("shard_setup".into(), json!({"completedAt": 1}));
        let r = records(&[page]);
        assert_eq!(
            r["orders"],
            SourceRecord {
                skipped: 5,
                extra: 1,
                targets: ["orders", "orders-refunds"].map(String::from).into(),
                unrecorded: false,
                incomplete: 1,
            }
        );
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_type_left_out_and_a_split_are_expected_not_missing_documents() {
        // orders: 10 live, 3 of a type left out, the rest split into two indices holding 7 together.
        let sources = [
            source(
                "orders",
                10,
                record(3, 0, &["orders", "orders-refunds"]),
                true,
            ),
            source("plain", 4, None, false),
        ];
        let g = groups(
            &sources,
            &counts(&[
                ("orders", Some(5)),
                ("orders-refunds", Some(2)),
                ("plain", Some(4)),
            ]),
        );
        assert_eq!(g.len(), 2);
        assert_eq!(
            (g[0].expected, g[0].target, &g[0].verdict),
            (7, Some(7), &Verdict::Ok)
        );
        assert_eq!(g[0].targets, ["orders", "orders-refunds"]);
        assert_eq!(
            (g[1].sources.as_slice(), &g[1].verdict),
            (&["plain".to_string()][..], &Verdict::Ok)
        );
    }

    #[test]
    fn real_losses_still_show_after_skips_renames_and_merges() {
        // Two indices renamed into one: 6 + 4 live, 1 filtered out, 2 extra outputs; one document lost.
        let sources = [
            source("logs-a", 6, record(1, 2, &["app"]), true),
            source("logs-b", 4, record(0, 0, &["app"]), true),
        ];
        let g = groups(&sources, &counts(&[("app", Some(10))]));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].sources, ["logs-a", "logs-b"]);
        assert_eq!((g[0].expected, g[0].target), (11, Some(10)));
        assert_eq!(g[0].verdict, Verdict::Different);
        let missing = groups(&sources, &counts(&[]));
        assert_eq!(missing[0].missing, ["app"]);
        assert_eq!(missing[0].verdict, Verdict::Different);
    }

    #[test]
    fn unknown_destinations_are_said_never_guessed() {
        let many = {
            let mut r = record(0, 0, &["a"]);
            if let Some(r) = r.as_mut() {
                r.targets.insert("*".into());
            }
            r
        };
        let unrecorded = Some(SourceRecord {
            unrecorded: true,
            ..Default::default()
        });
        let sources = [
            source("per-day", 5, many, true),
            source("old", 3, unrecorded.clone(), true),
            source("old-plain", 3, unrecorded, false),
        ];
        let g = groups(&sources, &counts(&[("a", Some(1)), ("old-plain", Some(3))]));
        assert!(
            matches!(&g[0].verdict, Verdict::Unknown(why) if why.contains("more than 32 target indices"))
        );
        assert!(
            matches!(&g[1].verdict, Verdict::Unknown(why) if why.contains("record no target indices"))
        );
        assert_eq!(
            g[2].verdict,
            Verdict::Ok,
            "nothing configured: compared under its own name"
        );
        let running = Some(SourceRecord {
            incomplete: 2,
            ..Default::default()
        });
        let g = groups(&[source("logs", 3, running, true)], &counts(&[]));
        assert!(
            matches!(&g[0].verdict, Verdict::Unknown(why) if why.contains("none of its work items has completed yet")),
            "{g:?}"
        );
    }

    #[test]
    fn a_source_whose_documents_were_all_filtered_out_expects_nothing() {
        let sources = [source("debug", 5, record(5, 0, &[]), true)];
        let g = groups(&sources, &counts(&[]));
        assert_eq!(
            (g[0].expected, g[0].target, &g[0].verdict),
            (0, None, &Verdict::Ok)
        );
    }
}
