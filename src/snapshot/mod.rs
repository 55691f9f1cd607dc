//! Snapshot repository reading, straight from the repository: `repository.rs` (repository data, snapshot and
//! index metadata, shard file lists), `dat.rs` + `smile.rs` (metadata blobs), `shard_dir.rs` (a shard's
//! Lucene files as a [`crate::lucene::Directory`] over blobs, no local copy), `document.rs` + `uid.rs`
//! (documents with their Elasticsearch meaning), `counts.rs` (live documents and bytes per shard from metadata
//! only, a few shards at a time), and `blob.rs` (the [`BlobSource`] seam).
//!
//! Errors name the repository, snapshot, index, shard and — from the Lucene layer — file and offset.

mod blob;
mod counts;
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
pub use counts::{READ_CONCURRENCY, ShardCounts};
pub use document::{SnapshotDocument, source_to_json};
pub use repository::{FileInfo, IndexInfo, Repository, SnapshotInfo};
pub use s3::S3BlobSource;
pub use shard_dir::ShardDirectory;

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

/// Opens the blob source a repository URI names: `s3://bucket/prefix`, `file:///path` or a path.
pub fn blob_source(uri: &str, region: Option<&str>) -> Result<Arc<dyn BlobSource>, SnapshotError> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let source = S3BlobSource::connect(bucket, prefix, region).map_err(|e| {
            SnapshotError::Repository {
                location: uri.to_string(),
                message: e.to_string(),
            }
        })?;
        return Ok(Arc::new(source));
    }
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    let path_ref = std::path::Path::new(path);
    if !path_ref.is_dir() {
        return Err(SnapshotError::Repository {
            location: uri.to_string(),
            message: if path_ref.exists() {
                "not a directory".into()
            } else {
                "no such directory".into()
            },
        });
    }
    Ok(Arc::new(FsBlobSource::new(path)))
}

/// One shard of one snapshot, open for reading.
pub struct Shard {
    pub snapshot: String,
    pub index: String,
    pub shard: u32,
    pub lucene: ShardIndex,
    /// Bytes of the Lucene files the shard snapshot lists (what a full read of the shard would fetch).
    pub bytes: u64,
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
        let bytes = files.iter().map(|f| f.length).sum();
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
            bytes,
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
