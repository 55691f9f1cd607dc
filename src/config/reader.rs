//! The typed walk over a [`Node`] tree: small readers that check one key's type and range, expand
//! `${VAR}` references, and collect every problem (with its position and key path) instead of stopping at the
//! first. The schema in `schema.rs` is written with these.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::env::{Env, InterpolationError, interpolate};
use super::error::{ConfigError, suggest};
use super::tree::{Key, Node, Pos, Value};

/// Shared state of one load: where errors go and how env vars are read.
pub(crate) struct Walk<'a> {
    pub file: PathBuf,
    pub env: &'a dyn Env,
    pub errors: Vec<ConfigError>,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(file: &Path, env: &'a dyn Env) -> Self {
        Walk {
            file: file.to_path_buf(),
            env,
            errors: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.errors
            .push(ConfigError::new(self.file.clone(), pos, path, message));
    }

    pub(crate) fn error_hint(
        &mut self,
        pos: Pos,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors
            .push(ConfigError::new(self.file.clone(), pos, path, message).with_hint(hint));
    }

    /// Opens `node` as a mapping that may only contain `allowed` keys; reports unknown keys with a suggestion.
    pub(crate) fn map<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &'static [&'static str],
    ) -> Option<MapReader<'n>> {
        match &node.value {
            Value::Map(entries) => {
                for (key, _) in entries {
                    if !allowed.contains(&key.name.as_str()) {
                        let message = format!("unknown key `{}`", key.name);
                        let full = join(path, &key.name);
                        match suggest(&key.name, allowed) {
                            Some(s) => self.error_hint(
                                key.pos,
                                &full,
                                message,
                                format!("did you mean `{s}`?"),
                            ),
                            None => self.error_hint(
                                key.pos,
                                &full,
                                message,
                                format!("expected one of: {}", allowed.join(", ")),
                            ),
                        }
                    }
                }
                Some(MapReader {
                    path: path.to_string(),
                    pos: node.pos,
                    entries,
                })
            }
            // An empty section (`logs:` with nothing under it) means "all defaults".
            Value::Null => Some(MapReader {
                path: path.to_string(),
                pos: node.pos,
                entries: &[],
            }),
            other => {
                self.error(
                    node.pos,
                    path,
                    format!("expected a mapping of keys, found {}", other.kind()),
                );
                None
            }
        }
    }
}

/// Joins a key onto a dotted path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One mapping being read.
pub(crate) struct MapReader<'n> {
    pub path: String,
    pub pos: Pos,
    entries: &'n [(Key, Node)],
}

impl<'n> MapReader<'n> {
    /// A section that is absent: every key reads as missing, so defaults apply.
    pub(crate) fn empty(path: String, pos: Pos) -> Self {
        MapReader {
            path,
            pos,
            entries: &[],
        }
    }

