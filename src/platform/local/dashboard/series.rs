//! The dashboard's numbers, a pure function of the log group's lines ([`Series::from_lines`]): the workers'
//! EMF metric lines and the supervisor's fleet samples, any other line ignored.
//!
//! - Time buckets are sized from the run's span (about [`TARGET_BUCKETS`] of them, 1 s at least, on round
//!   sizes), so a run of a few seconds still draws lines and a long one is not a thousand points.
//! - A counters line carries the deltas of the `PeriodMs` before its timestamp: they are spread evenly over
//!   that period, so a line every 10 s per worker does not draw a spike in one 1-s bucket (work items
//!   completed count at the line's time, when the item ended). Lines without a period (older workers, the
//!   shard gauges) count at their timestamp.
//! - Rate series get explicit zeros for quiet buckets (a gap is "nothing migrated", not a straight line to the
//!   next point); running workers hold their last sample.
//! - The span ends with the metric lines or the fleet's last active sample (and the first idle one after it):
//!   a completed migration's page does not stretch over the hours the idle supervisor keeps sampling.
//! - Per index (the `Index`/`Shard` properties of the counters lines): documents, failed documents and the
//!   shards whose item completed.

use std::collections::{BTreeMap, BTreeSet};

use crate::render::metrics as names;

/// About this many buckets over the run's span.
pub const TARGET_BUCKETS: u64 = 60;
/// Bucket sizes the span picks from (seconds); longer spans use whole hours.
const ROUND_SECONDS: &[u64] = &[1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
/// "Current" documents/s: the documents of this last stretch of the metric lines (a worker's line period).
pub const RATE_WINDOW_MS: u64 = 10_000;

/// The bucket size for a span of `span_ms`.
pub fn bucket_ms_for(span_ms: u64) -> u64 {
    let want = span_ms.div_ceil(TARGET_BUCKETS);
    ROUND_SECONDS
        .iter()
        .map(|s| s * 1000)
        .find(|b| *b >= want)
        .unwrap_or_else(|| want.div_ceil(3_600_000) * 3_600_000)
}

/// Progress of one source index, from the counters lines that name it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IndexProgress {
    pub documents: f64,
    pub failed: f64,
    /// Shards whose work item completed (the shard is exhausted).
    pub shards_done: BTreeSet<u64>,
}

/// Aggregated series, keyed by bucket start (epoch ms).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Series {
    pub bucket_ms: u64,
    pub documents: BTreeMap<u64, f64>,
    pub bytes: BTreeMap<u64, f64>,
    /// Cumulative.
    pub items_completed: BTreeMap<u64, f64>,
    pub failed: BTreeMap<u64, f64>,
    pub retries: BTreeMap<u64, f64>,
    pub running: BTreeMap<u64, f64>,
    /// Exact sums of the counters lines (not of the spread buckets).
    pub documents_total: f64,
    pub failed_total: f64,
    /// The workers' shard gauges: the latest total, the highest completed count.
    pub shards_total: Option<f64>,
    pub shards_completed: Option<f64>,
    /// From the first metric line's period start to the last metric line (epoch ms).
    pub span_ms: Option<(u64, u64)>,
    /// Documents/s over the last [`RATE_WINDOW_MS`] of the metric lines.
    pub recent_rate: f64,
    /// The fleet's last sample: `(running, desired)`.
    pub fleet: Option<(f64, f64)>,
    pub indices: BTreeMap<String, IndexProgress>,
}

/// The counters a line may carry, in the order of [`Series::counter_maps`].
const COUNTERS: [&str; 5] = [
    names::DOCUMENTS_MIGRATED,
    names::BYTES_MIGRATED,
    names::WORK_ITEMS_COMPLETED,
    names::FAILED_DOCUMENTS,
    names::BULK_RETRIES,
];

struct MetricLine {
    at: u64,
    /// Start of the period the counters cover (`at` when none).
    from: u64,
    counters: [f64; 5],
    index: Option<String>,
    shard: Option<u64>,
    shards_total: Option<f64>,
    shards_completed: Option<f64>,
    /// The shard gauges of an item that just completed (`ShardDurationMs`).
    item_completed: bool,
}

