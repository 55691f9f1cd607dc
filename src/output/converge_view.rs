//! Renders converge-loop events: an indicatif bar (work items completed / total, docs/s, ETA) on a TTY,
//! one line per change otherwise (CI logs), and one JSON document per event with `--json`.
//!
//! Lines are printed only when the status, reason or an action changes, so a long `--watch` stays readable.

use indicatif::{ProgressBar, ProgressStyle};

use super::status_view::format_duration;
use super::{Format, Printer};
use crate::converge::ConvergeEvent;
use crate::converge::reconcile::Action;

/// Stateful renderer for one converge run.
pub struct ConvergeView {
    printer: Printer,
    bar: Option<ProgressBar>,
    last_line: Option<String>,
}

impl ConvergeView {
    pub fn new(printer: Printer) -> Self {
        let bar = (printer.interactive && printer.format == Format::Human).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} work items {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        ConvergeView {
            printer,
            bar,
            last_line: None,
        }
    }

    fn say(&mut self, line: String) {
        if self.last_line.as_deref() == Some(line.as_str()) {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(&line),
            None => self.printer.line(&line),
        }
        self.last_line = Some(line);
    }

    /// Renders one event.
    pub fn event(&mut self, event: &ConvergeEvent) {
        if self.printer.format == Format::Json {
            if let Ok(v) = serde_json::to_value(event) {
                self.printer.json(&v);
            }
            return;
        }
        match event {
            ConvergeEvent::Pass {
                now,
                fleet,
                progress,
                decision,
            } => {
                let mut tail = String::new();
                if let Some(p) = progress {
                    if let Some(rate) = p.documents_per_second(*now) {
                        tail.push_str(&format!(" {rate:.0} docs/s"));
                    }
                    if let Some(eta) = p.eta_seconds(*now).filter(|_| !p.is_complete()) {
                        tail.push_str(&format!(" ETA {}", format_duration(eta)));
                    }
                    if let Some(bar) = &self.bar {
                        bar.set_length(p.total);
                        bar.set_position(p.completed);
                    }
                }
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "| {} | workers {}/{}{tail}",
                        decision.status.status.as_str(),
                        fleet.running,
                        fleet.desired
                    ));
                    bar.tick();
                }
                self.say(format!(
                    "{}: {}",
                    decision.status.status.as_str(),
                    decision.status.reason
                ));
            }
            ConvergeEvent::Ramp { reason } => self.say(format!("ramp: {reason}")),
            ConvergeEvent::Acted { action } => match action {
                Action::Scale { desired } => self.say(format!("scaled the fleet to {desired}")),
                Action::ArchiveWorkingState => {}
            },
            ConvergeEvent::Archived { report } => self.say(format!(
                "working state archived to {} ({} documents, sha256 {}){}",
                report.location,
                report.documents,
                report.sha256,
                if report.index_deleted {
                    "; index deleted"
                } else {
                    ""
                }
            )),
            ConvergeEvent::Error { message, retry_in } => self.say(format!(
                "error: {message}; retrying in {}",
                format_duration(retry_in.as_secs())
            )),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
