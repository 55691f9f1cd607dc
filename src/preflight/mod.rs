//! Preflight: before `apply` changes anything (and in every `plan`), can this migration run as declared?
//!
//! A migration tool is trusted when it either moves every live document or says before it starts why it cannot.
//! The preflight reads only metadata — the repository data, the snapshot's index metadata, each selected shard's
//! file list, `segments_N`, `.si` and deletions (no stored field), and the target's `GET /` and index list — and
//! reports, all at once:
//! - **problems**, each with a [`ProblemKind`], the thing it is about (index, shard file, repository, target) and
//!   the ways out; any problem makes `plan` exit 1 and `apply` refuse before it changes anything;
//! - **warnings** (target indices that already hold documents, a snapshot that is not `SUCCESS`, ...);
//! - the **source summary** (`N indices, S shards, D live documents, B bytes of shard data`, per index too);
//! - the **detected target** (Elasticsearch 6–9, OpenSearch 1–3, OpenSearch Serverless);
//! - what was **not checked** (`plan --offline` skips the target and an S3 repository; a migration declared
//!   `paused` or `stopped` starts no worker and is not checked at all, so pausing never waits on a slow target).
//!
//! Layout: this file holds the report (plain values, serialized into the plan); `observe.rs` the observations
//! the I/O gathers (pure data) and the pure classification of reader and target answers; `evaluate.rs` the pure
//! [`evaluate`] (observations → report, every rule); `mapping.rs` the pure rules over an index's mapping and
//! settings; `working_state.rs` the pure judgement of whose working state the target holds; `gather.rs` the thin I/O adapter ([`check`]: snapshot repository and target client, bounded
//! concurrency, timeouts).

mod evaluate;
mod gather;
mod mapping;
mod observe;
mod working_state;

pub(crate) use evaluate::evaluate;
pub(crate) use gather::{Options, check};

use serde::{Deserialize, Serialize};

/// The whole preflight report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Preflight {
    /// What was checked.
    pub checked: Checked,
    /// What was not checked, and why (`the target (--offline)`).
    #[serde(default)]
    pub not_checked: Vec<String>,
    /// Everything that stops the migration; empty when it can run.
    #[serde(default)]
    pub problems: Vec<Problem>,
    /// What the user should know but does not stop the migration.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// What will move, when the snapshot was read.
    #[serde(default)]
    pub source: Option<SourceSummary>,
    /// The target, when it answered.
    #[serde(default)]
    pub target: Option<TargetInfo>,
}

impl Preflight {
    /// No problem was found (warnings allowed).
    pub(crate) fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Adds problems found elsewhere (e.g. whose migration owns the working state), so all are listed together.
    pub(crate) fn add_problems(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.problems.extend(problems);
    }
}

/// Which parts were checked (a part that was not is named in [`Preflight::not_checked`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checked {
    /// The repository was opened (its snapshot, indices and shards checked as far as it could be read).
    pub source: bool,
    /// The target was asked.
    pub target: bool,
}

/// What kind of problem: stable names for programs (`--json`), one per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProblemKind {
    /// The repository does not exist or cannot be read with the configured credentials and region.
    RepositoryUnreadable,
    /// Reading the snapshot metadata did not finish within the preflight's time.
    SourceTimedOut,
    /// `source.snapshot` is not in the repository.
    SnapshotMissing,
    /// `source.indices` selects no index of the snapshot.
    NoIndexSelected,
    /// An index's metadata blob cannot be read.
    IndexUnreadable,
    /// `_source: {enabled: false}`: documents cannot be rebuilt from the snapshot.
    SourceDisabled,
    /// Synthetic `_source`: the snapshot stores no `_source`.
    SyntheticSource,
    /// More than one mapping type (Elasticsearch 5.x) and no mapping of types onto target indices.
    MultipleMappingTypes,
    /// A codec, format or version in a shard that the reader does not implement.
    UnsupportedFormat,
    /// A shard cannot be opened (missing blob, corrupt file).
    ShardUnreadable,
    /// The target's credentials cannot be resolved (password variable, secret, AWS credentials, CA file).
    TargetCredentials,
    /// The target cannot be reached.
    TargetUnreachable,
    /// The target did not answer within the preflight's time.
    TargetTimedOut,
    /// The target refused the credentials (401/403).
    TargetUnauthorized,
    /// The target answered, but not as Elasticsearch or OpenSearch does.
    TargetUnrecognized,
    /// The target's working state belongs to another migration (or records none, without
    /// `backfill.adopt_unrecorded_working_state`).
    WorkingStateNotOurs,
    /// Any other problem, found by another check (message and ways out say it all).
    Other,
}

