//! `.fnm`: the fields of a segment (`Lucene60FieldInfosFormat` v0–2, `Lucene90…`, `Lucene94…`). Stored
//! fields refer to fields by number, so documents are decoded through this table; the soft-deletes field is
//! found here too (bit 0x8).
//!
//! ```text
//! per field: string name | vint number | u8 bits | u8 indexOptions | u8 docValuesType
//!   | [94 v2+] u8 skipIndexType | i64 dvGen | map attributes | vint pointDims [| v≥2 vint indexDims | vint bytes]
//!   | [90] vint vectorDim u8 similarity | [94] vint vectorDim u8 encoding u8 similarity
//! ```

use std::collections::BTreeMap;

use super::codec::{read_index_header, verify_footer};
use super::error::{LuceneError, Result};
use super::input::{Endian, Input};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldInfo {
    pub(crate) name: String,
    pub(crate) number: u32,
    pub(crate) soft_deletes: bool,
    pub(crate) doc_values_type: u8,
    pub(crate) dv_gen: i64,
    pub(crate) attributes: BTreeMap<String, String>,
}

pub(crate) fn parse(file: &str, data: &[u8]) -> Result<Vec<FieldInfo>> {
    verify_footer(file, data)?;
    let end = data.len() - super::codec::FOOTER_LEN;
    let mut input = Input::new(file, &data[..end], Endian::Big);
    let header = read_index_header(&mut input)?;
    let (endian, vectors, skip_index) = match (header.codec.as_str(), header.version) {
        ("Lucene60FieldInfos", 0..=2) => (Endian::Big, 0, false),
        ("Lucene90FieldInfos", 0) => (Endian::Little, 1, false),
        ("Lucene94FieldInfos", v @ 0..=2) => (Endian::Little, 2, v >= 2),
        (codec, version) => {
            return Err(LuceneError::unsupported(
                file,
                "field infos format",
                format!("{codec} {version}"),
            ));
        }
    };
    input.endian = endian;
    let count = input.len()?;
    let mut fields = Vec::with_capacity(count);
    for _ in 0..count {
        let name = input.string()?;
        let number = input.vint()?;
        let bits = input.u8()?;
        input.u8()?; // index options
        let doc_values_type = input.u8()?;
        if skip_index {
            input.u8()?;
        }
        let dv_gen = input.i64()?;
        let attributes = input.string_map()?;
        let point_dims = input.vint()?;
        if point_dims != 0 {
            if header.version >= 2 || header.codec != "Lucene60FieldInfos" {
                input.vint()?;
            }
            input.vint()?;
        }
        match vectors {
            1 => {
                input.vint()?;
                input.u8()?;
            }
            2 => {
                input.vint()?;
                input.u8()?;
                input.u8()?;
            }
            _ => {}
        }
        fields.push(FieldInfo {
            name,
            number,
            soft_deletes: bits & 0x8 != 0,
            doc_values_type,
            dv_gen,
            attributes,
        });
    }
    if input.remaining() != 0 {
        return Err(input.corrupt("bytes left after the last field"));
    }
    Ok(fields)
}
