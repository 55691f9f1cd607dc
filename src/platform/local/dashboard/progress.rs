//! What the page says above its charts, from the [`Series`] and the selected indices' sizes that `apply`
//! recorded ([`IndexTotal`], the preflight's count of the snapshot's live documents): the totals and one row
//! per index. Pure.
//!
//! Once every work item is done (the workers' shard gauges) or the fleet is stopped (the supervisor's last
//! sample: nothing running, nothing desired), there is no current rate and no ETA to show: the run says so
//! ([`RunState`]) instead of the last bucket's rate.

use super::IndexTotal;
use super::series::Series;

/// Where the run is, as far as the page can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No metric line yet.
    Waiting,
    Running,
    /// Every work item is done.
    Completed,
    /// Not complete, and the fleet is at zero (paused or stopped).
    Stopped,
}

/// The numbers above the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub documents: f64,
    pub failed: f64,
    /// The selected indices' live documents in the snapshot, when `apply` recorded them.
    pub documents_expected: Option<u64>,
    /// Shards completed of total, in percent, when the workers reported them.
    pub percent: Option<f64>,
    /// Seconds to completion at the rate so far (0 when complete; none when stopped).
    pub eta_seconds: Option<u64>,
    /// Documents/s of the last stretch of metric lines; 0 unless running.
    pub current_rate: f64,
    pub state: RunState,
}

/// Where one index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    Waiting,
    InProgress,
    Done,
}

/// One row of the per-index table.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub name: String,
    pub documents: f64,
    /// Live documents in the snapshot (unknown for an index `apply` did not record).
    pub expected: Option<u64>,
    pub shards_done: usize,
    pub shards: Option<u32>,
    pub state: IndexState,
}

impl IndexRow {
    /// Documents migrated of expected, in percent (100 once done, whatever transforms made of the count).
    pub fn percent(&self) -> Option<f64> {
        if self.state == IndexState::Done {
            return Some(100.0);
        }
        match self.expected {
            Some(0) => Some(0.0),
            Some(n) => Some((self.documents / n as f64 * 100.0).min(100.0)),
            None => None,
        }
    }
}

fn completed(s: &Series, indices: &[IndexTotal]) -> bool {
    let by_gauges =
        matches!((s.shards_completed, s.shards_total), (Some(d), Some(t)) if t > 0.0 && d >= t);
    let by_indices = !indices.is_empty()
        && indices.iter().all(|i| {
            s.indices
                .get(&i.name)
                .is_some_and(|p| p.shards_done.len() >= i.shards as usize)
        });
    by_gauges || by_indices
}

/// The run's state.
pub fn run_state(s: &Series, indices: &[IndexTotal]) -> RunState {
    if completed(s, indices) {
        RunState::Completed
    } else if s
        .fleet
        .is_some_and(|(running, desired)| running == 0.0 && desired == 0.0)
        && s.span_ms.is_some()
    {
        RunState::Stopped
    } else if s.span_ms.is_none() {
        RunState::Waiting
    } else {
        RunState::Running
    }
}

/// The totals of `s`; `indices` are the recorded sizes (empty when unknown).
pub fn totals(s: &Series, indices: &[IndexTotal]) -> Totals {
    let state = run_state(s, indices);
    let percent = match (s.shards_completed, s.shards_total) {
        _ if state == RunState::Completed => Some(100.0),
        (Some(done), Some(total)) if total > 0.0 => Some((done / total * 100.0).min(100.0)),
        _ => None,
    };
    let expected = (!indices.is_empty()).then(|| indices.iter().map(|i| i.documents).sum::<u64>());
    let elapsed = s
        .span_ms
        .map(|(first, last)| last.saturating_sub(first) as f64 / 1000.0);
    // Documents when their total is known (finer than shards), otherwise shards as `status` counts them.
    let done_fraction = match (expected, percent) {
        (Some(n), _) if n > 0 && s.documents_total > 0.0 && s.documents_total < n as f64 => {
            Some(s.documents_total / n as f64)
        }
        (_, Some(p)) if p > 0.0 => Some(p / 100.0),
        _ => None,
    };
    let eta_seconds = match state {
        RunState::Completed => Some(0),
        RunState::Running => done_fraction
            .zip(elapsed)
            .filter(|(f, _)| *f < 1.0)
            .map(|(f, e)| (e * (1.0 - f) / f).round() as u64),
        RunState::Waiting | RunState::Stopped => None,
    };
    Totals {
        documents: s.documents_total,
        failed: s.failed_total,
        documents_expected: expected,
        percent,
        eta_seconds,
        current_rate: if state == RunState::Running {
            s.recent_rate
        } else {
            0.0
        },
        state,
    }
}

