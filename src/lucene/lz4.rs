//! Lucene's LZ4 block decoder (`org.apache.lucene.util.compress.LZ4`): standard LZ4 sequences (token,
//! literals, little-endian u16 offset, match length ≥ 4) but no frame and no stored sizes — the decoder is told
//! how many bytes to produce and stops there, reporting how many input bytes it consumed (the pre-8.7 FAST
//! mode stores no compressed length). Matches may reach back into everything already in `out`: a preset
//! dictionary is placed there first and each block decoded right after it (`dictionary ‖ block`, as Lucene
//! does).
//!
//! Hand-written because Lucene 5.0's FAST mode (Elasticsearch 5.x to 7.9) stores no compressed length: the
//! decoder must stop at the output length and report the input it used, which the LZ4 crates do not offer;
//! and because this loop is where the reader spends most of its time. Every copy is a fixed 16-byte (or
//! 8-byte) move checked once per sequence (exact copies near the end: nothing is written past `produce`),
//! and the common sequence (short literals, a short match) is decoded in one straight run.
//! [`decompress_reference`] is the obvious byte-at-a-time decoder; tests and the `lz4` fuzz target require
//! both to agree on every input (the same bytes, or the same error).

/// The error for input that stops before the output is complete (a streaming caller may fetch more).
pub(crate) const ENDS_EARLY: &str = "compressed data ends early";
const LITERALS_OVERRUN: &str = "literals overrun the expected length";
const MATCH_OVERRUN: &str = "match overruns the expected length";
const OUTSIDE_WINDOW: &str = "match offset points outside the window";

/// The fixed copy width; copies that could end past the output's end are made exactly instead.
const WILD: usize = 16;
/// Room the one-run path needs: token, 14 literals, offset (input); 14 literals and 32 bytes of match copy.
const FAST_INPUT: usize = 1 + WILD + 2;
const FAST_OUTPUT: usize = 14 + 2 * WILD;

/// Appends exactly `produce` bytes to `out`, decoding from `input`; returns the input bytes consumed.
/// Matches may reference everything already in `out` (a dictionary) and the new bytes. On error `out` is
/// left as it was.
pub(crate) fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    produce: usize,
) -> Result<usize, &'static str> {
    decompress_in_window(input, out, 0, produce)
}

/// [`decompress`] with the window starting at `out[window_start]`: matches may not reach before it (they
/// are an error, as they would be in a buffer holding only `out[window_start..]`).
pub(crate) fn decompress_in_window(
    input: &[u8],
    out: &mut Vec<u8>,
    window_start: usize,
    produce: usize,
) -> Result<usize, &'static str> {
    let start = out.len();
    let Some(op) = start.checked_sub(window_start) else {
        return Err(OUTSIDE_WINDOW);
    };
    let target = start.checked_add(produce).ok_or("length overflow")?;
    out.reserve(produce);
    let mut block = Block {
        input,
        ip: 0,
        op,
        target: target - window_start,
    };
    // SAFETY: `window_start <= start <= capacity`, so the pointer stays inside the allocation.
    let base = unsafe { out.as_mut_ptr().add(window_start) };
    while block.op < block.target {
        // SAFETY: `base` has capacity for `block.target` bytes and is initialised below `op`.
        unsafe { block.step(base)? };
    }
    // SAFETY: every byte of `start..target` was written (op only advances over written bytes).
    unsafe { out.set_len(target) };
    Ok(block.ip)
}

/// A block being decoded: its input and position, and where it writes.
struct Block<'a> {
    input: &'a [u8],
    ip: usize,
    /// Next output position.
    op: usize,
    /// End of the output.
    target: usize,
}

