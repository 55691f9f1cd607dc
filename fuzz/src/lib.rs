//! The pure parsers of `backfill` (`src/lucene/` and the snapshot metadata decoders of `src/snapshot/`),
//! compiled on their own from the same source files. Fuzz builds instrument every crate they compile; going
//! through the `backfill` package would instrument the AWS SDK and the rest of the CLI too (a build of tens
//! of minutes), while these modules need only the format crates. The library is named `backfill`, so the
//! targets read exactly as they would against the main crate: `backfill::lucene::fuzzing::segments_n`.
#![allow(dead_code, unused_imports)]

#[path = "../../src/lucene/mod.rs"]
pub mod lucene;

#[path = "../../src/snapshot"]
pub mod snapshot {
    //! `dat.rs`, `smile.rs`, `repository_data.rs` and `fuzzing.rs` of `src/snapshot/` (the rest of that
    //! module is I/O: blob sources, S3).
    pub mod dat;
    pub mod fuzzing;
    pub mod repository_data;
    pub mod smile;
}
