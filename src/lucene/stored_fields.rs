//! Stored fields (`.fdt`), read chunk by chunk front to back (`Lucene50CompressingStoredFieldsReader`,
//! `Lucene90CompressingStoredFieldsReader`); `.fdx` is only for random access and is not needed.
//!
//! ```text
//! .fdt: IndexHeader | [v < 3] vint chunkSize, vint packedIntsVersion | chunk* | [v1/v2] vlong×2 | footer
//! chunk: vint docBase | vint token (docs = token >> 1, or >> 2 from v4/Lucene90; sliced = token & 1)
//!   | docs == 1: vint numStoredFields, vint length
//!   | else numStoredFields[], lengths[] (Lucene50/87: packed ints; Lucene90: StoredFieldsInts)
//!   | compressed bytes of sum(lengths) (in chunkSize slices when sliced)
//! field: vlong (number << 3 | type) then the value (string, bytes, int, float, long, double)
//! ```
//! The chunk size for v ≥ 3 and Lucene90 is the first vint of `.fdm`. Elasticsearch's and OpenSearch's zstd
//! formats (`ZstdStoredFields814`, `CustomStoredFieldsZstd`, `CustomStoredFieldsZstdNoDict`) are Lucene90's
//! layout with their own compression modes (`zstd.rs`).

use std::sync::Arc;

use bytes::Bytes;

use super::codec::read_index_header;
use super::decompress::{self, Mode};
use super::error::{LuceneError, Result};
use super::input::{Endian, Input};
use super::stream::FileStream;
use super::zstd::Layout;

/// A stored field value. Binary values share the decompressed chunk they come from (no copy per document).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    String(String),
    Binary(Bytes),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
}

/// One stored field of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredField {
    pub name: Arc<str>,
    pub value: StoredValue,
}

/// The format facts the chunk walk needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format {
    pub(crate) mode: Mode,
    /// Lucene90 layout (StoredFieldsInts, token >> 2).
    pub(crate) lucene90: bool,
    /// Token carries a dirty bit (v ≥ 4 and Lucene90).
    pub(crate) token_shift: u32,
    pub(crate) chunk_size: usize,
    pub(crate) endian: Endian,
}

/// The compression mode, layout and byte order of the `.fdt` format named `codec`, or `Unsupported` naming it.
fn format_of(file: &str, codec: &str) -> Result<(Mode, bool, Endian)> {
    Ok(match codec {
        "Lucene50StoredFieldsFastData" => (Mode::Lz4Raw, false, Endian::Big),
        "Lucene50StoredFieldsHighData" => (Mode::DeflateRaw, false, Endian::Big),
        "Lucene87StoredFieldsFastData" => (Mode::Lz4PresetDict, false, Endian::Big),
        "Lucene87StoredFieldsHighData" => (Mode::DeflatePresetDict, false, Endian::Big),
        "Lucene90StoredFieldsFastData" => (Mode::Lz4PresetDict, true, Endian::Little),
        "Lucene90StoredFieldsHighData" => (Mode::DeflatePresetDict, true, Endian::Little),
        // Elasticsearch 8.14+ and OpenSearch custom-codecs: Lucene90's layout, zstd blocks.
        "ZstdStoredFields814" => (Mode::Zstd(Layout::Frame), true, Endian::Little),
        "CustomStoredFieldsZstd" => (Mode::Zstd(Layout::PresetDict), true, Endian::Little),
        "CustomStoredFieldsZstdNoDict" => (Mode::Zstd(Layout::Blocks), true, Endian::Little),
        other => {
            return Err(LuceneError::unsupported(
                file,
                "stored fields format",
                other,
            ));
        }
    })
}

/// Checks, from the first bytes of an `.fdt` (`head`), that its format is one this reader decodes: opening a
/// shard calls it, so an unsupported stored-fields codec is known before any document is read (at plan time).
pub(crate) fn check_header(file: &str, head: &[u8]) -> Result<()> {
    let header = read_index_header(&mut Input::new(file, head, Endian::Big))?;
    format_of(file, &header.codec).map(|_| ())
}

