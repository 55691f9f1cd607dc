//! A bounds-checked cursor over the bytes of one Lucene file: fixed-width integers in the file's byte order
//! (big-endian up to Lucene 8, little-endian from Lucene 9), VInt/VLong/ZInt, strings and string collections
//! (Lucene's `DataInput`). Every read checks its length, so truncated or hostile input is an error, never a panic.

use std::collections::BTreeMap;

use super::error::{LuceneError, Result};

/// Byte order of fixed-width integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Big,
    Little,
}

/// A cursor over a byte slice, named after its file for errors.
#[derive(Debug, Clone)]
pub(crate) struct Input<'a> {
    pub(crate) file: &'a str,
    data: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` within the file (for slices of compound files and streamed windows).
    base: u64,
    pub(crate) endian: Endian,
}

impl<'a> Input<'a> {
    pub(crate) fn new(file: &'a str, data: &'a [u8], endian: Endian) -> Self {
        Input {
            file,
            data,
            pos: 0,
            base: 0,
            endian,
        }
    }

    pub(crate) fn with_base(file: &'a str, data: &'a [u8], endian: Endian, base: u64) -> Self {
        Input {
            file,
            data,
            pos: 0,
            base,
            endian,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Offset in the file, for messages.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn seek(&mut self, pos: usize) -> Result<()> {
        if pos > self.data.len() {
            return Err(self.truncated((pos - self.data.len()) as u64));
        }
        self.pos = pos;
        Ok(())
    }

    pub(crate) fn corrupt(&self, message: impl std::fmt::Display) -> LuceneError {
        LuceneError::corrupt(self.file, self.offset(), message)
    }

    /// The input ends `needed` bytes too early.
    pub(crate) fn truncated(&self, needed: u64) -> LuceneError {
        LuceneError::Truncated {
            file: self.file.to_string(),
            offset: self.offset(),
            needed,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated((n - self.remaining()) as u64));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        let b = self.array::<2>()?;
        Ok(match self.endian {
            Endian::Big => u16::from_be_bytes(b),
            Endian::Little => u16::from_le_bytes(b),
        })
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.array::<4>()?;
        Ok(match self.endian {
            Endian::Big => u32::from_be_bytes(b),
            Endian::Little => u32::from_le_bytes(b),
        })
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(self.u32()? as i32)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        let b = self.array::<8>()?;
        Ok(match self.endian {
            Endian::Big => u64::from_be_bytes(b),
            Endian::Little => u64::from_le_bytes(b),
        })
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }

    /// Big-endian regardless of the file's order (CodecUtil headers, footers, segments_N fields).
    pub(crate) fn be_u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array::<4>()?))
    }

    pub(crate) fn be_i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array::<8>()?))
    }

    pub(crate) fn be_i32(&mut self) -> Result<i32> {
        Ok(self.be_u32()? as i32)
    }

    pub(crate) fn vint(&mut self) -> Result<u32> {
        let start = self.offset();
        let mut value: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.u8()?;
            value |= u32::from(b & 0x7F).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(LuceneError::corrupt(
            self.file,
            start,
            "VInt longer than 5 bytes",
        ))
    }

    pub(crate) fn vlong(&mut self) -> Result<u64> {
        let start = self.offset();
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.u8()?;
            value |= u64::from(b & 0x7F).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(LuceneError::corrupt(
            self.file,
            start,
            "VLong longer than 10 bytes",
        ))
    }

    pub(crate) fn zint(&mut self) -> Result<i32> {
        let v = self.vint()?;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }

    /// A VInt used as a length or count of bytes that must follow: when they are not all here the input is
    /// truncated (a streaming caller fetches more and retries; a whole file is then reported as truncated).
    pub(crate) fn len(&mut self) -> Result<usize> {
        let n = self.vint()? as usize;
        if n > self.remaining() {
            return Err(self.truncated((n - self.remaining()) as u64));
        }
        Ok(n)
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        let n = self.len()?;
        let start = self.offset();
        let bytes = self.bytes(n)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| LuceneError::corrupt(self.file, start, "string is not UTF-8"))
    }

    pub(crate) fn string_set(&mut self) -> Result<Vec<String>> {
        let n = self.len()?;
        (0..n).map(|_| self.string()).collect()
    }

    pub(crate) fn string_map(&mut self) -> Result<BTreeMap<String, String>> {
        let n = self.len()?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.string()?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_and_zints_decode() {
        let data = [0x7F, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x03];
        let mut input = Input::new("t", &data, Endian::Big);
        assert_eq!(input.vint().unwrap(), 127);
        assert_eq!(input.vint().unwrap(), 128);
        assert_eq!(input.vint().unwrap(), u32::MAX);
        assert_eq!(input.zint().unwrap(), -2);
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let mut input = Input::new("_0.si", &[1, 2], Endian::Big);
        let err = input.u32().unwrap_err();
        assert_eq!(
            err.to_string(),
            "_0.si at offset 0: truncated (needed 2 more bytes)"
        );
        let mut input = Input::new("x", &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80], Endian::Big);
        assert!(input.vint().is_err());
    }

    #[test]
    fn endianness_follows_the_file() {
        let data = [0, 0, 0, 1];
        assert_eq!(Input::new("t", &data, Endian::Big).u32().unwrap(), 1);
        assert_eq!(
            Input::new("t", &data, Endian::Little).u32().unwrap(),
            1 << 24
        );
    }
}
