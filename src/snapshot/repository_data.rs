//! The pure half of `repository.rs`: what the repository data (`index-N`, JSON) and a shard snapshot
//! (`snap-<uuid>.dat`, decoded) say, read from their values with no I/O (so they are fuzzed on their own).

use serde_json::Value;

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

/// One Lucene file of a shard snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileInfo {
    /// Blob name (`__abc`, or `v__abc` for files whose content is in `meta_hash`).
    pub(crate) blob: String,
    /// Lucene file name.
    pub(crate) physical_name: String,
    pub(crate) length: u64,
    pub(crate) part_size: Option<u64>,
    /// Content of virtual (`v__`) files.
    pub(crate) inline: Option<Vec<u8>>,
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

/// Every snapshot of the repository data, in repository order.
pub(crate) fn snapshots(data: &Value) -> Vec<SnapshotInfo> {
    let indices = data["indices"].as_object().cloned().unwrap_or_default();
    data["snapshots"]
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

/// The Lucene files a decoded shard snapshot (`snap-<uuid>.dat` of codec `snapshot`) lists; the caller
/// names the blob in errors.
pub(crate) fn shard_files(meta: &Value) -> Result<Vec<FileInfo>, String> {
    let mut files = Vec::new();
    for f in meta["files"].as_array().into_iter().flatten() {
        let name = f["name"]
            .as_str()
            .ok_or_else(|| "a file entry has no name".to_string())?;
        let physical = f["physical_name"]
            .as_str()
            .ok_or_else(|| format!("{name} has no physical_name"))?;
        let length = f["length"]
            .as_u64()
            .ok_or_else(|| format!("{name} has no length"))?;
        let part_size = f["part_size"]
            .as_u64()
            .filter(|p| *p > 0 && *p < i64::MAX as u64);
        let inline = if name.starts_with("v__") {
            let bytes = smile::bytes_of(&f["meta_hash"])
                .ok_or_else(|| format!("virtual file {physical} has no meta_hash content"))?;
            if bytes.len() as u64 != length {
                return Err(format!(
                    "virtual file {physical} holds {} bytes, expected {length}",
                    bytes.len()
                ));
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
