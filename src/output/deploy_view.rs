//! Renders deployment events from `apply` / `destroy`: on a TTY one live line per resource (status and elapsed
//! time, redrawn in place by indicatif); otherwise one plain line per event (CI logs, no redraw noise); with
//! `--json` one event document per line. Ends with a summary, or a root-cause block on failure.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Color, Format, Printer};
use crate::platform::{DeployError, DeployEvent};

/// A resource event's reason as a suffix to its status line: ` (reason)`, or nothing without one.
fn reason_suffix(reason: Option<&str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

struct Live {
    multi: MultiProgress,
    bars: HashMap<(String, String), (ProgressBar, Instant)>,
}

/// Thread-safe renderer handed to `Stacks::apply` as the event sink.
pub struct DeployView {
    printer: Printer,
    live: Option<Mutex<Live>>,
    started: Instant,
    counts: Mutex<(u32, u32)>,
}

impl DeployView {
    pub fn new(printer: Printer) -> Self {
        let live = (printer.interactive && printer.format == Format::Human).then(|| {
            Mutex::new(Live {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: HashMap::new(),
            })
        });
        DeployView {
            printer,
            live,
            started: Instant::now(),
            counts: Mutex::new((0, 0)),
        }
    }

    /// Renders one event.
    pub fn event(&self, event: DeployEvent) {
        if self.printer.format == Format::Json {
            if let Ok(v) = serde_json::to_value(&event) {
                self.printer.json(&v);
            }
            return;
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
            self.live_event(&mut live, &event);
            return;
        }
        self.printer.line(self.plain_line(&event));
    }

    fn plain_line(&self, event: &DeployEvent) -> String {
        let t = format!("[{:>5.1}s]", self.started.elapsed().as_secs_f64());
        match event {
            DeployEvent::StackStarted { stack, operation } => {
                format!("{t} {stack}: {operation} started")
            }
            DeployEvent::Resource {
                stack,
                logical_id,
                resource_type,
                status,
                reason,
                ..
            } => {
                let reason = reason_suffix(reason.as_deref());
                format!("{t} {stack}: {logical_id} ({resource_type}) {status}{reason}")
            }
            DeployEvent::StackFinished {
                stack,
                status,
                elapsed_ms,
                ..
            } => format!(
                "{t} {stack}: {status} in {:.1}s",
                Duration::from_millis(*elapsed_ms).as_secs_f64()
            ),
            DeployEvent::Notice { stack, message } => format!("{t} {stack}: {message}"),
        }
    }

    fn live_event(&self, live: &mut Live, event: &DeployEvent) {
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
                let color = if status.ends_with("_FAILED") {
                    Color::Red
                } else if status.ends_with("_COMPLETE") {
                    Color::Green
                } else {
                    Color::Yellow
                };
                bar.set_message(format!("{}{reason}", self.printer.paint(color, status)));
                if status.ends_with("_COMPLETE") || status.ends_with("_FAILED") {
                    bar.finish_with_message(format!(
                        "{}{reason} {:.1}s",
                        self.printer.paint(color, status),
                        since.elapsed().as_secs_f64()
                    ));
                }
            }
            other => {
                let _ = live.multi.println(self.plain_line(other));
            }
        }
    }

    /// Final line after a successful run.
    pub fn finish_ok(&self, what: &str) {
        let (ok, _) = self.counts.lock().map(|c| *c).unwrap_or_default();
        if self.printer.format == Format::Human {
            self.printer.line(self.printer.paint(
                Color::Green,
                &format!(
                    "{what} complete: {ok} stack(s) in {:.1}s.",
                    self.started.elapsed().as_secs_f64()
                ),
            ));
        }
    }

    /// The root-cause block after a failure.
    pub fn root_cause(&self, err: &DeployError) -> String {
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
