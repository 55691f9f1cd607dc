//! A snapshot repository's metadata (`RepositoryData` in `index-N`, the snapshot and index metadata blobs, and
//! per-shard file lists), following the layouts of Elasticsearch 5.x–8.x and OpenSearch 1.x–2.x:
//! `index.latest` or the highest numeric `index-N`; index metadata via `index_metadata_identifiers` (ES ≥ 7.9)
//! or the snapshot uuid; shard files from `indices/<id>/<shard>/snap-<uuid>.dat`, which also covers
//! incremental snapshots (files written by earlier snapshots are listed there too).

use std::sync::Arc;

use serde_json::Value;

use super::SnapshotError;
use super::blob::BlobSource;
use super::dat;
use super::repository_data;
pub(crate) use super::repository_data::FileInfo;
pub use super::repository_data::SnapshotInfo;

/// An index of a snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndexInfo {
    pub name: String,
    /// Repository-level index id (the directory under `indices/`).
    pub id: String,
    pub shards: u32,
    pub settings: Value,
    pub mappings: Value,
}

impl IndexInfo {
    /// The index's `index.uuid` from its settings, or the repository's index id when the metadata has none.
    pub fn uuid(&self) -> &str {
        self.settings
            .get("index.uuid")
            .or_else(|| self.settings.pointer("/index/uuid"))
            .and_then(Value::as_str)
            .unwrap_or(&self.id)
    }
}

/// An open repository.
pub struct Repository {
    pub(crate) source: Arc<dyn BlobSource>,
    data: Value,
}

impl Repository {
    pub fn open(source: Arc<dyn BlobSource>) -> Result<Self, SnapshotError> {
        let location = source.location();
        let file_error = |file: &str, message: String| SnapshotError::RepositoryFile {
            location: location.clone(),
            file: file.to_string(),
            message,
        };
        let latest = match source.read_all("index.latest") {
            Ok(bytes) if bytes.len() == 8 => {
                Some(i64::from_be_bytes(bytes.try_into().unwrap_or([0; 8])))
            }
            _ => None,
        };
        let generation = match latest {
            Some(generation) => generation,
            None => source
                .list("")
                .map_err(|e| SnapshotError::Repository {
                    location: location.clone(),
                    message: format!("cannot list: {e}"),
                })?
                .iter()
                .filter_map(|n| n.strip_prefix("index-").and_then(|g| g.parse::<i64>().ok()))
                .max()
                .ok_or_else(|| SnapshotError::Repository {
                    location: location.clone(),
                    message: "no index-N file: this is not a snapshot repository (or it is empty)"
                        .into(),
                })?,
        };
        let name = format!("index-{generation}");
        let bytes = source.read_all(&name).map_err(|e| match latest {
            // The generation came from index.latest: that file is what points nowhere.
            Some(_) => file_error(
                "index.latest",
                format!("names generation {generation}, but {name} cannot be read: {e}"),
            ),
            None => file_error(&name, e.to_string()),
        })?;
        let data = serde_json::from_slice(&bytes)
            .map_err(|e| file_error(&name, format!("not valid JSON: {e}")))?;
        Ok(Repository { source, data })
    }

    pub(crate) fn location(&self) -> String {
        self.source.location()
    }

    /// Every snapshot, in repository order.
    pub fn snapshots(&self) -> Vec<SnapshotInfo> {
        repository_data::snapshots(&self.data)
    }

    pub fn snapshot(&self, name: &str) -> Result<SnapshotInfo, SnapshotError> {
        let all = self.snapshots();
        all.iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or_else(|| SnapshotError::NoSuchSnapshot {
                location: self.location(),
                snapshot: name.to_string(),
                known: all.iter().map(|s| s.name.clone()).collect(),
            })
    }

    fn index_id(&self, index: &str) -> Option<String> {
        self.data["indices"][index]["id"]
            .as_str()
            .map(str::to_string)
    }

    /// The indices of a snapshot with their shard counts, settings and mappings.
    pub fn indices(&self, snapshot: &SnapshotInfo) -> Result<Vec<IndexInfo>, SnapshotError> {
        snapshot
            .indices
            .iter()
            .map(|name| self.index(snapshot, name))
            .collect()
    }

    pub fn index(&self, snapshot: &SnapshotInfo, name: &str) -> Result<IndexInfo, SnapshotError> {
        let ctx = |file: Option<&str>, message: String| SnapshotError::Index {
            snapshot: snapshot.name.clone(),
            index: name.to_string(),
            file: file.map(str::to_string),
            message,
        };
        if !snapshot.indices.iter().any(|i| i == name) {
            return Err(ctx(
                None,
                format!(
                    "not in the snapshot; it has: {}",
                    snapshot.indices.join(", ")
                ),
            ));
        }
        let id = self
            .index_id(name)
            .ok_or_else(|| ctx(None, "no index id in the repository data".into()))?;
        let blob_id = self
            .snapshots_entry(&snapshot.uuid)
            .and_then(|s| s["index_metadata_lookup"][&id].as_str().map(str::to_string))
            .and_then(|identifier| {
                self.data["index_metadata_identifiers"][&identifier]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_else(|| snapshot.uuid.clone());
        let blob = format!("indices/{id}/meta-{blob_id}.dat");
        let bytes = self
            .source
            .read_all(&blob)
            .map_err(|e| ctx(Some(&blob), e.to_string()))?;
        let meta = dat::decode(&blob, &bytes, "index-metadata")
            .map_err(|e| ctx(Some(&blob), e.message))?;
        let body = meta
            .get(name)
            .or_else(|| meta.as_object().and_then(|m| m.values().next()))
            .cloned()
            .unwrap_or(Value::Null);
        let settings = body["settings"].clone();
        let shards = settings
            .get("index.number_of_shards")
            .or_else(|| {
                settings
                    .get("index")
                    .and_then(|i| i.get("number_of_shards"))
            })
            .and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| v.as_u64().map(|n| n as u32))
            })
            .ok_or_else(|| ctx(Some(&blob), "no index.number_of_shards".into()))?;
        Ok(IndexInfo {
            name: name.to_string(),
            id,
            shards,
            settings,
            mappings: body["mappings"].clone(),
        })
    }

    fn snapshots_entry(&self, uuid: &str) -> Option<&Value> {
        self.data["snapshots"]
            .as_array()?
            .iter()
            .find(|s| s["uuid"].as_str() == Some(uuid))
    }

    /// The Lucene files of one shard in one snapshot.
    pub(crate) fn shard_files(
        &self,
        snapshot: &SnapshotInfo,
        index: &IndexInfo,
        shard: u32,
    ) -> Result<Vec<FileInfo>, SnapshotError> {
        let blob = format!("indices/{}/{shard}/snap-{}.dat", index.id, snapshot.uuid);
        let ctx = |message: String| SnapshotError::Shard {
            snapshot: snapshot.name.clone(),
            index: index.name.clone(),
            shard,
            file: Some(blob.clone()),
            message,
        };
        let bytes = self
            .source
            .read_all(&blob)
            .map_err(|e| ctx(e.to_string()))?;
        let meta = dat::decode(&blob, &bytes, "snapshot").map_err(|e| ctx(e.message))?;
        repository_data::shard_files(&meta).map_err(ctx)
    }
}
