//! Renders converge-loop events: an indicatif bar (work items completed / total, docs/s, ETA) on a TTY,
//! one line per change otherwise (CI logs), and one JSON document per event with `--json`.
//!
//! Lines are printed only when the status, reason or an action changes, so a long `--watch` stays readable.
//!
//! The runner hands events to a sink that cannot fail, so the view keeps the first write error, prints nothing
//! after it, wakes [`ConvergeView::closed`] (the command stops waiting on the loop) and returns the error from
//! [`ConvergeView::finish`].

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Notify;

use super::status_view::format_duration;
use super::{Format, OutputError, Printer};
use crate::converge::ConvergeEvent;
use crate::converge::reconcile::Action;

/// Stateful renderer for one converge run.
pub(crate) struct ConvergeView {
    printer: Printer,
    bar: Option<ProgressBar>,
    last_line: Option<String>,
    /// The first write that failed; nothing is printed after it.
    failure: Option<OutputError>,
    closed: Arc<Notify>,
}

impl ConvergeView {
    pub(crate) fn new(printer: Printer) -> Self {
        let bar = (printer.interactive && printer.format == Format::Human).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), printer.progress_target());
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
            failure: None,
            closed: Arc::new(Notify::new()),
        }
    }

    /// Notified once when a write fails: whoever drives the loop stops waiting on it (the loop itself cannot
    /// tell, its sink does not fail). Take it before lending the view to the sink.
    pub(crate) fn closed(&self) -> Arc<Notify> {
        self.closed.clone()
    }

    fn say(&mut self, line: String) -> super::Result {
        if self.last_line.as_deref() == Some(line.as_str()) {
            return Ok(());
        }
        match &self.bar {
            Some(bar) => bar.println(&line),
            None => self.printer.line(&line)?,
        }
        self.last_line = Some(line);
        Ok(())
    }

    /// Renders one event; after a failed write, nothing (see [`ConvergeView::finish`]).
    pub(crate) fn event(&mut self, event: &ConvergeEvent) {
        if self.failure.is_some() {
            return;
        }
        if let Err(err) = self.render(event) {
            self.failure = Some(err);
            self.closed.notify_one();
        }
    }

    fn render(&mut self, event: &ConvergeEvent) -> super::Result {
        if self.printer.format == Format::Json {
            return match serde_json::to_value(event) {
                Ok(v) => self.printer.json(&v),
                Err(_) => Ok(()),
            };
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
                ))
            }
            ConvergeEvent::Ramp { reason } => self.say(format!("ramp: {reason}")),
            ConvergeEvent::Acted { action } => match action {
                Action::Scale { desired } => self.say(format!("scaled the fleet to {desired}")),
                Action::ArchiveWorkingState => Ok(()),
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

    /// Clears the bar; returns the first write error of the run, if there was one.
    pub(crate) fn finish(&mut self) -> super::Result {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        match self.failure.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
