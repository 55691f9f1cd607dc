//! Elasticsearch's `_id` encoding (`org.elasticsearch.index.mapper.Uid`): the first byte chooses the form —
//! `0xFE` numeric (two decimal digits per byte, a final `0xF` nibble ends an odd count), `0xFF` UTF-8,
//! `0xFD` an escaped base64 id whose first decoded byte is ≥ 0xFD, anything else the raw bytes of a URL-safe
//! base64 id without padding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes a stored `_id`; `None` for bytes no encoder produces (e.g. a non-digit nibble).
pub fn decode_id(bytes: &[u8]) -> Option<String> {
    match bytes.first()? {
        0xFE => {
            let mut out = String::with_capacity(bytes.len() * 2);
            for (i, b) in bytes[1..].iter().enumerate() {
                let (hi, lo) = (b >> 4, b & 0x0F);
                if hi > 9 {
                    return None;
                }
                out.push(char::from(b'0' + hi));
                if lo == 0x0F && i == bytes.len() - 2 {
                    break;
                }
                if lo > 9 {
                    return None;
                }
                out.push(char::from(b'0' + lo));
            }
            Some(out)
        }
        0xFF => String::from_utf8(bytes[1..].to_vec()).ok(),
        0xFD => Some(URL_SAFE_NO_PAD.encode(&bytes[1..])),
        _ => Some(URL_SAFE_NO_PAD.encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn every_form_decodes() {
        assert_eq!(
            decode_id(&hex("ff636f6d706c6578646f63")).as_deref(),
            Some("complexdoc")
        );
        assert_eq!(
            decode_id(&hex("ba77216a781e75da1c")).as_deref(),
            Some("unchangeddoc")
        );
        assert_eq!(decode_id(&hex("6f073f7687")).as_deref(), Some("bwc_doc"));
        assert_eq!(
            decode_id(&hex("014d3f668e01ed3f914bf0b9256e40")).as_deref(),
            Some("AU0_Zo4B7T-RS_C5JW5A")
        );
        assert_eq!(decode_id(&[0xFE, 0x12, 0x3F]).as_deref(), Some("123"));
        assert_eq!(decode_id(&[0xFE, 0x01, 0x23]).as_deref(), Some("0123"));
        assert_eq!(decode_id(&[0xFE, 0xA1]), None);
        assert_eq!(decode_id(&[]), None);
    }
}
