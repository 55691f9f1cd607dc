#![no_main]
//! Fuzz target: segments_n.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::segments_n(data));
