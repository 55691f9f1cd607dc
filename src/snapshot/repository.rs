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
use super::smile;

/// A snapshot as the repository lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    pub uuid: String,
    pub state: String,
    pub indices: Vec<String>,
    /// Version of Elasticsearch/OpenSearch that wrote it, when recorded.
    pub version: Option<String>,
}

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

/// One Lucene file of a shard snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Blob name (`__abc`, or `v__abc` for files whose content is in `meta_hash`).
    pub blob: String,
    /// Lucene file name.
    pub physical_name: String,
    pub length: u64,
    pub part_size: Option<u64>,
    /// Content of virtual (`v__`) files.
    pub inline: Option<Vec<u8>>,
}

/// An open repository.
pub struct Repository {
    pub(crate) source: Arc<dyn BlobSource>,
    data: Value,
}

fn state_name(state: &Value) -> String {
    match state.as_u64() {
        Some(0) => "IN_PROGRESS".into(),
        Some(1) => "SUCCESS".into(),
        Some(2) => "FAILED".into(),
        Some(3) => "PARTIAL".into(),
        Some(4) => "INCOMPATIBLE".into(),
        Some(n) => format!("UNKNOWN({n})"),
        None => state.as_str().unwrap_or("UNKNOWN").to_string(),
    }
}

impl Repository {
    pub fn open(source: Arc<dyn BlobSource>) -> Result<Self, SnapshotError> {
        let location = source.location();
        let generation = match source.read_all("index.latest") {
            Ok(bytes) if bytes.len() == 8 => i64::from_be_bytes(bytes.try_into().unwrap_or([0; 8])),
            _ => source
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
        let bytes = source
            .read_all(&name)
            .map_err(|e| SnapshotError::Repository {
                location: location.clone(),
                message: format!("{name}: {e}"),
            })?;
        let data = serde_json::from_slice(&bytes).map_err(|e| SnapshotError::Repository {
            location: location.clone(),
            message: format!("{name} is not valid JSON: {e}"),
        })?;
        Ok(Repository { source, data })
    }

    pub fn location(&self) -> String {
        self.source.location()
    }

    /// Every snapshot, in repository order.
    pub fn snapshots(&self) -> Vec<SnapshotInfo> {
        let indices = self.data["indices"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        self.data["snapshots"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let uuid = s["uuid"].as_str().unwrap_or_default().to_string();
                let mut names: Vec<String> = indices
                    .iter()
                    .filter(|(_, v)| {
                        v["snapshots"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|u| u.as_str() == Some(uuid.as_str())))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                names.sort();
                let version = match &s["version"] {
                    Value::String(v) => Some(v.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                SnapshotInfo {
                    name: s["name"].as_str().unwrap_or_default().to_string(),
                    uuid,
                    state: state_name(&s["state"]),
                    indices: names,
                    version,
                }
            })
            .collect()
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
        let ctx = |message: String| SnapshotError::Index {
            snapshot: snapshot.name.clone(),
            index: name.to_string(),
            message,
        };
        if !snapshot.indices.iter().any(|i| i == name) {
            return Err(ctx(format!(
                "not in the snapshot; it has: {}",
                snapshot.indices.join(", ")
            )));
        }
        let id = self
            .index_id(name)
            .ok_or_else(|| ctx("no index id in the repository data".into()))?;
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
            .map_err(|e| ctx(format!("{blob}: {e}")))?;
        let meta = dat::decode(&blob, &bytes, "index-metadata").map_err(|e| ctx(e.to_string()))?;
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
            .ok_or_else(|| ctx(format!("{blob} has no index.number_of_shards")))?;
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
    pub fn shard_files(
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
            message,
        };
        let bytes = self
            .source
            .read_all(&blob)
            .map_err(|e| ctx(format!("{blob}: {e}")))?;
        let meta = dat::decode(&blob, &bytes, "snapshot").map_err(|e| ctx(e.to_string()))?;
        let mut files = Vec::new();
        for f in meta["files"].as_array().into_iter().flatten() {
            let name = f["name"]
                .as_str()
                .ok_or_else(|| ctx(format!("{blob}: a file entry has no name")))?;
            let physical = f["physical_name"]
                .as_str()
                .ok_or_else(|| ctx(format!("{blob}: {name} has no physical_name")))?;
            let length = f["length"]
                .as_u64()
                .ok_or_else(|| ctx(format!("{blob}: {name} has no length")))?;
            let part_size = f["part_size"]
                .as_u64()
                .filter(|p| *p > 0 && *p < i64::MAX as u64);
            let inline = if name.starts_with("v__") {
                let bytes = smile::bytes_of(&f["meta_hash"]).ok_or_else(|| {
                    ctx(format!(
                        "{blob}: virtual file {physical} has no meta_hash content"
                    ))
                })?;
                if bytes.len() as u64 != length {
                    return Err(ctx(format!(
                        "{blob}: virtual file {physical} holds {} bytes, expected {length}",
                        bytes.len()
                    )));
                }
                Some(bytes)
            } else {
                None
            };
            files.push(FileInfo {
                blob: name.to_string(),
                physical_name: physical.to_string(),
                length,
                part_size,
                inline,
            });
        }
        Ok(files)
    }
}
