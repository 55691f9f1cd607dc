//! The page: a header, the totals as a full-width row, the worker failures when there are some, the per-index
//! progress table, then the charts in a grid. Self-contained (inline CSS and SVG, no script, no network) and
//! reloading itself every 10 s.

use std::collections::BTreeMap;

use super::IndexTotal;
use super::chart::{Line, chart, clock_time, html_escape, number};
use super::progress::{IndexRow, IndexState, RunState, Totals, index_rows, totals};
use super::series::Series;
use crate::converge::ports::WorkerFailure;

const STYLE: &str = "body{font-family:sans-serif;margin:16px;background:#fff;color:#222}\
h1{font-size:18px;margin:0 0 12px}h2{font-size:14px;margin:0 0 6px}\
.totals{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:14px}\
.t{border:1px solid #ddd;border-radius:4px;padding:8px 14px;min-width:120px}\
.t b{display:block;font-size:22px}.t span{font-size:12px;color:#555}\
.c{border:1px solid #ddd;border-radius:4px;padding:8px;margin-bottom:14px}\
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}\
.charts .c{margin:0}.f{color:#b00}table{border-collapse:collapse}\
td,th{padding:3px 10px;text-align:left;font-size:13px}th{color:#555;font-weight:normal}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
.bar{width:160px;height:10px;background:#eee;border-radius:5px;overflow:hidden}\
.bar i{display:block;height:100%;background:#2ca02c}";

/// The page for `s`, with the recorded index sizes and the worker `failures` the supervisor recorded.
pub fn render_page(
    migration: &str,
    s: &Series,
    indices: &[IndexTotal],
    failures: &[WorkerFailure],
) -> String {
    let per_sec = |m: &BTreeMap<u64, f64>, scale: f64| -> BTreeMap<u64, f64> {
        m.iter()
            .map(|(k, v)| (*k, v / (s.bucket_ms as f64 / 1000.0) / scale))
            .collect()
    };
    let line = |label, color, points| Line {
        label,
        color,
        points,
        show_latest: true,
    };
    let rate = |label, color, points| Line {
        show_latest: false,
        ..line(label, color, points)
    };
    let charts = [
        chart(
            "Documents migrated per second",
            &[rate("docs/s", "#1f77b4", per_sec(&s.documents, 1.0))],
        ),
        chart(
            "MB migrated per second",
            &[rate("MB/s", "#ff7f0e", per_sec(&s.bytes, 1e6))],
        ),
        chart(
            "Work items completed (shard progress)",
            &[line("completed", "#2ca02c", s.items_completed.clone())],
        ),
        chart(
            "Failed documents and bulk retries",
            &[
                line("failed", "#d62728", s.failed.clone()),
                line("retries", "#9467bd", s.retries.clone()),
            ],
        ),
        chart(
            "Running workers",
            &[line("running", "#8c564b", s.running.clone())],
        ),
    ];
    let title = html_escape(migration);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\">\
         <title>{title} backfill</title><style>{STYLE}</style></head><body>\
         <h1>MigrationAssistant_ReindexFromSnapshot_Dashboard — {title} (local)</h1>\n{}\n{}\n{}\n\
         <div class=\"charts\">{}</div>\n<p style=\"font-size:12px;color:#777\">{} buckets, times in UTC</p>\
         </body></html>\n",
        totals_html(&totals(s, indices)),
        failures_html(failures),
        indices_html(&index_rows(s, indices)),
        charts.join("\n"),
        bucket_text(s.bucket_ms),
    )
}

fn bucket_text(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms)).to_string()
}

/// The totals row.
fn totals_html(t: &Totals) -> String {
    let documents = match t.documents_expected {
        Some(n) => format!("{:.0} of {n}", t.documents),
        None => format!("{:.0}", t.documents),
    };
    let percent = t.percent.map_or("–".to_string(), |p| format!("{p:.1}%"));
    let eta = match (t.state, t.eta_seconds) {
        (RunState::Completed, _) => "completed".to_string(),
        (RunState::Stopped, _) => "stopped".to_string(),
        (_, Some(s)) => humantime::format_duration(std::time::Duration::from_secs(s)).to_string(),
        (_, None) => "–".to_string(),
    };
    let rate = match t.state {
        RunState::Running => number(t.current_rate),
        RunState::Waiting | RunState::Completed | RunState::Stopped => "0".to_string(),
    };
    let cells: String = [
        ("documents migrated", documents),
        ("failed documents", format!("{:.0}", t.failed)),
        ("complete (shards)", percent),
        ("ETA", eta),
        ("current docs/s", rate),
    ]
    .iter()
    .map(|(label, value)| {
        format!(
            "<div class=\"t\"><b>{}</b><span>{label}</span></div>",
            html_escape(value)
        )
    })
    .collect();
    format!("<div class=\"totals\">{cells}</div>")
}