/// One row per recorded index (in the recorded order), then any index the lines name that was not recorded.
pub fn index_rows(s: &Series, indices: &[IndexTotal]) -> Vec<IndexRow> {
    let all_done = run_state(s, indices) == RunState::Completed;
    let row = |name: &str, recorded: Option<&IndexTotal>| {
        let progress = s.indices.get(name);
        let documents = progress.map_or(0.0, |p| p.documents);
        let shards_done = progress.map_or(0, |p| p.shards_done.len());
        let shards = recorded.map(|r| r.shards);
        let state = if all_done || shards.is_some_and(|n| shards_done >= n as usize) {
            IndexState::Done
        } else if progress.is_some() {
            IndexState::InProgress
        } else {
            IndexState::Waiting
        };
        IndexRow {
            name: name.to_string(),
            documents,
            expected: recorded.map(|r| r.documents),
            shards_done: if all_done {
                shards.map_or(shards_done, |n| n as usize)
            } else {
                shards_done
            },
            shards,
            state,
        }
    };
    let mut rows: Vec<IndexRow> = indices.iter().map(|i| row(&i.name, Some(i))).collect();
    for name in s.indices.keys() {
        if !indices.iter().any(|i| &i.name == name) {
            rows.push(row(name, None));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> Vec<IndexTotal> {
        vec![
            IndexTotal {
                name: "logs".into(),
                shards: 2,
                documents: 200,
            },
            IndexTotal {
                name: "events".into(),
                shards: 1,
                documents: 100,
            },
            IndexTotal {
                name: "empty".into(),
                shards: 1,
                documents: 0,
            },
        ]
    }

    fn series(lines: &[&str]) -> Series {
        Series::from_lines(lines.iter().copied())
    }

    #[test]
    fn mid_run_totals_give_documents_percent_eta_and_the_recent_rate() {
        let s = series(&[
            r#"{"_aws":{"Timestamp":0},"ShardsTotal":4,"ShardsCompleted":0}"#,
            r#"{"_aws":{"Timestamp":10000},"PeriodMs":10000,"DocumentsMigrated":100,"FailedDocuments":3}"#,
            r#"{"_aws":{"Timestamp":60000},"PeriodMs":50000,"ShardsTotal":4,"ShardsCompleted":1,"DocumentsMigrated":50}"#,
            r#"{"timestamp":55000,"running":2,"desired":2}"#,
        ]);
        let t = totals(&s, &[]);
        assert_eq!(t.state, RunState::Running);
        assert_eq!((t.documents, t.failed), (150.0, 3.0));
        assert_eq!(t.percent, Some(25.0));
        assert_eq!(t.eta_seconds, Some(180), "60 s for a quarter of the shards");
        assert!((t.current_rate - 1.0).abs() < 1e-9, "10 of the last 10 s");
        let by_docs = totals(&s, &recorded());
        assert_eq!(by_docs.documents_expected, Some(300));
        assert_eq!(by_docs.eta_seconds, Some(60), "half the documents in 60 s");
        let none = totals(&series(&[]), &[]);
        assert_eq!(
            (none.state, none.percent, none.eta_seconds),
            (RunState::Waiting, None, None)
        );
    }

    #[test]
    fn a_completed_or_stopped_run_has_no_current_rate() {
        let done = series(&[
            r#"{"_aws":{"Timestamp":10000},"PeriodMs":10000,"DocumentsMigrated":100}"#,
            r#"{"_aws":{"Timestamp":10000},"ShardsTotal":2,"ShardsCompleted":2}"#,
            r#"{"timestamp":11000,"running":2,"desired":0}"#,
        ]);
        let t = totals(&done, &[]);
        assert_eq!(
            (t.state, t.current_rate, t.eta_seconds),
            (RunState::Completed, 0.0, Some(0))
        );
        assert_eq!(t.percent, Some(100.0));
        let stopped = series(&[
            r#"{"_aws":{"Timestamp":10000},"PeriodMs":10000,"DocumentsMigrated":100}"#,
            r#"{"_aws":{"Timestamp":10000},"ShardsTotal":2,"ShardsCompleted":1}"#,
            r#"{"timestamp":12000,"running":0,"desired":0}"#,
        ]);
        let t = totals(&stopped, &[]);
        assert_eq!(
            (t.state, t.current_rate, t.eta_seconds),
            (RunState::Stopped, 0.0, None)
        );
        assert_eq!(t.percent, Some(50.0));
    }

    #[test]
    fn index_rows_show_documents_of_expected_and_done_or_in_progress() {
        let s = series(&[
            r#"{"_aws":{"Timestamp":1000},"Index":"logs","Shard":0,"DocumentsMigrated":100,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":1000},"Index":"logs","Shard":1,"DocumentsMigrated":50}"#,
            r#"{"_aws":{"Timestamp":2000},"Index":"events","Shard":0,"DocumentsMigrated":100,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":2000},"Index":"stray","Shard":0,"DocumentsMigrated":1}"#,
        ]);
        let rows = index_rows(&s, &recorded());
        let brief: Vec<(&str, f64, Option<f64>, usize, IndexState)> = rows
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.documents,
                    r.percent(),
                    r.shards_done,
                    r.state,
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                ("logs", 150.0, Some(75.0), 1, IndexState::InProgress),
                ("events", 100.0, Some(100.0), 1, IndexState::Done),
                ("empty", 0.0, Some(0.0), 0, IndexState::Waiting),
                ("stray", 1.0, None, 0, IndexState::InProgress),
            ]
        );
        assert_eq!(totals(&s, &recorded()).state, RunState::Running);
    }

    #[test]
    fn every_index_is_done_once_the_run_completed() {
        let s = series(&[
            r#"{"_aws":{"Timestamp":1000},"Index":"logs","Shard":0,"DocumentsMigrated":150}"#,
            r#"{"_aws":{"Timestamp":2000},"ShardsTotal":4,"ShardsCompleted":4}"#,
        ]);
        let rows = index_rows(&s, &recorded());
        assert!(rows.iter().all(|r| r.state == IndexState::Done), "{rows:?}");
        assert_eq!((rows[0].shards_done, rows[0].percent()), (2, Some(100.0)));
    }
}
