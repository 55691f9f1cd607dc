//! The only writer to the terminal.
//!
//! Human text and progress go to stderr; `--json` documents go to stdout, one per line, so a pipeline can
//! parse stdout while a person watches stderr. Colours only on a TTY and never when `NO_COLOR` is set.
//! Domain modules never print: they return values or emit events that a view in this module renders.
//!
//! The [`Printer`] is built with its two writers (the process's stdout and stderr, or buffers in tests) and
//! every print returns an [`OutputError`] when the write fails, so a command stops as soon as nobody reads
//! it. A closed pipe (`backfill snapshot docs … | head -1`) is not a failure: `cli` ends the command at once,
//! quietly, with exit 0, as ripgrep does. Rust's runtime ignores SIGPIPE, so such a write returns `EPIPE`
//! instead of killing the process; and nothing here uses `println!`, which would panic on it (clippy's
//! `print_stdout`/`print_stderr` lints keep it that way for the whole library).

pub(crate) mod converge_view;
pub(crate) mod deploy_view;
pub(crate) mod plan_view;
pub(crate) mod preflight_view;
pub mod status_view;
mod writer;

use std::fmt;
use std::io::{self, IsTerminal};

use indicatif::ProgressDrawTarget;

use writer::{BarTerminal, SharedWriter, Width};

/// How a command reports: for people (stderr, maybe coloured) or for programs (JSON on stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Human,
    Json,
}

/// One of the printer's two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

/// A write to stdout or stderr failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to {stream}: {source}")]
pub(crate) struct OutputError {
    pub stream: Stream,
    #[source]
    pub source: io::Error,
}

impl OutputError {
    /// The reader of the stream has gone (a closed pipe): the command should stop, and that is not a failure.
    pub(crate) fn is_closed_pipe(&self) -> bool {
        self.source.kind() == io::ErrorKind::BrokenPipe
    }
}

/// What every print returns.
pub(crate) type Result<T = (), E = OutputError> = std::result::Result<T, E>;

/// True when `err` (or any error it wraps) is a write to a stream whose reader has gone.
pub(crate) fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<OutputError>()
            .is_some_and(OutputError::is_closed_pipe)
    })
}

/// Terminal capabilities, the chosen format and the two writers; passed to every view. Clones share the
/// writers, so lines from any clone never interleave within a line.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    pub format: Format,
    /// stderr is a terminal: redraw progress bars in place.
    pub interactive: bool,
    /// Colours allowed (a TTY and `NO_COLOR` unset).
    pub color: bool,
    stdout: SharedWriter,
    stderr: SharedWriter,
    width: Width,
}

impl Printer {
    /// The process's stdout and stderr, with the terminal detected. `no_color` is the value of `NO_COLOR` as
    /// read by the caller.
    pub(crate) fn detect(format: Format, no_color: bool) -> Self {
        let interactive = io::stderr().is_terminal();
        Printer {
            format,
            interactive,
            color: interactive && !no_color,
            stdout: SharedWriter::new(io::stdout()),
            stderr: SharedWriter::new(io::stderr()),
            width: Width::OfStderr,
        }
    }

    /// A printer over the given writers (a pipe, a file, a buffer in tests). `interactive` draws progress bars
    /// (80 columns wide) into `stderr`; `color` adds ANSI colours.
    #[cfg(test)]
    pub(crate) fn with_writers(
        format: Format,
        interactive: bool,
        color: bool,
        stdout: impl io::Write + Send + 'static,
        stderr: impl io::Write + Send + 'static,
    ) -> Self {
        Printer {
            format,
            interactive,
            color,
            stdout: SharedWriter::new(stdout),
            stderr: SharedWriter::new(stderr),
            width: Width::Fixed(80),
        }
    }

    fn write(&self, stream: Stream, text: &str) -> Result {
        let writer = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        writer
            .write_flushed(text.as_bytes())
            .map_err(|source| OutputError { stream, source })
    }

    /// One line of human text on stderr.
    pub(crate) fn line(&self, text: impl AsRef<str>) -> Result {
        self.write(Stream::Stderr, &format!("{}\n", text.as_ref()))
    }

    /// One JSON document on stdout (a single line).
    pub(crate) fn json(&self, value: &serde_json::Value) -> Result {
        self.write(Stream::Stdout, &format!("{value}\n"))
    }

    /// Text that is the command's result (e.g. `ok`, NDJSON documents) on stdout.
    pub(crate) fn result(&self, text: impl AsRef<str>) -> Result {
        self.write(Stream::Stdout, &format!("{}\n", text.as_ref()))
    }

    /// A question on stderr without a line break, the answer being typed after it.
    pub(crate) fn prompt(&self, text: &str) -> Result {
        self.write(Stream::Stderr, text)
    }

