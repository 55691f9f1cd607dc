//! The values every part of the worker shares: how a worker runs ([`WorkerOptions`]), what it reads
//! ([`Source`]), its totals ([`WorkerStats`]), how a run ends ([`WorkerExit`]) and why it fails ([`WorkerError`]).
//!
//! They sit in their own file, below `run`, `item`, `report` and `metrics`, so those files import in one
//! direction (the run loop → an item → the reporter → the metrics) instead of in a circle through `run.rs`.

use std::sync::Arc;

use super::failed::FailedDocumentsError;
use super::retry::RetryPolicy;
use super::transform::Transforms;
use crate::cluster::transport::TransportError;
use crate::config::{AwsSettings, Location, TypeMappings};
use crate::coordination::coordinator::CoordinationError;
use crate::coordination::identity::Identity;
use crate::coordination::ownership::OwnershipError;
use crate::snapshot::{IndexInfo, Repository, SnapshotError, SnapshotInfo};

/// How this worker runs.
#[derive(Debug, Clone)]
pub(crate) struct WorkerOptions {
    pub(crate) worker_id: String,
    /// The migration's name (the metrics' `MigrationName` dimension).
    pub(crate) migration: String,
    /// Working-state index name.
    pub(crate) state_index: String,
    /// The migration this worker serves: recorded in a working state it creates, compared with an existing
    /// one's record before anything is written (`coordination::ownership::claim`).
    pub(crate) identity: Identity,
    /// `backfill.adopt_unrecorded_working_state`: a working state without a record may be used (and recorded).
    pub(crate) adopt_unrecorded: bool,
    /// Initial lease in seconds (doubles on re-acquisition).
    pub(crate) lease_seconds: u64,
    pub(crate) batch_max_docs: usize,
    pub(crate) batch_max_bytes: u64,
    /// Send `_type` in bulk actions (targets before Elasticsearch 7): the document's type, else `_doc`.
    pub(crate) emit_type: bool,
    /// `source.type_mappings`: the target index of each document's type, or none (not migrated).
    pub(crate) type_mappings: TypeMappings,
    /// Hand off when this fraction of the lease is left (upstream: 25%).
    pub(crate) handoff_fraction: f64,
    /// Bulk requests in flight at once.
    pub(crate) max_connections: u32,
    /// Backoff of bulk retries (always bounded by the checkpoint deadline).
    pub(crate) retry: RetryPolicy,
    /// `worker.failed_documents`: a directory or an S3 key prefix; `None` writes nothing.
    pub(crate) failed_documents: Option<Location>,
    /// `aws.profile` and `aws.region`, for an S3 failed-documents destination.
    pub(crate) aws: AwsSettings,
    /// `transforms`, compiled once for the run (none: every document keeps the byte-exact path).
    pub(crate) transforms: Transforms,
}

/// The snapshot this worker reads.
pub(crate) struct Source {
    pub(crate) repository: Arc<Repository>,
    pub(crate) snapshot: SnapshotInfo,
    pub(crate) indices: Vec<IndexInfo>,
}

/// How a worker run ended (mapped to the documented exit codes by the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkerExit {
    /// Every work item is complete.
    NoWorkLeft,
    /// The lease ran short (or SIGTERM): the rest was handed to a successor.
    LeaseHandedOff,
    /// Work remains, all of it leased by others.
    AllLeased,
}

/// Totals of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WorkerStats {
    pub(crate) items_completed: u64,
    pub(crate) documents: u64,
    pub(crate) source_bytes: u64,
    pub(crate) bulk_requests: u64,
    pub(crate) retries: u64,
    /// Failed documents: rejected by the target for good, or not sendable (no `_source`, undecodable).
    pub(crate) failed_documents: u64,
    /// Documents of a type `source.type_mappings` leaves out: read, not sent, not failed.
    pub(crate) skipped_by_configuration: u64,
    pub(crate) lease_handoffs: u64,
}

/// Why a run stopped. [`WorkerError::Snapshot`] is every failure to read the snapshot, wherever it happened
/// (opening the repository, index metadata, a shard's file list, a chunk mid-shard, a checksum, the reader
/// thread itself); it keeps the file and shard typed up to the exit code (`exit::SNAPSHOT_UNREADABLE`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    /// The cause (named file, shard) is the source, printed on the next line.
    #[error("the snapshot cannot be read")]
    Snapshot(#[from] SnapshotError),
    #[error(
        "work item {item} is for index {index}, which source.indices does not select here; run every worker of a migration with the same settings"
    )]
    NotSelected { item: String, index: String },
    #[error(transparent)]
    Coordination(#[from] CoordinationError),
    #[error("bulk request failed after {attempts} attempts: {source}")]
    Bulk {
        attempts: u32,
        #[source]
        source: TransportError,
    },
    #[error(
        "refusing to take leases: this machine's clock is {skew} s {direction} the target's (at most {max_s} s is allowed, a tenth of the lease); leases are written with the local clock, so fix the clock (NTP) or lengthen worker.lease",
        skew = skew_s.abs(),
        direction = if *skew_s > 0 { "behind" } else { "ahead of" }
    )]
    ClockSkew { skew_s: i64, max_s: i64 },
    #[error("checking the target's clock: {0}")]
    ClockCheck(#[source] TransportError),
    #[error(
        "asking the target its version (GET /) to decide `_type` in bulk actions (target.emit_type: always or never skips this): {0}"
    )]
    TargetVersion(#[source] TransportError),
    #[error(transparent)]
    FailedDocuments(#[from] FailedDocumentsError),
    /// The working state is not this migration's (or could not be claimed); nothing was written. A refusal
    /// exits `exit::WORKING_STATE_NOT_OURS`: permanent, a restart cannot change it.
    #[error(transparent)]
    Ownership(Box<OwnershipError>),
}

impl WorkerError {
    /// The target refused the worker's credentials (HTTP 401/403) on any request: a restart cannot fix it
    /// (exit code `exit::TARGET_REFUSED`).
    pub(crate) fn is_refused_credentials(&self) -> bool {
        let transport = match self {
            WorkerError::Coordination(CoordinationError::Transport(e)) => e,
            WorkerError::Bulk { source, .. }
            | WorkerError::ClockCheck(source)
            | WorkerError::TargetVersion(source) => source,
            _ => return false,
        };
        matches!(transport, TransportError::Unauthorized { .. })
    }
}
