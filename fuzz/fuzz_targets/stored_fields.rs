#![no_main]
//! Fuzz target: stored_fields.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::stored_fields_chunk(data));
