//! The local dashboard: one self-contained HTML page (inline SVG, no scripts, no network) charting the same
//! series as the CloudWatch dashboard, from the same data — the workers' EMF metric lines in the log group —
//! plus the supervisor's running-worker samples. `apply` writes it; the supervisor rewrites it every few
//! seconds while the backfill runs (the page also reloads itself).
//!
//! Series (per time bucket): documents/s, MB/s, work items completed (cumulative), failed documents and
//! retries, running workers. Aggregation is a pure function of the parsed lines ([`Series::from_lines`]).

use std::collections::BTreeMap;
use std::path::Path;

use super::state::StateDir;
use crate::render::metrics as names;

/// File in the log group where the supervisor samples the fleet (`{"timestamp": ms, "running": n}` lines).
pub const FLEET_SAMPLES: &str = "fleet-samples.log";

/// Aggregated series, keyed by bucket start (epoch ms).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Series {
    pub bucket_ms: u64,
    pub documents: BTreeMap<u64, f64>,
    pub bytes: BTreeMap<u64, f64>,
    pub items_completed: BTreeMap<u64, f64>,
    pub failed: BTreeMap<u64, f64>,
    pub retries: BTreeMap<u64, f64>,
    pub running: BTreeMap<u64, f64>,
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
    pub fn from_lines<'a>(lines: impl Iterator<Item = &'a str>, min_bucket_ms: u64) -> Series {
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
        for sample in &samples {
            match sample {
                Sample::Metrics(ts, v) => {
                    let b = ts / bucket_ms * bucket_ms;
                    let get = |name: &str| v.get(name).and_then(|x| x.as_f64()).unwrap_or(0.0);
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
    let series = Series::from_lines(text.lines(), 10_000);
    let page = render_page(migration, &series);
    super::state::write_atomic(&state.dashboard_path(), page.as_bytes())
        .map_err(std::io::Error::other)
}

/// The page for `series`.
pub fn render_page(migration: &str, s: &Series) -> String {
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
         h2{{font-size:14px;margin:0 0 4px}}</style></head><body>\
         <h1>MigrationAssistant_ReindexFromSnapshot_Dashboard — {title} (local)</h1>\n{}\n</body></html>\n",
        charts.join("\n")
    )
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
    fn page_is_self_contained_and_escapes_the_name() {
        let s = Series::from_lines(
            [r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100}"#].into_iter(),
            10_000,
        );
        let page = render_page("<demo>", &s);
        assert!(page.contains("&lt;demo&gt;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<circle"), "one bucket draws a point");
        assert!(page.contains("no data yet"), "empty series say so");
    }
}
