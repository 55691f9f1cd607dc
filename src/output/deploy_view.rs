//! Renders deployment events from `apply` / `destroy`: on a TTY one live line per resource (status and elapsed
//! time, redrawn in place by indicatif); otherwise one plain line per event (CI logs, no redraw noise); with
//! `--json` one event document per line. Ends with a summary, or a root-cause block on failure.
//!
//! The platform hands events to a sink that cannot fail, so the view keeps the first write error, prints
//! nothing after it, and returns it from [`DeployView::finish_ok`]: a deployment is not abandoned halfway
//! because its reader left (it would go on in CloudFormation anyway), but the command stops right after it.
//! Colours and finished lines follow the status's category ([`StatusCategory`]), never its wording.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{Color, Format, OutputError, Printer, Stream};
use crate::platform::{DeployError, DeployEvent, StatusCategory};

/// A resource event's reason as a suffix to its status line: ` (reason)`, or nothing without one.
fn reason_suffix(reason: Option<&str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

/// The colour of a status: failures (rollbacks included) red, done green, everything under way yellow.
fn category_color(category: StatusCategory) -> Color {
    match category {
        StatusCategory::Failed | StatusCategory::RollingBack | StatusCategory::RolledBack => {
            Color::Red
        }
        StatusCategory::Complete | StatusCategory::Skipped => Color::Green,
        StatusCategory::Pending | StatusCategory::InProgress => Color::Yellow,
    }
}

/// One event as a plain line, without the elapsed-time prefix.
fn event_line(event: &DeployEvent) -> String {
    match event {
        DeployEvent::StackStarted { stack, operation } => format!("{stack}: {operation} started"),
        DeployEvent::Resource {
            stack,
            logical_id,
            resource_type,
            status,
            reason,
            ..
        } => {
            let reason = reason_suffix(reason.as_deref());
            format!("{stack}: {logical_id} ({resource_type}) {status}{reason}")
        }
        DeployEvent::StackFinished {
            stack,
            status,
            elapsed_ms,
            ..
        } => format!(
            "{stack}: {status} in {:.1}s",
            Duration::from_millis(*elapsed_ms).as_secs_f64()
        ),
        DeployEvent::Notice { stack, message } => format!("{stack}: {message}"),
    }
}

struct Live {
    multi: MultiProgress,
    bars: HashMap<(String, String), (ProgressBar, Instant)>,
}

/// Thread-safe renderer handed to `Stacks::apply` as the event sink.
pub(crate) struct DeployView {
    printer: Printer,
    live: Option<Mutex<Live>>,
    started: Instant,
    counts: Mutex<(u32, u32)>,
    /// The first write that failed; nothing is printed after it.
    failure: Mutex<Option<OutputError>>,
}

impl DeployView {
    pub(crate) fn new(printer: Printer) -> Self {
        let live = (printer.interactive && printer.format == Format::Human).then(|| {
            Mutex::new(Live {
                multi: MultiProgress::with_draw_target(printer.progress_target()),
                bars: HashMap::new(),
            })
        });
        DeployView {
            printer,
            live,
            started: Instant::now(),
            counts: Mutex::new((0, 0)),
            failure: Mutex::new(None),
        }
    }

    /// Renders one event; after a failed write, nothing (see [`DeployView::finish_ok`]).
    pub(crate) fn event(&self, event: DeployEvent) {
        let Ok(mut failure) = self.failure.lock() else {
            return;
        };
        if failure.is_none()
            && let Err(err) = self.render(event)
        {
            *failure = Some(err);
        }
    }

    fn render(&self, event: DeployEvent) -> super::Result {
        if self.printer.format == Format::Json {
            return match serde_json::to_value(&event) {
                Ok(v) => self.printer.json(&v),
                Err(_) => Ok(()),
            };
        }
        match &event {
            DeployEvent::StackFinished { ok, .. } => {
                if let Ok(mut c) = self.counts.lock() {
                    if *ok {
                        c.0 += 1;
                    } else {
                        c.1 += 1;
                    }
                }
            }
            DeployEvent::Resource { .. }
            | DeployEvent::StackStarted { .. }
            | DeployEvent::Notice { .. } => {}
        }
        if let Some(live) = &self.live
            && let Ok(mut live) = live.lock()
        {
            return self.live_event(&mut live, &event);
        }
        self.printer.line(self.plain_line(&event))
    }

    fn plain_line(&self, event: &DeployEvent) -> String {
        let t = format!("[{:>5.1}s]", self.started.elapsed().as_secs_f64());
        format!("{t} {}", event_line(event))
    }

    fn live_event(&self, live: &mut Live, event: &DeployEvent) -> super::Result {
        match event {
            DeployEvent::Resource {
                stack,
                logical_id,
                resource_type,
                status,
                reason,
                ..
            } => {
                let key = (stack.clone(), logical_id.clone());
                let (bar, since) = live.bars.entry(key).or_insert_with(|| {
                    let bar = live.multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(format!("{stack}/{logical_id} ({resource_type})"));
                    bar.enable_steady_tick(Duration::from_millis(120));
                    (bar, Instant::now())
                });
                let reason = reason_suffix(reason.as_deref());
                let shown = self
                    .printer
                    .paint(category_color(status.category), &status.to_string());
                bar.set_message(format!("{shown}{reason}"));
                if status.category.is_final() {
                    bar.finish_with_message(format!(
                        "{shown}{reason} {:.1}s",
                        since.elapsed().as_secs_f64()
                    ));
                }
            }
            other => {
                return live
                    .multi
                    .println(self.plain_line(other))
                    .map_err(|source| OutputError {
                        stream: Stream::Stderr,
                        source,
                    });
            }
        }
        Ok(())
    }

    /// The first write that failed during the run, if any.
    fn take_failure(&self) -> super::Result {
        match self.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Final line after a successful run; returns the first write error of the run instead, if there was one.
    pub(crate) fn finish_ok(&self, what: &str) -> super::Result {
        self.take_failure()?;
        let (ok, _) = self.counts.lock().map(|c| *c).unwrap_or_default();
        if self.printer.format == Format::Human {
            self.printer.line(self.printer.paint(
                Color::Green,
                &format!(
                    "{what} complete: {ok} stack(s) in {:.1}s.",
                    self.started.elapsed().as_secs_f64()
                ),
            ))?;
        }
        Ok(())
    }

    /// After a failed run: the root-cause block for people (nothing with `--json`, whose events said it all).
    /// Returns the first write error of the run, if any.
    pub(crate) fn finish_failed(&self, err: &DeployError) -> super::Result {
        self.take_failure()?;
        if self.printer.format == Format::Human {
            self.printer.line(self.root_cause(err))?;
        }
        Ok(())
    }

    /// The root-cause block after a failure.
    fn root_cause(&self, err: &DeployError) -> String {
        match err {
            DeployError::Failed {
                stack,
                root_cause,
                outcome,
            } => {
                let mut lines = vec![format!("Root cause ({stack}):")];
                match root_cause {
                    Some(r) => {
                        lines.push(format!(
                            "  resource: {} ({})",
                            r.logical_id, r.resource_type
                        ));
                        lines.push(format!("  status:   {}", r.status));
                        lines.push(format!("  reason:   {}", r.reason));
                    }
                    None => lines.push("  no failed resource event was reported".into()),
                }
                lines.push(format!("  stack is now: {outcome}"));
                lines.join("\n")
            }
            other => format!("Root cause: {other}"),
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod category_tests {
    use super::*;
    use crate::platform::{DeployAction, DeployStatus, FailedResource};

    fn resource(status: DeployStatus, reason: Option<&str>) -> DeployEvent {
        DeployEvent::Resource {
            stack: "orders-workers".into(),
            logical_id: "WorkerService".into(),
            resource_type: "local::WorkerService".into(),
            status,
            reason: reason.map(str::to_string),
            timestamp: "2024-11-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn lines_show_the_platform_word_or_the_action_and_category() {
        let local = resource(
            DeployStatus::of(DeployAction::Create, StatusCategory::Failed),
            Some("permission denied"),
        );
        assert_eq!(
            event_line(&local),
            "orders-workers: WorkerService (local::WorkerService) create failed (permission denied)"
        );
        let aws = resource(
            DeployStatus {
                category: StatusCategory::Complete,
                action: Some(DeployAction::Create),
                native: Some("CREATE_COMPLETE".into()),
            },
            None,
        );
        assert_eq!(
            event_line(&aws),
            "orders-workers: WorkerService (local::WorkerService) CREATE_COMPLETE"
        );
        let finished = DeployEvent::StackFinished {
            stack: "orders-logs".into(),
            status: DeployStatus::of(DeployAction::Delete, StatusCategory::Complete),
            ok: true,
            elapsed_ms: 1_250,
        };
        assert_eq!(
            event_line(&finished),
            "orders-logs: delete complete in 1.2s"
        );
    }

    #[test]
    fn colours_follow_the_category() {
        assert!(matches!(
            category_color(StatusCategory::RollingBack),
            Color::Red
        ));
        assert!(matches!(
            category_color(StatusCategory::RolledBack),
            Color::Red
        ));
        assert!(matches!(
            category_color(StatusCategory::Skipped),
            Color::Green
        ));
        assert!(matches!(
            category_color(StatusCategory::Pending),
            Color::Yellow
        ));
    }

    #[test]
    fn the_root_cause_names_the_failed_resource_and_its_status() {
        let (printer, _, _) = crate::output::testing::plain(Format::Human);
        let view = DeployView::new(printer);
        let err = DeployError::Failed {
            stack: "orders-workers".into(),
            root_cause: Some(Box::new(FailedResource {
                logical_id: "WorkerService".into(),
                resource_type: "local::WorkerService".into(),
                status: DeployStatus::of(DeployAction::Update, StatusCategory::Failed),
                reason: "cannot start the supervisor".into(),
            })),
            outcome: "partially applied".into(),
        };
        assert_eq!(
            view.root_cause(&err),
            "Root cause (orders-workers):\n  resource: WorkerService (local::WorkerService)\n  status:   update failed\n  reason:   cannot start the supervisor\n  stack is now: partially applied"
        );
    }
}
