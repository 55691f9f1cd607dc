//! Snapshot repository reading, straight from the repository: `repository.rs` (repository data, snapshot and
//! index metadata, shard file lists), `dat.rs` + `smile.rs` (metadata blobs), `shard_dir.rs` (a shard's
//! Lucene files as a [`crate::lucene::Directory`] over blobs, no local copy), `document.rs` + `uid.rs`
//! (documents with their Elasticsearch meaning; one that cannot be sent is an [`UnusableDocument`]),
//! `counts.rs` (live documents and bytes per shard from metadata only, a few shards at a time), and
//! `blob.rs` (the [`BlobSource`] seam).
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
pub(crate) use counts::{READ_CONCURRENCY, ShardCounts};
pub use document::SnapshotDocument;
#[cfg(test)]
pub(crate) use document::Unusable;
pub use document::UnusableDocument;
pub use repository::{IndexInfo, Repository, SnapshotInfo};
pub use s3::S3BlobSource;
pub(crate) use shard_dir::ShardDirectory;

use crate::config::{AwsSettings, Location};
use crate::lucene::{LuceneError, ShardIndex};

/// Why a snapshot could not be read. Each variant names where: the repository, or the snapshot and index, the
/// shard, and the file, in its message.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The repository as a whole: not reachable, not listable, not a snapshot repository.
    #[error("repository {location}: {message}")]
    Repository { location: String, message: String },
    /// One of the repository's own files (`index.latest`, `index-N`).
    #[error("repository {location}, {file}: {message}")]
    RepositoryFile {
        location: String,
        file: String,
        message: String,
    },
    #[error("repository {location} has no snapshot `{snapshot}`; it has: {}", known.join(", "))]
    NoSuchSnapshot {
        location: String,
        snapshot: String,
        known: Vec<String>,
    },
    /// An index of the snapshot; `file` is its metadata blob when that is what failed.
    #[error("snapshot {snapshot}, index {index}: {}", in_file(file.as_deref(), message))]
    Index {
        snapshot: String,
        index: String,
        file: Option<String>,
        message: String,
    },
    /// A shard of the snapshot; `file` is its file list (`snap-<uuid>.dat`) when that is what failed.
    #[error("snapshot {snapshot}, index {index}, shard {shard}: {}", in_file(file.as_deref(), message))]
    Shard {
        snapshot: String,
        index: String,
        shard: u32,
        file: Option<String>,
        message: String,
    },
    /// The shard's Lucene files (the source names the file and offset); `blob` is the repository blob holding
    /// that file, when the file is one of the shard's.
    #[error(
        "snapshot {snapshot}, index {index}, shard {shard}: {source}{}",
        blob.as_ref().map(|b| format!(" (blob {b})")).unwrap_or_default()
    )]
    Lucene {
        snapshot: String,
        index: String,
        shard: u32,
        blob: Option<String>,
        #[source]
        source: Box<LuceneError>,
    },
}

fn in_file(file: Option<&str>, message: &str) -> String {
    match file {
        Some(file) => format!("{file}: {message}"),
        None => message.to_string(),
    }
}

impl SnapshotError {
    /// The file the failure is in, when one is known: a repository blob (`index-N`, a metadata `.dat`, a
    /// shard's file blob) or, failing that, the Lucene file.
    #[cfg(test)]
    pub(crate) fn file(&self) -> Option<&str> {
        match self {
            SnapshotError::Repository { .. } | SnapshotError::NoSuchSnapshot { .. } => None,
            SnapshotError::RepositoryFile { file, .. } => Some(file),
            SnapshotError::Index { file, .. } | SnapshotError::Shard { file, .. } => {
                file.as_deref()
            }
            SnapshotError::Lucene { blob, source, .. } => {
                blob.as_deref().or_else(|| Some(source.file()))
            }
        }
    }

    /// The shard the failure is in, as (index name, shard number), when it is in one.
    #[cfg(test)]
    pub(crate) fn shard(&self) -> Option<(&str, u32)> {
        match self {
            SnapshotError::Shard { index, shard, .. }
            | SnapshotError::Lucene { index, shard, .. } => Some((index, *shard)),
            _ => None,
        }
    }
}

/// Opens the blob source of the repository at `location`: a directory, or S3 with the SDK configuration of
/// `aws` ([`crate::aws_sdk`]) in the bucket's `region` when given. Call from a blocking thread.
pub(crate) fn blob_source(
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
        Location::Local(path) => Err(SnapshotError::Repository {
            location: location.to_string(),
            message: if path.exists() {
                "not a directory".into()
            } else {
                "no such directory".into()
            },
        }),
    }
}