/// Reads the `.fdt` header and works out the format; `fdm` is the `.fdm` content when it exists.
pub(crate) fn open(stream: &mut FileStream, fdm: Option<(&str, &[u8])>) -> Result<Format> {
    stream.fill(4096)?;
    let label = stream.label.clone();
    let window = stream.window().to_vec();
    let mut input = Input::new(&label, &window, Endian::Big);
    let header = read_index_header(&mut input)?;
    let (mode, lucene90, endian) = format_of(&label, &header.codec)?;
    let version = header.version;
    let max_version = if lucene90 {
        1
    } else if header.codec.starts_with("Lucene87") {
        4
    } else {
        3
    };
    if version > max_version {
        return Err(LuceneError::unsupported(
            &label,
            "stored fields version",
            format!("{} {version}", header.codec),
        ));
    }
    let token_shift = if lucene90 || version >= 4 { 2 } else { 1 };
    let chunk_size = if !lucene90 && version < 3 {
        let size = input.vint()? as usize;
        input.vint()?;
        size
    } else {
        let (fdm_name, fdm) = fdm.ok_or_else(|| {
            LuceneError::corrupt(&label, 0, "this stored-fields version needs its .fdm file")
        })?;
        super::codec::verify_footer(fdm_name, fdm)?;
        let mut meta = Input::new(fdm_name, fdm, Endian::Big);
        read_index_header(&mut meta)?;
        meta.vint()? as usize
    };
    if chunk_size == 0 {
        return Err(LuceneError::corrupt(&label, 0, "chunk size 0"));
    }
    stream.consume(input.pos());
    Ok(Format {
        mode,
        lucene90,
        token_shift,
        chunk_size,
        endian,
    })
}

/// A decoded chunk: its first doc and the documents' stored bytes.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub(crate) doc_base: u32,
    pub(crate) docs: u32,
    pub(crate) num_fields: Vec<u32>,
    /// Offsets of each doc in `data` (docs + 1 entries).
    pub(crate) offsets: Vec<usize>,
    /// The decompressed documents; binary values are slices of it.
    pub(crate) data: Bytes,
}

/// Reusable buffers for chunk decoding.
#[derive(Default)]
pub(crate) struct Buffers {
    piece: Vec<u8>,
    scratch: Vec<u8>,
    lengths: Vec<u32>,
}

/// The allocation behind a chunk's bytes, for the next chunk, when no document holds a slice of it any
/// more (else a new one).
fn reclaim(data: Bytes) -> Vec<u8> {
    match data.try_into_mut() {
        Ok(unique) => {
            let mut buffer = Vec::from(unique);
            buffer.clear();
            buffer
        }
        Err(_) => Vec::new(),
    }
}

/// More documents than any Lucene writer puts in one chunk (4096 for BEST_COMPRESSION), by a wide margin.
const MAX_CHUNK_DOCS: u32 = 1 << 17;

/// Decodes the chunk at the start of `input`; returns how many bytes it took.
pub(crate) fn read_chunk(
    input: &mut Input,
    format: &Format,
    chunk: &mut Chunk,
    bufs: &mut Buffers,
) -> Result<usize> {
    let start = input.pos();
    chunk.doc_base = input.vint()?;
    let token = input.vint()?;
    let docs = token >> format.token_shift;
    let sliced = token & 1 == 1;
    if docs == 0 {
        return Err(input.corrupt("chunk with no documents"));
    }
    // Lucene's writers flush a chunk at 4096 documents at most (maxDocsPerChunk); far more is corruption, and
    // would size the per-document arrays below from a single corrupt VInt.
    if docs > MAX_CHUNK_DOCS {
        return Err(input.corrupt(format!(
            "chunk of {docs} documents (at most {MAX_CHUNK_DOCS} are plausible)"
        )));
    }
    chunk.docs = docs;
    chunk.num_fields.clear();
    let lengths = &mut bufs.lengths;
    lengths.clear();
    if docs == 1 {
        chunk.num_fields.push(input.vint()?);
        lengths.push(input.vint()?);
    } else if format.lucene90 {
        read_stored_ints(input, docs as usize, &mut chunk.num_fields)?;
        read_stored_ints(input, docs as usize, lengths)?;
    } else {
        read_packed_ints(input, docs as usize, &mut chunk.num_fields)?;
        read_packed_ints(input, docs as usize, lengths)?;
    }
    chunk.offsets.clear();
    chunk.offsets.push(0);
    let mut total = 0usize;
    for &len in lengths.iter() {
        total = total
            .checked_add(len as usize)
            .ok_or_else(|| input.corrupt("chunk length overflow"))?;
        chunk.offsets.push(total);
    }
    let mut data = reclaim(std::mem::take(&mut chunk.data));
    let decoded = decompress_chunk(input, format, total, sliced, &mut data, bufs);
    if decoded.is_err() {
        // Keep the buffer for the retry (a streaming caller fetches more and reads the chunk again).
        data.clear();
    }
    chunk.data = Bytes::from(data);
    decoded?;
    Ok(input.pos() - start)
}

