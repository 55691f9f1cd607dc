//! The worker's container settings: the `BACKFILL_*` variables the rendered ECS task passes
//! (`render::worker_env`, whose [`WorkerVar`] table names them for both sides). A `migration.yaml`, when there is one, gives the defaults and the
//! variables win; without a file (the ECS task has none) the variables alone describe the migration — a
//! minimal document is built from the required ones and validated by the ordinary config loader, then every
//! variable is applied. Read through [`Env`], so tests pass a `MapEnv`.

use std::time::Duration;

use crate::config::{
    EmitType, Env, Location, Migration, PasswordSource, Sigv4Service, TargetAuth, TypeMappings,
    is_session_name,
};
use crate::render::worker_env::WorkerVar;

/// The variable the ECS task sets from the target password's secret (basic auth).
pub(crate) const PASSWORD_VAR: &str = WorkerVar::TargetPassword.name();

/// A variable with a value the worker cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}={value:?}: expected {expected}")]
pub(crate) struct EnvError {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) expected: &'static str,
}

fn get(env: &dyn Env, var: WorkerVar) -> Option<String> {
    env.var(var.name()).filter(|v| !v.trim().is_empty())
}

fn number<N: std::str::FromStr + PartialOrd + Default>(
    env: &dyn Env,
    var: WorkerVar,
) -> Result<Option<N>, EnvError> {
    let Some(text) = get(env, var) else {
        return Ok(None);
    };
    match text.trim().parse::<N>() {
        Ok(n) if n > N::default() => Ok(Some(n)),
        _ => Err(EnvError {
            name: var.name(),
            value: text,
            expected: "a positive whole number",
        }),
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// A variable naming a [`Location`], parsed by the same parser as `migration.yaml`.
fn location(env: &dyn Env, var: WorkerVar) -> Result<Option<Location>, EnvError> {
    let Some(text) = get(env, var) else {
        return Ok(None);
    };
    Location::parse(text.trim())
        .map(Some)
        .map_err(|_| EnvError {
            name: var.name(),
            value: text,
            expected: "`s3://bucket/prefix`, a path or a `file://` URL",
        })
}

/// A minimal `migration.yaml` from the variables, for a worker started without a file; `None` unless the
/// required ones (`BACKFILL_NAME`, `_SOURCE_REPOSITORY`, `_SOURCE_SNAPSHOT`, `_TARGET_ENDPOINT`) are all set.
pub(crate) fn minimal_document(env: &dyn Env) -> Option<String> {
    // JSON strings are YAML double-quoted scalars; `$` is doubled so `${…}` is never interpolated.
    let q =
        |var: WorkerVar| get(env, var).map(|v| serde_json::json!(v.replace('$', "$$")).to_string());
    Some(format!(
        "version: 1\nname: {}\nsource:\n  repository: {}\n  snapshot: {}\ntarget:\n  endpoint: {}\n",
        q(WorkerVar::Name)?,
        q(WorkerVar::SourceRepository)?,
        q(WorkerVar::SourceSnapshot)?,
        q(WorkerVar::TargetEndpoint)?,
    ))
}

/// Applies every `BACKFILL_*` variable that is set (and not empty) over `m`.
pub(crate) fn apply(m: &mut Migration, env: &dyn Env) -> Result<(), EnvError> {
    if let Some(v) = get(env, WorkerVar::Name) {
        m.name = v;
    }
    if let Some(repository) = location(env, WorkerVar::SourceRepository)? {
        m.source.repository = repository;
    }
    if let Some(v) = get(env, WorkerVar::SourceSnapshot) {
        m.source.snapshot = v;
    }
    if let Some(v) = get(env, WorkerVar::SourceRegion) {
        m.source.region = Some(v);
    }
    // An empty list is meaningful for exclusions (exclude nothing), so these are applied when set at all.
    if let Some(v) = env.var(WorkerVar::IndicesInclude.name()) {
        m.source.indices.include = list(&v);
    }
    if let Some(v) = env.var(WorkerVar::IndicesExclude.name()) {
        m.source.indices.exclude = list(&v);
    }
    if let Some(v) = get(env, WorkerVar::TargetEndpoint) {
        m.target.endpoint = v.trim().trim_end_matches('/').to_string();
    }
    if let Some(n) = number::<u32>(env, WorkerVar::BatchMaxDocs)? {
        m.worker.batch_max_docs = n;
    }
    if let Some(n) = number::<u64>(env, WorkerVar::BatchMaxBytes)? {
        m.worker.batch_max_bytes = n;
    }
    if let Some(n) = number::<u32>(env, WorkerVar::MaxConnections)? {
        m.worker.max_connections = n;
    }
    if let Some(n) = number::<u64>(env, WorkerVar::LeaseSeconds)? {
        m.worker.lease = Duration::from_secs(n);
    }
    if let Some(destination) = location(env, WorkerVar::FailedDocuments)? {
        m.worker.failed_documents = Some(destination);
    }
    if let Some(v) = get(env, WorkerVar::Transforms) {
        m.transforms = serde_json::from_str(&v).map_err(|_| EnvError {
            name: WorkerVar::Transforms.name(),
            value: v,
            expected: "a JSON list of {\"match\": GLOB, \"jq\": PROGRAM}",
        })?;
    }
    if let Some(v) = get(env, WorkerVar::Session) {
        if !is_session_name(v.trim()) {
            return Err(EnvError {
                name: WorkerVar::Session.name(),
                value: v,
                expected: "1-64 lowercase letters, digits and hyphens (backfill.session)",
            });
        }
        m.backfill.session = Some(v.trim().to_string());
    }
    if let Some(v) = get(env, WorkerVar::EmitType) {
        m.target.emit_type = match v.trim() {
            "auto" => EmitType::Auto,
            "always" => EmitType::Always,
            "never" => EmitType::Never,
            _ => {
                return Err(EnvError {
                    name: WorkerVar::EmitType.name(),
                    value: v,
                    expected: "auto, always or never (target.emit_type)",
                });
            }
        };
    }
    if let Some(v) = get(env, WorkerVar::TypeMappings) {
        m.source.type_mappings = serde_json::from_str(&v)
            .map_err(|e| e.to_string())
            .and_then(|json| TypeMappings::from_json(&json))
            .map_err(|_| EnvError {
                name: WorkerVar::TypeMappings.name(),
                value: v.clone(),
                expected: "source.type_mappings as JSON: {\"static\": {index: {type: target}}, \"regex\": [{index, type, target}]} with valid regular expressions",
            })?;
    }
    if let Some(v) = get(env, WorkerVar::TargetInsecureSkipVerify) {
        m.target.tls.insecure_skip_verify = match v.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(EnvError {
                    name: WorkerVar::TargetInsecureSkipVerify.name(),
                    value: v,
                    expected: "true or false",
                });
            }
        };
    }
    if let Some(kind) = get(env, WorkerVar::TargetAuth) {
        m.target.auth = match kind.trim() {
            "none" => TargetAuth::None,
            "basic" => TargetAuth::Basic {
                username: get(env, WorkerVar::TargetUsername).ok_or(EnvError {
                    name: WorkerVar::TargetUsername.name(),
                    value: String::new(),
                    expected: "the user name (BACKFILL_TARGET_AUTH=basic)",
                })?,
                password: PasswordSource::Env(PASSWORD_VAR.into()),
            },
            "sigv4" => TargetAuth::Sigv4 {
                service: match get(env, WorkerVar::TargetSigv4Service).as_deref() {
                    Some("aoss") => Sigv4Service::Aoss,
                    Some("es") | None => Sigv4Service::Es,
                    Some(other) => {
                        return Err(EnvError {
                            name: WorkerVar::TargetSigv4Service.name(),
                            value: other.into(),
                            expected: "es or aoss",
                        });
                    }
                },
                region: get(env, WorkerVar::TargetSigv4Region).ok_or(EnvError {
                    name: WorkerVar::TargetSigv4Region.name(),
                    value: String::new(),
                    expected: "the target's region (BACKFILL_TARGET_AUTH=sigv4)",
                })?,
            },
            _ => {
                return Err(EnvError {
                    name: WorkerVar::TargetAuth.name(),
                    value: kind,
                    expected: "none, basic or sigv4",
                });
            }
        };
    }
    Ok(())
}

