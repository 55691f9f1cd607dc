//! The resolved configuration: every default applied, every value checked. Other modules take these types,
//! never the YAML.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::location::Location;

/// A whole `migration.yaml` (schema version 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    pub version: u32,
    /// DNS-like slug; names the stacks, the service and the log group.
    pub name: String,
    pub platform: PlatformKind,
    pub source: Source,
    pub target: Target,
    pub backfill: Lifecycle,
    pub worker: WorkerSettings,
    pub logs: Logs,
    pub dashboard: Dashboard,
    pub aws: AwsSettings,
    pub local: LocalSettings,
    /// `transforms`: jq programs applied to the documents of matching indices, in order (README, "Transforms").
    pub transforms: Vec<TransformRule>,
}

/// One `transforms` rule; its program compiled when the file was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TransformRule {
    /// `match`: a glob on the source index name (`*`: every index).
    #[serde(rename = "match")]
    pub index_pattern: String,
    /// `jq`: the program's text.
    pub jq: String,
    /// `timeout`: how long the program may run on one document (default [`DEFAULT_TRANSFORM_TIMEOUT`]); past
    /// it the document is a failed document and the migration goes on.
    #[serde(default = "default_transform_timeout")]
    pub timeout: Duration,
}

/// How long a `transforms` program may run on one document unless its rule says `timeout`.
pub const DEFAULT_TRANSFORM_TIMEOUT: Duration = Duration::from_secs(1);

fn default_transform_timeout() -> Duration {
    DEFAULT_TRANSFORM_TIMEOUT
}

impl TransformRule {
    /// True when this rule applies to the documents of source index `index`.
    pub fn applies_to(&self, index: &str) -> bool {
        glob_match(&self.index_pattern, index)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    Local,
    Aws,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// Where the snapshot repository lives.
    pub repository: Location,
    pub snapshot: String,
    /// Region of the S3 bucket (defaults to `aws.region`).
    pub region: Option<String>,
    /// The source cluster's version (`ES_7.10`, `OS_2.11`); the `rfs` engine requires it.
    pub version: Option<String>,
    pub indices: IndexSelection,
    /// `source.type_mappings`: where each mapping type of a multi-type index goes (empty: nowhere else).
    pub type_mappings: super::TypeMappings,
}

/// Which indices of the snapshot to migrate: glob patterns (`*`, `?`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexSelection {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Default for IndexSelection {
    fn default() -> Self {
        IndexSelection {
            include: vec!["*".into()],
            exclude: vec![".*".into()],
        }
    }
}

impl IndexSelection {
    /// True when `index` matches an include pattern and no exclude pattern.
    pub(crate) fn matches(&self, index: &str) -> bool {
        self.include.iter().any(|p| glob_match(p, index))
            && !self.exclude.iter().any(|p| glob_match(p, index))
    }
}

/// `*` matches any run of characters, `?` exactly one; everything else literally.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// `http(s)://host[:port]`, no trailing slash.
    pub endpoint: String,
    pub auth: TargetAuth,
    pub tls: Tls,
    /// `target.emit_type`: whether bulk actions carry `_type`.
    pub emit_type: EmitType,
    /// What the AWS deployment needs to know about the target beyond how to reach it.
    pub aws: TargetAws,
}

/// `target.emit_type`: `_type` in bulk actions. `auto` asks the target (`GET /`): Elasticsearch before 7 needs
/// it, Elasticsearch 7+ and OpenSearch take none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmitType {
    #[default]
    Auto,
    Always,
    Never,
}

/// The target as the AWS stacks see it: whose account holds it (for the workers' IAM policy and the dashboard)
/// and how the ECS task reads a Secrets Manager password.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TargetAws {
    /// `target.auth.account` (SigV4): the AWS account of the domain or collection; `None` is the stack's own.
    pub account: Option<String>,
    /// `target.auth.password_secret_format`: how a `password_secret_arn` secret holds the password.
    pub password_secret_format: Option<SecretFormat>,
}

/// How a Secrets Manager secret holds the target password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretFormat {
    /// A JSON object with a `password` field (Migration Assistant's `{"username": .., "password": ..}`); the
    /// ECS task reads that field alone.
    Json,
    /// The whole secret string is the password.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TargetAuth {
    None,
    Basic {
        username: String,
        password: PasswordSource,
    },
    Sigv4 {
        service: Sigv4Service,
        region: String,
    },
}

