//! Renders a [`StatusReport`]: console-compatible text and one stable JSON document.
//!
//! Text starts exactly like `console backfill status` (PR #780 format) so existing runbooks keep working:
//! `BackfillStatus.<STATE>`, then `Running=N`, `Pending=N`, `Desired=N` on their own lines; with
//! `--deep-check` the shard lines `Shards total|completed|incomplete|in progress|unclaimed: N`; then our
//! additions (percent, ETA, documents, failed documents, documents skipped by configuration — also without
//! `--deep-check` when there are any —, derived status and its reason — `Failing` with the
//! workers' exit code and last error line when they keep failing). JSON always carries
//! every field (null when unknown), also without `--deep-check`, and includes the console's
//! `BackfillOverallStatus` keys (`percentage_completed`, `eta_ms`, `shard_total`, …), and the recent
//! `worker_failures` (worker, exit code, when, last error line).

use serde_json::{Value, json};

use crate::converge::status::{StatusReport, WorkingStateAccess};
use crate::coordination::identity::Recorded;
use crate::time::Timestamp;

/// `1h 2m 3s`, as the console prints durations.
pub(crate) fn format_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

fn access_text(report: &StatusReport) -> String {
    let why = report.working_state_error.clone().unwrap_or_default();
    match report.working_state {
        WorkingStateAccess::Ok => String::new(),
        WorkingStateAccess::Missing => format!(
            "Working state: missing (index {} does not exist)",
            report.index
        ),
        WorkingStateAccess::Unreachable => format!("Working state: target unreachable ({why})"),
        WorkingStateAccess::Unauthorized => format!("Working state: access denied ({why})"),
        WorkingStateAccess::Error => format!("Working state: error ({why})"),
        WorkingStateAccess::OtherMigration => {
            format!("Working state: not this migration's ({})", report.index)
        }
    }
}

/// The owner line: only for a working state that records no migration (ours is the expected case, another
/// migration's is the status reason).
fn owner_line(report: &StatusReport) -> Option<String> {
    (report.owner == Some(Recorded::Unrecorded)).then(|| {
        format!(
            "Working state: {} records no migration (written by Migration Assistant or an older backfill)",
            report.index
        )
    })
}

/// `working_state.owner` in JSON: null when not read, `{"recorded": false}`, or the record.
fn owner_json(report: &StatusReport) -> Value {
    match &report.owner {
        None | Some(Recorded::Absent) => Value::Null,
        Some(Recorded::Unrecorded) => json!({"recorded": false}),
        Some(Recorded::Migration { identity }) => {
            let mut v = json!(identity);
            v["recorded"] = json!(true);
            v
        }
    }
}

fn or_unknown(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "unknown".into())
}

/// Says why a finished migration may leave fewer documents on the target than the source holds: never silent.
fn skipped_line(report: &StatusReport) -> Option<String> {
    let skipped = report.progress.as_ref()?.skipped_documents?;
    (skipped > 0).then(|| {
        format!(
            "{skipped} documents skipped by configuration (types source.type_mappings leaves out, documents transforms filter out): not sent, not failed"
        )
    })
}

/// The text lines of `backfill status`.
pub fn text_lines(report: &StatusReport, deep_check: bool) -> Vec<String> {
    let mut lines = Vec::new();
    match (&report.fleet, report.console_state) {
        (Some(f), Some(state)) => {
            lines.push(format!("BackfillStatus.{state}"));
            lines.push(format!("Running={}", f.running));
            lines.push(format!("Pending={}", f.pending));
            lines.push(format!("Desired={}", f.desired));
        }
        _ => lines.push(format!(
            "Workers: unknown ({})",
            report.fleet_error.as_deref().unwrap_or("not observed")
        )),
    }
    if deep_check {
        match &report.progress {
            Some(p) => {
                lines.push(format!("Shards total: {}", p.total));
                lines.push(format!("Shards completed: {}", p.completed));
                lines.push(format!("Shards incomplete: {}", p.incomplete));
                lines.push(format!("Shards in progress: {}", p.in_progress));
                lines.push(format!("Shards unclaimed: {}", p.unclaimed));
                if p.setup_done() {
                    lines.push(format!("Percent completed: {:.1}%", p.percent()));
                    let eta = p
                        .eta_seconds(report.observed_at)
                        .map(format_duration)
                        .unwrap_or_else(|| "N/A".into());
                    lines.push(format!("Estimated time to completion: {eta}"));
                } else {
                    lines.push("Shards are initializing".into());
                }
                if let Some(start) = p.setup_completed_at {
                    lines.push(format!("Start time: {}", start.console()));
                }
                lines.push(format!(
                    "Documents migrated: {}",
                    or_unknown(p.documents_migrated)
                ));
                lines.push(format!(
                    "Failed documents: {}",
                    or_unknown(p.failed_documents)
                ));
                lines.push(format!(
                    "Documents skipped by configuration: {}",
                    or_unknown(p.skipped_documents)
                ));
            }
            None => lines.push(access_text(report)),
        }
    } else if report.working_state != WorkingStateAccess::Ok {
        lines.push(access_text(report));
    }
    lines.extend(skipped_line(report));
    lines.extend(owner_line(report));
    if let Some(why) = &report.failures_error {
        lines.push(format!("Worker failures: unknown ({why})"));
    }
    lines.push(format!("Status: {}", report.status.status.as_str()));
    lines.push(format!("Reason: {}", report.status.reason));
    lines
}

