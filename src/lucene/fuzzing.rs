//! Entry points for fuzzing: each parser on arbitrary bytes. They must return (any result) and never panic;
//! `fuzz/` drives them with libFuzzer and `tests/lucene_fuzz_smoke.rs` with deterministic mutations.
//!
//! Files with a CodecUtil footer get their CRC recomputed first ([`with_footer_crc`]), so that mutations reach
//! the parser behind the checksum instead of all ending at "checksum mismatch".

use std::borrow::Cow;

use super::codec::{self, FOOTER_LEN};
use super::input::{Endian, Input};
use super::{compound, field_infos, live_docs, segment_info, segments, stored_fields};

/// `data` with its last 8 bytes replaced by the CRC32 of the bytes before them (as a CodecUtil footer holds).
pub fn with_footer_crc(data: &[u8]) -> Cow<'_, [u8]> {
    if data.len() < FOOTER_LEN {
        return Cow::Borrowed(data);
    }
    let mut fixed = data.to_vec();
    let n = fixed.len();
    let crc = crc32fast::hash(&fixed[..n - 8]);
    fixed[n - 8..].copy_from_slice(&u64::from(crc).to_be_bytes());
    Cow::Owned(fixed)
}

/// The index header of `data`, if it has one.
fn header(data: &[u8]) -> Option<codec::Header> {
    codec::read_index_header(&mut Input::new("_0", data, Endian::Big)).ok()
}

pub fn segments_n(data: &[u8]) {
    let _ = segments::parse("segments_1", &with_footer_crc(data));
}

pub fn segment_info(data: &[u8]) {
    let data = with_footer_crc(data);
    // The id segments_N would expect: the file's own (a mismatch is one early error, not worth fuzzing).
    let id = header(&data).and_then(|h| h.id).unwrap_or([0; 16]);
    let _ = segment_info::parse("_0.si", &data, &id);
}

pub fn compound_entries(data: &[u8]) {
    let _ = compound::parse_entries("_0.cfe", &with_footer_crc(data), "_0", u64::MAX);
}

pub fn field_infos(data: &[u8]) {
    let _ = field_infos::parse("_0.fnm", &with_footer_crc(data));
}

pub fn live_docs(data: &[u8]) {
    let data = with_footer_crc(data);
    // As many docs as the bytes between header and footer can hold, less a few picked by the last byte.
    let body = data.len().saturating_sub(FOOTER_LEN + 40);
    let slack = data.first().map_or(0, |b| u32::from(*b % 64));
    let max_doc = u32::try_from(body * 8)
        .unwrap_or(u32::MAX)
        .saturating_sub(slack);
    let _ = live_docs::parse_live_docs("_0_1.liv", &data, max_doc, 0);
}

pub fn doc_values_and_disi(data: &[u8]) {
    let data = with_footer_crc(data);
    let data = &data[..];
    // The field the first entry is for (the soft-deletes field in the files we read).
    let field = header(data)
        .map(|h| {
            let mut input = Input::new("_0.dvm", data, Endian::Big);
            let _ = codec::read_index_header(&mut input);
            if h.codec.starts_with("Lucene90") {
                input.endian = Endian::Little;
            }
            input.u32().unwrap_or(0)
        })
        .unwrap_or(0);
    if let Ok(entry) = live_docs::find_numeric_entry("_0.dvm", data, field) {
        let _ = live_docs::read_disi("_0.dvd", data, Endian::Big, &entry, 1 << 20);
    }
    let disi = live_docs::DocsWithField::Disi {
        offset: 0,
        length: data.len() as u64,
        dense_rank_power: 9,
    };
    let _ = live_docs::read_disi("_0.dvd", data, Endian::Little, &disi, 1 << 17);
}

/// One stored-fields chunk in every format, then each document in it.
pub fn stored_fields_chunk(data: &[u8]) {
    use super::decompress::Mode;
    use super::zstd::Layout;
    for (mode, lucene90, endian) in [
        (Mode::Lz4Raw, false, Endian::Big),
        (Mode::DeflateRaw, false, Endian::Big),
        (Mode::Lz4PresetDict, false, Endian::Big),
        (Mode::DeflatePresetDict, true, Endian::Little),
        (Mode::Zstd(Layout::Frame), true, Endian::Little),
        (Mode::Zstd(Layout::PresetDict), true, Endian::Little),
        (Mode::Zstd(Layout::Blocks), true, Endian::Little),
    ] {
        let format = stored_fields::Format {
            mode,
            lucene90,
            token_shift: if lucene90 { 2 } else { 1 },
            chunk_size: 1 << 14,
            endian,
        };
        let mut input = super::input::Input::new("_0.fdt", data, endian);
        let mut chunk = stored_fields::Chunk::default();
        let mut bufs = stored_fields::Buffers::default();
        if stored_fields::read_chunk(&mut input, &format, &mut chunk, &mut bufs).is_ok() {
            let names = |n: u32| Some(std::sync::Arc::<str>::from(n.to_string()));
            let mut fields = Vec::new();
            for i in 0..chunk.docs as usize {
                if let (Some(&start), Some(&end), Some(&n)) = (
                    chunk.offsets.get(i),
                    chunk.offsets.get(i + 1),
                    chunk.num_fields.get(i),
                ) && start <= end
                    && end <= chunk.data.len()
                {
                    let _ = stored_fields::decode_document(
                        "_0.fdt",
                        &chunk.data.slice(start..end),
                        n,
                        endian,
                        &names,
                        &mut fields,
                    );
                }
            }
        }
    }
}

