#![no_main]
//! Fuzz target: compound_entries.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::compound_entries(data));
