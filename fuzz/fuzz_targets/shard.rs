#![no_main]
//! Fuzz target: shard.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::shard(data));
