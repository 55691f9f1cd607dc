#![no_main]
//! Fuzz target: lz4.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::lz4(data));
