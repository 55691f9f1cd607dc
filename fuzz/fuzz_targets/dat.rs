#![no_main]
//! Fuzz target: snapshot `.dat` metadata blobs (codec header, optional DEFLATE, SMILE/JSON, CRC).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::snapshot::fuzzing::dat(data));