    /// Where progress bars draw: the printer's stderr when it is interactive and the format is human,
    /// nowhere otherwise.
    pub(crate) fn progress_target(&self) -> ProgressDrawTarget {
        if !self.interactive || self.format != Format::Human {
            return ProgressDrawTarget::hidden();
        }
        ProgressDrawTarget::term_like(Box::new(BarTerminal {
            writer: self.stderr.clone(),
            width: self.width,
        }))
    }

    /// Wraps `text` in an ANSI colour when colours are on.
    pub(crate) fn paint(&self, color: Color, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match color {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints an error chain: `error: outer` then `  caused by: inner` lines.
    pub(crate) fn error(&self, err: &anyhow::Error) -> Result {
        let head = self.paint(Color::Red, "error:");
        let mut lines = vec![format!("{head} {err}")];
        for cause in err.chain().skip(1) {
            lines.push(format!("  caused by: {cause}"));
        }
        self.line(lines.join("\n"))
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Color {
    Red,
    Green,
    Yellow,
    Bold,
}

/// Printers over buffers, for the views' tests.
#[cfg(test)]
pub(crate) mod testing {
    pub(crate) use super::writer::Buffer;
    use super::writer::ClosedPipe;
    use super::{Format, Printer};

    /// A printer whose stdout and stderr readers have both gone: every print fails.
    pub(crate) fn closed(format: Format) -> Printer {
        Printer::with_writers(format, false, false, ClosedPipe, ClosedPipe)
    }

    /// A plain printer whose stdout reader has gone, and its stderr buffer.
    pub(crate) fn stdout_closed(format: Format) -> (Printer, Buffer) {
        let err = Buffer::default();
        let printer = Printer::with_writers(format, false, false, ClosedPipe, err.clone());
        (printer, err)
    }

    /// A plain printer (no terminal, no colour) and its stdout and stderr buffers.
    pub(crate) fn plain(format: Format) -> (Printer, Buffer, Buffer) {
        let (out, err) = (Buffer::default(), Buffer::default());
        let printer = Printer::with_writers(format, false, false, out.clone(), err.clone());
        (printer, out, err)
    }

    /// An interactive printer (progress bars drawn 200 columns wide into the stderr buffer, no colour) and
    /// its buffers.
    pub(crate) fn live() -> (Printer, Buffer, Buffer) {
        let (out, err) = (Buffer::default(), Buffer::default());
        let mut printer =
            Printer::with_writers(Format::Human, true, false, out.clone(), err.clone());
        printer.width = super::Width::Fixed(200);
        (printer, out, err)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{closed, plain};
    use super::*;

    #[test]
    fn lines_go_to_stderr_and_results_and_json_to_stdout() {
        let (printer, out, err) = plain(Format::Human);
        printer.line("progress").expect("line");
        printer.result("ok").expect("result");
        printer
            .json(&serde_json::json!({"a": 1}))
            .expect("json document");
        printer.prompt("  Enter a value: ").expect("prompt");
        assert_eq!(out.text(), "ok\n{\"a\":1}\n");
        assert_eq!(err.text(), "progress\n  Enter a value: ");
    }

    #[test]
    fn a_write_error_is_returned_with_its_stream_not_swallowed() {
        let printer = closed(Format::Human);
        let err = printer.result("a document").expect_err("stdout is closed");
        assert_eq!(err.stream, Stream::Stdout);
        assert!(err.is_closed_pipe());
        let err = printer.line("progress").expect_err("stderr is closed");
        assert_eq!(err.stream, Stream::Stderr);
        let err = printer
            .json(&serde_json::json!({}))
            .expect_err("stdout is closed");
        assert_eq!(err.to_string(), "cannot write to stdout: broken pipe");
    }

    #[test]
    fn a_closed_pipe_is_recognised_through_context_and_other_errors_are_not() {
        let closed = OutputError {
            stream: Stream::Stdout,
            source: io::ErrorKind::BrokenPipe.into(),
        };
        let wrapped = anyhow::Error::new(closed).context("printing documents");
        assert!(is_closed_pipe(&wrapped));
        let full = anyhow::Error::new(OutputError {
            stream: Stream::Stdout,
            source: io::Error::from_raw_os_error(libc::ENOSPC),
        });
        assert!(!is_closed_pipe(&full));
        // A broken pipe that is not one of our streams (a reset connection) is an ordinary error.
        let socket = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!is_closed_pipe(&socket));
    }

    #[test]
    fn the_error_chain_is_printed_one_cause_per_line() {
        let (printer, _, err) = plain(Format::Human);
        let chain = anyhow::anyhow!("inner").context("outer");
        printer.error(&chain).expect("stderr");
        assert_eq!(err.text(), "error: outer\n  caused by: inner\n");
    }

    #[test]
    fn bars_draw_only_for_people_on_a_terminal() {
        let (plain_printer, ..) = plain(Format::Human);
        assert!(plain_printer.progress_target().is_hidden());
        let (live_printer, ..) = testing::live();
        assert!(!live_printer.progress_target().is_hidden());
        let json = Printer {
            format: Format::Json,
            ..live_printer
        };
        assert!(json.progress_target().is_hidden());
    }
}
