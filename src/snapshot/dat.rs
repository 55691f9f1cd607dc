//! `.dat` metadata blobs (`ChecksumBlobStoreFormat`): a CodecUtil header naming the codec (`snapshot`,
//! `metadata`, `index-metadata`, `snapshots`), a body that is SMILE (or JSON), optionally `DFL\0` + raw
//! DEFLATE of it, and the CodecUtil footer whose CRC32 covers every preceding byte.

use std::io::Read;

use serde_json::Value;

use super::smile;

#[derive(Debug, thiserror::Error)]
#[error("{blob}: {message}")]
pub(crate) struct DatError {
    pub(crate) blob: String,
    pub(crate) message: String,
}

const CODEC_MAGIC: u32 = 0x3FD7_6C17;
const FOOTER_MAGIC: u32 = !CODEC_MAGIC;

/// Decodes a `.dat` blob, checking its codec name and CRC.
pub(crate) fn decode(blob: &str, data: &[u8], codec: &str) -> Result<Value, DatError> {
    let fail = |message: String| DatError {
        blob: blob.to_string(),
        message,
    };
    if data.len() < 16 + 9 {
        return Err(fail(format!(
            "{} bytes is too short for a metadata blob",
            data.len()
        )));
    }
    let be32 = |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    if be32(0) != CODEC_MAGIC {
        return Err(fail("not a metadata blob (bad codec magic)".into()));
    }
    let name_len = data[4] as usize;
    let name_end = 5 + name_len;
    if name_end + 4 > data.len() - 16 {
        return Err(fail("codec name runs past the blob".into()));
    }
    let name = String::from_utf8_lossy(&data[5..name_end]);
    if name != codec {
        return Err(fail(format!("codec `{name}`, expected `{codec}`")));
    }
    let body_start = name_end + 4;
    let footer = data.len() - 16;
    if be32(footer) != FOOTER_MAGIC || be32(footer + 4) != 0 {
        return Err(fail("bad footer".into()));
    }
    let stored = u64::from_be_bytes(data[footer + 8..].try_into().unwrap_or([0; 8]));
    let crc = crc32fast::hash(&data[..data.len() - 8]);
    if stored != u64::from(crc) {
        return Err(fail(format!(
            "checksum mismatch: blob says {stored:#x}, content hashes to {crc:#x}"
        )));
    }
    let body = &data[body_start..footer];
    let inflated;
    let body = if let Some(compressed) = body.strip_prefix(b"DFL\0") {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(compressed)
            .take(256 << 20)
            .read_to_end(&mut out)
            .map_err(|e| fail(format!("DEFLATE body: {e}")))?;
        inflated = out;
        &inflated[..]
    } else {
        body
    };
    if body.starts_with(b":)\n") {
        smile::decode(body).map_err(|e| fail(e.to_string()))
    } else {
        serde_json::from_slice(body).map_err(|e| fail(format!("JSON body: {e}")))
    }
}