impl Block<'_> {
    /// Decodes one sequence (literals, then a match unless the output is complete).
    ///
    /// # Safety
    /// `base` is valid for writes below `self.target` and initialised below `self.op < self.target`.
    #[inline(always)]
    unsafe fn step(&mut self, base: *mut u8) -> Result<(), &'static str> {
        let input = self.input;
        let mut ip = self.ip;
        let mut op = self.op;
        // The common sequence (short literals, a short match at least 16 back, room on both
        // sides) in one straight run: every check before any write, anything else goes the general way.
        if input.len() - ip >= FAST_INPUT && self.target - op >= FAST_OUTPUT {
            // SAFETY: `FAST_INPUT` bytes from `ip` are in `input`: the token, up to 14 literals (read as 16)
            // and the offset; `FAST_OUTPUT` bytes from `op` are ours: 16 literal bytes, then a match of at
            // most 18 written as 32 from `op + literals <= op + 14`.
            unsafe {
                let at = input.as_ptr().add(ip);
                let token = *at;
                let literals = usize::from(token >> 4);
                let length = usize::from(token & 0x0F) + 4;
                let offset =
                    usize::from(*at.add(1 + literals)) | (usize::from(*at.add(2 + literals)) << 8);
                let mop = op + literals;
                if literals < 15 && length < 19 && offset >= WILD && offset <= mop {
                    std::ptr::copy_nonoverlapping(at.add(1), base.add(op), WILD);
                    let src = base.add(mop - offset);
                    std::ptr::copy_nonoverlapping(src, base.add(mop), WILD);
                    std::ptr::copy_nonoverlapping(src.add(WILD), base.add(mop + WILD), WILD);
                    self.ip = ip + 3 + literals;
                    self.op = mop + length;
                    return Ok(());
                }
            }
        }
        let token = *input.get(ip).ok_or(ENDS_EARLY)?;
        ip += 1;
        let literals = extend_length((token >> 4) as usize, input, &mut ip)?;
        if literals > self.target - op {
            return Err(LITERALS_OVERRUN);
        }
        if literals > input.len() - ip {
            return Err(ENDS_EARLY);
        }
        // SAFETY: reads stay inside `input` (checked above, or 16 bytes when that many remain); writes stay
        // below `op + max(literals, 16) <= target` (the wide copy only when 16 bytes of room remain).
        unsafe {
            let from = input.as_ptr().add(ip);
            if literals <= WILD && input.len() - ip >= WILD && self.target - op >= WILD {
                std::ptr::copy_nonoverlapping(from, base.add(op), WILD);
            } else {
                std::ptr::copy_nonoverlapping(from, base.add(op), literals);
            }
        }
        ip += literals;
        op += literals;
        if op < self.target {
            let &[lo, hi, ..] = &input[ip..] else {
                return Err(ENDS_EARLY);
            };
            let offset = usize::from(lo) | (usize::from(hi) << 8);
            ip += 2;
            let length = extend_length((token & 0x0F) as usize, input, &mut ip)? + 4;
            if length > self.target - op {
                return Err(MATCH_OVERRUN);
            }
            if offset == 0 {
                return Err(OUTSIDE_WINDOW);
            }
            if offset > op {
                return Err(OUTSIDE_WINDOW);
            }
            // SAFETY: `1 <= offset <= op`; `length <= target - op`.
            unsafe { copy_match(base, op, offset, length, self.target - op) };
            op += length;
        }
        self.ip = ip;
        self.op = op;
        Ok(())
    }
}

/// Copies `length` bytes from `op - offset` to `op` (LZ4 semantics: overlapping sources repeat the pattern),
/// writing nothing at or beyond `op + room`.
///
/// # Safety
/// `base` is valid for writes below `op + room` and initialised below `op`; `1 <= offset <= op`;
/// `length <= room`.
#[inline(always)]
unsafe fn copy_match(base: *mut u8, op: usize, offset: usize, length: usize, room: usize) {
    debug_assert!(offset >= 1 && offset <= op && length <= room);
    let src = op - offset;
    unsafe {
        if offset >= WILD && room >= length + WILD {
            // Each 16-byte step reads bytes at least 16 behind the ones it writes: already written; the last
            // step ends before `op + length + 16 <= op + room`. Most matches are short, so the first two
            // steps are taken without a loop.
            std::ptr::copy_nonoverlapping(base.add(src), base.add(op), WILD);
            if length > WILD {
                std::ptr::copy_nonoverlapping(base.add(src + WILD), base.add(op + WILD), WILD);
                let mut i = 2 * WILD;
                while i < length {
                    std::ptr::copy_nonoverlapping(base.add(src + i), base.add(op + i), WILD);
                    i += WILD;
                }
            }
        } else if offset >= 8 && room >= length + 8 {
            let mut i = 0;
            while i < length {
                std::ptr::copy_nonoverlapping(base.add(src + i), base.add(op + i), 8);
                i += 8;
            }
        } else {
            for i in 0..length {
                *base.add(op + i) = *base.add(src + i);
            }
        }
    }
}

