//! A SMILE decoder for the documents Elasticsearch writes into `.dat` blobs (Jackson's binary JSON), into
//! `serde_json::Value`. Raw binary values (`meta_hash`, which holds whole `segments_N`/`.si` files) become
//! arrays of numbers under the key; `bytes_of` reads them back. Only what ES emits is supported; anything
//! else is an error with the offset, never a panic.
//!
//! Header `:)\n` + flags; value tokens 0x20–0x2A (literals, ints, floats), 0x40–0xBF short strings,
//! 0xC0–0xDF small ints, 0xE0/0xE4 long strings, 0xE8 7-bit binary, 0xEC–0xEF and 0x01–0x1F shared value
//! refs, 0xF8/0xF9 arrays, 0xFA/0xFB objects, 0xFD raw binary; key tokens 0x20, 0x30–0x33, 0x34, 0x40–0xF7.

use serde_json::{Map, Number, Value};

#[derive(Debug, thiserror::Error)]
#[error("SMILE at byte {offset}: {message}")]
pub struct SmileError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    shared_names: Vec<String>,
    shared_values: Vec<String>,
    depth: usize,
}

/// Key used to carry raw binary inside the JSON value.
const BINARY_TAG: &str = "$binary";

pub fn decode(data: &[u8]) -> Result<Value, SmileError> {
    if data.len() < 4 || &data[..3] != b":)\n" {
        return Err(SmileError {
            offset: 0,
            message: "missing the `:)\\n` header".into(),
        });
    }
    let mut d = Decoder {
        data,
        pos: 4,
        shared_names: Vec::new(),
        shared_values: Vec::new(),
        depth: 0,
    };
    d.value()
}

/// The bytes of a raw binary value produced by [`decode`].
pub(crate) fn bytes_of(value: &Value) -> Option<Vec<u8>> {
    let arr = value.get(BINARY_TAG)?.as_array()?;
    arr.iter()
        .map(|v| v.as_u64().and_then(|n| u8::try_from(n).ok()))
        .collect()
}

