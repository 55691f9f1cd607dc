//! The local dashboard: one self-contained HTML page (inline SVG, no scripts, no network) charting the same
//! series as the CloudWatch dashboard, from the same data — the workers' EMF metric lines in the log group —
//! plus the supervisor's running-worker samples. `apply` writes it; the supervisor rewrites it every few
//! seconds while the backfill runs (the page also reloads itself).
//!
//! On top, the totals ([`Totals`]): documents migrated and failed, percent complete and ETA (shards, as the
//! console counts them, from the workers' `ShardsTotal`/`ShardsCompleted` gauges, extrapolated like `status`),
//! and the current documents/s; below them the supervisor's worker failures (`fleet.json`) when there are some.
//! Series (per time bucket, on a time axis in UTC): documents/s, MB/s, work items completed (cumulative), failed
//! documents and retries, running workers. Aggregation is a pure function of the parsed lines
//! ([`Series::from_lines`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::state::StateDir;
use crate::converge::ports::WorkerFailure;
use crate::render::metrics as names;
use crate::time::Timestamp;

/// File in the log group where the supervisor samples the fleet (`{"timestamp": ms, "running": n}` lines).
pub(crate) const FLEET_SAMPLES: &str = "fleet-samples.log";

/// Aggregated series, keyed by bucket start (epoch ms).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) bucket_ms: u64,
    pub(crate) documents: BTreeMap<u64, f64>,
    pub(crate) bytes: BTreeMap<u64, f64>,
    pub(crate) items_completed: BTreeMap<u64, f64>,
    pub(crate) failed: BTreeMap<u64, f64>,
    pub(crate) retries: BTreeMap<u64, f64>,
    pub(crate) running: BTreeMap<u64, f64>,
    /// The workers' shard gauges: the latest total, the highest completed count.
    pub(crate) shards_total: Option<f64>,
    pub(crate) shards_completed: Option<f64>,
    /// First and last metric line (epoch ms).
    pub(crate) span_ms: Option<(u64, u64)>,
}

/// The numbers above the charts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Totals {
    pub(crate) documents: f64,
    pub(crate) failed: f64,
    /// Shards completed of total, in percent, when the workers reported them.
    pub(crate) percent: Option<f64>,
    /// Seconds to completion at the rate so far (0 when complete).
    pub(crate) eta_seconds: Option<u64>,
    /// Documents/s of the last bucket that is over (the newest one is still filling).
    pub(crate) current_rate: f64,
}

impl Series {
    /// The totals of the series.
    pub(crate) fn totals(&self) -> Totals {
        let sum = |m: &BTreeMap<u64, f64>| m.values().sum::<f64>();
        let percent = match (self.shards_completed, self.shards_total) {
            (Some(done), Some(total)) if total > 0.0 => Some((done / total * 100.0).min(100.0)),
            _ => None,
        };
        let eta_seconds = match (percent, self.span_ms) {
            (Some(p), _) if p >= 100.0 => Some(0),
            (Some(p), Some((first, last))) if p > 0.0 => {
                let elapsed = last.saturating_sub(first) as f64 / 1000.0;
                Some((elapsed * (100.0 - p) / p).round() as u64)
            }
            _ => None,
        };
        let buckets: Vec<f64> = self.documents.values().copied().collect();
        let over = match buckets.len() {
            0 => 0.0,
            1 => buckets[0],
            n => buckets[n - 2],
        };
        Totals {
            documents: sum(&self.documents),
            failed: sum(&self.failed),
            percent,
            eta_seconds,
            current_rate: over / (self.bucket_ms.max(1) as f64 / 1000.0),
        }
    }
}

/// Most buckets a chart draws: long runs get wider buckets instead of more points.
const MAX_BUCKETS: u64 = 240;

enum Sample {
    Metrics(u64, serde_json::Value),
    Fleet(u64, f64),
}

