#![no_main]
//! Fuzz target: repository data (`index-N` JSON) and the snapshot list read from it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::snapshot::fuzzing::repository_data(data));