/// One thing that stops the migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Problem {
    pub kind: ProblemKind,
    /// What it is about: an index, `index logs, shard 0, file _0.si`, the repository, the target.
    #[serde(default)]
    pub subject: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
    /// How to get past it (exclude the index, fix a setting, ...).
    #[serde(default)]
    pub ways_out: Vec<String>,
}

impl Problem {
    pub(crate) fn new(
        kind: ProblemKind,
        subject: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            kind,
            subject,
            message: message.into(),
            ways_out: Vec::new(),
        }
    }

    /// A problem found by another check: its message and ways out say it all.
    #[cfg(test)]
    pub(crate) fn other(
        subject: Option<String>,
        message: impl Into<String>,
        ways_out: Vec<String>,
    ) -> Self {
        Problem::new(ProblemKind::Other, subject, message).with_ways_out(ways_out)
    }

    pub(crate) fn with_ways_out<S: Into<String>>(
        mut self,
        ways_out: impl IntoIterator<Item = S>,
    ) -> Self {
        self.ways_out.extend(ways_out.into_iter().map(Into::into));
        self
    }
}

/// Something the user should know; the migration can still run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Warning {
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
}

impl Warning {
    pub(crate) fn new(subject: Option<String>, message: impl Into<String>) -> Self {
        Warning {
            subject,
            message: message.into(),
        }
    }
}

/// What will move, from snapshot metadata only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SourceSummary {
    /// Repository location (`/mnt/repo`, `s3://bucket/prefix`).
    pub repository: String,
    pub snapshot: String,
    /// Snapshot state (`SUCCESS`, `PARTIAL`, ...).
    pub state: String,
    /// Version that wrote the snapshot, when recorded.
    #[serde(default)]
    pub version: Option<String>,
    /// Selected indices.
    pub indices: usize,
    /// Shards of the selected indices.
    pub shards: u64,
    /// Live documents in the shards that could be opened.
    pub live_documents: u64,
    /// Bytes of the files the shards list.
    pub bytes: u64,
    /// The same, per selected index, in snapshot order.
    pub per_index: Vec<IndexSummary>,
}

impl SourceSummary {
    /// `2 indices, 5 shards, 2600 live documents, 1234567 bytes of shard data`.
    pub(crate) fn line(&self) -> String {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}, {}, {}, {} of shard data",
            plural(self.indices as u64, "index", "indices"),
            plural(self.shards, "shard", "shards"),
            plural(self.live_documents, "live document", "live documents"),
            plural(self.bytes, "byte", "bytes"),
        )
    }
}

/// One selected index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexSummary {
    pub name: String,
    pub shards: u32,
    pub live_documents: u64,
    pub bytes: u64,
    /// Where each mapping type goes (`source.type_mappings`), for an index with several types or one that a
    /// `type_mappings` entry names; empty otherwise (every document to the index's own name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<TypeRoute>,
}

/// One mapping type of an index and its target index (`None`: not migrated, left out by configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TypeRoute {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub target: Option<String>,
}

/// Which product the target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Distribution {
    Elasticsearch,
    #[serde(rename = "opensearch")]
    OpenSearch,
    #[serde(rename = "opensearch_serverless")]
    OpenSearchServerless,
}

/// The target as detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TargetInfo {
    /// Endpoint without credentials.
    pub endpoint: String,
    pub distribution: Distribution,
    /// `version.number` from `GET /` (none for Serverless).
    #[serde(default)]
    pub version: Option<String>,
    /// Selected indices that already exist on the target with documents.
    #[serde(default)]
    pub indices_with_documents: Vec<ExistingIndex>,
}

impl TargetInfo {
    /// `OpenSearch 2.11.1`, `Elasticsearch 7.10.2`, `OpenSearch Serverless`.
    pub(crate) fn label(&self) -> String {
        let product = match self.distribution {
            Distribution::Elasticsearch => "Elasticsearch",
            Distribution::OpenSearch => "OpenSearch",
            Distribution::OpenSearchServerless => "OpenSearch Serverless",
        };
        match &self.version {
            Some(v) => format!("{product} {v}"),
            None => product.to_string(),
        }
    }
}

/// A target index that already holds documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExistingIndex {
    pub index: String,
    pub documents: u64,
}

/// Returned by `plan` and `apply` when the preflight found problems; maps to exit code 1 (`crate::exit`).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.sentence())]
pub(crate) struct PreflightFailed {
    pub problems: usize,
    /// `apply` refused (nothing was changed), rather than `plan` reporting.
    pub refused: bool,
}

impl PreflightFailed {
    fn sentence(&self) -> String {
        let n = match self.problems {
            1 => "1 problem".to_string(),
            n => format!("{n} problems"),
        };
        if self.refused {
            format!("apply refused: the preflight found {n} (listed above); nothing was changed")
        } else {
            format!(
                "the preflight found {n} (listed above); `backfill apply` refuses until they are fixed"
            )
        }
    }
}

#[cfg(test)]
mod tests;
