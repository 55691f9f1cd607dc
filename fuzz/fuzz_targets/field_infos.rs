#![no_main]
//! Fuzz target: field_infos.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::field_infos(data));
