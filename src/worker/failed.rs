//! Documents the target rejected for good (mapping errors and the like) as NDJSON lines
//! `{"index","id","error_type","reason"}` at `worker.failed_documents`:
//!
//! - a local directory: one file `<dir>/<worker id>.ndjson` per worker id, appended, flushed after each batch
//!   (so a crash loses nothing that was acknowledged);
//! - `s3://bucket/prefix/`: one object per worker run and work item,
//!   `<prefix><worker id>/<run start ms>/<work item id>.ndjson`, uploaded when the item completes or is handed
//!   off — before the working state records it, so a failed upload leaves the item to be retried, never a
//!   completed item with lost rejections. Path-style addressing; the endpoint comes from the standard SDK
//!   settings (`AWS_ENDPOINT_URL`), as for snapshot repositories.
//! - not configured: nothing is written; rejections are logged and counted (work items record
//!   `failedDocuments`, so `status` shows `CompletedWithErrors`).
//!
//! Document bodies are never written: the source is still in the snapshot.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::bulk::ItemFailure;
use crate::coordination::lease::WorkItemId;

#[derive(Debug, thiserror::Error)]
pub enum FailedDocumentsError {
    #[error("failed documents: cannot write {path}: {source}")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed documents: cannot upload s3://{bucket}/{key}: {message}")]
    S3 {
        bucket: String,
        key: String,
        message: String,
    },
}

/// Where rejected documents go (parsed from `worker.failed_documents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Directory(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Destination {
    /// `s3://bucket[/prefix]` (the prefix gets a trailing `/`) or a directory path.
    pub fn parse(text: &str) -> Destination {
        match text.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let prefix = prefix.trim_matches('/');
                Destination::S3 {
                    bucket: bucket.to_string(),
                    prefix: if prefix.is_empty() {
                        String::new()
                    } else {
                        format!("{prefix}/")
                    },
                }
            }
            None => Destination::Directory(PathBuf::from(text)),
        }
    }
}

/// One NDJSON line (with its newline) for a rejected document.
pub fn ndjson_line(f: &ItemFailure) -> String {
    let mut line = json!({
        "index": f.index,
        "id": f.id,
        "error_type": f.error_type,
        "reason": f.reason,
    })
    .to_string();
    line.push('\n');
    line
}

/// The sink for one worker run.
pub enum FailedDocuments {
    Off,
    Directory {
        path: PathBuf,
        file: Option<std::fs::File>,
    },
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        /// `<prefix><worker id>/<run start ms>/`
        key_prefix: String,
        /// Lines buffered per work item until it completes or is handed off.
        pending: HashMap<String, Vec<u8>>,
    },
}

