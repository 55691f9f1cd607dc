//! The two writers a [`super::Printer`] is built with, shared by its clones and by the progress bars.
//!
//! A [`SharedWriter`] is one destination (the process's stdout or stderr, or a buffer in tests) behind a mutex,
//! so lines written from several threads (the snapshot reader, the deploy event sink) never interleave within a
//! line. [`BarTerminal`] lets indicatif draw through the same writer, so the bars of a live view go where the
//! printer's stderr goes and nowhere else.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use indicatif::TermLike;

/// One output destination, shared by every clone of the printer that owns it.
#[derive(Clone)]
pub(crate) struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl SharedWriter {
    pub(crate) fn new(writer: impl Write + Send + 'static) -> Self {
        SharedWriter(Arc::new(Mutex::new(Box::new(writer))))
    }

    /// The writer, also after a thread panicked while holding it (a half-written line is no reason to stop).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Box<dyn Write + Send>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `bytes` and flushes: a printed line has reached the destination when this returns.
    pub(crate) fn write_flushed(&self, bytes: &[u8]) -> io::Result<()> {
        let mut writer = self.lock();
        writer.write_all(bytes)?;
        writer.flush()
    }
}

impl fmt::Debug for SharedWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedWriter")
    }
}

/// How wide the terminal behind a [`BarTerminal`] is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Width {
    /// Asked of the process's stderr at every redraw (it follows a resized window).
    OfStderr,
    /// A fixed width (tests' writers, which are not the process's terminal).
    #[cfg(test)]
    Fixed(u16),
}

impl Width {
    fn columns(self) -> u16 {
        match self {
            #[cfg(test)]
            Width::Fixed(columns) => columns,
            Width::OfStderr => stderr_columns().unwrap_or(80),
        }
    }
}

/// The width of the terminal on file descriptor 2, if it is one.
fn stderr_columns() -> Option<u16> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we own; it fails harmlessly on a non-terminal.
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col)
}

/// indicatif's terminal: ANSI cursor movements and text written to the printer's stderr.
#[derive(Debug)]
pub(crate) struct BarTerminal {
    pub(crate) writer: SharedWriter,
    pub(crate) width: Width,
}

impl BarTerminal {
    fn write(&self, text: &str) -> io::Result<()> {
        self.writer.lock().write_all(text.as_bytes())
    }

    fn escape(&self, n: usize, code: char) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.write(&format!("\x1b[{n}{code}"))
    }
}

impl TermLike for BarTerminal {
    fn width(&self) -> u16 {
        self.width.columns()
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.escape(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.escape(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.escape(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.escape(n, 'D')
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.write(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.write(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        self.writer.lock().flush()
    }
}

/// A growable buffer that a test keeps a handle on after handing a clone to a printer.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Buffer {
    /// Everything written so far, as text.
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Everything written so far, one JSON document per line.
    pub(crate) fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
            .collect()
    }
}

#[cfg(test)]
impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer whose reader has gone: every write fails like a write to a closed pipe.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedPipe;

#[cfg(test)]
impl Write for ClosedPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
