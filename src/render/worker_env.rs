//! The `backfill worker` container's settings as `BACKFILL_*` variables: the one table of their names
//! ([`WorkerVar`]) and the renderer's side, the `Environment` of the ECS task definition. `worker::env` reads the
//! same names back (as the worker's metric names live in `render::metrics`); a test renders the workers stack and
//! parses its environment back into the same settings.

use serde_json::{Value, json};

use crate::config::{EmitType, Migration, Sigv4Service, TargetAuth};

/// A `BACKFILL_*` variable the worker container reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkerVar {
    Name,
    SourceRepository,
    SourceSnapshot,
    SourceRegion,
    IndicesInclude,
    IndicesExclude,
    TargetEndpoint,
    TargetAuth,
    TargetUsername,
    /// Set by ECS from the password's secret (a task `Secrets` entry, never a plain value).
    TargetPassword,
    TargetSigv4Service,
    TargetSigv4Region,
    TargetInsecureSkipVerify,
    BatchMaxDocs,
    BatchMaxBytes,
    MaxConnections,
    LeaseSeconds,
    FailedDocuments,
    /// `backfill.session`: the working state is `.migrations_working_state_<session>`.
    Session,
    /// `target.emit_type` (`auto`, `always`, `never`).
    EmitType,
    /// `source.type_mappings` as JSON (`config::TypeMappings::to_json`).
    TypeMappings,
    /// `transforms` as a JSON list of `{"match", "jq"}` (set only when there are some).
    Transforms,
}

impl WorkerVar {
    /// Every variable, in the order the task definition lists them.
    #[cfg(test)]
    pub(crate) const ALL: [WorkerVar; 22] = [
        WorkerVar::Name,
        WorkerVar::SourceRepository,
        WorkerVar::SourceSnapshot,
        WorkerVar::SourceRegion,
        WorkerVar::IndicesInclude,
        WorkerVar::IndicesExclude,
        WorkerVar::TargetEndpoint,
        WorkerVar::TargetAuth,
        WorkerVar::TargetUsername,
        WorkerVar::TargetPassword,
        WorkerVar::TargetSigv4Service,
        WorkerVar::TargetSigv4Region,
        WorkerVar::TargetInsecureSkipVerify,
        WorkerVar::BatchMaxDocs,
        WorkerVar::BatchMaxBytes,
        WorkerVar::MaxConnections,
        WorkerVar::LeaseSeconds,
        WorkerVar::FailedDocuments,
        WorkerVar::Session,
        WorkerVar::EmitType,
        WorkerVar::TypeMappings,
        WorkerVar::Transforms,
    ];

    /// The variable's name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            WorkerVar::Name => "BACKFILL_NAME",
            WorkerVar::SourceRepository => "BACKFILL_SOURCE_REPOSITORY",
            WorkerVar::SourceSnapshot => "BACKFILL_SOURCE_SNAPSHOT",
            WorkerVar::SourceRegion => "BACKFILL_SOURCE_REGION",
            WorkerVar::IndicesInclude => "BACKFILL_INDICES_INCLUDE",
            WorkerVar::IndicesExclude => "BACKFILL_INDICES_EXCLUDE",
            WorkerVar::TargetEndpoint => "BACKFILL_TARGET_ENDPOINT",
            WorkerVar::TargetAuth => "BACKFILL_TARGET_AUTH",
            WorkerVar::TargetUsername => "BACKFILL_TARGET_USERNAME",
            WorkerVar::TargetPassword => "BACKFILL_TARGET_PASSWORD",
            WorkerVar::TargetSigv4Service => "BACKFILL_TARGET_SIGV4_SERVICE",
            WorkerVar::TargetSigv4Region => "BACKFILL_TARGET_SIGV4_REGION",
            WorkerVar::TargetInsecureSkipVerify => "BACKFILL_TARGET_INSECURE_SKIP_VERIFY",
            WorkerVar::BatchMaxDocs => "BACKFILL_BATCH_MAX_DOCS",
            WorkerVar::BatchMaxBytes => "BACKFILL_BATCH_MAX_BYTES",
            WorkerVar::MaxConnections => "BACKFILL_MAX_CONNECTIONS",
            WorkerVar::LeaseSeconds => "BACKFILL_LEASE_SECONDS",
            WorkerVar::FailedDocuments => "BACKFILL_FAILED_DOCUMENTS",
            WorkerVar::Session => "BACKFILL_SESSION",
            WorkerVar::EmitType => "BACKFILL_EMIT_TYPE",
            WorkerVar::TypeMappings => "BACKFILL_TYPE_MAPPINGS",
            WorkerVar::Transforms => "BACKFILL_TRANSFORMS",
        }
    }
}

