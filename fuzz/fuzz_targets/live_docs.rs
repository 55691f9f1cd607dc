#![no_main]
//! Fuzz target: live_docs.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::live_docs(data));
