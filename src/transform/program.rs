//! One jq program, compiled with `jaq-core` and the standard definitions of `jaq-std` and `jaq-json`, and the
//! conversions between a [`Document`] and the value a program reads and writes.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::{Map, Val};

use std::time::{Duration, Instant};

use super::{Document, MAX_OUTPUTS_PER_DOCUMENT, TransformError};

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// A compiled jq program.
pub struct Program {
    filter: Filter,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Program")
    }
}

/// Why a program does not compile: the message and the byte offset in the program it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub offset: usize,
    pub message: String,
}

/// Where `part` (a slice of `code`, as jaq reports it) starts in `code`; 0 when it is not a slice of it.
fn offset_in(code: &str, part: &str) -> usize {
    let (start, at) = (code.as_ptr() as usize, part.as_ptr() as usize);
    if at >= start && at <= start + code.len() {
        at - start
    } else {
        0
    }
}

impl Program {
    /// Compiles `code`; every problem jaq finds, with its offset.
    pub fn compile(code: &str) -> Result<Program, Vec<CompileError>> {
        use jaq_core::load::Error as LoadError;
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let loader = Loader::new(defs);
        let at = |part: &str, message: String| CompileError {
            offset: offset_in(code, part),
            message,
        };
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                let mut out = Vec::new();
                for (_, error) in errors {
                    match error {
                        LoadError::Io(items) => {
                            for (part, why) in items {
                                out.push(at(part, format!("cannot load {part}: {why}")));
                            }
                        }
                        LoadError::Lex(items) => {
                            for (expected, found) in items {
                                out.push(at(found, format!("expected {}", expected.as_str())));
                            }
                        }
                        LoadError::Parse(items) => {
                            for (expected, found) in items {
                                let what = if found.is_empty() {
                                    "the end of the program".to_string()
                                } else {
                                    format!("`{found}`")
                                };
                                out.push(at(
                                    found,
                                    format!("expected {}, found {what}", expected.as_str()),
                                ));
                            }
                        }
                    }
                }
                out
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                errors
                    .into_iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(name, kind)| at(name, format!("undefined {} `{name}`", kind.as_str())))
                    .collect::<Vec<_>>()
            })?;
        Ok(Program { filter })
    }

    /// Runs the program on `input`, appending its outputs to `out`, until `deadline` (checked between two
    /// outputs). The error's rule number is 0: the caller knows which rule ran ([`TransformError::at_rule`]).
    pub(super) fn run(
        &self,
        input: Val,
        out: &mut Vec<Val>,
        deadline: Instant,
    ) -> Result<(), TransformError> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let start = out.len();
        for result in self.filter.id.run((ctx, input)) {
            if out.len() - start >= MAX_OUTPUTS_PER_DOCUMENT {
                return Err(TransformError::TooManyOutputs { rule: 0 });
            }
            if Instant::now() > deadline {
                return Err(TransformError::Timeout {
                    rule: 0,
                    limit: Duration::ZERO,
                });
            }
            match result {
                Ok(value) => out.push(value),
                Err(exn) => {
                    let message = match exn.get_err() {
                        Ok(error) => {
                            let value = error.into_val();
                            as_text(&value).unwrap_or_else(|| value.to_string())
                        }
                        Err(_) => "the program stopped (halt)".to_string(),
                    };
                    return Err(TransformError::Jq {
                        rule: 0,
                        message: super::shortened(message),
                    });
                }
            }
        }
        Ok(())
    }
}

impl TransformError {
    /// The same error, naming rule `rule` (1-based) and its time limit.
    pub(super) fn at_rule(self, rule: usize, limit: Duration) -> Self {
        match self {
            TransformError::Jq { message, .. } => TransformError::Jq { rule, message },
            TransformError::Output {
                output, problem, ..
            } => TransformError::Output {
                rule,
                output,
                problem,
            },
            TransformError::TooManyOutputs { .. } => TransformError::TooManyOutputs { rule },
            TransformError::Timeout { .. } => TransformError::Timeout { rule, limit },
            other => other,
        }
    }
}

fn text(s: &str) -> Val {
    Val::from(s.to_string())
}

fn optional_text(s: &Option<String>) -> Val {
    s.as_deref().map(text).unwrap_or(Val::Null)
}

/// `{"index", "id", "type", "routing", "source"}` for `doc`, with its already parsed source.
pub(super) fn input(doc: &Document, source: Val) -> Val {
    let mut map = Map::default();
    map.insert(text("index"), text(&doc.index));
    map.insert(text("id"), text(&doc.id));
    map.insert(text("type"), optional_text(&doc.doc_type));
    map.insert(text("routing"), optional_text(&doc.routing));
    map.insert(text("source"), source);
    Val::obj(map)
}

/// The text of a string value; `None` for any other value.
fn as_text(v: &Val) -> Option<String> {
    match v {
        Val::TStr(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

/// A document from a program's output: an object with text `index` and `id`, an object `source`, and `type`
/// and `routing` text or null (or absent). The problem otherwise.
pub(super) fn output(value: Val) -> Result<Document, String> {
    let Val::Obj(map) = &value else {
        return Err(format!("expected an object, found {value}"));
    };
    let field = |name: &str| map.get(&text(name));
    let required = |name: &str| -> Result<String, String> {
        match field(name) {
            Some(v) => as_text(v)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("`.{name}` must be non-empty text, found {v}")),
            None => Err(format!("`.{name}` is missing")),
        }
    };
    let optional = |name: &str| -> Result<Option<String>, String> {
        match field(name) {
            None | Some(Val::Null) => Ok(None),
            Some(v) => as_text(v)
                .map(Some)
                .ok_or_else(|| format!("`.{name}` must be text or null, found {v}")),
        }
    };
    let source = match field("source") {
        Some(v @ Val::Obj(_)) => v.to_string(),
        Some(v) => return Err(format!("`.source` must be an object, found {v}")),
        None => return Err("`.source` is missing".to_string()),
    };
    Ok(Document {
        index: required("index")?,
        id: required("id")?,
        doc_type: optional("type")?,
        routing: optional("routing")?,
        source,
    })
}
