//! CodecUtil framing shared by every Lucene file since 5.0 (`org.apache.lucene.codecs.CodecUtil`):
//!
//! ```text
//! header:       u32 BE 0x3FD76C17 | string codec name | u32 BE version
//! index header: header | 16 bytes object id | u8 suffix length | suffix bytes
//! footer:       u32 BE 0xC02893E8 | u32 BE 0 (algorithm: CRC32) | u64 BE CRC32 of every byte before this field
//! ```

use super::error::{LuceneError, Result};
use super::input::Input;

pub(crate) const CODEC_MAGIC: u32 = 0x3FD7_6C17;
pub(crate) const FOOTER_MAGIC: u32 = !CODEC_MAGIC;
pub(crate) const FOOTER_LEN: usize = 16;

/// A parsed codec header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) codec: String,
    pub(crate) version: u32,
    /// Segment or commit id (index headers only).
    pub(crate) id: Option<[u8; 16]>,
    pub(crate) suffix: String,
}

pub(crate) fn read_header(input: &mut Input) -> Result<Header> {
    let at = input.offset();
    let magic = input.be_u32()?;
    if magic != CODEC_MAGIC {
        return Err(LuceneError::corrupt(
            input.file,
            at,
            format!("codec header magic {magic:#010x}, expected {CODEC_MAGIC:#010x}"),
        ));
    }
    let codec = input.string()?;
    let version = input.be_u32()?;
    Ok(Header {
        codec,
        version,
        id: None,
        suffix: String::new(),
    })
}

pub(crate) fn read_index_header(input: &mut Input) -> Result<Header> {
    let mut header = read_header(input)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(input.bytes(16)?);
    let n = input.u8()? as usize;
    let at = input.offset();
    let suffix = input.bytes(n)?;
    header.suffix = String::from_utf8(suffix.to_vec())
        .map_err(|_| LuceneError::corrupt(input.file, at, "header suffix is not UTF-8"))?;
    header.id = Some(id);
    Ok(header)
}

/// Checks that the header names `expected` codec(s) and a version in range; returns the version.
pub(crate) fn expect_codec(
    input: &Input,
    header: &Header,
    expected: &[&str],
    versions: std::ops::RangeInclusive<u32>,
) -> Result<u32> {
    if !expected.contains(&header.codec.as_str()) {
        return Err(LuceneError::unsupported(input.file, "codec", &header.codec));
    }
    if !versions.contains(&header.version) {
        return Err(LuceneError::unsupported(
            input.file,
            "format version",
            format!("{} {}", header.codec, header.version),
        ));
    }
    Ok(header.version)
}

/// Verifies the footer of a whole file held in memory: magic, algorithm and CRC32 of everything before it.
pub(crate) fn verify_footer(file: &str, data: &[u8]) -> Result<()> {
    if data.len() < FOOTER_LEN {
        return Err(LuceneError::Truncated {
            file: file.to_string(),
            offset: data.len() as u64,
            needed: (FOOTER_LEN - data.len()) as u64,
        });
    }
    let crc = crc32fast::hash(&data[..data.len() - 8]);
    check_footer_fields(
        file,
        &data[data.len() - FOOTER_LEN..],
        data.len() as u64 - FOOTER_LEN as u64,
        crc,
    )
}

/// Checks the 16 footer bytes at `offset` against a CRC computed by the caller (streamed files).
pub(crate) fn check_footer_fields(file: &str, footer: &[u8], offset: u64, crc: u32) -> Result<()> {
    let mut input = Input::with_base(file, footer, super::input::Endian::Big, offset);
    let magic = input.be_u32()?;
    if magic != FOOTER_MAGIC {
        return Err(LuceneError::corrupt(
            file,
            offset,
            format!("footer magic {magic:#010x}, expected {FOOTER_MAGIC:#010x}"),
        ));
    }
    let algorithm = input.be_u32()?;
    if algorithm != 0 {
        return Err(LuceneError::corrupt(
            file,
            offset + 4,
            format!("unknown checksum algorithm {algorithm}"),
        ));
    }
    let stored = input.be_i64()? as u64;
    if stored != u64::from(crc) {
        return Err(LuceneError::corrupt(
            file,
            offset + 8,
            format!("checksum mismatch: file says {stored:#010x}, content hashes to {crc:#010x}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn framed(codec: &str, version: u32, body: &[u8]) -> Vec<u8> {
        let mut out = CODEC_MAGIC.to_be_bytes().to_vec();
        out.push(codec.len() as u8);
        out.extend_from_slice(codec.as_bytes());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&FOOTER_MAGIC.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&u64::from(crc).to_be_bytes());
        out
    }

    #[test]
    fn header_and_footer_round_trip() {
        let data = framed("Test", 3, b"body");
        verify_footer("f", &data).expect("valid footer");
        let mut input = Input::new("f", &data, super::super::input::Endian::Big);
        let header = read_header(&mut input).expect("header");
        assert_eq!((header.codec.as_str(), header.version), ("Test", 3));
    }

    #[test]
    fn a_flipped_byte_fails_the_checksum() {
        let mut data = framed("Test", 3, b"body");
        data[12] ^= 1;
        let err = verify_footer("_0.fnm", &data).unwrap_err().to_string();
        assert!(
            err.contains("_0.fnm") && err.contains("checksum mismatch"),
            "{err}"
        );
    }
}
