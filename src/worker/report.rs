//! Where the worker's log lines and metric documents go. The run loop talks to an [`Observer`] (the CLI prints
//! human or JSON lines; tests collect them); [`Reporter`] adds the timing of the periodic metrics lines.

use serde_json::Value;

use std::time::Duration;

use super::metrics::{self, MetricValues, Periodic};
use super::types::WorkerStats;
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
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(observer: &'a dyn Observer, clock: &'a dyn Clock, migration: &str) -> Self {
        Reporter {
            observer,
            clock,
            migration: migration.to_string(),
            periodic: Periodic::new(METRICS_EVERY, clock.now()),
        }
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
        let delta = self.periodic.take(&MetricValues::from_stats(stats), now);
        self.observer
            .metrics(&metrics::emf_document(&self.migration, &delta, now));
    }

    /// Emits the shard gauges (and the duration of an item that just completed).
    pub(crate) fn shards(&self, total: u64, completed: u64, item_duration_ms: Option<u64>) {
        self.observer.metrics(&metrics::shards_document(
            &self.migration,
            total,
            completed,
            item_duration_ms,
            self.clock.now(),
        ));
    }
}
