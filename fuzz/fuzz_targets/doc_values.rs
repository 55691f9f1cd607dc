#![no_main]
//! Fuzz target: doc_values.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::doc_values_and_disi(data));
