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

/// Field attribute Elasticsearch's `PerFieldStoredFieldsFormat` writes: which stored-fields format holds the
/// field's values.
const STORED_FIELD_FORMAT: &str = "stored_field_format";
/// Per-field stored-fields formats that keep a field's values in the `.fdt` the reader decodes (each writes
/// the Lucene90 / Zstd814 files exactly as alone).
const FDT_STORED_FIELD_FORMATS: &[&str] = &[
    "ESLucene90StoredFieldsFormat",
    "ESZstd814StoredFieldsFormat",
];
/// Field attribute of Elasticsearch's synthetic `_id` (`SyntheticIdField`): the id is not stored.
const SYNTHETIC_ID: &str = "SyntheticIdField.enabled";

/// Refuses a segment whose `_id` is not in its stored fields, so its documents are never taken for ones
/// without an id (and silently skipped): Elasticsearch's synthetic `_id` of `time_series` indices
/// (`SyntheticIdField.enabled` on `_id`: rebuilt from `_tsid`, `@timestamp` and the routing hash, never
/// stored; a bloom filter in `.sfbf`/`.sfbfm` by `ES93BloomFilterStoredFieldsFormat`, or doc values in later
/// versions), or any per-field stored-fields format other than those that write the `.fdt`.
pub(crate) fn check_stored_id(file: &str, fields: &[FieldInfo]) -> Result<()> {
    let Some(id) = fields.iter().find(|f| f.name == "_id") else {
        return Ok(());
    };
    if id.attributes.get(SYNTHETIC_ID).map(String::as_str) == Some("true") {
        return Err(LuceneError::unsupported(
            file,
            "`_id` storage",
            "synthetic `_id` (SyntheticIdField.enabled: an Elasticsearch time_series index with synthetic ids stores no `_id`, it is rebuilt from _tsid, @timestamp and the routing hash); exclude the index",
        ));
    }
    match id.attributes.get(STORED_FIELD_FORMAT) {
        Some(format) if !FDT_STORED_FIELD_FORMATS.contains(&format.as_str()) => {
            Err(LuceneError::unsupported(
                file,
                "`_id` storage",
                format!(
                    "{STORED_FIELD_FORMAT}: {format} (Elasticsearch's per-field stored fields keep `_id` outside the .fdt{}); exclude the index",
                    if format == "ES93BloomFilterStoredFieldsFormat" {
                        ": only a bloom filter of it, in .sfbf/.sfbfm"
                    } else {
                        ""
                    }
                ),
            ))
        }
        _ => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id_with(attributes: &[(&str, &str)]) -> Vec<FieldInfo> {
        let field = |name: &str, number, attributes: BTreeMap<String, String>| FieldInfo {
            name: name.into(),
            number,
            soft_deletes: false,
            doc_values_type: 0,
            dv_gen: -1,
            attributes,
        };
        vec![
            field(
                "_id",
                0,
                attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            field("_source", 1, BTreeMap::new()),
        ]
    }

    #[test]
    fn an_id_outside_the_stored_fields_refuses_the_segment_by_name() {
        assert!(check_stored_id("_0.fnm", &id_with(&[])).is_ok());
        for kept in FDT_STORED_FIELD_FORMATS {
            assert!(check_stored_id("_0.fnm", &id_with(&[(STORED_FIELD_FORMAT, kept)])).is_ok());
        }
        let synthetic = check_stored_id("_0.fnm", &id_with(&[(SYNTHETIC_ID, "true")]))
            .expect_err("synthetic ids are not stored");
        assert!(
            synthetic.to_string().starts_with(
                "_0.fnm: unsupported `_id` storage `synthetic `_id` (SyntheticIdField.enabled"
            ),
            "{synthetic}"
        );
        let bloom = check_stored_id(
            "_0.fnm",
            &id_with(&[(STORED_FIELD_FORMAT, "ES93BloomFilterStoredFieldsFormat")]),
        )
        .expect_err("only a bloom filter");
        assert!(
            bloom.to_string().contains(
                "stored_field_format: ES93BloomFilterStoredFieldsFormat (Elasticsearch's per-field stored fields keep `_id` outside the .fdt: only a bloom filter of it, in .sfbf/.sfbfm)"
            ),
            "{bloom}"
        );
        assert!(
            check_stored_id("_0.fnm", &id_with(&[(STORED_FIELD_FORMAT, "ES99Whatever")])).is_err(),
            "an unknown per-field format is never guessed at"
        );
    }
}