/// One zstd-compressed block in each zstd layout (Elasticsearch's frame, custom-codecs' with and without a
/// dictionary). Input: `[total lo, total hi, total top, block...]`: at most 16 MiB of output, as a chunk of
/// the largest writer's chunk size could hold.
pub fn zstd(data: &[u8]) {
    use super::zstd::{Layout, decompress};
    let [lo, hi, top, block @ ..] = data else {
        return;
    };
    let total = usize::from(*lo) | (usize::from(*hi) << 8) | (usize::from(*top) << 16);
    let mut out = Vec::new();
    for layout in [Layout::Frame, Layout::PresetDict, Layout::Blocks] {
        let mut input = Input::new("_0.fdt", block, Endian::Little);
        if decompress(layout, &mut input, total, &mut out).is_ok() {
            assert_eq!(out.len(), total, "{layout:?} decoded a different length");
        }
    }
}

/// The fast LZ4 decoder against the byte-at-a-time reference after the same bytes: both must give the same
/// bytes and consumed length, or both fail with the same message. Input: `[before, produce lo, produce hi,
/// block...]`, with `before % 64` bytes (a dictionary) already in the output; the fast decoder also runs with
/// its window after `7 * (before / 64)` unrelated bytes.
pub fn lz4(data: &[u8]) {
    let [before, lo, hi, block @ ..] = data else {
        return;
    };
    let produce = usize::from(*lo) | (usize::from(*hi) << 8);
    let dict: Vec<u8> = (0..usize::from(*before % 64))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    let (mut fast, mut slow) = (dict.clone(), dict.clone());
    let a = super::lz4::decompress(block, &mut fast, produce);
    let b = super::lz4::decompress_reference(block, &mut slow, produce);
    assert_eq!(a, b, "fast and reference LZ4 decoders disagree");
    assert_eq!(
        fast, slow,
        "fast and reference LZ4 decoders produced different bytes"
    );
    // The window after other bytes (how preset-dictionary blocks are decoded in place): matches must not
    // reach those bytes.
    let mut windowed: Vec<u8> = (0..usize::from(*before / 64) * 7)
        .map(|i| i as u8)
        .collect();
    let window_start = windowed.len();
    windowed.extend_from_slice(&dict);
    let c = super::lz4::decompress_in_window(block, &mut windowed, window_start, produce);
    assert_eq!(a, c, "windowed and whole-output LZ4 decoders disagree");
    assert_eq!(&windowed[window_start..], &fast[..]);
}

/// A whole shard in memory: opens the newest commit and reads every live document, as the reader does on a
/// repository. Input: files packed as `[u8 name length, name, u32 LE data length, data]*` (see
/// `fuzz/seed_corpus.py`); every footer CRC is recomputed so mutations reach the parsers behind it.
pub fn shard(data: &[u8]) {
    let mut files = std::collections::BTreeMap::new();
    let mut rest = data;
    while let [n, tail @ ..] = rest {
        let n = usize::from(*n);
        let Some((name, tail)) = tail.split_at_checked(n) else {
            break;
        };
        let Some((len, tail)) = tail.split_at_checked(4) else {
            break;
        };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some((body, tail)) = tail.split_at_checked(len.min(tail.len())) else {
            break;
        };
        files.insert(
            String::from_utf8_lossy(name).into_owned(),
            with_footer_crc(body).into_owned(),
        );
        rest = tail;
    }
    let dir = std::sync::Arc::new(MemDirectory(files));
    let Ok(index) = super::ShardIndex::open(dir, None) else {
        return;
    };
    let _ = index.live_doc_count();
    for doc in index.documents(0).take(1 << 16) {
        if doc.is_err() {
            break;
        }
    }
}

/// Files held in memory.
pub(crate) struct MemDirectory(pub(crate) std::collections::BTreeMap<String, Vec<u8>>);

impl super::Directory for MemDirectory {
    fn file_names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn file_len(&self, name: &str) -> std::io::Result<u64> {
        self.0
            .get(name)
            .map(|d| d.len() as u64)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let eof = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let data = self
            .0
            .get(name)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        buf.copy_from_slice(data.get(start..end).ok_or_else(eof)?);
        Ok(())
    }
}