struct FleetSample {
    at: u64,
    running: f64,
    desired: f64,
}

enum Sample {
    Metrics(MetricLine),
    Fleet(FleetSample),
}

fn parse(line: &str) -> Option<Sample> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    let number = |name: &str| v.get(name).and_then(|x| x.as_f64());
    if let Some(at) = v.pointer("/_aws/Timestamp").and_then(|t| t.as_u64()) {
        let period = v
            .get(names::PERIOD_PROPERTY)
            .and_then(|p| p.as_u64())
            .unwrap_or(0);
        return Some(Sample::Metrics(MetricLine {
            at,
            from: at.saturating_sub(period),
            counters: COUNTERS.map(|name| number(name).unwrap_or(0.0)),
            index: v
                .get(names::INDEX_PROPERTY)
                .and_then(|i| i.as_str())
                .map(str::to_string),
            shard: v.get(names::SHARD_PROPERTY).and_then(|s| s.as_u64()),
            shards_total: number(names::SHARDS_TOTAL),
            shards_completed: number(names::SHARDS_COMPLETED),
            item_completed: v.get(names::SHARD_DURATION).is_some(),
        }));
    }
    Some(Sample::Fleet(FleetSample {
        at: v.get("timestamp")?.as_u64()?,
        running: v.get("running")?.as_f64()?,
        desired: number("desired").unwrap_or(0.0),
    }))
}

/// Adds `value`, spread evenly over `[from, to)`, to the buckets it overlaps (all at `to` when `from == to`).
fn spread(map: &mut BTreeMap<u64, f64>, bucket_ms: u64, from: u64, to: u64, value: f64) {
    if value == 0.0 {
        return;
    }
    if to <= from {
        *map.entry(to / bucket_ms * bucket_ms).or_default() += value;
        return;
    }
    let mut b = from / bucket_ms * bucket_ms;
    while b < to {
        let overlap = to.min(b + bucket_ms) - from.max(b);
        *map.entry(b).or_default() += value * overlap as f64 / (to - from) as f64;
        b += bucket_ms;
    }
}

/// The part of `value`, spread evenly over `[from, to]`, that falls in `[lo, hi]`.
fn share_within(from: u64, to: u64, value: f64, lo: u64, hi: u64) -> f64 {
    if to <= from {
        return if (lo..=hi).contains(&to) { value } else { 0.0 };
    }
    let overlap = to.min(hi).saturating_sub(from.max(lo));
    value * overlap as f64 / (to - from) as f64
}

/// Where the charts end: the last metric line, or the fleet's last active sample and the first idle one after
/// it (samples of an idle fleet after that add nothing but width).
fn span_end(last_metric: Option<u64>, fleet: &[FleetSample]) -> Option<u64> {
    let active = |f: &FleetSample| f.running > 0.0 || f.desired > 0.0;
    let last_active = fleet.iter().rposition(active);
    let fleet_end = match last_active {
        Some(i) => fleet.get(i + 1).unwrap_or(&fleet[i]).at,
        None => fleet.first().map(|f| f.at).unwrap_or(0),
    };
    match (last_metric, fleet.is_empty()) {
        (None, true) => None,
        (Some(m), true) => Some(m),
        (m, false) => Some(m.unwrap_or(0).max(fleet_end)),
    }
}