    /// The node under `key`, if present and not null.
    pub(crate) fn node(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, n)| n)
            .filter(|n| n.value != Value::Null)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.node(key).is_some()
    }

    pub(crate) fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Position of `key`'s value, or of the mapping when absent.
    pub(crate) fn pos_of(&self, key: &str) -> Pos {
        self.node(key).map(|n| n.pos).unwrap_or(self.pos)
    }

    /// Reports a missing required key.
    pub(crate) fn missing(&self, walk: &mut Walk, key: &str, what: &str) {
        walk.error_hint(
            self.pos,
            &self.key_path(key),
            format!("missing required key `{key}`"),
            format!("expected {what}"),
        );
    }

    /// A text value with `${VAR}` expanded. Numbers and booleans are not accepted as text.
    pub(crate) fn string(&self, walk: &mut Walk, key: &str) -> Option<String> {
        let node = self.node(key)?;
        let path = self.key_path(key);
        match &node.value {
            Value::Str(s) => match interpolate(s, walk.env) {
                Ok(v) => Some(v),
                Err(InterpolationError::Unset(name)) => {
                    walk.error_hint(
                        node.pos,
                        &path,
                        format!("environment variable `{name}` is not set"),
                        format!("set {name}, or give a default with `${{{name}:-value}}`"),
                    );
                    None
                }
                Err(InterpolationError::Malformed(why)) => {
                    walk.error_hint(
                        node.pos,
                        &path,
                        why,
                        "write `${NAME}` or `${NAME:-default}`; `$$` is a literal `$`",
                    );
                    None
                }
            },
            other => {
                walk.error(
                    node.pos,
                    &path,
                    format!("expected text, found {}", other.kind()),
                );
                None
            }
        }
    }

    /// Required text.
    pub(crate) fn required_string(&self, walk: &mut Walk, key: &str, what: &str) -> Option<String> {
        if !self.has(key) {
            self.missing(walk, key, what);
            return None;
        }
        self.string(walk, key)
    }

    /// A whole number within `min..=max`; text that is a number (e.g. from `${VAR}`) is accepted.
    pub(crate) fn integer(&self, walk: &mut Walk, key: &str, min: i64, max: i64) -> Option<i64> {
        let node = self.node(key)?;
        let path = self.key_path(key);
        let value = match &node.value {
            Value::Int(i) => Some(*i),
            Value::Str(_) => self
                .string(walk, key)
                .and_then(|s| s.trim().parse::<i64>().ok())
                .or_else(|| {
                    walk.error(node.pos, &path, "expected a whole number");
                    None
                }),
            other => {
                walk.error(
                    node.pos,
                    &path,
                    format!("expected a whole number, found {}", other.kind()),
                );
                None
            }
        }?;
        if value < min || value > max {
            walk.error(
                node.pos,
                &path,
                format!("{value} is out of range: expected {min} to {max}"),
            );
            return None;
        }
        Some(value)
    }

    pub(crate) fn boolean(&self, walk: &mut Walk, key: &str) -> Option<bool> {
        let node = self.node(key)?;
        match &node.value {
            Value::Bool(b) => Some(*b),
            other => {
                walk.error(
                    node.pos,
                    &self.key_path(key),
                    format!("expected true or false, found {}", other.kind()),
                );
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub(crate) fn choice(
        &self,
        walk: &mut Walk,
        key: &str,
        choices: &'static [&'static str],
    ) -> Option<&'static str> {
        let node = self.node(key)?;
        let text = self.string(walk, key)?;
        if let Some(found) = choices.iter().find(|c| **c == text) {
            return Some(found);
        }
        let message = format!(
            "`{text}` is not a valid value; expected one of: {}",
            choices.join(", ")
        );
        match suggest(&text, choices) {
            Some(s) => walk.error_hint(
                node.pos,
                &self.key_path(key),
                message,
                format!("did you mean `{s}`?"),
            ),
            None => walk.error(node.pos, &self.key_path(key), message),
        }
        None
    }

    /// A human-readable duration: `90s`, `45m`, `1h 30m`.
    pub(crate) fn duration(&self, walk: &mut Walk, key: &str) -> Option<Duration> {
        let node = self.node(key)?;
        let text = self.string(walk, key)?;
        match humantime::parse_duration(text.trim()) {
            Ok(d) => Some(d),
            Err(_) => {
                walk.error_hint(
                    node.pos,
                    &self.key_path(key),
                    format!("`{text}` is not a duration"),
                    "write a number with a unit, e.g. `30s`, `90m`, `2h`",
                );
                None
            }
        }
    }

    /// A human-readable size: `10MiB`, `512KB`, `1048576`.
    pub(crate) fn size(&self, walk: &mut Walk, key: &str) -> Option<u64> {
        let node = self.node(key)?;
        let text = match &node.value {
            Value::Int(i) if *i >= 0 => return Some(*i as u64),
            _ => self.string(walk, key)?,
        };
        match text.trim().parse::<bytesize::ByteSize>() {
            Ok(size) => Some(size.as_u64()),
            Err(_) => {
                walk.error_hint(
                    node.pos,
                    &self.key_path(key),
                    format!("`{text}` is not a size"),
                    "write a number of bytes with a unit, e.g. `10MiB`, `512KiB`, `5MB`",
                );
                None
            }
        }
    }

    /// A list of text values.
    pub(crate) fn string_list(&self, walk: &mut Walk, key: &str) -> Option<Vec<String>> {
        let node = self.node(key)?;
        let path = self.key_path(key);
        let Value::Seq(items) = &node.value else {
            walk.error(
                node.pos,
                &path,
                format!(
                    "expected a list of text values, found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match &item.value {
                Value::Str(s) => match interpolate(s, walk.env) {
                    Ok(v) => out.push(v),
                    Err(_) => walk.error(
                        item.pos,
                        &item_path,
                        "could not expand `${...}` in this value",
                    ),
                },
                other => walk.error(
                    item.pos,
                    &item_path,
                    format!("expected text, found {}", other.kind()),
                ),
            }
        }
        Some(out)
    }

    /// A mapping of text to text (tags).
    pub(crate) fn string_map(&self, walk: &mut Walk, key: &str) -> Option<Vec<(String, String)>> {
        let node = self.node(key)?;
        let path = self.key_path(key);
        let Value::Map(entries) = &node.value else {
            walk.error(
                node.pos,
                &path,
                format!(
                    "expected a mapping of text to text, found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let value = match &v.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    walk.error(
                        v.pos,
                        &join(&path, &k.name),
                        format!("expected text, found {}", other.kind()),
                    );
                    continue;
                }
            };
            out.push((k.name.clone(), value));
        }
        Some(out)
    }
}
