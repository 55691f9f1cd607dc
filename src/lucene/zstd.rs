//! The zstd stored-fields compression modes, each decoding one compressed block of `total` bytes (a chunk,
//! or a slice of a sliced chunk) into `out`:
//!
//! - Elasticsearch 8.14+ `Zstd814StoredFieldsFormat` (`.fdt` format `ZstdStoredFields814`, both modes, and
//!   Elasticsearch 9.x): `vint compressedLen` + zstd frame(s) of exactly `total` bytes, no dictionary.
//! - OpenSearch custom-codecs `ZstdCompressionMode` (`CustomStoredFieldsZstd`, `index.codec: zstd`, also
//!   under k-NN codecs): `vint dictLen, vint blockLen`, then `vint compLen` + frame for the first `dictLen`
//!   bytes (the dictionary), then for each block of `blockLen` bytes (the last shorter) `vint compLen` +
//!   frame compressed with the dictionary bytes loaded as a zstd dictionary (libzstd decides raw content or
//!   formatted dictionary by the magic number, as the writer's zstd-jni does). Output = dictionary ‖ blocks.
//! - OpenSearch custom-codecs `ZstdNoDictCompressionMode` (`CustomStoredFieldsZstdNoDict`,
//!   `index.codec: zstd_no_dict`): `vint blockLen`, then `vint compLen` + frame per block.
//!
//! zstd is libzstd through the `zstd` crate (see the README for the measurement against pure-Rust `ruzstd`).
//! Every compressed byte of the block must be in `input` before any is decoded: otherwise the error is
//! `Truncated` with the exact count missing, so a streaming caller fetches it and reads the chunk again.

use std::cell::RefCell;

use zstd::zstd_safe::DCtx;

use super::error::Result;
use super::input::Input;

/// The three layouts above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Elasticsearch `ZstdStoredFields814`.
    Frame,
    /// custom-codecs `CustomStoredFieldsZstd`.
    PresetDict,
    /// custom-codecs `CustomStoredFieldsZstdNoDict`.
    Blocks,
}

thread_local! {
    /// One decompression context per reading thread, reused across chunks (creating one costs more than
    /// decoding a small block).
    static CONTEXT: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// Decodes `total` bytes laid out as `layout` from `input` into `out` (cleared first).
pub(crate) fn decompress(
    layout: Layout,
    input: &mut Input,
    total: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    if total == 0 {
        // No writer stores anything for an empty block (Elasticsearch writes nothing; custom-codecs'
        // decompressors return before reading).
        return Ok(());
    }
    // Every frame's position and expected size, checked against the input before any decoding.
    let mut probe = input.clone();
    let plan = match layout {
        Layout::Frame => vec![frame(&mut probe, total)?],
        Layout::PresetDict => {
            let dict_len = probe.vint()? as usize;
            let block_len = probe.vint()? as usize;
            if dict_len > total || (block_len == 0 && total > dict_len) {
                return Err(probe.corrupt(format!(
                    "zstd dictionary {dict_len} / block {block_len} do not fit {total} bytes"
                )));
            }
            let mut plan = vec![frame(&mut probe, dict_len)?];
            blocks(&mut probe, dict_len, total, block_len, &mut plan)?;
            plan
        }
        Layout::Blocks => {
            let block_len = probe.vint()? as usize;
            if block_len == 0 {
                return Err(probe.corrupt(format!("zstd block length 0 for {total} bytes")));
            }
            let mut plan = Vec::new();
            blocks(&mut probe, 0, total, block_len, &mut plan)?;
            plan
        }
    };
    out.resize(total, 0);
    CONTEXT.with(|context| {
        let mut dctx = context.borrow_mut();
        let mut at = 0;
        for (i, &(start, len, produce)) in plan.iter().enumerate() {
            if i <= 1 {
                // No dictionary for the first frame; the blocks after a dictionary frame use it.
                let dictionary = match layout {
                    Layout::PresetDict if i == 1 => &out[..plan[0].2],
                    _ => &[][..],
                };
                dctx.load_dictionary(dictionary).map_err(|code| {
                    input.corrupt(format!("zstd dictionary: {}", error_name(code)))
                })?;
            }
            if produce == 0 {
                continue;
            }
            let data = input_bytes(input, start, len)?;
            let with = if i > 0 && layout == Layout::PresetDict {
                " with the dictionary"
            } else {
                ""
            };
            let n = dctx
                .decompress(&mut out[at..at + produce], data)
                .map_err(|code| {
                    corrupt_at(
                        input,
                        start,
                        format!("zstd frame{with}: {}", error_name(code)),
                    )
                })?;
            if n != produce {
                return Err(corrupt_at(
                    input,
                    start,
                    format!("zstd frame decoded to {n} bytes, expected {produce}"),
                ));
            }
            at += produce;
        }
        Ok(())
    })?;
    input.seek(probe.pos())?;
    Ok(())
}

/// The frame at the probe: `vint compLen` then its bytes, to decode to `produce` bytes. Returns (start in
/// the input, compressed length, output length).
fn frame(probe: &mut Input, produce: usize) -> Result<(usize, usize, usize)> {
    let len = probe.len()?;
    // The writers store an empty block as length 0 and never a frame for it.
    if (len == 0) != (produce == 0) {
        return Err(probe.corrupt(format!(
            "a zstd frame of {len} bytes for a block of {produce} bytes"
        )));
    }
    let start = probe.pos();
    probe.bytes(len)?;
    Ok((start, len, produce))
}

/// The blocks of `block_len` from `from` to `total`, one frame each.
fn blocks(
    probe: &mut Input,
    from: usize,
    total: usize,
    block_len: usize,
    plan: &mut Vec<(usize, usize, usize)>,
) -> Result<()> {
    let mut at = from;
    while at < total {
        let n = block_len.min(total - at);
        plan.push(frame(probe, n)?);
        at += n;
    }
    Ok(())
}

/// `len` bytes of the input at `start` (already checked by the probe).
fn input_bytes<'a>(input: &Input<'a>, start: usize, len: usize) -> Result<&'a [u8]> {
    let mut at = input.clone();
    at.seek(start)?;
    at.bytes(len)
}