/// The per-index table; nothing when no index is known yet.
fn indices_html(rows: &[IndexRow]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let body: String = rows
        .iter()
        .map(|r| {
            let expected = r.expected.map_or("?".to_string(), |n| n.to_string());
            let shards = r.shards.map_or("?".to_string(), |n| n.to_string());
            let percent = r.percent();
            let state = match r.state {
                IndexState::Waiting => "waiting",
                IndexState::InProgress => "in progress",
                IndexState::Done => "done",
            };
            format!(
                "<tr class=\"index\"><td>{}</td><td class=\"n\">{:.0} / {expected}</td><td class=\"n\">{}</td>\
                 <td><div class=\"bar\"><i style=\"width:{:.1}%\"></i></div></td>\
                 <td class=\"n\">{} / {shards}</td><td>{state}</td></tr>",
                html_escape(&r.name),
                r.documents,
                percent.map_or("–".to_string(), |p| format!("{p:.1}%")),
                percent.unwrap_or(0.0),
                r.shards_done,
            )
        })
        .collect();
    format!(
        "<div class=\"c\"><h2>Progress per index</h2><table><tr><th>index</th><th>documents</th><th>percent</th>\
         <th></th><th>shards done</th><th>state</th></tr>{body}</table></div>"
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn recorded() -> Vec<IndexTotal> {
        vec![IndexTotal {
            name: "logs".into(),
            shards: 2,
            documents: 200,
        }]
    }

    #[test]
    fn a_completed_page_has_totals_a_time_axis_index_rows_and_the_failures() {
        let s = Series::from_lines(
            [
                r#"{"_aws":{"Timestamp":1800000000000},"Index":"logs","Shard":0,"DocumentsMigrated":100,"ShardsTotal":2,"ShardsCompleted":2}"#,
                r#"{"_aws":{"Timestamp":1800000060000},"PeriodMs":1000,"Index":"logs","Shard":1,"DocumentsMigrated":100}"#,
            ]
            .into_iter(),
        );
        let failure = WorkerFailure {
            worker: "worker-0-3".into(),
            exit_code: Some(5),
            stopped_at: Timestamp::from_epoch_seconds(1_800_000_061),
            message: "the snapshot cannot be read: <blob> missing".into(),
        };
        let page = render_page("demo", &s, &recorded(), &[failure]);
        assert!(
            page.contains("<b>200 of 200</b><span>documents migrated"),
            "{page}"
        );
        assert!(
            page.contains("<b>100.0%</b><span>complete (shards)"),
            "{page}"
        );
        assert!(page.contains("<b>completed</b><span>ETA"), "{page}");
        assert!(page.contains("<b>0</b><span>current docs/s"), "{page}");
        assert!(page.contains(">08:00:00</text>") && page.contains(">08:01:00</text>"));
        assert!(
            page.contains("<td>logs</td><td class=\"n\">200 / 200</td><td class=\"n\">100.0%</td>"),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"n\">2 / 2</td><td>done</td>"),
            "{page}"
        );
        assert!(page.contains("Worker failures (1)"));
        assert!(page.contains("<td>worker-0-3</td><td>5</td><td>08:01:01</td>"));
        assert!(page.contains("&lt;blob&gt; missing"));
        assert!(!render_page("demo", &s, &[], &[]).contains("Worker failures"));
    }

    #[test]
    fn a_running_page_shows_the_rate_and_the_indices_in_progress() {
        let s = Series::from_lines(
            [
                r#"{"_aws":{"Timestamp":1800000010000},"PeriodMs":10000,"Index":"logs","Shard":0,"DocumentsMigrated":50}"#,
                r#"{"timestamp":1800000010000,"running":2,"desired":2}"#,
            ]
            .into_iter(),
        );
        let page = render_page("demo", &s, &recorded(), &[]);
        assert!(page.contains("<b>5</b><span>current docs/s"), "{page}");
        assert!(page.contains("<b>50 of 200</b>"), "{page}");
        assert!(page.contains("<b>30s</b><span>ETA"), "{page}");
        assert!(
            page.contains("25.0%</td>") && page.contains("<td>in progress</td>"),
            "{page}"
        );
    }

    #[test]
    fn page_is_self_contained_and_escapes_the_name() {
        let s = Series::from_lines(
            [r#"{"_aws":{"Timestamp":10000},"DocumentsMigrated":100}"#].into_iter(),
        );
        let page = render_page("<demo>", &s, &[], &[]);
        assert!(page.contains("&lt;demo&gt;"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<circle"), "one bucket draws a point");
        let empty = render_page("demo", &Series::from_lines(std::iter::empty()), &[], &[]);
        assert!(empty.contains("no data yet"), "empty series say so");
        assert!(!empty.contains("Progress per index"));
    }
}
