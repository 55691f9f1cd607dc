//! A YAML document as a tree of values that remember where they were written.
//!
//! `serde-saphyr` parses (panic-free, with locations); we deserialize every node into [`Node`] through its
//! `Spanned` wrapper so the typed walk in `schema.rs` can name the line and column of any key or value it
//! rejects — including unknown keys, which plain `deny_unknown_fields` cannot suggest corrections for.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Line and column (1-based) of a node in the file; `0:0` when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: u64,
    pub column: u64,
}

/// One YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The value of a node. Scalars keep their YAML type so the walk can say "expected a number, found text".
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in file order, each with its own position.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub pos: Pos,
    pub name: String,
}

impl Value {
    /// A short noun for messages: "a mapping", "text", "a number".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Parses one YAML document into a [`Node`]. Errors carry the parser's message and position.
pub(crate) fn parse(text: &str) -> Result<Node, (Pos, String)> {
    let options = serde_saphyr::options! {};
    match serde_saphyr::from_str_with_options::<Option<SpannedNode>>(text, options) {
        Ok(Some(node)) => Ok(node.0),
        Ok(None) => Ok(Node {
            pos: Pos { line: 1, column: 1 },
            value: Value::Null,
        }),
        Err(err) => {
            let pos = err
                .location()
                .map(|l| Pos {
                    line: l.line(),
                    column: l.column(),
                })
                .unwrap_or_default();
            let message = first_line(&err.to_string());
            Err((pos, message))
        }
    }
}

/// The parser's first line without its own `error: line L column C:` prefix (we print the position ourselves).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text).trim();
    let line = line.strip_prefix("error:").map(str::trim).unwrap_or(line);
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message)) if position.contains("column") => message.to_string(),
        _ => line.to_string(),
    }
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line(),
        column: s.referenced.column(),
    }
}

/// Deserialization helper: a node read through `Spanned` so it knows its position.
struct SpannedNode(Node);

impl<'de> Deserialize<'de> for SpannedNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawValue>::deserialize(deserializer)?;
        let pos = pos_of(&spanned);
        Ok(SpannedNode(Node {
            pos,
            value: spanned.value.0,
        }))
    }
}

struct SpannedKey(Key);

impl<'de> Deserialize<'de> for SpannedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<KeyText>::deserialize(deserializer)?;
        let pos = pos_of(&spanned);
        Ok(SpannedKey(Key {
            pos,
            name: spanned.value.0,
        }))
    }
}

/// A mapping key rendered as text (YAML allows numbers and booleans as keys; we compare them as text).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyText, E> {
                Ok(KeyText(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct RawValue(Value);

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue(Value::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue(
            i64::try_from(v)
                .map(Value::Int)
                .unwrap_or(Value::Float(v as f64)),
        ))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue(Value::Float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue(Value::Str(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue(Value::Str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(SpannedNode(node)) = seq.next_element::<SpannedNode>()? {
            items.push(node);
        }
        Ok(RawValue(Value::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(SpannedKey(key)) = map.next_key::<SpannedKey>()? {
            let SpannedNode(node) = map.next_value::<SpannedNode>()?;
            entries.push((key, node));
        }
        Ok(RawValue(Value::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_nodes_keep_their_positions() {
        let node = parse("name: demo\ntarget:\n  endpoint: http://x:9200\n  tls: {insecure_skip_verify: true}\nlist: [1, two]\n")
            .expect("parses");
        let Value::Map(entries) = node.value else {
            panic!("map")
        };
        assert_eq!(entries[0].0.name, "name");
        assert_eq!(entries[0].0.pos, Pos { line: 1, column: 1 });
        let Value::Map(target) = &entries[1].1.value else {
            panic!("target map")
        };
        assert_eq!(target[0].0.pos, Pos { line: 3, column: 3 });
        assert_eq!(target[0].1.value, Value::Str("http://x:9200".into()));
        assert_eq!(target[0].1.pos.line, 3);
        let Value::Seq(list) = &entries[2].1.value else {
            panic!("seq")
        };
        assert_eq!(list[0].value, Value::Int(1));
        assert_eq!(list[1].value, Value::Str("two".into()));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (pos, message) = parse("a: [1, 2\nb: c\n").expect_err("unterminated flow list");
        assert!(pos.line >= 1, "{pos:?} {message}");
        assert!(!message.is_empty());
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(parse("").expect("parses").value, Value::Null);
    }
}