/// The one JSON document of `backfill status --json` (every field, nulls when unknown).
pub fn json_document(report: &StatusReport) -> Value {
    let p = report.progress.as_ref();
    let finished = p
        .filter(|p| p.is_complete())
        .map(|p| p.last_completed_at.unwrap_or(report.observed_at));
    json!({
        "status": report.status.status.as_str(),
        "reason": report.status.reason,
        "console_status": report.console_state.map(|s| format!("BackfillStatus.{s}")),
        "workers": report.fleet.map(|f| json!({"running": f.running, "pending": f.pending, "desired": f.desired})),
        "workers_error": report.fleet_error,
        "working_state": {
            "index": report.index,
            "access": report.working_state,
            "error": report.working_state_error,
            "owner": owner_json(report),
        },
        "shards": p.map(|p| json!({
            "total": p.total, "completed": p.completed, "incomplete": p.incomplete,
            "in_progress": p.in_progress, "unclaimed": p.unclaimed,
        })),
        "percentage_completed": p.filter(|p| p.setup_done()).map(|p| (p.percent() * 10.0).round() / 10.0),
        "eta_ms": p.and_then(|p| p.eta_seconds(report.observed_at)).map(|s| s.saturating_mul(1000)),
        "started": p.and_then(|p| p.setup_completed_at).map(Timestamp::rfc3339),
        "finished": finished.map(Timestamp::rfc3339),
        "shard_total": p.map(|p| p.total),
        "shard_complete": p.map(|p| p.completed),
        "shard_in_progress": p.map(|p| p.in_progress),
        "shard_waiting": p.map(|p| p.unclaimed),
        "documents_migrated": p.and_then(|p| p.documents_migrated),
        "documents_per_second": p.and_then(|p| p.documents_per_second(report.observed_at)),
        "failed_documents": p.and_then(|p| p.failed_documents),
        "failed_documents_present": p.and_then(|p| p.failed_documents).map(|n| n > 0),
        "skipped_documents": p.and_then(|p| p.skipped_documents),
        "worker_failures": report.failures.iter().map(|f| json!({
            "worker": f.worker,
            "exit_code": f.exit_code,
            "stopped_at": f.stopped_at.rfc3339(),
            "message": f.message,
        })).collect::<Vec<_>>(),
        "worker_failures_error": report.failures_error,
        "observed_at": report.observed_at.rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::converge::ports::FleetObservation;
    use crate::converge::status::derive_report;
    use crate::coordination::progress::WorkProgress;

    fn report() -> StatusReport {
        let p = WorkProgress {
            setup_completed_at: Some(Timestamp::from_epoch_seconds(1_784_642_531)),
            total: 7,
            completed: 4,
            incomplete: 3,
            in_progress: 1,
            unclaimed: 2,
            ..Default::default()
        };
        let f = FleetObservation {
            exists: true,
            desired: 1,
            running: 1,
            pending: 0,
        };
        derive_report(
            None,
            Ok(f),
            Ok(vec![]),
            ".migrations_working_state",
            Ok(p),
            Timestamp::from_epoch_seconds(1_784_642_531 + 400),
        )
    }

    #[test]
    fn text_starts_like_the_console() {
        let lines = text_lines(&report(), true);
        assert_eq!(
            &lines[..9],
            [
                "BackfillStatus.RUNNING",
                "Running=1",
                "Pending=0",
                "Desired=1",
                "Shards total: 7",
                "Shards completed: 4",
                "Shards incomplete: 3",
                "Shards in progress: 1",
                "Shards unclaimed: 2"
            ]
        );
        assert_eq!(lines[9], "Percent completed: 57.1%");
        assert_eq!(lines[10], "Estimated time to completion: 5m 0s");
        assert_eq!(lines[11], "Start time: 2026-07-21 14:02:11+00:00");
        assert_eq!(
            lines
                .last()
                .map(String::as_str)
                .unwrap_or("")
                .split(':')
                .next(),
            Some("Reason")
        );
        let short = text_lines(&report(), false);
        assert_eq!(short.len(), 6);
        assert_eq!(short[4], "Status: Running");
    }

    #[test]
    fn documents_skipped_by_configuration_are_shown_never_silent() {
        let mut r = report();
        let deep = text_lines(&r, true);
        assert!(deep.contains(&"Documents skipped by configuration: unknown".to_string()));
        assert!(!text_lines(&r, false).iter().any(|l| l.contains("skipped")));
        if let Some(p) = r.progress.as_mut() {
            p.skipped_documents = Some(12);
        }
        for deep_check in [true, false] {
            assert!(
                text_lines(&r, deep_check).iter().any(|l| l.starts_with(
                    "12 documents skipped by configuration (types source.type_mappings leaves out"
                )),
                "{:?}",
                text_lines(&r, deep_check)
            );
        }
        assert!(
            text_lines(&r, true).contains(&"Documents skipped by configuration: 12".to_string())
        );
        assert_eq!(json_document(&r)["skipped_documents"], json!(12));
    }

    #[test]
    fn json_has_every_field_also_without_progress() {
        let full = json_document(&report());
        let mut empty = report();
        empty.progress = None;
        let empty = json_document(&empty);
        let keys = |v: &Value| {
            v.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(keys(&full), keys(&empty));
        assert_eq!(full["percentage_completed"], json!(57.1));
        assert_eq!(full["eta_ms"], json!(300_000));
        assert_eq!(full["started"], json!("2026-07-21T14:02:11Z"));
        assert_eq!(empty["shards"], Value::Null);
    }

    #[test]
    fn epoch_formatting() {
        assert_eq!(Timestamp::UNIX_EPOCH.console(), "1970-01-01 00:00:00+00:00");
        assert_eq!(
            Timestamp::from_epoch_seconds(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(format_duration(3723), "1h 2m 3s");
    }
}
