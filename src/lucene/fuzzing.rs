//! Entry points for fuzzing: each parser on arbitrary bytes. They must return (any result) and never panic;
//! `fuzz/` drives them with libFuzzer and `tests/lucene_fuzz_smoke.rs` with deterministic mutations.

use super::input::Endian;
use super::{compound, field_infos, live_docs, segment_info, segments, stored_fields};

pub fn segments_n(data: &[u8]) {
    let _ = segments::parse("segments_1", data);
}

pub fn segment_info(data: &[u8]) {
    let id = data
        .get(..16)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .unwrap_or([0; 16]);
    let _ = segment_info::parse("_0.si", data, &id);
}

pub fn compound_entries(data: &[u8]) {
    let _ = compound::parse_entries("_0.cfe", data, "_0", u64::MAX);
}

pub fn field_infos(data: &[u8]) {
    let _ = field_infos::parse("_0.fnm", data);
}

pub fn live_docs(data: &[u8]) {
    let max_doc = data.first().map(|b| u32::from(*b) * 64).unwrap_or(0);
    let _ = live_docs::parse_live_docs("_0_1.liv", data, max_doc, 0);
}

pub fn doc_values_and_disi(data: &[u8]) {
    if let Ok(entry) = live_docs::find_numeric_entry("_0.dvm", data, 0) {
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
    for (mode, lucene90, endian) in [
        (Mode::Lz4Raw, false, Endian::Big),
        (Mode::DeflateRaw, false, Endian::Big),
        (Mode::Lz4PresetDict, false, Endian::Big),
        (Mode::DeflatePresetDict, true, Endian::Little),
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
                ) && let Some(doc) = chunk.data.get(start..end)
                {
                    let _ = stored_fields::decode_document(
                        "_0.fdt",
                        doc,
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
