//! Deletions: hard deletes from `.liv` (`Lucene50LiveDocsFormat`/`Lucene90LiveDocsFormat`: a bitset of
//! ceil(maxDoc/64) u64 words, bit set = live; big-endian words up to Lucene 8, little-endian from 9) and soft
//! deletes from the `__soft_deletes` numeric doc values (a document is soft-deleted iff it has a value).
//!
//! Doc-values metadata (`.dvm`, Lucene70/80/90DocValuesMetadata): entries `i32 field | u8 type | entry`; we read
//! entries until the soft-deletes field's NUMERIC entry, whose first fields say which docs have a value:
//! `docsWithFieldOffset` −2 none, −1 all, else an IndexedDISI at that offset in `.dvd`.
//! IndexedDISI: blocks of 65536 ids, `u16 block | u16 cardinality−1`, then SPARSE (≤ 4095: u16 ids), DENSE
//! (optional rank table, then 1024 u64 words), or ALL (nothing); block 0x7FFF ends it.

use super::codec::{read_index_header, verify_footer};
use super::error::{LuceneError, Result};
use super::input::{Endian, Input};

/// A set of documents of one segment, as a bitset of `max_doc` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocSet {
    words: Vec<u64>,
}

impl DocSet {
    pub(crate) fn empty(max_doc: u32) -> Self {
        DocSet {
            words: vec![0; (max_doc as usize).div_ceil(64)],
        }
    }

    pub(crate) fn full(max_doc: u32) -> Self {
        let mut words = vec![!0u64; (max_doc as usize).div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !max_doc.is_multiple_of(64)
        {
            *last = (1 << (max_doc % 64)) - 1;
        }
        DocSet { words }
    }

    pub(crate) fn insert(&mut self, doc: u32) {
        if let Some(w) = self.words.get_mut((doc / 64) as usize) {
            *w |= 1 << (doc % 64);
        }
    }

    pub(crate) fn remove(&mut self, doc: u32) {
        if let Some(w) = self.words.get_mut((doc / 64) as usize) {
            *w &= !(1 << (doc % 64));
        }
    }

    pub(crate) fn contains(&self, doc: u32) -> bool {
        self.words
            .get((doc / 64) as usize)
            .is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }

    pub(crate) fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }
}

/// Parses a `.liv` file into the set of live docs, checking the count against the commit's delete count.
pub(crate) fn parse_live_docs(
    file: &str,
    data: &[u8],
    max_doc: u32,
    del_count: u32,
) -> Result<DocSet> {
    verify_footer(file, data)?;
    let mut input = Input::new(file, data, Endian::Big);
    let header = read_index_header(&mut input)?;
    input.endian = match header.codec.as_str() {
        "Lucene50LiveDocs" => Endian::Big,
        "Lucene90LiveDocs" => Endian::Little,
        other => return Err(LuceneError::unsupported(file, "live docs format", other)),
    };
    // The bitset must be here before it is allocated: maxDoc comes from the .si, not from this file.
    let bytes = (max_doc as usize).div_ceil(64) * 8;
    if bytes > input.remaining() {
        return Err(input.truncated((bytes - input.remaining()) as u64));
    }
    let mut set = DocSet::empty(max_doc);
    for w in set.words.iter_mut() {
        *w = input.u64()?;
    }
    let live = set.count();
    if live != max_doc.saturating_sub(del_count) {
        return Err(LuceneError::corrupt(
            file,
            0,
            format!(
                "{live} live docs, but segments_N says {} of {max_doc} are deleted",
                del_count
            ),
        ));
    }
    Ok(set)
}

/// Where the soft-deletes field's values are, as read from `.dvm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocsWithField {
    None,
    All,
    Disi {
        offset: u64,
        length: u64,
        dense_rank_power: i8,
    },
}

/// Reads `.dvm` entries until `field`'s NUMERIC entry.
pub(crate) fn find_numeric_entry(file: &str, data: &[u8], field: u32) -> Result<DocsWithField> {
    verify_footer(file, data)?;
    let mut input = Input::new(file, data, Endian::Big);
    let header = read_index_header(&mut input)?;
    let (endian, lucene70) = match header.codec.as_str() {
        "Lucene70DocValuesMetadata" => (Endian::Big, true),
        "Lucene80DocValuesMetadata" => (Endian::Big, false),
        "Lucene90DocValuesMetadata" => (Endian::Little, false),
        other => return Err(LuceneError::unsupported(file, "doc values format", other)),
    };
    input.endian = endian;
    let number = input.i32()?;
    if number == -1 {
        return Err(input.corrupt(format!("no doc values entry for field {field}")));
    }
    let kind = input.u8()?;
    if number as u32 != field {
        // Other entries have their own layouts; the soft-deletes field is the only one in its files.
        return Err(LuceneError::unsupported(
            file,
            "doc values entry before the soft-deletes field",
            format!("field {number} type {kind}"),
        ));
    }
    if kind != 0 {
        return Err(input.corrupt(format!(
            "soft-deletes field has doc values type {kind}, expected NUMERIC"
        )));
    }
    let offset = input.i64()?;
    let length = input.i64()?;
    let dense_rank_power = if lucene70 {
        -1
    } else {
        input.u16()?;
        input.u8()? as i8
    };
    Ok(match offset {
        -2 => DocsWithField::None,
        -1 => DocsWithField::All,
        o if o >= 0 && length >= 0 => DocsWithField::Disi {
            offset: o as u64,
            length: length as u64,
            dense_rank_power,
        },
        o => return Err(input.corrupt(format!("docsWithFieldOffset {o}"))),
    })
}