/// A 4-bit length of 15 continues in the following bytes, each added, until one is not 255.
#[inline(always)]
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

/// The same contract as [`decompress`], one byte at a time with every access checked: the specification the
/// fast decoder is tested and fuzzed against.
pub(crate) fn decompress_reference(
    input: &[u8],
    out: &mut Vec<u8>,
    produce: usize,
) -> Result<usize, &'static str> {
    let mut window = out.clone();
    let start = window.len();
    let mut pos = 0usize;
    let byte = |pos: &mut usize| -> Result<u8, &'static str> {
        let b = *input.get(*pos).ok_or(ENDS_EARLY)?;
        *pos += 1;
        Ok(b)
    };
    while window.len() - start < produce {
        let token = byte(&mut pos)?;
        let literals = extend_length((token >> 4) as usize, input, &mut pos)?;
        if window.len() - start + literals > produce {
            return Err(LITERALS_OVERRUN);
        }
        let end = pos.checked_add(literals).ok_or(ENDS_EARLY)?;
        window.extend_from_slice(input.get(pos..end).ok_or(ENDS_EARLY)?);
        pos = end;
        if window.len() - start >= produce {
            break;
        }
        let offset = usize::from(byte(&mut pos)?) | (usize::from(byte(&mut pos)?) << 8);
        let length = extend_length((token & 0x0F) as usize, input, &mut pos)? + 4;
        if window.len() - start + length > produce {
            return Err(MATCH_OVERRUN);
        }
        if offset == 0 || offset > window.len() {
            return Err(OUTSIDE_WINDOW);
        }
        for _ in 0..length {
            window.push(window[window.len() - offset]);
        }
    }
    *out = window;
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both decoders on the same input after the same bytes: the same result; the fast one's output.
    fn decode(input: &[u8], before: &[u8], produce: usize) -> Result<Vec<u8>, &'static str> {
        let mut fast = before.to_vec();
        let mut slow = before.to_vec();
        let a = decompress(input, &mut fast, produce);
        let b = decompress_reference(input, &mut slow, produce);
        assert_eq!(a, b, "fast and reference disagree on {input:?}");
        assert_eq!(fast, slow);
        // The same with the window starting after unrelated bytes, which matches must not reach.
        let mut windowed = b"0123456789abcdef unrelated bytes before the window".to_vec();
        let window_start = windowed.len();
        windowed.extend_from_slice(before);
        let c = decompress_in_window(input, &mut windowed, window_start, produce);
        assert_eq!(a, c, "windowed decode disagrees on {input:?}");
        assert_eq!(&windowed[window_start..], &fast[..]);
        a.map(|_| fast)
    }

    #[test]
    fn a_window_starting_past_the_output_is_an_error() {
        let mut out = b"abc".to_vec();
        assert_eq!(
            decompress_in_window(&[0x10, b'a'], &mut out, 4, 1),
            Err(OUTSIDE_WINDOW)
        );
        assert_eq!(out, b"abc");
    }

    #[test]
    fn literals_then_overlapping_match() {
        // "abc" then a match of offset 3, length 6 → "abcabcabc"
        let input = [0x32, b'a', b'b', b'c', 3, 0];
        assert_eq!(decode(&input, b"", 9).expect("decodes"), b"abcabcabc");
        let mut out = Vec::new();
        assert_eq!(decompress(&input, &mut out, 9), Ok(input.len()));
    }

    #[test]
    fn matches_may_reach_into_the_dictionary_but_not_before_it() {
        assert_eq!(decode(&[0x00, 3, 0], b"xyz", 4).unwrap(), b"xyzxyzx");
        assert_eq!(decode(&[0x00, 4, 0], b"xyz", 4), Err(OUTSIDE_WINDOW));
    }

    #[test]
    fn long_literals_and_long_matches_use_the_wide_copies() {
        let text: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        // 300 literals (15 + 255 + 30), then a match of offset 40, length 4 + 15 + 100.
        let mut input = vec![0xFF, 255, 30];
        input.extend_from_slice(&text);
        input.extend_from_slice(&[40, 0, 100]);
        let got = decode(&input, b"", 300 + 119).unwrap();
        assert_eq!(&got[..300], &text[..]);
        for i in 300..419 {
            assert_eq!(got[i], got[i - 40]);
        }
        // Offsets of 1 (a run), 8..16 and ≥ 16 on the same literals, with and without room after the match.
        for offset in [1u8, 5, 8, 12, 16, 17, 200] {
            for room in [0, 7, 14] {
                let mut input = vec![0xFF, 255, 30];
                input.extend_from_slice(&text);
                input.extend_from_slice(&[offset, 0, 40]);
                if room > 0 {
                    input.push((room as u8) << 4);
                    input.extend(std::iter::repeat_n(b'.', room));
                }
                let got = decode(&input, b"", 300 + 59 + room).unwrap();
                for i in 300..359 {
                    assert_eq!(got[i], got[i - offset as usize], "offset {offset}");
                }
            }
        }
    }

    #[test]
    fn short_sequences_take_the_one_run_path_and_agree() {
        // After a 40-byte dictionary: 30 × (3 literals, a 5-byte match 20 back), then 2 final literals.
        let dict: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        let mut input = Vec::new();
        for i in 0..30u8 {
            input.extend_from_slice(&[0x31, b'0' + i % 10, b'x', b'y', 20, 0]);
        }
        input.extend_from_slice(&[0x20, b'!', b'!']);
        let got = decode(&input, &dict, 30 * 8 + 2).unwrap();
        assert_eq!(&got[40..48], b"0xyxyzab");
        assert_eq!(&got[got.len() - 2..], b"!!");
    }

    #[test]
    fn truncated_and_hostile_input_are_errors_that_leave_the_output_alone() {
        assert_eq!(decode(&[0xF0], b"", 100), Err(ENDS_EARLY));
        assert_eq!(decode(&[0x10, b'a', 9, 0], b"", 10), Err(OUTSIDE_WINDOW));
        assert_eq!(decode(&[0x50, b'a'], b"", 10), Err(ENDS_EARLY));
        assert_eq!(
            decode(&[0x50, 1, 2, 3, 4, 5], b"", 3),
            Err(LITERALS_OVERRUN)
        );
        assert_eq!(decode(&[0x1F, b'a', 1, 0, 9], b"", 10), Err(MATCH_OVERRUN));
        assert_eq!(decode(&[0x10, b'a', 0, 0], b"", 10), Err(OUTSIDE_WINDOW));
        assert_eq!(decode(&[0x10, b'a', 1], b"", 10), Err(ENDS_EARLY));
        let mut out = b"keep".to_vec();
        assert!(decompress(&[0xF0], &mut out, 100).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn agrees_with_the_reference_on_mutated_streams() {
        // 64 literals + match(20, 7); 1 literal + match(3, 29); a match 106 back (into the 16 dictionary
        // bytes) of 4; then 40 short sequences for the one-run path; 4 final literals.
        let text: Vec<u8> = (0..64u32).map(|i| (i * 13 % 97) as u8).collect();
        let mut valid = vec![0xF3, 49];
        valid.extend_from_slice(&text);
        valid.extend_from_slice(&[20, 0, 0x1F, b'!', 3, 0, 10, 0x00, 106, 0]);
        let mut produce = 64 + 7 + 1 + 29 + 4;
        for i in 0..40u8 {
            valid.extend_from_slice(&[0x21, i, i ^ 0x55, 30 + i, 0]);
            produce += 2 + 5;
        }
        valid.extend_from_slice(&[0x40, 1, 2, 3, 4]);
        produce += 4;
        let dict = b"0123456789abcdef";
        decode(&valid, dict, produce).expect("the unmutated stream decodes");
        for i in 0..valid.len() {
            for v in [0u8, 1, 0x0F, 0x10, 0x7F, 0xF0, 0xFF] {
                let mut mutated = valid.clone();
                mutated[i] = v;
                for before in [&dict[..0], &dict[..8], &dict[..]] {
                    let _ = decode(&mutated, before, produce);
                    let _ = decode(&mutated[..i], before, produce);
                }
            }
        }
    }
}
