#![no_main]
//! Fuzz target: the SMILE decoder of snapshot metadata.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backfill::snapshot::smile::decode(data);
});
