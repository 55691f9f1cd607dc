//! Documents the target rejected for good (mapping errors and the like), and documents that could not become
//! bulk actions (no `_source`, an undecodable id or source: `item.rs`), as NDJSON lines
//! `{"index","id","error_type","reason"}` at `worker.failed_documents`:
//!
//! - a local directory: one file `<dir>/<worker id>.ndjson` per worker id, appended, flushed after each batch
//!   (so a crash loses nothing that was acknowledged);
//! - `s3://bucket/prefix/`: one object per worker run and work item,
//!   `<prefix><worker id>/<run start ms>/<work item id>.ndjson`, uploaded when the item completes or is handed
//!   off — before the working state records it, so a failed upload leaves the item to be retried, never a
//!   completed item with lost rejections. The client comes from the one SDK configuration builder
//!   ([`crate::aws_sdk`]: `aws.profile`, `aws.region`, the standard endpoint override), as for snapshot
//!   repositories.
//! - not configured: nothing is written; rejections are logged and counted (work items record
//!   `failedDocuments`, so `status` shows `CompletedWithErrors`).
//!
//! Document bodies are never written: the source is still in the snapshot.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::bulk::ItemFailure;
use crate::aws_sdk::AwsSdk;
use crate::config::{Location, S3Location};
use crate::coordination::lease::WorkItemId;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FailedDocumentsError {
    #[error("failed documents: cannot write {path}: {source}")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed documents: cannot upload {object}: {message}")]
    S3 { object: String, message: String },
}

/// One NDJSON line (with its newline) for a rejected document.
pub(crate) fn ndjson_line(f: &ItemFailure) -> String {
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
pub(crate) enum FailedDocuments {
    Off,
    Directory {
        path: PathBuf,
        file: Option<std::fs::File>,
    },
    S3 {
        client: aws_sdk_s3::Client,
        /// `<prefix>/<worker id>/<run start ms>`: the items' objects go under it.
        run: S3Location,
        /// Lines buffered per work item until it completes or is handed off.
        pending: HashMap<String, Vec<u8>>,
    },
}

impl FailedDocuments {
    /// Opens the sink for `destination` (`None`: off); an S3 client comes from `aws`.
    pub(crate) async fn open(
        destination: Option<&Location>,
        worker_id: &str,
        run_started_ms: i64,
        aws: &AwsSdk,
    ) -> Self {
        match destination {
            None => FailedDocuments::Off,
            Some(Location::Local(dir)) => FailedDocuments::Directory {
                path: dir.join(format!("{}.ndjson", file_safe(worker_id))),
                file: None,
            },
            Some(Location::S3(prefix)) => FailedDocuments::S3 {
                client: aws.s3(None).await,
                run: prefix.join(&format!("{}/{run_started_ms}", file_safe(worker_id))),
                pending: HashMap::new(),
            },
        }
    }

    /// Where the lines go, for log messages.
    pub(crate) fn location(&self) -> Option<String> {
        match self {
            FailedDocuments::Off => None,
            FailedDocuments::Directory { path, .. } => Some(path.display().to_string()),
            FailedDocuments::S3 { run, .. } => Some(format!("{run}/")),
        }
    }

    /// Records one batch's rejections for `item` (a local file is appended and flushed now).
    pub(crate) fn record(
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
    pub(crate) async fn finish_item(
        &mut self,
        item: &WorkItemId,
    ) -> Result<Option<String>, FailedDocumentsError> {
        let FailedDocuments::S3 {
            client,
            run,
            pending,
        } = self
        else {
            return Ok(None);
        };
        let id = item.to_id();
        let Some(body) = pending.get(&id) else {
            return Ok(None);
        };
        let object = run.join(&format!("{id}.ndjson"));
        client
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .content_type("application/x-ndjson")
            .body(body.clone().into())
            .send()
            .await
            .map_err(|e| FailedDocumentsError::S3 {
                object: object.to_string(),
                message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
        pending.remove(&id);
        Ok(Some(object.to_string()))
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

    #[tokio::test]
    async fn an_s3_run_writes_under_prefix_worker_and_start_time() {
        // A configuration that is never used to send anything: only the object names are checked.
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let destination = Location::parse("s3://bucket/failed/docs/").expect("location");
        let sink =
            FailedDocuments::open(Some(&destination), "host/w1", 7, &AwsSdk::loaded(config)).await;
        assert_eq!(
            sink.location().as_deref(),
            Some("s3://bucket/failed/docs/host_w1/7/")
        );
        let FailedDocuments::S3 { run, .. } = &sink else {
            panic!("an S3 sink")
        };
        assert_eq!(
            run.join(&format!("{}.ndjson", item().to_id())).key,
            format!("failed/docs/host_w1/7/{}.ndjson", item().to_id())
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
        let dest = Location::Local(dir.clone());
        let aws = AwsSdk::default();
        let mut sink = FailedDocuments::open(Some(&dest), "host/w1", 0, &aws).await;
        sink.record(&item(), &[failure("1")]).expect("record");
        sink.record(&item(), &[]).expect("nothing");
        sink.record(&item(), &[failure("2"), failure("3")])
            .expect("record");
        assert_eq!(sink.finish_item(&item()).await.expect("finish"), None);
        let text = std::fs::read_to_string(dir.join("host_w1.ndjson")).expect("file");
        assert_eq!(text.lines().count(), 3);
        // A second run with the same id appends.
        let mut again = FailedDocuments::open(Some(&dest), "host/w1", 1, &aws).await;
        again.record(&item(), &[failure("4")]).expect("record");
        let text = std::fs::read_to_string(dir.join("host_w1.ndjson")).expect("file");
        assert_eq!(text.lines().count(), 4);
    }
}