impl Decoder<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, SmileError> {
        Err(SmileError {
            offset: self.pos,
            message: message.into(),
        })
    }

    fn byte(&mut self) -> Result<u8, SmileError> {
        let b = *self.data.get(self.pos).ok_or(SmileError {
            offset: self.pos,
            message: "unexpected end".into(),
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], SmileError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        let Some(end) = end else {
            return self.err(format!(
                "{n} bytes needed, {} left",
                self.data.len() - self.pos
            ));
        };
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn text(&mut self, n: usize) -> Result<String, SmileError> {
        let bytes = self.take(n)?.to_vec();
        String::from_utf8(bytes).or_else(|_| self.err("string is not UTF-8"))
    }

    /// Text terminated by 0xFC.
    fn long_text(&mut self) -> Result<String, SmileError> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|b| *b == 0xFC) else {
            return self.err("unterminated long string");
        };
        let s = self.text(end)?;
        self.pos += 1;
        Ok(s)
    }

    fn vint(&mut self) -> Result<u64, SmileError> {
        let mut v: u64 = 0;
        for _ in 0..10 {
            let b = self.byte()?;
            if b & 0x80 != 0 {
                return Ok((v << 6) | u64::from(b & 0x3F));
            }
            v = (v << 7) | u64::from(b);
        }
        self.err("VInt too long")
    }

    fn zigzag(v: u64) -> i64 {
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }

    fn seven_bit(&mut self, bytes: usize) -> Result<u64, SmileError> {
        let mut v = 0u64;
        for _ in 0..bytes {
            v = (v << 7) | u64::from(self.byte()? & 0x7F);
        }
        Ok(v)
    }

    fn remember_value(&mut self, s: &str) {
        if s.len() <= 64 {
            if self.shared_values.len() >= 1024 {
                self.shared_values.clear();
            }
            self.shared_values.push(s.to_string());
        }
    }

    fn remember_name(&mut self, s: &str) {
        if s.len() <= 64 {
            if self.shared_names.len() >= 1024 {
                self.shared_names.clear();
            }
            self.shared_names.push(s.to_string());
        }
    }

    fn value(&mut self) -> Result<Value, SmileError> {
        let b = self.byte()?;
        Ok(match b {
            0x01..=0x1F => Value::String(self.shared_value((b - 1) as usize)?),
            0x20 => Value::String(String::new()),
            0x21 => Value::Null,
            0x22 => Value::Bool(false),
            0x23 => Value::Bool(true),
            0x24 | 0x25 => Value::Number(Self::zigzag(self.vint()?).into()),
            0x26 => {
                let len = self.vint()? as usize;
                let raw = self.seven_bit_bytes(len)?;
                let mut v: i128 = 0;
                for byte in &raw {
                    v = (v << 8) | i128::from(*byte);
                }
                match i64::try_from(v) {
                    Ok(n) => Value::Number(n.into()),
                    Err(_) => Value::String(v.to_string()),
                }
            }
            0x28 => {
                let bits = self.seven_bit(5)? as u32;
                Number::from_f64(f64::from(f32::from_bits(bits)))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
            0x29 => {
                let bits = self.seven_bit(10)?;
                Number::from_f64(f64::from_bits(bits))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
            // Tiny/short ASCII and Unicode strings: the length is in the token.
            0x40..=0xBF => {
                let extra = match b {
                    0x40..=0x5F => 1,
                    0x60..=0x7F => 33,
                    0x80..=0x9F => 2,
                    _ => 34,
                };
                let s = self.text(usize::from(b & 0x1F) + extra)?;
                self.remember_value(&s);
                Value::String(s)
            }
            0xC0..=0xDF => Value::Number(Self::zigzag(u64::from(b & 0x1F)).into()),
            0xE0 | 0xE4 => Value::String(self.long_text()?),
            0xE8 => {
                let len = self.vint()? as usize;
                let raw = self.seven_bit_bytes(len)?;
                binary(raw)
            }
            0xEC..=0xEF => {
                let idx = (((b & 0x03) as usize) << 8) | self.byte()? as usize;
                Value::String(self.shared_value(idx)?)
            }
            0xF8 => self.array()?,
            0xFA => self.object()?,
            0xFD => {
                let len = self.vint()? as usize;
                let raw = self.take(len)?.to_vec();
                binary(raw)
            }
            other => return self.err(format!("unsupported value token {other:#04x}")),
        })
    }

    /// 7-bit encoded binary of `len` decoded bytes.
    fn seven_bit_bytes(&mut self, len: usize) -> Result<Vec<u8>, SmileError> {
        if len > self.data.len() {
            return self.err("binary length exceeds the document");
        }
        let mut out = Vec::with_capacity(len);
        let mut acc: u64 = 0;
        let mut bits = 0;
        while out.len() < len {
            acc = (acc << 7) | u64::from(self.byte()? & 0x7F);
            bits += 7;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Ok(out)
    }

    fn shared_value(&self, idx: usize) -> Result<String, SmileError> {
        self.shared_values.get(idx).cloned().ok_or(SmileError {
            offset: self.pos,
            message: format!("shared value {idx} not defined"),
        })
    }

    fn enter(&mut self) -> Result<(), SmileError> {
        self.depth += 1;
        if self.depth > 128 {
            self.err("nesting deeper than 128")
        } else {
            Ok(())
        }
    }

    fn array(&mut self) -> Result<Value, SmileError> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            if self.data.get(self.pos) == Some(&0xF9) {
                self.pos += 1;
                break;
            }
            items.push(self.value()?);
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    fn object(&mut self) -> Result<Value, SmileError> {
        self.enter()?;
        let mut map = Map::new();
        loop {
            let b = self.byte()?;
            let key = match b {
                0xFB => break,
                0x20 => String::new(),
                0x30..=0x33 => {
                    let idx = (((b & 0x03) as usize) << 8) | self.byte()? as usize;
                    self.shared_name(idx)?
                }
                0x34 => {
                    let s = self.long_text()?;
                    self.remember_name(&s);
                    s
                }
                0x40..=0x7F => self.shared_name((b & 0x3F) as usize)?,
                0x80..=0xBF => {
                    let s = self.text(((b & 0x3F) + 1) as usize)?;
                    self.remember_name(&s);
                    s
                }
                0xC0..=0xF7 => {
                    let s = self.text(((b & 0x3F) + 2) as usize)?;
                    self.remember_name(&s);
                    s
                }
                other => return self.err(format!("unsupported key token {other:#04x}")),
            };
            let value = self.value()?;
            map.insert(key, value);
        }
        self.depth -= 1;
        Ok(Value::Object(map))
    }

    fn shared_name(&self, idx: usize) -> Result<String, SmileError> {
        self.shared_names.get(idx).cloned().ok_or(SmileError {
            offset: self.pos,
            message: format!("shared name {idx} not defined"),
        })
    }
}

fn binary(raw: Vec<u8>) -> Value {
    let mut map = Map::new();
    map.insert(
        BINARY_TAG.to_string(),
        Value::Array(raw.into_iter().map(|b| Value::Number(b.into())).collect()),
    );
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_strings_numbers_and_shared_names() {
        // {"a":"x","b":[1,-1,true],"a2":{"a":null}} with "a" reused as a shared name (0x40).
        let data = [
            b':', b')', b'\n', 0x01, 0xFA, 0x80, b'a', 0x40, b'x', 0x80, b'b', 0xF8, 0xC2, 0xC1,
            0x23, 0xF9, 0x81, b'a', b'2', 0xFA, 0x40, 0x21, 0xFB, 0xFB,
        ];
        let v = decode(&data).expect("decodes");
        assert_eq!(
            v,
            serde_json::json!({"a": "x", "b": [1, -1, true], "a2": {"a": null}})
        );
    }

    #[test]
    fn raw_binary_round_trips_and_bad_input_is_an_error() {
        let data = [
            b':', b')', b'\n', 0x05, 0xFA, 0x80, b'h', 0xFD, 0x83, 1, 2, 3, 0xFB,
        ];
        let v = decode(&data).expect("decodes");
        assert_eq!(bytes_of(&v["h"]), Some(vec![1, 2, 3]));
        assert!(decode(&data[..9]).is_err());
        assert!(decode(b"{}").is_err());
    }
}
