//! Pure parsers for the Lucene files a snapshot holds (segments_N, .si, compound, .fnm, stored fields, live
//! docs, soft deletes). Lands with issue #6.
//!
//! The one I/O seam is [`Directory`]: a read-only set of named files with ranged reads. The snapshot layer
//! implements it over repository blobs (no local copy); tests implement it over a plain Lucene directory.

pub mod directory;

pub use directory::{Directory, FsDirectory};
