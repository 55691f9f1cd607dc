//! Document transforms (`transforms:` in `migration.yaml`): jq programs, run through the `jaq` crates, that
//! turn one snapshot document `{"index", "id", "type", "routing", "source"}` into zero, one or several
//! documents to send. Pure: a [`Program`] is compiled once (per worker, per `validate`) and run per document;
//! a [`Chain`] runs the programs that match one index one after the other (each output of a program is an
//! input of the next).
//!
//! Time: a program may run [`Step::timeout`] on one document. jaq has no way to interrupt an evaluation, so
//! the limit is checked between two outputs here (`repeat(.)`, `range(infinite)`), and a program that never
//! yields (`def f: f; f`, `last(range(infinite))`) is left to the caller's watchdog, which
//! [`Chain::apply_watched`] tells which rule runs and by when it must be done.
//!
//! Errors are values, never panics: a program that does not compile is a [`CompileError`] with the byte
//! offset of the problem in the program (`config` turns it into a line and column of the YAML file); a
//! program that fails on one document is a [`TransformError`] for that document only (the worker records it
//! as a failed document, with jq's message, and the rest go on).
//!
//! The input's `source` is parsed by `jaq-json` (numbers keep their text when unchanged); each output is
//! written back as compact JSON. Documents of an index no transform matches never come here: they keep the
//! byte-exact path (no JSON re-serialisation).

mod program;

use std::time::{Duration, Instant};

pub use program::{CompileError, Program};

/// The most documents one input may become: a program that keeps producing (`repeat(.)`) fails that document
/// instead of filling memory.
pub const MAX_OUTPUTS_PER_DOCUMENT: usize = 10_000;

/// A document as a transform sees and produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub index: String,
    pub id: String,
    pub doc_type: Option<String>,
    pub routing: Option<String>,
    /// The source as compact JSON text (an object).
    pub source: String,
}

/// Why one document could not be transformed. `error_type` names the kind for the failed documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// The stored source is not JSON that `jaq-json` reads.
    #[error("the source is not JSON the transform can read: {0}")]
    Source(String),
    /// The program raised an error (`error(...)`, a type error, ...): jq's message.
    #[error("transform {rule}: jq: {message}")]
    Jq { rule: usize, message: String },
    /// An output is not a document: not an object, or `index`/`id`/`source` missing or of the wrong type.
    #[error("transform {rule}: output {output} is not a document: {problem}")]
    Output {
        rule: usize,
        output: usize,
        problem: String,
    },
    #[error(
        "transform {rule}: more than {MAX_OUTPUTS_PER_DOCUMENT} outputs for one document (does the program loop?)"
    )]
    TooManyOutputs { rule: usize },
    /// The program ran longer than its rule's `timeout` on this document.
    #[error(
        "transform {rule}: still running after {} on this document (does the program loop? the rule's `timeout` sets the limit)",
        humantime::format_duration(*.limit)
    )]
    Timeout { rule: usize, limit: Duration },
}

impl TransformError {
    /// A short, stable name for the failed-documents output (`error_type`).
    pub fn error_type(&self) -> &'static str {
        match self {
            TransformError::Source(_) => "transform_source_unreadable",
            TransformError::Jq { .. } => "transform_error",
            TransformError::Output { .. } | TransformError::TooManyOutputs { .. } => {
                "transform_invalid_output"
            }
            TransformError::Timeout { .. } => "transform_timeout",
        }
    }
}

/// The programs that apply to one index, in `transforms:` order, each with its rule number (1-based, as the
/// file lists them) for messages and its time limit per document. Empty: the index is sent untouched.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    programs: Vec<Step>,
}

/// One program of a chain: its rule number, the program, how long it may run on one document.
#[derive(Debug, Clone)]
pub struct Step {
    pub rule: usize,
    pub program: std::sync::Arc<Program>,
    pub timeout: Duration,
}

impl Chain {
    pub fn new(programs: Vec<Step>) -> Self {
        Chain { programs }
    }

    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }

    /// The time limit of rule `rule` (zero for a rule not in the chain).
    pub fn timeout_of(&self, rule: usize) -> Duration {
        self.programs
            .iter()
            .find(|s| s.rule == rule)
            .map_or(Duration::ZERO, |s| s.timeout)
    }

    /// Runs every program on `doc`: the documents to send (none when a program filtered it out).
    pub fn apply(&self, doc: &Document) -> Result<Vec<Document>, TransformError> {
        self.apply_watched(doc, &mut |_, _| {})
    }

    /// [`Chain::apply`], telling `started` each time a program starts on a value, with its rule number and
    /// the instant it must be done by: a watchdog can then name a program that never yields.
    pub fn apply_watched(
        &self,
        doc: &Document,
        started: &mut dyn FnMut(usize, Instant),
    ) -> Result<Vec<Document>, TransformError> {
        let source = jaq_json::read::parse_single(doc.source.trim().as_bytes())
            .map_err(|e| TransformError::Source(e.to_string()))?;
        let mut values = vec![program::input(doc, source)];
        let mut last_rule = 0;
        for step in &self.programs {
            last_rule = step.rule;
            let mut next = Vec::new();
            for value in values {
                let deadline = Instant::now() + step.timeout;
                started(step.rule, deadline);
                step.program
                    .run(value, &mut next, deadline)
                    .map_err(|e| e.at_rule(step.rule, step.timeout))?;
            }
            values = next;
        }
        values
            .into_iter()
            .enumerate()
            .map(|(n, v)| program::output(v).map_err(|problem| output_error(last_rule, n, problem)))
            .collect()
    }
}

fn output_error(rule: usize, output: usize, problem: String) -> TransformError {
    TransformError::Output {
        rule,
        output: output + 1,
        problem: shortened(problem),
    }
}

/// Messages quote values (jq's `cannot index … with …`); a document's content is never written whole into
/// the failed documents, so a message is cut after [`MAX_MESSAGE_CHARS`] characters.
pub const MAX_MESSAGE_CHARS: usize = 300;

pub(crate) fn shortened(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

#[cfg(test)]
mod tests;
