//! Where the worker's log lines and metric documents go. The run loop talks to an [`Observer`] (the CLI prints
//! human or JSON lines; tests collect them); [`Reporter`] adds the timing of the periodic metrics lines and
//! the work item they belong to (a line is flushed when an item ends, so its deltas never mix two items).

use serde_json::Value;

use std::time::Duration;

use super::metrics::{self, MetricValues, Periodic};
use super::types::WorkerStats;
use crate::coordination::lease::WorkItemId;
use crate::time::Clock;

/// Receives the worker's output.
pub(crate) trait Observer {
    /// One log message.
    fn log(&self, message: &str);
    /// One EMF metrics document.
    fn metrics(&self, document: &Value);
}

/// Metrics after every this much work.
pub(crate) const METRICS_EVERY: Duration = Duration::from_secs(10);

/// Log and metrics output of one run.
pub(crate) struct Reporter<'a> {
    observer: &'a dyn Observer,
    clock: &'a dyn Clock,
    migration: String,
    periodic: Periodic,
    /// The item being migrated: the counters lines carry its index and shard.
    item: Option<WorkItemId>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(observer: &'a dyn Observer, clock: &'a dyn Clock, migration: &str) -> Self {
        Reporter {
            observer,
            clock,
            migration: migration.to_string(),
            periodic: Periodic::new(METRICS_EVERY, clock.now()),
            item: None,
        }
    }

    /// From now on the counters belong to `item` (what came before is flushed without it, if anything).
    pub(crate) fn start_item(&mut self, item: &WorkItemId, stats: &WorkerStats) {
        if MetricValues::from_stats(stats) != self.periodic.baseline() {
            self.flush(stats);
        }
        self.item = Some(item.clone());
    }

    /// The item ended (completed or handed off): its last counters line, then lines carry no item.
    pub(crate) fn finish_item(&mut self, stats: &WorkerStats) {
        self.flush(stats);
        self.item = None;
    }

    pub(crate) fn log(&self, message: &str) {
        self.observer.log(message);
    }

    /// How long until the next periodic line is due.
    pub(crate) fn until_due(&self) -> Duration {
        self.periodic.until_due(self.clock.now())
    }

    /// Emits the counters line if it is due.
    pub(crate) fn tick(&mut self, stats: &WorkerStats) {
        if self.periodic.until_due(self.clock.now()).is_zero() {
            self.flush(stats);
        }
    }

    /// Emits the counters accumulated since the previous line (at the end of a run, whatever is left).
    pub(crate) fn flush(&mut self, stats: &WorkerStats) {
        let now = self.clock.now();
        let (delta, period) = self.periodic.take(&MetricValues::from_stats(stats), now);
        self.observer.metrics(&metrics::emf_document(
            &self.migration,
            &delta,
            period,
            self.item.as_ref(),
            now,
        ));
    }

    /// Emits the shard gauges (and the item that just completed, with its duration).
    pub(crate) fn shards(
        &self,
        total: u64,
        completed: u64,
        completed_item: Option<(&WorkItemId, u64)>,
    ) {
        self.observer.metrics(&metrics::shards_document(
            &self.migration,
            total,
            completed,
            completed_item,
            self.clock.now(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    #[derive(Default)]
    struct Documents(std::sync::Mutex<Vec<Value>>);

    impl Observer for Documents {
        fn log(&self, _: &str) {}
        fn metrics(&self, document: &Value) {
            self.0.lock().expect("documents").push(document.clone());
        }
    }

    #[test]
    fn an_items_counters_are_flushed_when_it_ends_and_carry_its_index_and_shard() {
        let (seen, clock) = (Documents::default(), ManualClock::default());
        let mut reporter = Reporter::new(&seen, &clock, "m");
        let mut stats = WorkerStats::default();
        let logs = WorkItemId {
            index: "logs".into(),
            shard: 1,
            starting_doc: 0,
        };
        reporter.start_item(&logs, &stats);
        clock.advance(Duration::from_millis(1500));
        stats.documents = 40;
        reporter.finish_item(&stats);
        let events = WorkItemId {
            index: "events".into(),
            shard: 0,
            starting_doc: 0,
        };
        clock.advance(Duration::from_millis(500));
        stats.documents = 45; // counted between items: flushed untagged when the next item starts
        reporter.start_item(&events, &stats);
        clock.advance(Duration::from_secs(2));
        stats.documents = 60;
        reporter.flush(&stats); // the run's last line, after an error inside the item
        let lines = seen.0.lock().expect("documents").clone();
        let tags: Vec<(Option<&str>, u64, u64)> = lines
            .iter()
            .map(|d| {
                (
                    d["Index"].as_str(),
                    d["DocumentsMigrated"].as_u64().unwrap_or(0),
                    d["PeriodMs"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            tags,
            [
                (Some("logs"), 40, 1500),
                (None, 5, 500),
                (Some("events"), 15, 2000)
            ]
        );
        assert_eq!(lines[0]["Shard"], 1);
    }
}