/// The chunk's `total` document bytes into `data` (in `chunk_size` slices when `sliced`).
fn decompress_chunk(
    input: &mut Input,
    format: &Format,
    total: usize,
    sliced: bool,
    data: &mut Vec<u8>,
    bufs: &mut Buffers,
) -> Result<()> {
    if sliced {
        let mut done = 0;
        while done < total {
            let n = format.chunk_size.min(total - done);
            decompress::decompress(format.mode, input, n, &mut bufs.piece, &mut bufs.scratch)?;
            data.extend_from_slice(&bufs.piece);
            done += n;
        }
    } else if total > 0 {
        // Writers slice every chunk of twice the chunk size or more; the zstd decoders size their output
        // from `total` before decoding, so it is bounded here by what the chunk size allows.
        if matches!(format.mode, Mode::Zstd(_)) && total >= 2 * format.chunk_size {
            return Err(input.corrupt(format!(
                "unsliced chunk of {total} bytes, twice the chunk size {} or more",
                format.chunk_size
            )));
        }
        decompress::decompress(format.mode, input, total, data, &mut bufs.scratch)?;
    }
    Ok(())
}

/// Lucene50/87 `saveInts`: vint bitsPerValue; 0 → one vint for all, else big-endian packed values.
fn read_packed_ints(input: &mut Input, count: usize, out: &mut Vec<u32>) -> Result<()> {
    out.clear();
    let bits = input.vint()?;
    if bits == 0 {
        let v = input.vint()?;
        out.resize(count, v);
        return Ok(());
    }
    if bits > 32 {
        return Err(input.corrupt(format!("{bits} bits per value")));
    }
    let bytes = input.bytes((count * bits as usize).div_ceil(8))?;
    // Big-endian bit packing: bytes go into the low end of `pending`, values come off its high end. At most
    // 31 + 8 bits are pending, so the u64 never loses one that is still needed.
    let mask = (1u64 << bits) - 1;
    let (mut pending, mut have) = (0u64, 0u32);
    let mut next = bytes.iter();
    for _ in 0..count {
        while have < bits {
            pending = (pending << 8) | u64::from(*next.next().unwrap_or(&0));
            have += 8;
        }
        have -= bits;
        out.push(((pending >> have) & mask) as u32);
    }
    Ok(())
}

/// Lucene90 `StoredFieldsInts`: u8 bpv ∈ {0, 8, 16, 32}; blocks of 128 packed in little-endian longs, then
/// the remainder one by one.
fn read_stored_ints(input: &mut Input, count: usize, out: &mut Vec<u32>) -> Result<()> {
    out.clear();
    let bpv = input.u8()?;
    if bpv == 0 {
        let v = input.vint()?;
        out.resize(count, v);
        return Ok(());
    }
    let per_word = match bpv {
        8 => 8,
        16 => 4,
        32 => 2,
        other => return Err(input.corrupt(format!("StoredFieldsInts width {other}"))),
    };
    let words_per_block = 128 / per_word;
    let full = count / 128 * 128;
    let saved = input.endian;
    input.endian = Endian::Little;
    for _ in 0..full / 128 {
        let mut words = [0u64; 64];
        for w in words.iter_mut().take(words_per_block) {
            *w = input.u64()?;
        }
        for k in 0..128usize {
            let v = match bpv {
                8 => (words[k % 16] >> (56 - 8 * (k / 16))) & 0xFF,
                16 => (words[k % 32] >> (48 - 16 * (k / 32))) & 0xFFFF,
                _ => (words[k % 64] >> (32 * (1 - k / 64))) & 0xFFFF_FFFF,
            };
            out.push(v as u32);
        }
    }
    for _ in full..count {
        let v = match bpv {
            8 => u32::from(input.u8()?),
            16 => u32::from(input.u16()?),
            _ => input.u32()?,
        };
        out.push(v);
    }
    input.endian = saved;
    Ok(())
}

