//! The stored-fields compression modes (`CompressionMode` implementations), each decoding one compressed
//! block of `total` bytes and reporting the input it consumed:
//!
//! - Lucene50 FAST: one raw Lucene LZ4 block, no length prefix.
//! - Lucene50 HIGH_COMPRESSION: `vint compressedLen` + raw DEFLATE.
//! - Lucene87/90 BEST_SPEED (`LZ4WithPresetDictCompressionMode`): `vint dictLen, vint blockLen`, then
//!   `vint compLen` for the dictionary and each block, then the dictionary and blocks as LZ4; each block may
//!   reference the dictionary. Output = dictionary ‖ blocks.
//! - Lucene87/90 BEST_COMPRESSION (`DeflateWithPresetDictCompressionMode`): `vint dictLen, vint blockLen`,
//!   then `vint compLen + raw DEFLATE` for the dictionary and for each block (inflated with the dictionary as
//!   the preset dictionary). Output = dictionary ‖ blocks.

use flate2::{Decompress, FlushDecompress, Status};

use super::error::{LuceneError, Result};
use super::input::Input;
use super::lz4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lz4Raw,
    DeflateRaw,
    Lz4PresetDict,
    DeflatePresetDict,
}

/// Decodes `total` bytes from `input` (positioned at the block) into `out` (cleared first).
pub fn decompress(
    mode: Mode,
    input: &mut Input,
    total: usize,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    match mode {
        Mode::Lz4Raw => {
            let start = input.pos();
            let rest = input.bytes(input.remaining())?;
            let used = lz4::decompress(rest, out, total, 0).map_err(|m| {
                if m == lz4::ENDS_EARLY {
                    LuceneError::Truncated {
                        file: input.file.to_string(),
                        offset: input.offset() + rest.len() as u64,
                        needed: 1,
                    }
                } else {
                    input.corrupt(m)
                }
            })?;
            input.seek(start + used)?;
        }
        Mode::DeflateRaw => {
            let len = input.len()?;
            let data = input.bytes(len)?;
            inflate(input, data, None, total, out)?;
        }
        Mode::Lz4PresetDict => {
            let dict_len = input.vint()? as usize;
            let block_len = input.vint()? as usize;
            if dict_len > total || (block_len == 0 && total > dict_len) {
                return Err(input.corrupt(format!(
                    "dictionary {dict_len} / block {block_len} do not fit {total} bytes"
                )));
            }
            let blocks = (total - dict_len).div_ceil(block_len.max(1));
            let mut lengths = Vec::with_capacity(blocks + 1);
            for _ in 0..=blocks {
                lengths.push(input.len()?);
            }
            // Every block's compressed length is known, so the standard LZ4 block decoder applies; each block
            // is decoded in place after the dictionary, which it may reference as an external dictionary.
            out.resize(total, 0);
            let dict_data = input.bytes(lengths[0])?;
            lz4_block(input, dict_data, &mut out[..dict_len], &[])?;
            let mut at = dict_len;
            for &len in &lengths[1..] {
                let data = input.bytes(len)?;
                let n = (total - at).min(block_len);
                let (head, tail) = out.split_at_mut(at);
                lz4_block(input, data, &mut tail[..n], &head[..dict_len])?;
                at += n;
            }
        }
        Mode::DeflatePresetDict => {
            let dict_len = input.vint()? as usize;
            let block_len = input.vint()? as usize;
            if dict_len > total || (block_len == 0 && total > dict_len) {
                return Err(input.corrupt(format!(
                    "dictionary {dict_len} / block {block_len} do not fit {total} bytes"
                )));
            }
            let len = input.len()?;
            if len > 0 {
                let data = input.bytes(len)?;
                inflate(input, data, None, dict_len, out)?;
            } else if dict_len != 0 {
                return Err(input.corrupt("empty compressed dictionary for a non-empty dictionary"));
            }
            let mut remaining = total - dict_len;
            let dict = out.clone();
            while remaining > 0 {
                let n = remaining.min(block_len);
                let len = input.len()?;
                let data = input.bytes(len)?;
                scratch.clear();
                inflate(input, data, Some(&dict), n, scratch)?;
                out.extend_from_slice(scratch);
                remaining -= n;
            }
        }
    }
    if out.len() != total {
        return Err(input.corrupt(format!(
            "decompressed {} bytes, expected {total}",
            out.len()
        )));
    }
    Ok(())
}

/// One standard LZ4 block that must fill `out` exactly.
fn lz4_block(input: &Input, data: &[u8], out: &mut [u8], dict: &[u8]) -> Result<()> {
    let produced = lz4_flex::block::decompress_into_with_dict(data, out, dict)
        .map_err(|e| input.corrupt(format!("LZ4 block: {e}")))?;
    if produced != out.len() {
        return Err(input.corrupt(format!(
            "LZ4 block produced {produced} bytes, expected {}",
            out.len()
        )));
    }
    Ok(())
}

/// Raw inflate of `data` into `out`, expecting `expected` bytes.
fn inflate(
    input: &Input,
    data: &[u8],
    dict: Option<&[u8]>,
    expected: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut inflater = Decompress::new(false);
    if let Some(dict) = dict.filter(|d| !d.is_empty()) {
        inflater
            .set_dictionary(dict)
            .map_err(|e| input.corrupt(format!("DEFLATE dictionary: {e}")))?;
    }
    let start = out.len();
    out.reserve(expected + 1);
    loop {
        let before_in = inflater.total_in();
        let before_out = inflater.total_out();
        let status = inflater
            .decompress_vec(
                &data[inflater.total_in() as usize..],
                out,
                FlushDecompress::Finish,
            )
            .map_err(|e| input.corrupt(format!("DEFLATE: {e}")))?;
        if status == Status::StreamEnd {
            break;
        }
        if out.len() - start > expected {
            return Err(input.corrupt("DEFLATE output longer than expected"));
        }
        if inflater.total_in() == before_in && inflater.total_out() == before_out {
            if out.len() == out.capacity() {
                out.reserve(expected.max(64));
                continue;
            }
            return Err(input.corrupt("DEFLATE stream ends early"));
        }
    }
    if out.len() - start != expected {
        return Err(input.corrupt(format!(
            "DEFLATE produced {} bytes, expected {expected}",
            out.len() - start
        )));
    }
    Ok(())
}
