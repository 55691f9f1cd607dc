//! What the preflight's I/O saw, as plain data ([`Observations`]), and the two pure readings of raw answers:
//! [`shard_failure`] (the reader's own typed errors → "unsupported" or "unreadable", so no second list of
//! supported codecs exists) and [`detect_target`] (a `GET /` body → distribution and version).

use serde_json::Value;

use super::{Distribution, ExistingIndex, TargetInfo};
use crate::cluster::transport::TransportError;
use crate::cluster::version::{Product, ServerVersion};
use crate::config::{IndexSelection, TypeMappings};
use crate::coordination::identity::{Identity, Recorded};
use crate::lucene::LuceneError;
use crate::snapshot::{IndexInfo, ShardCounts, SnapshotError};

/// Everything [`super::evaluate`] judges.
#[derive(Debug, Clone)]
pub(crate) struct Observations {
    /// `source.indices` as declared.
    pub selection: IndexSelection,
    /// `source.type_mappings` as declared.
    pub type_mappings: TypeMappings,
    pub source: SourceObservation,
    pub target: TargetObservation,
    /// Whose working state the migration may use, and whose the target holds.
    pub working_state: WorkingStateObservation,
}

/// The working state as the migration expects it and as the target holds it.
#[derive(Debug, Clone)]
pub(crate) struct WorkingStateObservation {
    /// `.migrations_working_state[_<backfill.session>]`.
    pub index: String,
    /// The identity migration.yaml declares (names only; the snapshot completes it when it decides).
    pub declared: Identity,
    /// `backfill.adopt_unrecorded_working_state`.
    pub adopt_unrecorded: bool,
    /// The owner record the target holds, or why it was not read.
    pub recorded: OwnerRead,
}

/// The owner record of the working-state index, as read.
#[derive(Debug, Clone)]
pub(crate) enum OwnerRead {
    /// Not asked (why: `--offline`, the target did not answer).
    Skipped(String),
    /// Asked, and the read failed (why).
    Failed(String),
    /// The record (or its absence).
    Read(Recorded),
}

/// The source repository as seen.
#[derive(Debug, Clone)]
pub(crate) enum SourceObservation {
    /// Not read (`reason`: what was skipped and why, e.g. `--offline`).
    Skipped { location: String, reason: String },
    /// Reading did not finish in time.
    TimedOut { location: String, seconds: u64 },
    /// The repository cannot be opened (`s3`: it is in S3, so credentials and region matter).
    Unreadable {
        location: String,
        message: String,
        s3: bool,
    },
    /// The repository has no such snapshot; `known` are the ones it has.
    NoSuchSnapshot {
        location: String,
        snapshot: String,
        known: Vec<String>,
    },
    /// The snapshot was found and its selected indices read.
    Read(SnapshotObservation),
}

/// A snapshot that was found.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotObservation {
    pub location: String,
    pub snapshot: String,
    /// The snapshot's uuid in the repository.
    pub uuid: String,
    pub state: String,
    pub version: Option<String>,
    /// Every index of the snapshot, sorted.
    pub indices: Vec<String>,
    /// The indices the selection matches, in snapshot order.
    pub selected: Vec<IndexObservation>,
}

/// One selected index: its metadata (or why it could not be read) and its shards.
#[derive(Debug, Clone)]
pub(crate) struct IndexObservation {
    pub name: String,
    pub metadata: Result<IndexInfo, String>,
    /// One per shard, in shard order (empty when the metadata could not be read).
    pub shards: Vec<ShardObservation>,
}

/// One shard, opened or not.
#[derive(Debug, Clone)]
pub(crate) struct ShardObservation {
    pub shard: u32,
    pub outcome: Result<ShardCounts, ShardFailure>,
}

/// Why a shard could not be opened, as the reader said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShardFailure {
    /// A codec, format or version the reader does not implement (from `LuceneError::Unsupported`).
    Unsupported {
        file: String,
        what: String,
        name: String,
    },
    /// Anything else: a missing blob, a corrupt or truncated file.
    Unreadable(String),
}

/// Classifies a shard-opening error by the reader's own error type.
pub(crate) fn shard_failure(err: &SnapshotError) -> ShardFailure {
    match err {
        SnapshotError::Lucene { source, .. } => match source.as_ref() {
            LuceneError::Unsupported { file, what, name } => ShardFailure::Unsupported {
                file: file.clone(),
                what: (*what).to_string(),
                name: name.clone(),
            },
            other => ShardFailure::Unreadable(other.to_string()),
        },
        SnapshotError::Shard { message, .. } | SnapshotError::Index { message, .. } => {
            ShardFailure::Unreadable(message.clone())
        }
        other => ShardFailure::Unreadable(other.to_string()),
    }
}

/// The target as seen.
#[derive(Debug, Clone)]
pub(crate) enum TargetObservation {
    /// Not asked (`reason`, e.g. `--offline`).
    Skipped { endpoint: String, reason: String },
    /// No client could be built: credentials or TLS settings could not be resolved.
    NoClient { endpoint: String, message: String },
    /// No answer in time.
    TimedOut { endpoint: String, seconds: u64 },
    /// `GET /` (or the index listing, for Serverless) failed.
    Failed {
        endpoint: String,
        error: TransportError,
    },
    /// The target answered.
    Answered(TargetAnswer),
}

/// What an answering target said.
#[derive(Debug, Clone)]
pub(crate) struct TargetAnswer {
    pub endpoint: String,
    /// The `GET /` body (`None`: answered 404, or not asked because the target is Serverless).
    pub root: Option<Value>,
    /// The configuration says OpenSearch Serverless (SigV4 service `aoss`).
    pub serverless: bool,
    /// TLS certificates are not verified (`target.tls.insecure_skip_verify`).
    pub insecure_tls: bool,
    /// Every index on the target with its document count, or why they could not be listed.
    pub indices: Result<Vec<ExistingIndex>, String>,
}

/// Reads a `GET /` body (or its absence) into the detected target.
pub(crate) fn detect_target(
    endpoint: &str,
    root: Option<&Value>,
    serverless: bool,
) -> Result<TargetInfo, String> {
    let info = |distribution, version| TargetInfo {
        endpoint: endpoint.to_string(),
        distribution,
        version,
        indices_with_documents: Vec::new(),
    };
    if serverless {
        return Ok(info(Distribution::OpenSearchServerless, None));
    }
    let Some(root) = root else {
        return Err(
            "GET / answered 404: this is not the root of an Elasticsearch or OpenSearch cluster"
                .into(),
        );
    };
    let version = ServerVersion::from_root(root)?;
    let distribution = match version.product {
        Product::OpenSearch => Distribution::OpenSearch,
        Product::Elasticsearch => Distribution::Elasticsearch,
    };
    Ok(info(distribution, Some(version.number)))
}

/// Parses `_cat/indices?format=json&h=index,docs.count` (counts are strings, or null for closed indices).
pub(crate) fn parse_cat_indices(body: &Value) -> Result<Vec<ExistingIndex>, String> {
    let rows = body
        .as_array()
        .ok_or_else(|| "_cat/indices did not answer a JSON array".to_string())?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let index = row["index"].as_str()?.to_string();
            let documents = match &row["docs.count"] {
                Value::String(s) => s.parse().ok()?,
                Value::Number(n) => n.as_u64()?,
                _ => 0,
            };
            Some(ExistingIndex { index, documents })
        })
        .collect())
}