#[cfg(test)]
#[path = "env_roundtrip_tests.rs"]
mod roundtrip_tests;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{LoadOptions, MapEnv};

    fn base() -> Migration {
        let text = "version: 1\nname: file-name\nsource:\n  repository: /snap\n  snapshot: s1\ntarget:\n  endpoint: http://file:9200\nworker:\n  batch:\n    max_docs: 10\n";
        crate::config::parse(
            text,
            Path::new("/x/migration.yaml"),
            &MapEnv::default(),
            LoadOptions {
                needs_credentials: false,
            },
        )
        .expect("valid")
    }

    #[test]
    fn variables_override_the_file_and_unset_ones_keep_it() {
        let mut m = base();
        let env = MapEnv::default()
            .with("BACKFILL_NAME", "from-env")
            .with("BACKFILL_SOURCE_REPOSITORY", "s3://bucket/snaps/prod")
            .with("BACKFILL_SOURCE_REGION", "eu-west-1")
            .with("BACKFILL_INDICES_INCLUDE", "logs-*, orders")
            .with("BACKFILL_INDICES_EXCLUDE", "")
            .with("BACKFILL_TARGET_ENDPOINT", "https://target:443/")
            .with("BACKFILL_BATCH_MAX_BYTES", "1048576")
            .with("BACKFILL_MAX_CONNECTIONS", "4")
            .with("BACKFILL_LEASE_SECONDS", "900")
            .with("BACKFILL_FAILED_DOCUMENTS", "s3://bucket/failed/")
            .with("BACKFILL_TARGET_AUTH", "basic")
            .with("BACKFILL_TARGET_USERNAME", "admin")
            .with("BACKFILL_TARGET_INSECURE_SKIP_VERIFY", "true")
            .with("BACKFILL_SESSION", "orders-b");
        apply(&mut m, &env).expect("valid");
        assert_eq!(m.backfill.session.as_deref(), Some("orders-b"));
        assert_eq!(m.name, "from-env");
        assert_eq!(m.source.repository.to_string(), "s3://bucket/snaps/prod");
        assert_eq!(m.source.snapshot, "s1", "unset: the file's value");
        assert_eq!(m.source.region.as_deref(), Some("eu-west-1"));
        assert_eq!(m.source.indices.include, vec!["logs-*", "orders"]);
        assert!(m.source.indices.exclude.is_empty());
        assert_eq!(m.target.endpoint, "https://target:443");
        assert_eq!(m.worker.batch_max_docs, 10, "unset: the file's value");
        assert_eq!(
            (m.worker.batch_max_bytes, m.worker.max_connections),
            (1_048_576, 4)
        );
        assert_eq!(m.worker.lease, Duration::from_secs(900));
        assert_eq!(
            m.worker.failed_documents,
            Some(Location::parse("s3://bucket/failed").expect("valid"))
        );
        assert!(m.target.tls.insecure_skip_verify);
        assert_eq!(
            m.target.auth,
            TargetAuth::Basic {
                username: "admin".into(),
                password: PasswordSource::Env(PASSWORD_VAR.into())
            }
        );
        let mut m = base();
        apply(&mut m, &MapEnv::default()).expect("nothing set");
        assert_eq!(m, base());
    }

    #[test]
    fn unusable_values_are_named() {
        let mut m = base();
        let err = apply(
            &mut m,
            &MapEnv::default().with("BACKFILL_MAX_CONNECTIONS", "0"),
        )
        .expect_err("zero");
        assert_eq!(err.name, "BACKFILL_MAX_CONNECTIONS");
        assert!(err.to_string().contains("positive whole number"));
        let err = apply(
            &mut m,
            &MapEnv::default().with("BACKFILL_TARGET_AUTH", "basic"),
        )
        .expect_err("no user");
        assert_eq!(err.name, "BACKFILL_TARGET_USERNAME");
        let err = apply(
            &mut m,
            &MapEnv::default().with("BACKFILL_TARGET_AUTH", "kerberos"),
        )
        .expect_err("unknown");
        assert_eq!(err.name, "BACKFILL_TARGET_AUTH");
        for (name, value) in [
            ("BACKFILL_SOURCE_REPOSITORY", "s3://Bad_Bucket/x"),
            ("BACKFILL_FAILED_DOCUMENTS", "gs://bucket/failed"),
        ] {
            let err = apply(&mut m, &MapEnv::default().with(name, value)).expect_err(value);
            assert_eq!((err.name, err.value.as_str()), (name, value));
            assert!(err.to_string().contains("s3://bucket/prefix"), "{err}");
        }
        let err = apply(
            &mut m,
            &MapEnv::default().with("BACKFILL_SESSION", "Not_An_Index"),
        )
        .expect_err("not an index suffix");
        assert_eq!(err.name, "BACKFILL_SESSION");
    }

    #[test]
    fn the_variables_alone_make_a_valid_migration() {
        let env = MapEnv::default()
            .with("BACKFILL_NAME", "ecs-run")
            .with("BACKFILL_SOURCE_REPOSITORY", "/snap \"quoted\" ${HOME}")
            .with("BACKFILL_SOURCE_SNAPSHOT", "s1");
        assert_eq!(minimal_document(&env), None, "no target endpoint");
        let env = env.with("BACKFILL_TARGET_ENDPOINT", "http://t:9200");
        let text = minimal_document(&env).expect("complete");
        let m = crate::config::parse(
            &text,
            Path::new("/x/env"),
            &MapEnv::default(),
            LoadOptions {
                needs_credentials: false,
            },
        )
        .expect("valid");
        assert_eq!(m.name, "ecs-run");
        assert_eq!(m.source.repository.to_string(), "/snap \"quoted\" ${HOME}");
        assert_eq!(m.target.endpoint, "http://t:9200");
    }
}