/// Decodes an IndexedDISI into the set of docs it lists.
pub(crate) fn read_disi(
    file: &str,
    dvd: &[u8],
    endian: Endian,
    at: &DocsWithField,
    max_doc: u32,
) -> Result<DocSet> {
    let mut set = DocSet::empty(max_doc);
    let (offset, length, rank_power) = match *at {
        DocsWithField::None => return Ok(set),
        DocsWithField::All => return Ok(DocSet::full(max_doc)),
        DocsWithField::Disi {
            offset,
            length,
            dense_rank_power,
        } => (offset, length, dense_rank_power),
    };
    let end = offset
        .checked_add(length)
        .filter(|e| *e <= dvd.len() as u64)
        .ok_or_else(|| LuceneError::corrupt(file, offset, "IndexedDISI outside .dvd"))?;
    let mut input = Input::with_base(file, &dvd[offset as usize..end as usize], endian, offset);
    let mut previous = None;
    loop {
        let block = u32::from(input.u16()?);
        let cardinality = u32::from(input.u16()?) + 1;
        if block == 0x7FFF {
            return Ok(set);
        }
        // Blocks ascend (IndexedDISI writes each once, in order); a repeated one could make an ALL block of
        // 4 bytes cost 65536 inserts over and over.
        if previous.is_some_and(|p| block <= p) {
            return Err(input.corrupt(format!(
                "IndexedDISI block {block} after block {}",
                previous.unwrap_or(0)
            )));
        }
        previous = Some(block);
        let base = block << 16;
        if cardinality <= 4095 {
            for _ in 0..cardinality {
                let doc = base | u32::from(input.u16()?);
                check_doc(&input, doc, max_doc)?;
                set.insert(doc);
            }
        } else if cardinality < 65536 {
            if rank_power != -1 {
                if !(0..=15).contains(&rank_power) {
                    return Err(input.corrupt(format!("dense rank power {rank_power}")));
                }
                // The rank table: (65536 >> power) entries of 2 bytes (256 bytes for the default power 9).
                input.bytes((65536usize >> rank_power) * 2)?;
            }
            for word in 0..1024u32 {
                let bits = input.u64()?;
                for bit in 0..64 {
                    if bits & (1 << bit) != 0 {
                        let doc = base | (word * 64 + bit);
                        check_doc(&input, doc, max_doc)?;
                        set.insert(doc);
                    }
                }
            }
        } else {
            check_doc(&input, base, max_doc)?;
            for doc in base..base.saturating_add(65536).min(max_doc) {
                set.insert(doc);
            }
        }
    }
}

fn check_doc(input: &Input, doc: u32, max_doc: u32) -> Result<()> {
    if doc >= max_doc {
        return Err(input.corrupt(format!("doc {doc} beyond maxDoc {max_doc}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed_liv(words: &[u8]) -> Vec<u8> {
        let mut out = super::super::codec::CODEC_MAGIC.to_be_bytes().to_vec();
        out.push(16);
        out.extend_from_slice(b"Lucene90LiveDocs");
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&[7; 16]);
        out.push(1);
        out.push(b'1');
        out.extend_from_slice(words);
        out.extend_from_slice(&super::super::codec::FOOTER_MAGIC.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&u64::from(crc).to_be_bytes());
        out
    }

    #[test]
    fn full_sets_exactly_max_doc_bits() {
        assert_eq!(DocSet::full(0).count(), 0);
        assert_eq!(DocSet::full(64).count(), 64);
        assert_eq!(DocSet::full(130).count(), 130);
        assert!(DocSet::full(130).contains(129) && !DocSet::full(130).contains(130));
    }

    /// maxDoc comes from the .si: a .liv far too short for it is truncated before its bitset is allocated.
    #[test]
    fn a_live_docs_file_too_short_for_max_doc_is_truncated_before_allocating() {
        let data = framed_liv(&[0xFF; 8]);
        match parse_live_docs("_0_1.liv", &data, u32::MAX, 0).unwrap_err() {
            LuceneError::Truncated { needed, .. } => assert!(needed > 1 << 28, "{needed}"),
            other => panic!("{other}"),
        }
        assert_eq!(
            parse_live_docs("_0_1.liv", &data, 64, 0)
                .map(|s| s.count())
                .ok(),
            Some(64)
        );
    }

    /// A repeated ALL block (4 bytes each) made the DISI decoder do 65536 inserts per 4 input bytes.
    #[test]
    fn a_repeated_indexed_disi_block_is_an_error() {
        const DISI: [u8; 12] = [0, 1, 0xFF, 0xFF, 0, 1, 0xFF, 0xFF, 0x7F, 0xFF, 0, 0];
        let at = DocsWithField::Disi {
            offset: 0,
            length: DISI.len() as u64,
            dense_rank_power: -1,
        };
        let err = read_disi("_0.dvd", &DISI, Endian::Big, &at, 1 << 18).unwrap_err();
        assert!(err.to_string().contains("block 1 after block 1"), "{err}");
    }

    /// An ALL block past maxDoc is corrupt, as a SPARSE or DENSE one is (block 0xFFFF: its end is 2^32).
    #[test]
    fn an_all_block_beyond_max_doc_is_an_error() {
        const DISI: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0, 0];
        let at = DocsWithField::Disi {
            offset: 0,
            length: DISI.len() as u64,
            dense_rank_power: -1,
        };
        let err = read_disi("_0.dvd", &DISI, Endian::Big, &at, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("beyond maxDoc"), "{err}");
    }
}
