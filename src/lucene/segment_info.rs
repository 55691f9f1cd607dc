//! `.si`: one segment's metadata (`Lucene62SegmentInfoFormat`, `Lucene70…`, `Lucene86…`, `Lucene90…`, and
//! the Lucene 9.9+ variant of `Lucene90SegmentInfo` that adds a `hasBlocks` byte). Big-endian up to Lucene 8,
//! little-endian from 9.
//!
//! ```text
//! IndexHeader(codec, version, segment id, "")
//! i32×3 version | [70+] u8 hasMinVersion (+ i32×3) | i32 docCount | u8 isCompound | [9.9+] u8 hasBlocks
//! map diagnostics | set files | map attributes | index sort | footer
//! ```

use std::collections::BTreeMap;

use super::codec::{read_index_header, verify_footer};
use super::error::{LuceneError, Result};
use super::input::{Endian, Input};

/// What the reader needs from a segment's `.si`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) max_doc: u32,
    pub(crate) compound: bool,
    pub(crate) files: Vec<String>,
    pub(crate) attributes: BTreeMap<String, String>,
    pub(crate) lucene_version: String,
    /// Fixed-width integer order of this segment's files.
    pub(crate) endian: Endian,
}

pub(crate) fn parse(file: &str, data: &[u8], expected_id: &[u8; 16]) -> Result<SegmentInfo> {
    verify_footer(file, data)?;
    let mut probe = Input::new(file, data, Endian::Big);
    let header = read_index_header(&mut probe)?;
    if header.id.as_ref() != Some(expected_id) {
        return Err(LuceneError::corrupt(
            file,
            0,
            "segment id differs from the one in segments_N",
        ));
    }
    let body = probe.pos();
    match header.codec.as_str() {
        "Lucene62SegmentInfo" => read_body(file, data, body, Endian::Big, false, false),
        "Lucene70SegmentInfo" | "Lucene86SegmentInfo" => {
            read_body(file, data, body, Endian::Big, true, false)
        }
        // The same codec name covers two layouts; the one that parses cleanly to the footer is the right one.
        "Lucene90SegmentInfo" => read_body(file, data, body, Endian::Little, true, true)
            .or_else(|_| read_body(file, data, body, Endian::Little, true, false)),
        other => Err(LuceneError::unsupported(file, "segment info codec", other)),
    }
}

fn read_body(
    file: &str,
    data: &[u8],
    start: usize,
    endian: Endian,
    min_version: bool,
    has_blocks: bool,
) -> Result<SegmentInfo> {
    let end = data.len().saturating_sub(super::codec::FOOTER_LEN);
    let mut input = Input::new(file, &data[..end], endian);
    input.seek(start)?;
    let version: Vec<u32> = (0..3).map(|_| input.u32()).collect::<Result<_>>()?;
    if min_version && input.u8()? == 1 {
        for _ in 0..3 {
            input.u32()?;
        }
    }
    let doc_count = input.i32()?;
    let max_doc = u32::try_from(doc_count)
        .map_err(|_| input.corrupt(format!("docCount {doc_count} is negative")))?;
    let compound = match input.u8()? {
        1 => true,
        0 | 0xFF => false,
        b => return Err(input.corrupt(format!("isCompound byte {b}"))),
    };
    if has_blocks && !matches!(input.u8()?, 0 | 1 | 0xFF) {
        return Err(input.corrupt("hasBlocks is not a boolean"));
    }
    input.string_map()?;
    let files = input.string_set()?;
    let attributes = input.string_map()?;
    let sort_fields = input.vint()?;
    if sort_fields == 0 && input.remaining() != 0 {
        return Err(input.corrupt("bytes left after the segment info"));
    }
    Ok(SegmentInfo {
        max_doc,
        compound,
        files,
        attributes,
        lucene_version: format!("{}.{}.{}", version[0], version[1], version[2]),
        endian,
    })
}
