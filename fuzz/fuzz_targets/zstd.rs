#![no_main]
//! Fuzz target: zstd (Elasticsearch and OpenSearch custom-codecs stored-fields blocks).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| backfill::lucene::fuzzing::zstd(data));
