//! Where working-state archives are kept: local files or S3 objects, named like the console's backups.
//!
//! The store only moves bytes; verification (count + SHA-256 read back) lives in `archive`.

use std::future::Future;
use std::path::PathBuf;

use super::archive::ArchiveError;
use crate::time::Timestamp;

/// Where an archive lives: a local path or `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveLocation {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl ArchiveLocation {
    /// Parses `s3://bucket/key` or a local path.
    pub fn parse(text: &str) -> Result<Self, ArchiveError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').ok_or_else(|| ArchiveError::Location {
                location: text.to_string(),
            })?;
            if bucket.is_empty() || key.is_empty() {
                return Err(ArchiveError::Location {
                    location: text.to_string(),
                });
            }
            Ok(ArchiveLocation::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        } else if text.is_empty() {
            Err(ArchiveError::Location {
                location: text.to_string(),
            })
        } else {
            Ok(ArchiveLocation::Local(PathBuf::from(text)))
        }
    }
}

impl std::fmt::Display for ArchiveLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveLocation::Local(p) => write!(f, "{}", p.display()),
            ArchiveLocation::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// Where `stopped` writes archives: a local directory or an `s3://bucket/prefix`; each archive is named
/// `working_state_backup_%Y%m%d%H%M%S.json` like the console's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDestination(pub String);

impl ArchiveDestination {
    /// The archive location for a stop at `now`.
    pub fn location_at(&self, now: Timestamp) -> Result<ArchiveLocation, ArchiveError> {
        let name = format!("working_state_backup_{}.json", now.compact());
        let base = self.0.trim_end_matches('/');
        let full = if base.is_empty() {
            name
        } else {
            format!("{base}/{name}")
        };
        ArchiveLocation::parse(&full)
    }
}

/// Reads and writes archive bytes (local files, S3).
pub trait ArchiveStore: Send + Sync {
    fn write(
        &self,
        location: &ArchiveLocation,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<(), ArchiveError>> + Send;
    fn read(
        &self,
        location: &ArchiveLocation,
    ) -> impl Future<Output = Result<Vec<u8>, ArchiveError>> + Send;
}

/// Local files, plus S3 when a client is given.
#[derive(Debug, Clone, Default)]
pub struct FileOrS3Store {
    pub s3: Option<aws_sdk_s3::Client>,
}

impl ArchiveStore for FileOrS3Store {
    async fn write(&self, location: &ArchiveLocation, bytes: Vec<u8>) -> Result<(), ArchiveError> {
        match location {
            ArchiveLocation::Local(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(|e| io(location, e))?;
                }
                tokio::fs::write(path, bytes)
                    .await
                    .map_err(|e| io(location, e))
            }
            ArchiveLocation::S3 { bucket, key } => {
                let client = self.s3.as_ref().ok_or_else(|| no_s3(location))?;
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .content_type("application/json")
                    .body(bytes.into())
                    .send()
                    .await
                    .map_err(|e| s3_err(location, e))?;
                Ok(())
            }
        }
    }

    async fn read(&self, location: &ArchiveLocation) -> Result<Vec<u8>, ArchiveError> {
        match location {
            ArchiveLocation::Local(path) => {
                tokio::fs::read(path).await.map_err(|e| io(location, e))
            }
            ArchiveLocation::S3 { bucket, key } => {
                let client = self.s3.as_ref().ok_or_else(|| no_s3(location))?;
                let out = client
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| s3_err(location, e))?;
                let data = out.body.collect().await.map_err(|e| s3_err(location, e))?;
                Ok(data.into_bytes().to_vec())
            }
        }
    }
}

fn io(location: &ArchiveLocation, e: std::io::Error) -> ArchiveError {
    ArchiveError::Store {
        location: location.to_string(),
        message: e.to_string(),
    }
}
fn no_s3(location: &ArchiveLocation) -> ArchiveError {
    ArchiveError::Store {
        location: location.to_string(),
        message: "no S3 client configured".into(),
    }
}
fn s3_err(location: &ArchiveLocation, e: impl std::error::Error) -> ArchiveError {
    ArchiveError::Store {
        location: location.to_string(),
        message: aws_error_text(&e),
    }
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

    #[test]
    fn destinations_name_archives_like_the_console() {
        let d = ArchiveDestination("s3://b/p/".into());
        assert_eq!(
            d.location_at(Timestamp::from_epoch_seconds(1_784_642_531))
                .unwrap()
                .to_string(),
            "s3://b/p/working_state_backup_20260721140211.json"
        );
        let d = ArchiveDestination("./backfill_working_state".into());
        assert_eq!(
            d.location_at(Timestamp::UNIX_EPOCH).unwrap(),
            ArchiveLocation::Local(
                "./backfill_working_state/working_state_backup_19700101000000.json".into()
            )
        );
    }

    #[test]
    fn locations_parse() {
        assert_eq!(
            ArchiveLocation::parse("s3://b/k/x.json").unwrap(),
            ArchiveLocation::S3 {
                bucket: "b".into(),
                key: "k/x.json".into()
            }
        );
        assert!(ArchiveLocation::parse("s3://b").is_err());
        assert!(ArchiveLocation::parse("s3:///k").is_err());
        assert!(ArchiveLocation::parse("").is_err());
        assert_eq!(
            ArchiveLocation::parse("a/b.json").unwrap().to_string(),
            "a/b.json"
        );
    }
}
