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
//! - zstd (Elasticsearch 8.14+, OpenSearch custom-codecs with and without a dictionary): `zstd.rs`.

use flate2::{Decompress, FlushDecompress, Status};

use super::error::{LuceneError, Result};
use super::input::Input;
use super::lz4;
use super::zstd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Lz4Raw,
    DeflateRaw,
    Lz4PresetDict,
    DeflatePresetDict,
    /// Frame lengths are all stored, so the block is bounded by them (see [`zstd`]).
    Zstd(zstd::Layout),
}

/// The largest expansion of any mode: DEFLATE's (a 258-byte match in 2 bits).
const MAX_RATIO: usize = 1032;

/// Decodes `total` bytes from `input` (positioned at the block) into `out` (cleared first).
pub(crate) fn decompress(
    mode: Mode,
    input: &mut Input,
    total: usize,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    if let Mode::Zstd(layout) = mode {
        // zstd's RLE blocks expand far beyond DEFLATE's ratio; every frame's length is stored instead, and
        // the caller bounds `total` by the chunk size.
        return zstd::decompress(layout, input, total, out);
    }
    decompress_lucene(mode, input, total, out, scratch)
}

/// The modes of Lucene's own codecs (LZ4 and DEFLATE).
fn decompress_lucene(
    mode: Mode,
    input: &mut Input,
    total: usize,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    // No mode expands more than DEFLATE's 1032:1 (LZ4's is about 255:1), so more output than that needs input
    // that is not here yet (a streaming caller fetches more; a whole file is truncated). This also bounds every
    // buffer below by the input rather than by a length read from it.
    let needed = total.div_ceil(MAX_RATIO);
    if needed > input.remaining() {
        return Err(input.truncated((needed - input.remaining()) as u64));
    }
    match mode {
        Mode::Lz4Raw => {
            let start = input.pos();
            let rest = input.bytes(input.remaining())?;
            let used = lz4::decompress(rest, out, total).map_err(|m| {
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
            let (dict_len, block_len, blocks) = preset_dict_layout(input, total)?;
            // A compressed length (at least one byte) per block and the dictionary.
            if blocks >= input.remaining() {
                return Err(input.truncated((blocks + 1 - input.remaining()) as u64));
            }
            let mut lengths = Vec::with_capacity(blocks + 1);
            for _ in 0..=blocks {
                lengths.push(input.len()?);
            }
            // Every compressed byte of the chunk must be here before any is decoded: a streaming caller then
            // fetches exactly what is missing instead of decoding the front of the chunk twice.
            let compressed = lengths
                .iter()
                .try_fold(0usize, |sum, &len| sum.checked_add(len))
                .ok_or_else(|| input.corrupt("compressed lengths overflow"))?;
            if compressed > input.remaining() {
                return Err(input.truncated((compressed - input.remaining()) as u64));
            }
            let dict_data = input.bytes(lengths[0])?;
            lz4_block(input, dict_data, out, 0, dict_len)?;
            for &len in &lengths[1..] {
                let data = input.bytes(len)?;
                let at = out.len();
                let n = (total - at).min(block_len);
                // Lucene decodes each block in a buffer holding `dictionary ‖ block`. Here the dictionary is
                // copied over the end of the previous block, the block decoded in place right after it (its
                // window starting at the copy), and the overwritten bytes put back: three copies of the small
                // dictionary instead of one of the whole block.
                let window = at - dict_len;
                scratch.clear();
                scratch.extend_from_slice(&out[window..at]);
                out.copy_within(..dict_len, window);
                let decoded = lz4_block(input, data, out, window, n);
                out[window..at].copy_from_slice(scratch);
                decoded?;
            }
        }
        // Decoded by `decompress` before this is called.
        Mode::Zstd(_) => return Err(input.corrupt("zstd is not a Lucene compression mode")),
        Mode::DeflatePresetDict => {
            let (dict_len, block_len, blocks) = preset_dict_layout(input, total)?;
            // Every compressed byte of the chunk must be here before any is inflated (as for LZ4 above).
            let mut probe = input.clone();
            for _ in 0..=blocks {
                let len = probe.len()?;
                probe.bytes(len)?;
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
                inflate(input, data, Some(&dict), n, out)?;
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

/// The preset-dictionary modes' header: `vint dictLen, vint blockLen`, checked against the `total` output;
/// returns them and the number of blocks after the dictionary.
fn preset_dict_layout(input: &mut Input, total: usize) -> Result<(usize, usize, usize)> {
    let dict_len = input.vint()? as usize;
    let block_len = input.vint()? as usize;
    if dict_len > total || (block_len == 0 && total > dict_len) {
        return Err(input.corrupt(format!(
            "dictionary {dict_len} / block {block_len} do not fit {total} bytes"
        )));
    }
    let blocks = (total - dict_len).div_ceil(block_len.max(1));
    Ok((dict_len, block_len, blocks))
}

/// One LZ4 block of known compressed length, appending `produce` bytes to `out`; its matches may reference
/// `out` from `window` on.
fn lz4_block(
    input: &Input,
    data: &[u8],
    out: &mut Vec<u8>,
    window: usize,
    produce: usize,
) -> Result<()> {
    lz4::decompress_in_window(data, out, window, produce)
        .map(|_| ())
        .map_err(|m| input.corrupt(format!("LZ4 block: {m}")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lucene::input::Endian;

    fn run(mode: Mode, data: &[u8], total: usize) -> LuceneError {
        let mut input = Input::new("_0.fdt", data, Endian::Big);
        decompress(mode, &mut input, total, &mut Vec::new(), &mut Vec::new()).unwrap_err()
    }

    /// Found by `cargo fuzz` (stored_fields, reduced by hand): chunk lengths summing to gigabytes made the
    /// decoders reserve that much output before reading a compressed byte.
    #[test]
    fn an_output_beyond_what_the_input_can_expand_to_is_truncated_before_allocating() {
        const INPUT: [u8; 6] = [0x00, 0x01, 0x02, 0x03, 0x00, 0x00];
        for mode in [
            Mode::Lz4Raw,
            Mode::DeflateRaw,
            Mode::Lz4PresetDict,
            Mode::DeflatePresetDict,
        ] {
            match run(mode, &INPUT, 1 << 31) {
                LuceneError::Truncated { needed, .. } => assert!(needed > 1 << 20, "{mode:?}"),
                other => panic!("{mode:?}: {other}"),
            }
        }
    }

    /// Found by `cargo fuzz` (stored_fields): a block length of 1 made the LZ4-with-dictionary mode size its
    /// table of block lengths by the output, one entry per output byte, before reading any of them.
    #[test]
    fn more_lz4_blocks_than_input_bytes_is_truncated_before_allocating() {
        // dictLen 0, blockLen 1, then a few compressed lengths: 50_000 blocks cannot follow in 100 bytes.
        let mut data = vec![0x00, 0x01];
        data.resize(100, 0x00);
        match run(Mode::Lz4PresetDict, &data, 50_000) {
            LuceneError::Truncated { needed, .. } => assert!(needed > 40_000, "{needed}"),
            other => panic!("{other}"),
        }
    }
}
