//! `segments_N`: the commit point listing a shard's segments (`org.apache.lucene.index.SegmentInfos`,
//! formats 6 = VERSION_53 through 10 = VERSION_86). Fixed-width fields are big-endian in every version.
//!
//! ```text
//! IndexHeader("segments", format, commit id, suffix base36(N))
//! vint×3 writer version | [format ≥ 7] vint indexCreatedVersionMajor | i64 version
//! counter: i32 (format ≤ 7) or vlong | i32 segCount | [segCount > 0] vint×3 min segment version
//! per segment: string name | [format < 7] u8 hasId | 16B id | string codec | i64 delGen | i32 delCount
//!   | i64 fieldInfosGen | i64 docValuesGen | [format > 8] i32 softDelCount | [format > 9] u8 + 16B sci id
//!   | set fieldInfosFiles | i32 n × (i32 field, set files)
//! map userData | footer
//! ```

use super::codec::{expect_codec, read_index_header, verify_footer};
use super::error::Result;
use super::input::{Endian, Input};

/// One segment as the commit lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentCommitInfo {
    pub(crate) name: String,
    pub(crate) id: [u8; 16],
    pub(crate) codec: String,
    pub(crate) del_gen: i64,
    pub(crate) del_count: u32,
    pub(crate) field_infos_gen: i64,
    pub(crate) doc_values_gen: i64,
    pub(crate) soft_del_count: u32,
    /// Doc-values update files per field number (written after the segment; never inside a .cfs).
    pub(crate) dv_update_files: Vec<(i32, Vec<String>)>,
}

/// A parsed commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentInfos {
    pub(crate) format: u32,
    pub(crate) generation: u64,
    pub(crate) index_created_major: Option<u32>,
    pub(crate) segments: Vec<SegmentCommitInfo>,
}

/// Generation `N` of a `segments_N` file name (base 36).
pub(crate) fn generation(file_name: &str) -> Option<u64> {
    let generation = file_name.strip_prefix("segments_")?;
    u64::from_str_radix(generation, 36).ok()
}

pub(crate) fn parse(file: &str, data: &[u8]) -> Result<SegmentInfos> {
    verify_footer(file, data)?;
    let mut input = Input::new(file, data, Endian::Big);
    let header = read_index_header(&mut input)?;
    let format = expect_codec(&input, &header, &["segments"], 6..=10)?;
    for _ in 0..3 {
        input.vint()?;
    }
    let index_created_major = if format >= 7 {
        Some(input.vint()?)
    } else {
        None
    };
    input.be_i64()?; // change counter
    if format <= 7 {
        input.be_i32()?;
    } else {
        input.vlong()?;
    }
    let at = input.offset();
    let count = input.be_i32()?;
    if count < 0 || count as usize > input.remaining() {
        return Err(input.corrupt(format!(
            "segment count {count} at offset {at} is impossible"
        )));
    }
    if count > 0 {
        for _ in 0..3 {
            input.vint()?;
        }
    }
    let mut segments = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name = input.string()?;
        if format < 7 {
            let has_id = input.u8()?;
            if has_id != 1 {
                return Err(input.corrupt(format!("segment {name} has no id (hasID = {has_id})")));
            }
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(input.bytes(16)?);
        let codec = input.string()?;
        let del_gen = input.be_i64()?;
        let del_count = non_negative(&input, input.clone().be_i32()?, "delCount")?;
        input.be_i32()?;
        let field_infos_gen = input.be_i64()?;
        let doc_values_gen = input.be_i64()?;
        let soft_del_count = if format > 8 {
            let v = input.clone().be_i32()?;
            input.be_i32()?;
            non_negative(&input, v, "softDelCount")?
        } else {
            0
        };
        if format > 9 && input.u8()? == 1 {
            input.bytes(16)?;
        }
        input.string_set()?; // field infos files: we derive the name from the generation
        let n = input.be_i32()?;
        if n < 0 || n as usize > input.remaining() {
            return Err(input.corrupt(format!("doc-values update count {n} is impossible")));
        }
        let mut dv_update_files = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let field = input.be_i32()?;
            dv_update_files.push((field, input.string_set()?));
        }
        segments.push(SegmentCommitInfo {
            name,
            id,
            codec,
            del_gen,
            del_count,
            field_infos_gen,
            doc_values_gen,
            soft_del_count,
            dv_update_files,
        });
    }
    input.string_map()?;
    Ok(SegmentInfos {
        format,
        generation: generation(file).unwrap_or(0),
        index_created_major,
        segments,
    })
}

fn non_negative(input: &Input, v: i32, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| input.corrupt(format!("{what} {v} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_base_36() {
        assert_eq!(generation("segments_a"), Some(10));
        assert_eq!(generation("segments_2"), Some(2));
        assert_eq!(generation("_0.si"), None);
    }
}