impl Series {
    /// Aggregates the log group's lines (see the module documentation).
    pub fn from_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Series {
        let (mut metrics, mut fleet) = (Vec::new(), Vec::new());
        for sample in lines.filter_map(parse) {
            match sample {
                Sample::Metrics(m) => metrics.push(m),
                Sample::Fleet(f) => fleet.push(f),
            }
        }
        fleet.sort_by_key(|f| f.at);
        let mut s = Series {
            fleet: fleet.last().map(|f| (f.running, f.desired)),
            ..Series::default()
        };
        let last_metric = metrics.iter().map(|m| m.at).max();
        let first_metric = metrics.iter().map(|m| m.from).min();
        s.span_ms = first_metric.zip(last_metric);
        let Some(hi) = span_end(last_metric, &fleet) else {
            s.bucket_ms = bucket_ms_for(0);
            return s;
        };
        let lo = first_metric
            .into_iter()
            .chain(fleet.first().map(|f| f.at))
            .min()
            .unwrap_or(hi)
            .min(hi);
        s.bucket_ms = bucket_ms_for(hi - lo);
        let bucket = s.bucket_ms;
        let (first, last) = (lo / bucket * bucket, hi / bucket * bucket);
        for b in (first..=last).step_by(bucket as usize) {
            for map in s.counter_maps() {
                map.insert(b, 0.0);
            }
        }
        let mut latest_total: Option<(u64, f64)> = None;
        for m in &metrics {
            for (i, (map, value)) in s.counter_maps().into_iter().zip(m.counters).enumerate() {
                // An item completes at the line's time; the other counters accrue over its period.
                let from = if COUNTERS[i] == names::WORK_ITEMS_COMPLETED {
                    m.at
                } else {
                    m.from
                };
                spread(map, bucket, from, m.at, value);
            }
            let [documents, _, items, failed, _] = m.counters;
            s.documents_total += documents;
            s.failed_total += failed;
            if let Some(total) = m.shards_total
                && latest_total.is_none_or(|(at, _)| at <= m.at)
            {
                latest_total = Some((m.at, total));
            }
            if let Some(done) = m.shards_completed {
                s.shards_completed = Some(s.shards_completed.unwrap_or(0.0).max(done));
            }
            if let Some(index) = &m.index {
                let progress = s.indices.entry(index.clone()).or_default();
                progress.documents += documents;
                progress.failed += failed;
                if let Some(shard) = m.shard
                    && (items > 0.0 || m.item_completed)
                {
                    progress.shards_done.insert(shard);
                }
            }
        }
        s.shards_total = latest_total.map(|(_, total)| total);
        if let Some((start, end)) = s.span_ms {
            let window = RATE_WINDOW_MS.min(end - start).max(1);
            let recent: f64 = metrics
                .iter()
                .map(|m| share_within(m.from, m.at, m.counters[0], end - window, end))
                .sum();
            s.recent_rate = recent / (window as f64 / 1000.0);
        }
        // Running workers: the highest sample of each bucket, held across buckets without one.
        if !fleet.is_empty() {
            let mut held = 0.0;
            for b in (first..=last).step_by(bucket as usize) {
                let in_bucket = fleet.iter().filter(|f| f.at / bucket * bucket == b);
                held = in_bucket
                    .map(|f| f.running)
                    .reduce(f64::max)
                    .unwrap_or(held);
                s.running.insert(b, held);
            }
        }
        let mut total = 0.0;
        for v in s.items_completed.values_mut() {
            total += *v;
            *v = total;
        }
        s
    }