/// Where a basic-auth password comes from. The password itself is never part of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSource {
    /// Name of an environment variable holding it.
    Env(String),
    /// ARN of a Secrets Manager secret holding it.
    SecretArn(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sigv4Service {
    Es,
    Aoss,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

/// The declared lifecycle the converge loop drives to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifecycle {
    pub state: DesiredState,
    pub workers: u32,
    pub stop_when_complete: bool,
    pub ramp: Option<Ramp>,
    /// Where `stopped` archives the working state: a value ending in `.json` is the archive file (or object)
    /// itself, anything else a directory (or key prefix) for `working_state_backup_<timestamp>.json` files. An
    /// S3 location is required on AWS before `state: stopped`; locally it defaults to `_archives/<name>/` beside
    /// the state directory.
    pub archive: Option<Location>,
    /// How long `stopped` waits for running workers before giving up.
    #[serde(with = "humantime_serde_like")]
    pub stop_timeout: Duration,
    /// `backfill.session`: the working state is `.migrations_working_state_<session>` (Migration Assistant's
    /// session naming), so several migrations can share one target. `None`: `.migrations_working_state`.
    pub session: Option<String>,
    /// `backfill.adopt_unrecorded_working_state`: use (and record as this migration's) a working state that
    /// records no migration — written by Migration Assistant's worker or an older `backfill`.
    pub adopt_unrecorded_working_state: bool,
}

/// A `backfill.session` name: 1-64 lowercase letters, digits and hyphens. It becomes the suffix of an index
/// name (`.migrations_working_state_<session>`, lowercase only), and Migration Assistant's `--session-name`
/// accepts letters, digits and hyphens, so the console can read the same index.
pub(crate) fn is_session_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DesiredState {
    Running,
    Paused,
    Stopped,
}

/// Gradual scale-up while the target stays healthy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ramp {
    pub step: u32,
    #[serde(with = "humantime_serde_like")]
    pub every: Duration,
    pub max_cpu_percent: u32,
    pub max_jvm_memory_pressure_percent: u32,
}

/// How one worker runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerSettings {
    pub batch_max_docs: u32,
    pub batch_max_bytes: u64,
    pub max_connections: u32,
    #[serde(with = "humantime_serde_like")]
    pub lease: Duration,
    /// Where documents the target rejects are written (NDJSON): a local directory or an S3 key prefix.
    pub failed_documents: Option<Location>,
    pub engine: Engine,
    /// Container image (AWS).
    pub image: String,
    /// ECS task CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// ECS task memory in MiB.
    pub memory_mib: u32,
    pub ephemeral_storage_gib: u32,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: bool,
    /// Which Fargate capacity the ECS service runs on.
    pub capacity: Capacity,
}

/// `worker.capacity`: on-demand Fargate, Fargate Spot, or both. Workers checkpoint on SIGTERM, which suits
/// Spot's two-minute interruption notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    Fargate,
    FargateSpot,
    /// One on-demand task as a base, the rest spread over Spot and on-demand 3:1.
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// This project's worker image (`backfill worker`).
    Backfill,
    /// Migration Assistant's reindex-from-snapshot image (Java), arguments rendered from this file.
    Rfs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logs {
    pub group: String,
    pub retention_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    pub name: String,
    /// Amazon OpenSearch Service domain name of the target, for the target charts.
    pub target_domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Stack tags, sorted by key.
    pub tags: Vec<(String, String)>,
    /// An existing ECS cluster to run in; `None` creates one.
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalSettings {
    pub state_dir: PathBuf,
}

/// Serializes durations as humantime text (`1h 30m`) in JSON views of the config.
mod humantime_serde_like {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selection_skips_dot_indices() {
        let sel = IndexSelection::default();
        assert!(sel.matches("logs-2024"));
        assert!(!sel.matches(".kibana_1"));
    }

    #[test]
    fn session_names_are_lowercase_index_suffixes() {
        assert!(is_session_name("orders-2024"));
        assert!(is_session_name("a"));
        for bad in ["", "Orders", "a_b", "a b", "a/b", "x*", &"a".repeat(65)] {
            assert!(!is_session_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn globs_match_like_shell_patterns() {
        assert!(glob_match("logs-*", "logs-2024.01"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*-*-x", "a-b-c-x"));
        assert!(!glob_match("logs-*", "metrics"));
    }
}
