//! The only writer to the terminal.
//!
//! Human text and progress go to stderr; `--json` documents go to stdout, one per line, so a pipeline can
//! parse stdout while a person watches stderr. Colours only on a TTY and never when `NO_COLOR` is set.
//! Domain modules never print: they return values or emit events that a view in this module renders.

pub mod converge_view;
pub mod deploy_view;
pub mod plan_view;
pub mod preflight_view;
pub mod status_view;

use std::io::{IsTerminal, Write};

/// How a command reports: for people (stderr, maybe coloured) or for programs (JSON on stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Terminal capabilities and the chosen format; passed to every view.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    /// stderr is a terminal: redraw progress bars in place.
    pub interactive: bool,
    /// Colours allowed (a TTY and `NO_COLOR` unset).
    pub color: bool,
}

impl Printer {
    /// Detects the terminal. `no_color` is the value of `NO_COLOR` as read by the caller.
    pub fn detect(format: Format, no_color: bool) -> Self {
        let interactive = std::io::stderr().is_terminal();
        Printer {
            format,
            interactive,
            color: interactive && !no_color,
        }
    }

    /// A printer for tests and pipes: not interactive, no colour.
    pub fn plain(format: Format) -> Self {
        Printer {
            format,
            interactive: false,
            color: false,
        }
    }

    /// One line of human text on stderr.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", text.as_ref());
    }

    /// One JSON document on stdout (a single line).
    pub fn json(&self, value: &serde_json::Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
    }

    /// Text that is the command's result (e.g. `ok`, NDJSON documents) on stdout.
    pub fn result(&self, text: impl AsRef<str>) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.as_ref());
    }

    /// Wraps `text` in an ANSI colour when colours are on.
    pub fn paint(&self, color: Color, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match color {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Blue => "34",
            Color::Bold => "1",
            Color::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Prints an error chain: `error: outer` then `  caused by: inner` lines.
    pub fn error(&self, err: &anyhow::Error) {
        let head = self.paint(Color::Red, "error:");
        let mut lines = vec![format!("{head} {err}")];
        for cause in err.chain().skip(1) {
            lines.push(format!("  caused by: {cause}"));
        }
        self.line(lines.join("\n"));
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Color {
    Red,
    Green,
    Yellow,
    Blue,
    Bold,
    Dim,
}
