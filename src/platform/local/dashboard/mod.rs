//! The local dashboard: one self-contained HTML page (inline SVG, no scripts, no network) charting the same
//! series as the CloudWatch dashboard, from the same data — the workers' EMF metric lines in the log group —
//! plus the supervisor's running-worker samples. `apply` writes it; the supervisor rewrites it every few
//! seconds while the backfill runs (the page also reloads itself).
//!
//! - [`series`]: the lines aggregated into time buckets sized from the run's span (pure);
//! - [`progress`]: the totals (documents of expected, failed, percent of shards, ETA, current docs/s — none
//!   once the run completed or the fleet stopped) and the per-index rows (pure);
//! - [`page`] and [`chart`]: the HTML and SVG.
//!
//! The per-index sizes come from the preflight's count of the snapshot (live documents and shards per selected
//! index), which `apply` records beside the page ([`record_index_totals`]); without them the page shows what
//! was migrated, without a total.

pub mod chart;
pub mod page;
pub mod progress;
pub mod series;

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::{StateDir, StateError};
pub use page::render_page;
pub use series::Series;

/// File in the log group where the supervisor samples the fleet (`{"timestamp": ms, "running": n}` lines).
pub const FLEET_SAMPLES: &str = "fleet-samples.log";
/// File in the state directory with the selected indices' sizes ([`IndexTotal`]s, JSON).
pub const INDEX_TOTALS: &str = "index-totals.json";

/// One selected index as the snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexTotal {
    pub name: String,
    pub shards: u32,
    /// Live documents in the snapshot.
    pub documents: u64,
}

/// Records the selected indices' sizes for the page (`apply`, after the preflight counted them).
pub fn record_index_totals(state: &StateDir, indices: &[IndexTotal]) -> Result<(), StateError> {
    let bytes = serde_json::to_vec_pretty(indices).unwrap_or_default();
    super::state::write_atomic(&state.root().join(INDEX_TOTALS), &bytes)
}

/// The recorded sizes; none when `apply` did not record them (or the file cannot be read).
fn read_index_totals(state: &StateDir) -> Vec<IndexTotal> {
    std::fs::read(state.root().join(INDEX_TOTALS))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Reads every `*.log` file in the log group and rewrites the page atomically.
pub fn refresh(state: &StateDir, migration: &str) -> std::io::Result<()> {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(state.logs_dir()) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    let series = Series::from_lines(text.lines());
    let failures = super::fleet::read_report(state)
        .map(|r| r.failures)
        .unwrap_or_default();
    let page = render_page(migration, &series, &read_index_totals(state), &failures);
    super::state::write_atomic(&state.dashboard_path(), page.as_bytes())
        .map_err(std::io::Error::other)
}

/// Appends one fleet sample to the log group (used by the supervisor).
pub fn sample_fleet(logs: &Path, timestamp_ms: u64, running: u32, desired: u32) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(FLEET_SAMPLES))
    {
        let _ = writeln!(
            f,
            "{{\"timestamp\":{timestamp_ms},\"running\":{running},\"desired\":{desired}}}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_reads_the_recorded_index_totals_and_the_log_group() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let state = StateDir::new(tmp.path());
        std::fs::create_dir_all(state.logs_dir()).expect("logs");
        std::fs::write(
            state.logs_dir().join("worker-1.log"),
            "started\n{\"_aws\":{\"Timestamp\":1800000000000},\"PeriodMs\":1000,\"Index\":\"logs\",\"Shard\":0,\"DocumentsMigrated\":30}\n",
        )
        .expect("log");
        sample_fleet(&state.logs_dir(), 1_800_000_000_500, 1, 1);
        let recorded = [IndexTotal {
            name: "logs".into(),
            shards: 1,
            documents: 120,
        }];
        record_index_totals(&state, &recorded).expect("record");
        assert_eq!(read_index_totals(&state), recorded);
        refresh(&state, "demo").expect("refresh");
        let page = std::fs::read_to_string(state.dashboard_path()).expect("page");
        assert!(
            page.contains("<td>logs</td><td class=\"n\">30 / 120</td>"),
            "{page}"
        );
        assert!(page.contains("<b>30 of 120</b>"), "{page}");
    }
}
