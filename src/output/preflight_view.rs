//! Renders a [`Preflight`] report: a block of text inside the plan (and before `apply` runs a saved plan) —
//! what will move, the detected target, what was not checked, warnings, then every problem with its ways out —
//! and a JSON document for `apply --json` with a saved plan (a plan's JSON carries the report itself).

use serde_json::{Value, json};

use super::{Color, Printer};
use crate::preflight::Preflight;

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1.2 MiB`, for the byte count people read next to the exact one.
fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

fn headline(report: &Preflight) -> String {
    let checked = report.checked.source || report.checked.target;
    if !checked {
        return "preflight: nothing was checked".into();
    }
    let mut parts = Vec::new();
    if report.ok() {
        parts.push("ok".to_string());
    } else {
        parts.push(count(report.problems.len(), "problem", "problems"));
    }
    if !report.warnings.is_empty() {
        parts.push(count(report.warnings.len(), "warning", "warnings"));
    }
    if !report.not_checked.is_empty() {
        parts.push("not everything was checked".into());
    }
    format!("preflight: {}", parts.join(", "))
}

/// The preflight block, line by line (indented two spaces under its headline).
pub(crate) fn preflight_lines(report: &Preflight, printer: &Printer) -> Vec<String> {
    let color = if report.ok() {
        Color::Green
    } else {
        Color::Red
    };
    let mut out = vec![printer.paint(color, &headline(report))];
    if let Some(source) = &report.source {
        let version = source
            .version
            .as_deref()
            .map(|v| format!(", written by {v}"))
            .unwrap_or_default();
        out.push(format!(
            "  source: snapshot {} in {} ({}{version})",
            source.snapshot, source.repository, source.state
        ));
        out.push(format!(
            "    {} ({})",
            source.line(),
            human_bytes(source.bytes)
        ));
        for index in source.per_index.iter().filter(|i| !i.routes.is_empty()) {
            let routes: Vec<String> = index
                .routes
                .iter()
                .map(|r| match &r.target {
                    Some(target) => format!("{} → {target}", r.doc_type),
                    None => format!(
                        "{} → not migrated (skipped by source.type_mappings)",
                        r.doc_type
                    ),
                })
                .collect();
            out.push(format!(
                "    index {} by type: {}",
                index.name,
                routes.join(", ")
            ));
        }
    }
    if let Some(target) = &report.target {
        out.push(format!(
            "  target: {} is {}",
            target.endpoint,
            target.label()
        ));
    }
    for what in &report.not_checked {
        out.push(format!("  not checked: {what}"));
    }
    let item = |label: &str, color, subject: &Option<String>, message: &str| {
        let subject = subject
            .as_deref()
            .map(|s| format!("{s}: "))
            .unwrap_or_default();
        format!("  {} {subject}{message}", printer.paint(color, label))
    };
    for warning in &report.warnings {
        out.push(item(
            "warning:",
            Color::Yellow,
            &warning.subject,
            &warning.message,
        ));
    }
    for problem in &report.problems {
        out.push(item(
            "problem:",
            Color::Red,
            &problem.subject,
            &problem.message,
        ));
        for way in &problem.ways_out {
            out.push(format!("      way out: {way}"));
        }
    }
    out
}

/// `{"preflight": {...}}`: the report on its own (a plan's `--json` document carries it under the same key).
pub(crate) fn preflight_json(report: &Preflight) -> Value {
    json!({ "preflight": report })
}

/// Prints the report on its own (before `apply` runs a saved plan): the human block on stderr, or its JSON
/// document on stdout.
pub(crate) fn print(report: &Preflight, printer: &Printer) -> super::Result {
    match printer.format {
        super::Format::Json => printer.json(&preflight_json(report)),
        super::Format::Human => printer.line(preflight_lines(report, printer).join("\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;
    use crate::output::testing::plain;
    use crate::preflight::{Problem, ProblemKind, SourceSummary};

    #[test]
    fn problems_come_with_their_ways_out_and_the_summary_with_exact_numbers() {
        let report = Preflight {
            checked: crate::preflight::Checked {
                source: true,
                target: false,
            },
            not_checked: vec!["the target http://t (--offline)".into()],
            problems: vec![
                Problem::new(
                    ProblemKind::SourceDisabled,
                    Some("index logs".into()),
                    "no source",
                )
                .with_ways_out(["exclude it"]),
            ],
            source: Some(SourceSummary {
                repository: "/repo".into(),
                snapshot: "snap".into(),
                state: "SUCCESS".into(),
                indices: 1,
                shards: 2,
                live_documents: 3,
                bytes: 2048,
                ..SourceSummary::default()
            }),
            ..Preflight::default()
        };
        let lines = preflight_lines(&report, &plain(Format::Human).0);
        assert_eq!(
            lines,
            [
                "preflight: 1 problem, not everything was checked",
                "  source: snapshot snap in /repo (SUCCESS)",
                "    1 index, 2 shards, 3 live documents, 2048 bytes of shard data (2.0 KiB)",
                "  not checked: the target http://t (--offline)",
                "  problem: index logs: no source",
                "      way out: exclude it",
            ]
        );
        assert_eq!(
            preflight_lines(&Preflight::default(), &plain(Format::Human).0),
            ["preflight: nothing was checked"]
        );
    }
}
