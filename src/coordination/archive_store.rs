//! Where working-state archives are kept and what they are called: local files or S3 objects, named like the
//! console's backups.
//!
//! This module only names and moves bytes. The format and the verification (count + SHA-256 read back) live
//! in `archive`, which builds on this module; this module knows nothing of it (its errors are its own
//! [`StoreError`]).

use std::future::Future;

use crate::config::{Location, S3Location};
use crate::time::Timestamp;

/// An archive could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("archive {location}: {message}")]
pub struct StoreError {
    pub location: String,
    pub message: String,
}

/// Where `stopped` writes archives, from `backfill.archive`: a value ending in `.json` is the archive itself;
/// any other value is a directory (or key prefix) under which each stop writes
/// `working_state_backup_%Y%m%d%H%M%S.json` (UTC), named like the console's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveDestination {
    /// This file or object, replaced by each stop.
    File(Location),
    /// A new file or object under this directory or prefix for each stop.
    Under(Location),
}

impl ArchiveDestination {
    /// The destination `backfill.archive` names (see the type's documentation).
    pub fn new(location: Location) -> Self {
        if location.file_name().is_some_and(|n| n.ends_with(".json")) {
            ArchiveDestination::File(location)
        } else {
            ArchiveDestination::Under(location)
        }
    }

    /// The archive location for a stop at `now`.
    pub(crate) fn location_at(&self, now: Timestamp) -> Location {
        match self {
            ArchiveDestination::File(file) => file.clone(),
            ArchiveDestination::Under(dir) => {
                dir.join(&format!("working_state_backup_{}.json", now.compact()))
            }
        }
    }
}

/// Reads and writes archive bytes (local files, S3).
pub trait ArchiveStore: Send + Sync {
    fn write(
        &self,
        location: &Location,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn read(&self, location: &Location)
    -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
}

/// Local files, plus S3 when a client is given.
#[derive(Debug, Clone, Default)]
pub struct FileOrS3Store {
    pub s3: Option<aws_sdk_s3::Client>,
}

impl ArchiveStore for FileOrS3Store {
    async fn write(&self, location: &Location, bytes: Vec<u8>) -> Result<(), StoreError> {
        match location {
            Location::Local(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(|e| io(location, e))?;
                }
                tokio::fs::write(path, bytes)
                    .await
                    .map_err(|e| io(location, e))
            }
            Location::S3(object) => {
                let client = self.s3_for(object, location)?;
                client
                    .put_object()
                    .bucket(&object.bucket)
                    .key(&object.key)
                    .content_type("application/json")
                    .body(bytes.into())
                    .send()
                    .await
                    .map_err(|e| s3_err(location, e))?;
                Ok(())
            }
        }
    }

    async fn read(&self, location: &Location) -> Result<Vec<u8>, StoreError> {
        match location {
            Location::Local(path) => tokio::fs::read(path).await.map_err(|e| io(location, e)),
            Location::S3(object) => {
                let client = self.s3_for(object, location)?;
                let out = client
                    .get_object()
                    .bucket(&object.bucket)
                    .key(&object.key)
                    .send()
                    .await
                    .map_err(|e| s3_err(location, e))?;
                let data = out.body.collect().await.map_err(|e| s3_err(location, e))?;
                Ok(data.into_bytes().to_vec())
            }
        }
    }
}

impl FileOrS3Store {
    /// The client for `object`, which must name an object (not a whole bucket).
    fn s3_for(
        &self,
        object: &S3Location,
        location: &Location,
    ) -> Result<&aws_sdk_s3::Client, StoreError> {
        if object.key.is_empty() {
            return Err(store_error(location, "names a bucket, not an object"));
        }
        self.s3
            .as_ref()
            .ok_or_else(|| store_error(location, "no S3 client configured"))
    }
}

fn store_error(location: &Location, message: impl Into<String>) -> StoreError {
    StoreError {
        location: location.to_string(),
        message: message.into(),
    }
}
fn io(location: &Location, e: std::io::Error) -> StoreError {
    store_error(location, e.to_string())
}
fn s3_err(location: &Location, e: impl std::error::Error) -> StoreError {
    store_error(location, aws_error_text(&e))
}
fn aws_error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Location {
        Location::parse(text).expect("valid location")
    }

    #[test]
    fn a_destination_not_ending_in_json_gets_one_archive_per_stop_named_like_the_console() {
        let d = ArchiveDestination::new(parse("s3://bkt/p/"));
        assert_eq!(d, ArchiveDestination::Under(parse("s3://bkt/p")));
        assert_eq!(
            d.location_at(Timestamp::from_epoch_seconds(1_784_642_531))
                .to_string(),
            "s3://bkt/p/working_state_backup_20260721140211.json"
        );
        let d = ArchiveDestination::new(parse("s3://bkt"));
        assert_eq!(
            d.location_at(Timestamp::UNIX_EPOCH).to_string(),
            "s3://bkt/working_state_backup_19700101000000.json"
        );
        let d = ArchiveDestination::new(parse("./backfill_working_state"));
        assert_eq!(
            d.location_at(Timestamp::UNIX_EPOCH),
            Location::Local(
                "./backfill_working_state/working_state_backup_19700101000000.json".into()
            )
        );
        // `.json` must end the value: a directory that merely contains it is still a directory.
        let d = ArchiveDestination::new(parse("archives.json.d"));
        assert!(matches!(d, ArchiveDestination::Under(_)), "{d:?}");
    }

    #[test]
    fn a_destination_ending_in_json_is_the_archive_itself() {
        for text in [
            "s3://bkt/x/working-state.json",
            "working-state.json",
            "/var/backfill/state.json",
        ] {
            let d = ArchiveDestination::new(parse(text));
            assert_eq!(d, ArchiveDestination::File(parse(text)));
            assert_eq!(
                d.location_at(Timestamp::from_epoch_seconds(1_784_642_531)),
                parse(text),
                "{text}"
            );
        }
    }

    #[tokio::test]
    async fn a_bucket_without_a_key_is_not_an_archive() {
        let err = FileOrS3Store::default()
            .read(&parse("s3://bucket"))
            .await
            .expect_err("no object");
        assert_eq!(
            err.to_string(),
            "archive s3://bucket: names a bucket, not an object"
        );
    }

    #[tokio::test]
    async fn local_archives_are_written_with_their_directory_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = Location::Local(dir.path().join("a/b/state.json"));
        let store = FileOrS3Store::default();
        store.write(&file, b"[]".to_vec()).await.expect("write");
        assert_eq!(store.read(&file).await.expect("read"), b"[]");
    }
}