/// One shard of one snapshot, open for reading.
pub struct Shard {
    pub snapshot: String,
    pub index: String,
    pub shard: u32,
    pub lucene: ShardIndex,
    /// Where the shard's files are, to name the blob behind a Lucene error.
    files: Arc<ShardDirectory>,
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
        let prefix = format!("indices/{}/{shard}/", index.id);
        let file_list = format!("{prefix}snap-{}.dat", snapshot.uuid);
        let dir = Arc::new(ShardDirectory::new(
            self.source.clone(),
            prefix,
            file_list.clone(),
            files,
        ));
        let segments = dir.segments_file().ok_or_else(|| SnapshotError::Shard {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            file: Some(file_list),
            message: "the shard snapshot does not list exactly one segments_N file".into(),
        })?;
        let lucene_error = |source: LuceneError| SnapshotError::Lucene {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            blob: dir.blob_of(source.file()),
            source: Box::new(source),
        };
        let lucene = ShardIndex::open(dir.clone(), Some(&segments)).map_err(lucene_error)?;
        Ok(Shard {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            lucene,
            files: dir,
            bytes,
        })
    }
}

impl Shard {
    /// Live documents from global doc `from` on, in checkpoint order. Stored documents without an id (nested
    /// documents, no-op tombstones) are skipped; a document with an id that cannot be sent comes as
    /// [`DocumentError::Unusable`] and the iteration goes on; [`DocumentError::Unreadable`] ends it.
    pub fn documents(&self, from: u64) -> ShardDocuments<'_> {
        ShardDocuments {
            shard: self,
            lucene: self.lucene.documents(from),
        }
    }
}

/// [`Shard::documents`]: the shard's documents, and how far their stored fields are checksum-verified.
pub struct ShardDocuments<'a> {
    shard: &'a Shard,
    lucene: crate::lucene::Documents,
}

impl ShardDocuments<'_> {
    /// See [`crate::lucene::Documents::verified_below`]: documents below this global doc number came from
    /// stored fields whose checksum matched; `u64::MAX` once the shard was read to its end.
    pub(crate) fn verified_below(&self) -> u64 {
        self.lucene.verified_below()
    }

    /// Verifies the rest of the stored-fields file being read (see
    /// [`crate::lucene::Documents::verify_open_segment`]).
    pub(crate) fn verify_open_segment(&mut self) -> Result<(), SnapshotError> {
        let shard = self.shard;
        self.lucene
            .verify_open_segment()
            .map_err(|source| SnapshotError::Lucene {
                snapshot: shard.snapshot.clone(),
                index: shard.index.clone(),
                shard: shard.shard,
                blob: shard.files.blob_of(source.file()),
                source: Box::new(source),
            })
    }
}

impl Iterator for ShardDocuments<'_> {
    type Item = Result<SnapshotDocument, DocumentError>;

    fn next(&mut self) -> Option<Self::Item> {
        let shard = self.shard;
        loop {
            let result = match self.lucene.next()? {
                Err(source) => Err(DocumentError::Unreadable(SnapshotError::Lucene {
                    snapshot: shard.snapshot.clone(),
                    index: shard.index.clone(),
                    shard: shard.shard,
                    blob: shard.files.blob_of(source.file()),
                    source: Box::new(source),
                })),
                Ok(stored) => match document::from_stored(&shard.index, shard.shard, stored) {
                    Ok(doc) => Ok(doc),
                    Err(document::Skip::NotADocument) => continue,
                    Err(document::Skip::Unusable(doc)) => {
                        Err(DocumentError::Unusable(Box::new(doc)))
                    }
                },
            };
            return Some(result);
        }
    }
}

/// Why [`Shard::documents`] yields no document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The shard cannot be read on from here: nothing more comes.
    #[error(transparent)]
    Unreadable(SnapshotError),
    /// This one document cannot become a bulk action (it has an id, but no usable source, or an undecodable
    /// id); the documents after it still come. A failed document, never a skipped one.
    #[error("snapshot document {0}")]
    Unusable(Box<UnusableDocument>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_give_their_file_and_shard_typed() {
        let lucene = SnapshotError::Lucene {
            snapshot: "s".into(),
            index: "logs".into(),
            shard: 2,
            blob: Some("indices/x/2/__a".into()),
            source: Box::new(LuceneError::corrupt("_0.cfe", 471, "checksum mismatch")),
        };
        assert_eq!(
            (lucene.file(), lucene.shard()),
            (Some("indices/x/2/__a"), Some(("logs", 2)))
        );
        assert_eq!(
            lucene.to_string(),
            "snapshot s, index logs, shard 2: _0.cfe at offset 471: checksum mismatch (blob indices/x/2/__a)"
        );
        let listed = SnapshotError::Shard {
            snapshot: "s".into(),
            index: "logs".into(),
            shard: 0,
            file: Some("indices/x/0/snap-u.dat".into()),
            message: "bad footer".into(),
        };
        assert_eq!(listed.file(), Some("indices/x/0/snap-u.dat"));
        assert_eq!(
            listed.to_string(),
            "snapshot s, index logs, shard 0: indices/x/0/snap-u.dat: bad footer"
        );
        let latest = SnapshotError::RepositoryFile {
            location: "/repo".into(),
            file: "index.latest".into(),
            message: "names generation 9, but index-9 cannot be read".into(),
        };
        assert_eq!(
            (latest.file(), latest.shard()),
            (Some("index.latest"), None)
        );
        let unreachable = SnapshotError::Repository {
            location: "/repo".into(),
            message: "not a directory".into(),
        };
        assert_eq!((unreachable.file(), unreachable.shard()), (None, None));
    }
}
