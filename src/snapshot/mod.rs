//! Snapshot repository reading, straight from the repository: `repository.rs` (repository data, snapshot and
//! index metadata, shard file lists), `dat.rs` + `smile.rs` (metadata blobs), `shard_dir.rs` (a shard's
//! Lucene files as a [`crate::lucene::Directory`] over blobs, no local copy), `document.rs` + `uid.rs`
//! (documents with their Elasticsearch meaning), and `blob.rs` (the [`BlobSource`] seam).
//!
//! Errors name the repository, snapshot, index, shard and — from the Lucene layer — file and offset.

mod blob;
mod dat;
mod document;
pub mod fuzzing;
mod repository;
mod repository_data;
mod s3;
mod shard_dir;
pub mod smile;
pub mod uid;

use std::sync::Arc;

pub use blob::{BlobSource, FsBlobSource};
pub use document::{SnapshotDocument, source_to_json};
pub use repository::{FileInfo, IndexInfo, Repository, SnapshotInfo};
pub use s3::S3BlobSource;
pub use shard_dir::ShardDirectory;

use crate::config::{AwsSettings, Location};
use crate::lucene::{LuceneError, ShardIndex};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("repository {location}: {message}")]
    Repository { location: String, message: String },
    #[error("repository {location} has no snapshot `{snapshot}`; it has: {}", known.join(", "))]
    NoSuchSnapshot {
        location: String,
        snapshot: String,
        known: Vec<String>,
    },
    #[error("snapshot {snapshot}, index {index}: {message}")]
    Index {
        snapshot: String,
        index: String,
        message: String,
    },
    #[error("snapshot {snapshot}, index {index}, shard {shard}: {message}")]
    Shard {
        snapshot: String,
        index: String,
        shard: u32,
        message: String,
    },
    #[error("snapshot {snapshot}, index {index}, shard {shard}: {source}")]
    Lucene {
        snapshot: String,
        index: String,
        shard: u32,
        #[source]
        source: LuceneError,
    },
}

/// Opens the blob source of the repository at `location`: a directory, or S3 with the SDK configuration of
/// `aws` ([`crate::aws_sdk`]) in the bucket's `region` when given. Call from a blocking thread.
pub fn blob_source(
    location: &Location,
    aws: &AwsSettings,
    region: Option<&str>,
) -> Result<Arc<dyn BlobSource>, SnapshotError> {
    match location {
        Location::S3(s3) => {
            let source = S3BlobSource::connect(s3.clone(), aws, region).map_err(|e| {
                SnapshotError::Repository {
                    location: location.to_string(),
                    message: e.to_string(),
                }
            })?;
            Ok(Arc::new(source))
        }
        Location::Local(path) if path.is_dir() => Ok(Arc::new(FsBlobSource::new(path))),
        Location::Local(_) => Err(SnapshotError::Repository {
            location: location.to_string(),
            message: "not a directory".into(),
        }),
    }
}

/// One shard of one snapshot, open for reading.
pub struct Shard {
    pub snapshot: String,
    pub index: String,
    pub shard: u32,
    pub lucene: ShardIndex,
}

impl Repository {
    /// Opens a shard's Lucene commit directly from the repository.
    pub fn open_shard(
        &self,
        snapshot: &SnapshotInfo,
        index: &IndexInfo,
        shard: u32,
    ) -> Result<Shard, SnapshotError> {
        let files = self.shard_files(snapshot, index, shard)?;
        let dir = ShardDirectory::new(
            self.source.clone(),
            format!("indices/{}/{shard}/", index.id),
            files,
        );
        let segments = dir.segments_file().ok_or_else(|| SnapshotError::Shard {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            message: "the shard snapshot does not list exactly one segments_N file".into(),
        })?;
        let lucene = ShardIndex::open(Arc::new(dir), Some(&segments)).map_err(|source| {
            SnapshotError::Lucene {
                snapshot: snapshot.name.clone(),
                index: index.name.clone(),
                shard,
                source,
            }
        })?;
        Ok(Shard {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            lucene,
        })
    }
}

impl Shard {
    /// Live documents from global doc `from` on; tombstones (no id or source) are skipped.
    pub fn documents(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<SnapshotDocument, SnapshotError>> + '_ {
        self.lucene
            .documents(from)
            .filter_map(move |doc| match doc {
                Err(source) => Some(Err(SnapshotError::Lucene {
                    snapshot: self.snapshot.clone(),
                    index: self.index.clone(),
                    shard: self.shard,
                    source,
                })),
                Ok(stored) => {
                    let global = stored.global_doc;
                    match document::from_stored(&self.index, self.shard, stored) {
                        Ok(doc) => Some(Ok(doc)),
                        Err(document::Skip::Incomplete) => None,
                        Err(document::Skip::Invalid(message)) => Some(Err(SnapshotError::Shard {
                            snapshot: self.snapshot.clone(),
                            index: self.index.clone(),
                            shard: self.shard,
                            message: format!("document {global}: {message}"),
                        })),
                    }
                }
            })
    }
}
