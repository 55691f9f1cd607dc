//! Entry points for fuzzing the snapshot metadata readers on arbitrary bytes (like `crate::lucene::fuzzing`):
//! they must return (any result) and never panic. `fuzz/` drives them with libFuzzer.

use serde_json::Value;

use super::{dat, repository_data};
use crate::lucene::fuzzing::with_footer_crc;

/// A `.dat` metadata blob: codec header, optional `DFL\0` + DEFLATE, SMILE or JSON body, CRC footer. The CRC
/// is recomputed so that mutations reach the body, and the codec expected is the one the blob names; a
/// decoded blob is then read as a shard snapshot's file list.
pub fn dat(data: &[u8]) {
    let data = with_footer_crc(data);
    let codec = data
        .get(4)
        .and_then(|n| data.get(5..5 + usize::from(*n)))
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    if let Ok(meta) = dat::decode("snap-0.dat", &data, &codec) {
        let _ = repository_data::shard_files(&meta);
    }
}

/// Repository data (`index-N`): JSON, then the snapshot list read from it.
pub fn repository_data(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let _ = repository_data::snapshots(&value);
    }
}
