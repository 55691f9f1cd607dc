//! Compound files: `.cfe` lists the sub-files packed into `.cfs` (`Lucene50CompoundFormat`,
//! `Lucene90CompoundFormat`). Each entry is `string suffix | i64 offset | i64 length` (big-endian in Lucene50,
//! little-endian in Lucene90); the sub-file `<segment><suffix>` is `.cfs[offset, offset+length)`, a complete
//! Lucene file with its own header and footer.

use std::collections::BTreeMap;

use super::codec::{expect_codec, read_index_header, verify_footer};
use super::error::{LuceneError, Result};
use super::input::{Endian, Input};

/// Sub-file name → (offset, length) inside the `.cfs`.
pub(crate) type Entries = BTreeMap<String, (u64, u64)>;

pub(crate) fn parse_entries(
    file: &str,
    data: &[u8],
    segment: &str,
    cfs_len: u64,
) -> Result<Entries> {
    verify_footer(file, data)?;
    let mut input = Input::new(file, data, Endian::Big);
    let header = read_index_header(&mut input)?;
    expect_codec(
        &input,
        &header,
        &["Lucene50CompoundEntries", "Lucene90CompoundEntries"],
        0..=0,
    )?;
    input.endian = if header.codec.starts_with("Lucene90") {
        Endian::Little
    } else {
        Endian::Big
    };
    let count = input.len()?;
    let mut entries = Entries::new();
    for _ in 0..count {
        let suffix = input.string()?;
        let at = input.offset();
        let offset = input.i64()?;
        let length = input.i64()?;
        let fits = offset >= 0
            && length >= 0
            && (offset as u64)
                .checked_add(length as u64)
                .is_some_and(|end| end <= cfs_len);
        if !fits {
            return Err(LuceneError::corrupt(
                file,
                at,
                format!("entry {suffix} ({offset}+{length}) lies outside the {cfs_len}-byte .cfs"),
            ));
        }
        entries.insert(format!("{segment}{suffix}"), (offset as u64, length as u64));
    }
    Ok(entries)
}
