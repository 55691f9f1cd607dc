//! The owner record of an archived working state: a small JSON file beside the archive
//! (`<archive>.identity.json`), written before the index is deleted and read by `restore-state`.
//!
//! The archive itself keeps the console's layout byte for byte (an array of `{_id: _source}` batches), so the
//! record — which lives in the index mapping, not in a document — travels beside it instead of inside it.
//! An archive without one (the console's, an older `backfill`'s) restores as an unrecorded working state.

use super::archive::ArchiveError;
use super::archive_store::ArchiveStore;
use super::identity::Identity;
use crate::config::{Location, S3Location};

/// Where the record of the archive at `archive` is kept.
pub(crate) fn identity_location(archive: &Location) -> Location {
    const SUFFIX: &str = ".identity.json";
    match archive {
        Location::Local(path) => {
            let mut name = path.as_os_str().to_owned();
            name.push(SUFFIX);
            Location::Local(name.into())
        }
        Location::S3(s3) => Location::S3(S3Location {
            bucket: s3.bucket.clone(),
            key: format!("{}{SUFFIX}", s3.key),
        }),
    }
}

/// Writes the record of the archive at `archive`.
pub(crate) async fn write_identity<S: ArchiveStore>(
    store: &S,
    archive: &Location,
    identity: &Identity,
) -> Result<(), ArchiveError> {
    let bytes = serde_json::to_vec_pretty(identity).unwrap_or_default();
    store
        .write(&identity_location(archive), bytes)
        .await
        .map_err(ArchiveError::from)
}

/// What is known about an archive's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchivedOwner {
    Recorded(Identity),
    /// No record could be read beside the archive (why).
    Unrecorded(String),
}

/// Reads the record of the archive at `archive`. A record that cannot be read leaves the archive unrecorded
/// (restored, it is used only with the explicit opt-in); one that is not a record is an error.
pub(crate) async fn read_identity<S: ArchiveStore>(
    store: &S,
    archive: &Location,
) -> Result<ArchivedOwner, ArchiveError> {
    let location = identity_location(archive);
    let bytes = match store.read(&location).await {
        Ok(bytes) => bytes,
        Err(e) => return Ok(ArchivedOwner::Unrecorded(e.to_string())),
    };
    serde_json::from_slice(&bytes)
        .map(ArchivedOwner::Recorded)
        .map_err(|e| ArchiveError::Format {
            location: location.to_string(),
            message: format!("not a working-state owner record: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_sits_beside_the_archive() {
        assert_eq!(
            identity_location(&Location::parse("a/w.json").unwrap()).to_string(),
            "a/w.json.identity.json"
        );
        assert_eq!(
            identity_location(&Location::parse("s3://bucket/p/w.json").unwrap()).to_string(),
            "s3://bucket/p/w.json.identity.json"
        );
    }
}