impl Series {
    /// Aggregates EMF documents and fleet samples (any other line is ignored) into buckets of at least
    /// `min_bucket_ms`, wide enough that a chart never holds more than [`MAX_BUCKETS`] points. Rate series get
    /// explicit zeros for quiet buckets (a gap is "nothing migrated", not a straight line to the next point);
    /// running workers hold their last sample.
    pub(crate) fn from_lines<'a>(
        lines: impl Iterator<Item = &'a str>,
        min_bucket_ms: u64,
    ) -> Series {
        let samples: Vec<Sample> = lines
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line.trim()).ok())
            .filter_map(|v| {
                if let Some(ts) = v.pointer("/_aws/Timestamp").and_then(|t| t.as_u64()) {
                    Some(Sample::Metrics(ts, v))
                } else {
                    let ts = v.get("timestamp").and_then(|t| t.as_u64())?;
                    let running = v.get("running").and_then(|r| r.as_f64())?;
                    Some(Sample::Fleet(ts, running))
                }
            })
            .collect();
        let times = samples.iter().map(|s| match s {
            Sample::Metrics(t, _) | Sample::Fleet(t, _) => *t,
        });
        let (lo, hi) = times.fold((u64::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
        let min_bucket_ms = min_bucket_ms.max(1);
        let span = hi.saturating_sub(lo);
        let bucket_ms = (span / MAX_BUCKETS + 1).div_ceil(min_bucket_ms) * min_bucket_ms;
        let mut s = Series {
            bucket_ms,
            ..Series::default()
        };
        if lo > hi {
            return s;
        }
        let first = lo / bucket_ms * bucket_ms;
        let last = hi / bucket_ms * bucket_ms;
        let mut b = first;
        while b <= last {
            for m in [
                &mut s.documents,
                &mut s.bytes,
                &mut s.items_completed,
                &mut s.failed,
                &mut s.retries,
            ] {
                m.insert(b, 0.0);
            }
            b += bucket_ms;
        }
        let mut latest_total = None;
        for sample in &samples {
            match sample {
                Sample::Metrics(ts, v) => {
                    let b = ts / bucket_ms * bucket_ms;
                    let get = |name: &str| v.get(name).and_then(|x| x.as_f64()).unwrap_or(0.0);
                    if let Some(total) = v.get(names::SHARDS_TOTAL).and_then(|x| x.as_f64())
                        && latest_total.is_none_or(|(at, _)| at <= *ts)
                    {
                        latest_total = Some((*ts, total));
                    }
                    if let Some(done) = v.get(names::SHARDS_COMPLETED).and_then(|x| x.as_f64()) {
                        s.shards_completed = Some(s.shards_completed.unwrap_or(0.0).max(done));
                    }
                    s.span_ms = Some(match s.span_ms {
                        Some((lo, hi)) => (lo.min(*ts), hi.max(*ts)),
                        None => (*ts, *ts),
                    });
                    *s.documents.entry(b).or_default() += get(names::DOCUMENTS_MIGRATED);
                    *s.bytes.entry(b).or_default() += get(names::BYTES_MIGRATED);
                    *s.items_completed.entry(b).or_default() += get(names::WORK_ITEMS_COMPLETED);
                    *s.failed.entry(b).or_default() += get(names::FAILED_DOCUMENTS);
                    *s.retries.entry(b).or_default() += get(names::BULK_RETRIES);
                }
                Sample::Fleet(ts, running) => {
                    let slot = s.running.entry(ts / bucket_ms * bucket_ms).or_default();
                    *slot = slot.max(*running);
                }
            }
        }
        // Running workers hold their last sample across buckets without one.
        if !s.running.is_empty() {
            let mut held = 0.0;
            let mut b = first;
            while b <= last {
                held = s.running.get(&b).copied().unwrap_or(held);
                s.running.insert(b, held);
                b += bucket_ms;
            }
        }
        s.shards_total = latest_total.map(|(_, total)| total);
        // Work items completed is shown cumulatively (shard progress).
        let mut total = 0.0;
        for v in s.items_completed.values_mut() {
            total += *v;
            *v = total;
        }
        s
    }
}

/// Reads every `*.log` file in the log group and rewrites the page atomically.
pub(crate) fn refresh(state: &StateDir, migration: &str) -> std::io::Result<()> {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(state.logs_dir()) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    let series = Series::from_lines(text.lines(), 10_000);
    let failures = super::fleet::read_report(state)
        .map(|r| r.failures)
        .unwrap_or_default();
    let page = render_page(migration, &series, &failures);
    super::state::write_atomic(&state.dashboard_path(), page.as_bytes())
        .map_err(std::io::Error::other)
}

/// The page for `series`, with the worker `failures` the supervisor recorded.
pub(crate) fn render_page(migration: &str, s: &Series, failures: &[WorkerFailure]) -> String {
    let per_sec = |m: &BTreeMap<u64, f64>, scale: f64| -> BTreeMap<u64, f64> {
        m.iter()
            .map(|(k, v)| (*k, v / (s.bucket_ms as f64 / 1000.0) / scale))
            .collect()
    };
    let charts = [
        chart(
            "Documents migrated per second",
            &[("docs/s", "#1f77b4", per_sec(&s.documents, 1.0))],
        ),
        chart(
            "MB migrated per second",
            &[("MB/s", "#ff7f0e", per_sec(&s.bytes, 1e6))],
        ),
        chart(
            "Work items completed (shard progress)",
            &[("completed", "#2ca02c", s.items_completed.clone())],
        ),
        chart(
            "Failed documents and bulk retries",
            &[
                ("failed", "#d62728", s.failed.clone()),
                ("retries", "#9467bd", s.retries.clone()),
            ],
        ),
        chart(
            "Running workers",
            &[("running", "#8c564b", s.running.clone())],
        ),
    ];
    let title = html_escape(migration);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\">\
         <title>{title} backfill</title><style>body{{font-family:sans-serif;margin:16px;background:#fff}}\
         .c{{display:inline-block;margin:8px;border:1px solid #ddd;padding:8px}}h1{{font-size:18px}}\
         h2{{font-size:14px;margin:0 0 4px}}.t{{display:inline-block;margin:8px 20px 8px 8px}}\
         .t b{{display:block;font-size:22px}}.f{{color:#b00}}td{{padding:2px 8px}}</style></head><body>\
         <h1>MigrationAssistant_ReindexFromSnapshot_Dashboard — {title} (local)</h1>\n{}\n{}\n{}\n</body></html>\n",
        totals_html(&s.totals()),
        failures_html(failures),
        charts.join("\n")
    )
}