impl FailedDocuments {
    /// Opens the sink for `destination` (`None`: off). `region` is used for S3 when set.
    pub async fn open(
        destination: Option<&str>,
        worker_id: &str,
        run_started_ms: i64,
        region: Option<&str>,
    ) -> Self {
        match destination.map(Destination::parse) {
            None => FailedDocuments::Off,
            Some(Destination::Directory(dir)) => FailedDocuments::Directory {
                path: dir.join(format!("{}.ndjson", file_safe(worker_id))),
                file: None,
            },
            Some(Destination::S3 { bucket, prefix }) => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = region {
                    loader = loader.region(aws_config::Region::new(region.to_string()));
                }
                let shared = loader.load().await;
                let config = aws_sdk_s3::config::Builder::from(&shared)
                    .force_path_style(true)
                    .build();
                FailedDocuments::S3 {
                    client: aws_sdk_s3::Client::from_conf(config),
                    bucket,
                    key_prefix: format!("{prefix}{}/{run_started_ms}/", file_safe(worker_id)),
                    pending: HashMap::new(),
                }
            }
        }
    }

    /// Where the lines go, for log messages.
    pub fn location(&self) -> Option<String> {
        match self {
            FailedDocuments::Off => None,
            FailedDocuments::Directory { path, .. } => Some(path.display().to_string()),
            FailedDocuments::S3 {
                bucket, key_prefix, ..
            } => Some(format!("s3://{bucket}/{key_prefix}")),
        }
    }

    /// Records one batch's rejections for `item` (a local file is appended and flushed now).
    pub fn record(
        &mut self,
        item: &WorkItemId,
        failures: &[ItemFailure],
    ) -> Result<(), FailedDocumentsError> {
        if failures.is_empty() {
            return Ok(());
        }
        let text: String = failures.iter().map(ndjson_line).collect();
        match self {
            FailedDocuments::Off => Ok(()),
            FailedDocuments::Directory { path, file } => {
                let local = |source| FailedDocumentsError::Local {
                    path: path.clone(),
                    source,
                };
                if file.is_none() {
                    *file = Some(open_append(path).map_err(local)?);
                }
                if let Some(f) = file.as_mut() {
                    f.write_all(text.as_bytes()).map_err(local)?;
                    f.flush().map_err(local)?;
                }
                Ok(())
            }
            FailedDocuments::S3 { pending, .. } => {
                pending
                    .entry(item.to_id())
                    .or_default()
                    .extend_from_slice(text.as_bytes());
                Ok(())
            }
        }
    }

    /// Makes `item`'s lines durable before the working state records its completion or handoff: uploads its
    /// object to S3 (if it has any lines). Returns the object's location when one was written.
    pub async fn finish_item(
        &mut self,
        item: &WorkItemId,
    ) -> Result<Option<String>, FailedDocumentsError> {
        let FailedDocuments::S3 {
            client,
            bucket,
            key_prefix,
            pending,
        } = self
        else {
            return Ok(None);
        };
        let id = item.to_id();
        let Some(body) = pending.get(&id) else {
            return Ok(None);
        };
        let key = format!("{key_prefix}{id}.ndjson");
        client
            .put_object()
            .bucket(bucket.as_str())
            .key(&key)
            .content_type("application/x-ndjson")
            .body(body.clone().into())
            .send()
            .await
            .map_err(|e| FailedDocumentsError::S3 {
                bucket: bucket.clone(),
                key: key.clone(),
                message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
        pending.remove(&id);
        Ok(Some(format!("s3://{bucket}/{key}")))
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// A worker id usable as a file name or key segment (`/` and other separators become `_`).
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(id: &str) -> ItemFailure {
        ItemFailure {
            index: "posts".into(),
            id: id.into(),
            status: 400,
            error_type: "mapper_parsing_exception".into(),
            reason: "failed to parse field [author] of type [integer]".into(),
        }
    }

    fn item() -> WorkItemId {
        WorkItemId {
            index: "posts".into(),
            shard: 0,
            starting_doc: 0,
        }
    }

    #[test]
    fn destinations_are_directories_or_s3_prefixes() {
        assert_eq!(
            Destination::parse("s3://bucket/failed/docs"),
            Destination::S3 {
                bucket: "bucket".into(),
                prefix: "failed/docs/".into()
            }
        );
        assert_eq!(
            Destination::parse("s3://bucket"),
            Destination::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Destination::parse("/var/failed"),
            Destination::Directory("/var/failed".into())
        );
    }

    #[test]
    fn a_line_has_index_id_error_type_and_reason_only() {
        let line = ndjson_line(&failure("a\nb"));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(
            v,
            json!({"index": "posts", "id": "a\nb", "error_type": "mapper_parsing_exception",
                   "reason": "failed to parse field [author] of type [integer]"})
        );
    }

    #[tokio::test]
    async fn a_directory_gets_one_appended_file_per_worker_id() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("failed");
        let dest = dir.display().to_string();
        let mut sink = FailedDocuments::open(Some(&dest), "host/w1", 0, None).await;
        sink.record(&item(), &[failure("1")]).expect("record");
        sink.record(&item(), &[]).expect("nothing");
        sink.record(&item(), &[failure("2"), failure("3")])
            .expect("record");
        assert_eq!(sink.finish_item(&item()).await.expect("finish"), None);
        let text = std::fs::read_to_string(dir.join("host_w1.ndjson")).expect("file");
        assert_eq!(text.lines().count(), 3);
        // A second run with the same id appends.
        let mut again = FailedDocuments::open(Some(&dest), "host/w1", 1, None).await;
        again.record(&item(), &[failure("4")]).expect("record");
        let text = std::fs::read_to_string(dir.join("host_w1.ndjson")).expect("file");
        assert_eq!(text.lines().count(), 4);
    }
}