/// Decodes one document's stored fields; `names` maps field numbers to names.
pub(crate) fn decode_document(
    file: &str,
    data: &Bytes,
    num_fields: u32,
    endian: Endian,
    names: &dyn Fn(u32) -> Option<Arc<str>>,
    out: &mut Vec<StoredField>,
) -> Result<()> {
    out.clear();
    let mut input = Input::new(file, data, endian);
    for _ in 0..num_fields {
        let info = input.vlong()?;
        let number = (info >> 3) as u32;
        let value = match info & 7 {
            0 => StoredValue::String(input.string()?),
            1 => {
                let n = input.len()?;
                let at = input.pos();
                input.bytes(n)?;
                StoredValue::Binary(data.slice(at..at + n))
            }
            2 => StoredValue::Int(input.zint()?),
            3 => StoredValue::Float(read_float(&mut input)?),
            4 => StoredValue::Long(read_long(&mut input)?),
            5 => StoredValue::Double(read_double(&mut input)?),
            t => return Err(input.corrupt(format!("stored field type {t}"))),
        };
        let name = names(number).ok_or_else(|| {
            input.corrupt(format!(
                "stored field number {number} is not in the field infos"
            ))
        })?;
        out.push(StoredField { name, value });
    }
    Ok(())
}

fn read_float(input: &mut Input) -> Result<f32> {
    let b = input.u8()?;
    Ok(if b == 0xFF {
        f32::from_bits(input.u32()?)
    } else if b & 0x80 != 0 {
        (i32::from(b & 0x7F) - 1) as f32
    } else {
        let hi = u32::from(b) << 24;
        let mid = u32::from(input.u16()?) << 8;
        let lo = u32::from(input.u8()?);
        f32::from_bits(hi | mid | lo)
    })
}

fn read_double(input: &mut Input) -> Result<f64> {
    let b = input.u8()?;
    Ok(if b == 0xFF {
        f64::from_bits(input.u64()?)
    } else if b == 0xFE {
        f64::from(f32::from_bits(input.u32()?))
    } else if b & 0x80 != 0 {
        f64::from(i32::from(b & 0x7F) - 1)
    } else {
        let bits = (u64::from(b) << 56)
            | (u64::from(input.u32()?) << 24)
            | (u64::from(input.u16()?) << 8)
            | u64::from(input.u8()?);
        f64::from_bits(bits)
    })
}

fn read_long(input: &mut Input) -> Result<i64> {
    let header = input.u8()?;
    let mut bits = u64::from(header & 0x1F);
    if header & 0x20 != 0 {
        bits |= input.vlong()? << 5;
    }
    let v = ((bits >> 1) as i64) ^ -((bits & 1) as i64);
    Ok(match header & 0xC0 {
        0x40 => v.wrapping_mul(1000),
        0x80 => v.wrapping_mul(3_600_000),
        0xC0 => v.wrapping_mul(86_400_000),
        _ => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(data: &[u8], mode: Mode, lucene90: bool) -> Result<usize> {
        let format = Format {
            mode,
            lucene90,
            token_shift: 1,
            chunk_size: 1 << 14,
            endian: Endian::Big,
        };
        let mut input = Input::new("_0.fdt", data, Endian::Big);
        read_chunk(
            &mut input,
            &format,
            &mut Chunk::default(),
            &mut Buffers::default(),
        )
    }

    /// Found by `cargo fuzz` (stored_fields): a token of 2^31 documents and packed ints of width 0 sized the
    /// per-document arrays at gigabytes before any document byte was read.
    #[test]
    fn a_huge_document_count_is_an_error_not_an_allocation() {
        const INPUT: [u8; 8] = [0x00, 0xff, 0xff, 0xff, 0xff, 0x79, 0x00, 0x6c];
        let err = chunk(&INPUT, Mode::Lz4Raw, false).unwrap_err().to_string();
        assert!(err.contains("_0.fdt") && err.contains("documents"), "{err}");
    }
}