fn pair(var: WorkerVar, value: impl Into<String>) -> Value {
    json!({ "Name": var.name(), "Value": value.into() })
}

/// The task definition's `Environment`: every setting of `m` the worker needs, as `{Name, Value}` pairs (the
/// password is not among them: it is a `Secrets` entry). README, "Worker".
pub(super) fn backfill_environment(m: &Migration) -> Value {
    let mut env = vec![
        pair(WorkerVar::Name, &m.name),
        pair(WorkerVar::SourceRepository, m.source.repository.to_string()),
        pair(WorkerVar::SourceSnapshot, &m.source.snapshot),
        pair(
            WorkerVar::IndicesInclude,
            m.source.indices.include.join(","),
        ),
        pair(
            WorkerVar::IndicesExclude,
            m.source.indices.exclude.join(","),
        ),
        pair(WorkerVar::TargetEndpoint, &m.target.endpoint),
        pair(WorkerVar::BatchMaxDocs, m.worker.batch_max_docs.to_string()),
        pair(
            WorkerVar::BatchMaxBytes,
            m.worker.batch_max_bytes.to_string(),
        ),
        pair(
            WorkerVar::MaxConnections,
            m.worker.max_connections.to_string(),
        ),
        pair(
            WorkerVar::LeaseSeconds,
            m.worker.lease.as_secs().to_string(),
        ),
    ];
    if let Some(region) = m.source.region.as_ref().or(m.aws.region.as_ref()) {
        env.push(pair(WorkerVar::SourceRegion, region));
    }
    match &m.target.auth {
        TargetAuth::None => env.push(pair(WorkerVar::TargetAuth, "none")),
        TargetAuth::Basic { username, .. } => {
            env.push(pair(WorkerVar::TargetAuth, "basic"));
            env.push(pair(WorkerVar::TargetUsername, username));
        }
        TargetAuth::Sigv4 { service, region } => {
            env.push(pair(WorkerVar::TargetAuth, "sigv4"));
            env.push(pair(
                WorkerVar::TargetSigv4Service,
                if *service == Sigv4Service::Aoss {
                    "aoss"
                } else {
                    "es"
                },
            ));
            env.push(pair(WorkerVar::TargetSigv4Region, region));
        }
    }
    if m.target.tls.insecure_skip_verify {
        env.push(pair(WorkerVar::TargetInsecureSkipVerify, "true"));
    }
    if let Some(dest) = &m.worker.failed_documents {
        env.push(pair(WorkerVar::FailedDocuments, dest.to_string()));
    }
    if let Some(session) = &m.backfill.session {
        env.push(pair(WorkerVar::Session, session));
    }
    if m.target.emit_type != EmitType::Auto {
        let setting = serde_json::to_value(m.target.emit_type).unwrap_or_default();
        env.push(pair(
            WorkerVar::EmitType,
            setting.as_str().unwrap_or("auto"),
        ));
    }
    if !m.source.type_mappings.is_empty() {
        env.push(pair(
            WorkerVar::TypeMappings,
            m.source.type_mappings.to_json().to_string(),
        ));
    }
    if !m.transforms.is_empty() {
        env.push(pair(
            WorkerVar::Transforms,
            serde_json::to_string(&m.transforms).unwrap_or_default(),
        ));
    }
    Value::Array(env)
}

// The round trip (rendered environment → `worker::env` → the same settings) is tested beside the reader, in
// `worker/env_roundtrip_tests.rs`: render does not depend on the worker.
