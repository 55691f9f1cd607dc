//! Lucene's LZ4 block decoder (`org.apache.lucene.util.compress.LZ4`): standard LZ4 sequences (token,
//! literals, little-endian u16 offset, match length ≥ 4) but no frame and no stored sizes — the decoder is told
//! how many bytes to produce and stops there, reporting how many input bytes it consumed (the pre-8.7 FAST
//! mode stores no compressed length). Matches may reach back into bytes already in `out` (a preset dictionary
//! placed there by the caller).

/// The error for input that stops before the output is complete (a streaming caller may fetch more).
pub const ENDS_EARLY: &str = "compressed data ends early";

/// Appends exactly `produce` bytes to `out`, decoding from `input`; returns the input bytes consumed.
/// `window_start` is the first byte of `out` a match may reference.
pub fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    produce: usize,
    window_start: usize,
) -> Result<usize, &'static str> {
    let target = out.len().checked_add(produce).ok_or("length overflow")?;
    out.reserve(produce);
    let mut pos = 0usize;
    let byte = |pos: &mut usize| -> Result<u8, &'static str> {
        let b = *input.get(*pos).ok_or(ENDS_EARLY)?;
        *pos += 1;
        Ok(b)
    };
    while out.len() < target {
        let token = byte(&mut pos)?;
        let literals = extend_length((token >> 4) as usize, input, &mut pos)?;
        let end = pos.checked_add(literals).ok_or("literal length overflow")?;
        let run = input.get(pos..end).ok_or(ENDS_EARLY)?;
        if out.len() + literals > target {
            return Err("literals overrun the expected length");
        }
        out.extend_from_slice(run);
        pos = end;
        if out.len() >= target {
            break;
        }
        let lo = byte(&mut pos)? as usize;
        let hi = byte(&mut pos)? as usize;
        let offset = lo | (hi << 8);
        if offset == 0 || offset > out.len() - window_start {
            return Err("match offset points outside the window");
        }
        let mut length = extend_length((token & 0x0F) as usize, input, &mut pos)?;
        length += 4;
        if out.len() + length > target {
            return Err("match overruns the expected length");
        }
        let from = out.len() - offset;
        if offset >= length {
            out.extend_from_within(from..from + length);
        } else {
            for i in 0..length {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    Ok(pos)
}

/// A 4-bit length of 15 continues in the following bytes, each added, until one is not 255.
fn extend_length(nibble: usize, input: &[u8], pos: &mut usize) -> Result<usize, &'static str> {
    let mut length = nibble;
    if nibble == 15 {
        loop {
            let b = *input.get(*pos).ok_or(ENDS_EARLY)?;
            *pos += 1;
            length = length.checked_add(b as usize).ok_or("length overflow")?;
            if b != 0xFF {
                break;
            }
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_then_overlapping_match() {
        // "abc" then a match of offset 3, length 6 → "abcabcabc"
        let input = [0x32, b'a', b'b', b'c', 3, 0];
        let mut out = Vec::new();
        let used = decompress(&input, &mut out, 9, 0).expect("decodes");
        assert_eq!(out, b"abcabcabc");
        assert_eq!(used, input.len());
    }

    #[test]
    fn matches_may_reach_into_a_dictionary_but_not_before_it() {
        let mut out = b"xyz".to_vec();
        decompress(&[0x00, 3, 0], &mut out, 4, 0).expect("uses the dictionary");
        assert_eq!(out, b"xyzxyzx");
        let mut out = b"xyz".to_vec();
        assert!(decompress(&[0x00, 3, 0], &mut out, 4, 1).is_err());
    }

    #[test]
    fn truncated_and_hostile_input_are_errors() {
        let mut out = Vec::new();
        assert!(decompress(&[0xF0], &mut out, 100, 0).is_err());
        assert!(decompress(&[0x10, b'a', 9, 0], &mut out, 10, 0).is_err());
    }
}