    /// The counter series in the order of [`COUNTERS`].
    fn counter_maps(&mut self) -> [&mut BTreeMap<u64, f64>; 5] {
        [
            &mut self.documents,
            &mut self.bytes,
            &mut self.items_completed,
            &mut self.failed,
            &mut self.retries,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_sized_from_the_span_on_round_sizes() {
        assert_eq!(bucket_ms_for(0), 1_000);
        assert_eq!(bucket_ms_for(8_000), 1_000, "a few seconds: 1-s buckets");
        assert_eq!(bucket_ms_for(100_000), 2_000);
        assert_eq!(bucket_ms_for(600_000), 10_000);
        assert_eq!(bucket_ms_for(3_600_000), 60_000);
        assert_eq!(bucket_ms_for(10 * 86_400_000), 4 * 3_600_000);
    }

    #[test]
    fn aggregates_emf_lines_and_fleet_samples_into_buckets() {
        let lines = [
            r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100,"BytesMigrated":5000,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":15000},"DocumentsMigrated":50,"FailedDocuments":2,"BulkRetries":1}"#,
            r#"{"_aws":{"Timestamp":121000},"DocumentsMigrated":10,"WorkItemsCompleted":2}"#,
            r#"{"timestamp":12000,"running":2,"desired":2}"#,
            r#"{"timestamp":13000,"running":3,"desired":3}"#,
            "a human log line",
            r#"{"level":"info","message":"x"}"#,
        ];
        let s = Series::from_lines(lines.into_iter());
        assert_eq!(s.bucket_ms, 2_000, "111 s: 2-s buckets");
        assert_eq!(s.documents[&10_000], 100.0);
        assert_eq!(s.documents[&14_000], 50.0);
        assert_eq!(s.documents[&12_000], 0.0, "quiet buckets are zeros");
        assert_eq!(s.documents[&120_000], 10.0);
        assert_eq!(s.items_completed[&120_000], 3.0, "cumulative");
        assert_eq!(s.failed[&14_000], 2.0);
        assert_eq!(s.running[&12_000], 3.0);
        assert_eq!(s.running[&120_000], 3.0, "held");
        assert_eq!((s.documents_total, s.failed_total), (160.0, 2.0));
        assert_eq!(s.fleet, Some((3.0, 3.0)));
    }

    #[test]
    fn a_line_is_spread_over_the_period_it_covers() {
        let lines = [
            r#"{"_aws":{"Timestamp":20000},"PeriodMs":10000,"DocumentsMigrated":1000,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":22000},"PeriodMs":2000,"DocumentsMigrated":100}"#,
        ];
        let s = Series::from_lines(lines.into_iter());
        assert_eq!(s.bucket_ms, 1_000);
        assert_eq!(s.span_ms, Some((10_000, 22_000)));
        for b in (10_000..20_000).step_by(1000) {
            assert!((s.documents[&b] - 100.0).abs() < 1e-9, "{b}: {s:?}");
        }
        assert_eq!((s.documents[&20_000], s.documents[&21_000]), (50.0, 50.0));
        assert_eq!(
            (s.items_completed[&19_000], s.items_completed[&20_000]),
            (0.0, 1.0),
            "an item completes when its line is written"
        );
        // The last 10 s: 8 s of the first line (800) and the second line (100).
        assert!((s.recent_rate - 90.0).abs() < 1e-9, "{}", s.recent_rate);
    }

    #[test]
    fn the_span_ends_with_the_fleets_first_idle_sample() {
        let lines = [
            r#"{"timestamp":0,"running":2,"desired":2}"#,
            r#"{"_aws":{"Timestamp":5000},"PeriodMs":5000,"DocumentsMigrated":10}"#,
            r#"{"timestamp":6000,"running":1,"desired":0}"#,
            r#"{"timestamp":11000,"running":0,"desired":0}"#,
            r#"{"timestamp":16000,"running":0,"desired":0}"#,
            r#"{"timestamp":3600000,"running":0,"desired":0}"#,
        ];
        let s = Series::from_lines(lines.into_iter());
        assert_eq!(s.documents.keys().last(), Some(&11_000));
        assert_eq!(s.running[&11_000], 0.0);
        assert_eq!(s.fleet, Some((0.0, 0.0)));
    }

    #[test]
    fn per_index_documents_and_completed_shards_come_from_the_tagged_lines() {
        let lines = [
            r#"{"_aws":{"Timestamp":1000},"Index":"logs","Shard":0,"DocumentsMigrated":70,"FailedDocuments":1}"#,
            r#"{"_aws":{"Timestamp":2000},"Index":"logs","Shard":0,"DocumentsMigrated":30,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":2000},"Index":"logs","Shard":1,"DocumentsMigrated":5}"#,
            r#"{"_aws":{"Timestamp":2500},"Index":"events","Shard":2,"ShardsTotal":3,"ShardsCompleted":2,"ShardDurationMs":9}"#,
            r#"{"_aws":{"Timestamp":3000},"DocumentsMigrated":4}"#,
        ];
        let s = Series::from_lines(lines.into_iter());
        let logs = &s.indices["logs"];
        assert_eq!((logs.documents, logs.failed), (105.0, 1.0));
        assert_eq!(logs.shards_done, BTreeSet::from([0]));
        assert_eq!(s.indices["events"].shards_done, BTreeSet::from([2]));
        assert_eq!(
            s.documents_total, 109.0,
            "untagged lines count in the totals"
        );
        assert_eq!((s.shards_total, s.shards_completed), (Some(3.0), Some(2.0)));
    }

    #[test]
    fn no_lines_no_series() {
        let s = Series::from_lines(std::iter::empty());
        assert!(s.documents.is_empty() && s.running.is_empty());
        assert_eq!((s.span_ms, s.fleet), (None, None));
    }
}