fn corrupt_at(input: &Input, start: usize, message: String) -> super::error::LuceneError {
    let mut at = input.clone();
    match at.seek(start) {
        Ok(()) => at.corrupt(message),
        Err(e) => e,
    }
}

fn error_name(code: usize) -> &'static str {
    zstd::zstd_safe::get_error_name(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lucene::error::LuceneError;

    fn vint(out: &mut Vec<u8>, mut v: usize) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7F) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn framed(out: &mut Vec<u8>, frame: &[u8]) {
        vint(out, frame.len());
        out.extend_from_slice(frame);
    }

    /// Stored-field-like bytes: JSON with repeats, so the dictionary has something to offer.
    fn sample(n: usize) -> Vec<u8> {
        let mut out = String::new();
        let mut i = 0;
        while out.len() < n {
            out.push_str(&format!(
                "{{\"id\":{i},\"message\":\"word{} and more\"}}",
                i % 17
            ));
            i += 1;
        }
        out.into_bytes()[..n].to_vec()
    }

    /// The custom-codecs `zstd` layout, as its compressor lays it out.
    fn with_dictionary(data: &[u8]) -> Vec<u8> {
        let dict_len = data.len() / 60;
        let block_len = (data.len() - dict_len).div_ceil(10);
        let mut out = Vec::new();
        vint(&mut out, dict_len);
        vint(&mut out, block_len);
        if dict_len == 0 {
            vint(&mut out, 0);
        } else {
            framed(
                &mut out,
                &zstd::bulk::compress(&data[..dict_len], 3).expect("zstd"),
            );
        }
        let mut compressor =
            zstd::bulk::Compressor::with_dictionary(3, &data[..dict_len]).expect("dictionary");
        for block in data[dict_len..].chunks(block_len) {
            framed(&mut out, &compressor.compress(block).expect("zstd"));
        }
        out
    }

    fn run(layout: Layout, data: &[u8], total: usize) -> Result<(Vec<u8>, usize)> {
        let mut input = Input::new("_0.fdt", data, crate::lucene::input::Endian::Little);
        let mut out = Vec::new();
        decompress(layout, &mut input, total, &mut out)?;
        Ok((out, input.pos()))
    }

    #[test]
    fn an_elasticsearch_block_is_one_frame_of_the_whole_chunk() {
        let data = sample(50_000);
        let mut block = Vec::new();
        framed(&mut block, &zstd::bulk::compress(&data, 3).expect("zstd"));
        block.extend_from_slice(b"next chunk");
        let (out, used) = run(Layout::Frame, &block, data.len()).expect("decodes");
        assert_eq!(out, data);
        assert_eq!(used, block.len() - 10, "stops at the end of its frame");
    }

    #[test]
    fn custom_codecs_blocks_decode_with_their_dictionary_and_without() {
        for n in [1, 59, 60, 61, 1000, 200_000] {
            let data = sample(n);
            let (out, used) =
                run(Layout::PresetDict, &with_dictionary(&data), n).expect("with dictionary");
            assert_eq!(
                (out, used),
                (data.clone(), with_dictionary(&data).len()),
                "{n}"
            );
            let block_len = n.div_ceil(10);
            let mut blocks = Vec::new();
            vint(&mut blocks, block_len);
            for block in data.chunks(block_len) {
                framed(&mut blocks, &zstd::bulk::compress(block, 3).expect("zstd"));
            }
            let (out, used) = run(Layout::Blocks, &blocks, n).expect("no dictionary");
            assert_eq!((out, used), (data, blocks.len()), "{n}");
        }
    }

    #[test]
    fn a_block_missing_from_the_window_is_truncated_by_exactly_what_is_missing() {
        let data = sample(100_000);
        let whole = with_dictionary(&data);
        match run(Layout::PresetDict, &whole[..whole.len() - 7], data.len()) {
            Err(LuceneError::Truncated { needed, .. }) => assert_eq!(needed, 7),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_dictionary_or_length_is_corruption_naming_the_file() {
        let data = sample(100_000);
        let mut whole = with_dictionary(&data);
        // The last frame's last byte (its end of block, or content).
        let last = whole.len() - 1;
        whole[last] ^= 0xFF;
        let err = run(Layout::PresetDict, &whole, data.len()).expect_err("corrupt");
        assert!(err.to_string().contains("_0.fdt"), "{err}");
        let short = run(Layout::PresetDict, &with_dictionary(&data), data.len() + 1)
            .expect_err("one byte more than the blocks hold");
        assert!(matches!(
            short,
            LuceneError::Truncated { .. } | LuceneError::Corrupt { .. }
        ));
    }

    #[test]
    fn a_zero_block_length_is_an_error_not_an_endless_loop() {
        let err = run(Layout::Blocks, &[0x00, 0x05, 0x01], 10).expect_err("block length 0");
        assert!(err.to_string().contains("block length 0"), "{err}");
        let err = run(Layout::PresetDict, &[0x00, 0x00, 0x00], 10).expect_err("block length 0");
        assert!(err.to_string().contains("do not fit"), "{err}");
    }
}
