#![no_main]
//! Fuzz target: segment_info.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::segment_info(data));