/// The totals row.
fn totals_html(t: &Totals) -> String {
    let percent = t.percent.map_or("–".to_string(), |p| format!("{p:.1}%"));
    let eta = t.eta_seconds.map_or("–".to_string(), |s| {
        humantime::format_duration(std::time::Duration::from_secs(s)).to_string()
    });
    [
        ("documents migrated", format!("{:.0}", t.documents)),
        ("failed documents", format!("{:.0}", t.failed)),
        ("complete (shards)", percent),
        ("ETA", eta),
        ("current docs/s", number(t.current_rate)),
    ]
    .iter()
    .map(|(label, value)| {
        format!(
            "<div class=\"t\"><b>{}</b>{label}</div>",
            html_escape(value)
        )
    })
    .collect()
}

/// The supervisor's worker failures, newest first; nothing when there are none.
fn failures_html(failures: &[WorkerFailure]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let rows: String = failures
        .iter()
        .rev()
        .map(|f| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&f.worker),
                f.exit_code.map_or("none".to_string(), |c| c.to_string()),
                clock_time(f.stopped_at.epoch_millis().max(0) as u64),
                html_escape(&f.message)
            )
        })
        .collect();
    format!(
        "<div class=\"c f\"><h2>Worker failures ({})</h2><table><tr><th>worker</th><th>exit</th>\
         <th>stopped (UTC)</th><th>last error</th></tr>{rows}</table></div>",
        failures.len()
    )
}

/// `HH:MM:SS` (UTC) of epoch milliseconds.
fn clock_time(ms: u64) -> String {
    let text = Timestamp::from_epoch_millis(ms as i64).rfc3339();
    text.get(11..19).unwrap_or(&text).to_string()
}

const W: f64 = 460.0;
const H: f64 = 180.0;

fn chart(title: &str, lines: &[(&str, &str, BTreeMap<u64, f64>)]) -> String {
    let xs = lines.iter().flat_map(|(_, _, m)| m.keys().copied());
    let (min_x, max_x) = xs.fold((u64::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let max_y = lines
        .iter()
        .flat_map(|(_, _, m)| m.values().copied())
        .fold(0.0f64, f64::max);
    let mut svg = format!(
        "<div class=\"c\"><h2>{}</h2><svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">\
         <rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fafafa\"/>",
        html_escape(title)
    );
    if min_x > max_x {
        svg.push_str("<text x=\"10\" y=\"90\" fill=\"#888\">no data yet</text>");
    }
    for (label, color, m) in lines {
        let span = (max_x.saturating_sub(min_x)).max(1) as f64;
        let points: Vec<String> = m
            .iter()
            .map(|(x, y)| {
                let px = 10.0 + (x - min_x) as f64 / span * (W - 20.0);
                let py = H
                    - 20.0
                    - if max_y > 0.0 {
                        y / max_y * (H - 40.0)
                    } else {
                        0.0
                    };
                format!("{px:.1},{py:.1}")
            })
            .collect();
        if points.len() == 1 {
            svg.push_str(&format!(
                "<circle cx=\"{}\" r=\"4\" fill=\"{color}\"/>",
                points[0].replace(',', "\" cy=\"")
            ));
        } else if !points.is_empty() {
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"3\" points=\"{}\"/>",
                points.join(" ")
            ));
        }
        let last = m.values().last().copied().unwrap_or(0.0);
        svg.push_str(&format!(
            "<text x=\"12\" y=\"{}\" fill=\"{color}\" font-size=\"12\">{label}: {}</text>",
            16 + 14 * lines.iter().position(|l| l.0 == *label).unwrap_or(0),
            number(last)
        ));
    }
    if min_x <= max_x {
        // The time axis: a baseline with the first, middle and last bucket's time.
        svg.push_str(&format!(
            "<line x1=\"10\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#999\"/>",
            W - 10.0,
            y = H - 18.0
        ));
        let mid = min_x + (max_x - min_x) / 2;
        for (x, t, anchor) in [
            (10.0, min_x, "start"),
            (W / 2.0, mid, "middle"),
            (W - 10.0, max_x, "end"),
        ] {
            svg.push_str(&format!(
                "<text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"10\" fill=\"#666\">{}</text>",
                H - 5.0,
                clock_time(t)
            ));
        }
    }
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"14\" text-anchor=\"end\" font-size=\"11\" fill=\"#666\">max {}</text></svg></div>",
        W - 8.0,
        number(max_y)
    ));
    svg
}

/// A value with the precision it needs (0.004 MB/s is not 0.0).
fn number(v: f64) -> String {
    if v == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Appends one fleet sample to the log group (used by the supervisor).
pub(crate) fn sample_fleet(logs: &Path, timestamp_ms: u64, running: u32, desired: u32) {
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
    fn aggregates_emf_lines_and_fleet_samples_into_buckets() {
        let lines = [
            r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100,"BytesMigrated":5000,"WorkItemsCompleted":1}"#,
            r#"{"_aws":{"Timestamp":15000},"DocumentsMigrated":50,"FailedDocuments":2,"BulkRetries":1}"#,
            r#"{"_aws":{"Timestamp":21000},"DocumentsMigrated":10,"WorkItemsCompleted":2}"#,
            r#"{"timestamp":12000,"running":2,"desired":2}"#,
            r#"{"timestamp":13000,"running":3,"desired":3}"#,
            "a human log line",
            r#"{"level":"info","message":"x"}"#,
        ];
        let s = Series::from_lines(lines.into_iter(), 10_000);
        assert_eq!(s.documents[&10_000], 150.0);
        assert_eq!(s.documents[&20_000], 10.0);
        assert_eq!(s.items_completed[&20_000], 3.0, "cumulative");
        assert_eq!(s.failed[&10_000], 2.0);
        assert_eq!(s.running[&10_000], 3.0);
    }

    #[test]
    fn totals_give_documents_percent_eta_and_the_last_finished_buckets_rate() {
        let lines = [
            r#"{"_aws":{"Timestamp":0},"ShardsTotal":4,"ShardsCompleted":0}"#,
            r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100,"FailedDocuments":3}"#,
            r#"{"_aws":{"Timestamp":20000},"DocumentsMigrated":50}"#,
            r#"{"_aws":{"Timestamp":60000},"ShardsTotal":4,"ShardsCompleted":1,"DocumentsMigrated":7}"#,
        ];
        let t = Series::from_lines(lines.into_iter(), 10_000).totals();
        assert_eq!((t.documents, t.failed), (157.0, 3.0));
        assert_eq!(t.percent, Some(25.0));
        assert_eq!(
            t.eta_seconds,
            Some(180),
            "60 s for a quarter: 180 s for the rest"
        );
        assert_eq!(t.current_rate, 0.0, "the 50-60 s bucket is over and empty");
        let none = Series::from_lines(std::iter::empty(), 10_000).totals();
        assert_eq!((none.percent, none.eta_seconds), (None, None));
    }

    #[test]
    fn the_page_has_totals_a_time_axis_and_the_failures() {
        let s = Series::from_lines(
            [
                r#"{"_aws":{"Timestamp":1800000000000},"DocumentsMigrated":100,"ShardsTotal":2,"ShardsCompleted":2}"#,
                r#"{"_aws":{"Timestamp":1800000060000},"DocumentsMigrated":20}"#,
            ]
            .into_iter(),
            10_000,
        );
        let failure = WorkerFailure {
            worker: "worker-0-3".into(),
            exit_code: Some(5),
            stopped_at: Timestamp::from_epoch_seconds(1_800_000_061),
            message: "the snapshot cannot be read: <blob> missing".into(),
        };
        let page = render_page("demo", &s, &[failure]);
        assert!(page.contains("<b>120</b>documents migrated"), "{page}");
        assert!(page.contains("<b>100.0%</b>complete (shards)"), "{page}");
        assert!(page.contains("<b>0s</b>ETA"), "{page}");
        assert!(page.contains(">08:00:00</text>") && page.contains(">08:01:00</text>"));
        assert!(page.contains("Worker failures (1)"));
        assert!(page.contains("<td>worker-0-3</td><td>5</td><td>08:01:01</td>"));
        assert!(page.contains("&lt;blob&gt; missing"));
        assert!(!render_page("demo", &s, &[]).contains("Worker failures"));
    }

    #[test]
    fn page_is_self_contained_and_escapes_the_name() {
        let s = Series::from_lines(
            [r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100}"#].into_iter(),
            10_000,
        );
        let page = render_page("<demo>", &s, &[]);
        assert!(page.contains("&lt;demo&gt;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<circle"), "one bucket draws a point");
        assert!(page.contains("no data yet"), "empty series say so");
    }
}
