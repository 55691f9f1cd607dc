//! The view model: everything a template needs, computed from the [`Migration`] in plain Rust (names, ARNs,
//! the worker's command and environment, IAM statements), so templates only lay out and never decide.
//! Secrets never enter it: a basic-auth password is only ever referenced by its Secrets Manager ARN.

use serde_json::{Value, json};

use crate::config::*;

use super::aws_target::{self, sub_escape};
use super::metrics;
use super::otel;
use super::worker_env::{WorkerVar, backfill_environment};

/// Path inside the worker container where the `rfs` engine unpacks shards.
const RFS_STORAGE: &str = "/storage";

pub(crate) fn view(m: &Migration) -> Value {
    let stacks = m.stack_names();
    json!({
        "name": m.name,
        "stacks": { "logs": stacks[0], "workers": stacks[1], "dashboard": stacks[2] },
        "logs": { "group": m.logs.group, "retention_days": m.logs.retention_days },
        "cluster": cluster_view(m),
        "service_name": format!("{}-workers", m.name),
        "task_family": format!("{}-worker", m.name),
        "worker": worker_view(m),
        "task_policy": task_policy(m),
        "execution_secrets": secrets_view(m),
        "otel": otel_view(m),
        "dashboard": dashboard_view(m),
        "metrics": {
            "namespace": metrics::NAMESPACE,
            "dimension": metrics::DIMENSION,
            "documents": metrics::DOCUMENTS_MIGRATED,
            "bytes": metrics::BYTES_MIGRATED,
            "bulk_requests": metrics::BULK_REQUESTS,
            "retries": metrics::BULK_RETRIES,
            "failed": metrics::FAILED_DOCUMENTS,
            "items_completed": metrics::WORK_ITEMS_COMPLETED,
            "shards_total": metrics::SHARDS_TOTAL,
            "shards_completed": metrics::SHARDS_COMPLETED,
            "shard_duration": metrics::SHARD_DURATION,
            "handoffs": metrics::LEASE_HANDOFFS,
            "rfs": {
                "dimension": metrics::RFS_DIMENSION,
                "lib_dimension": metrics::RFS_LIB_DIMENSION,
                "lib": metrics::RFS_LIB,
                "documents": metrics::RFS_DOCUMENTS_MIGRATED,
                "bytes": metrics::RFS_BYTES_MIGRATED,
                "shard_duration": metrics::RFS_SHARD_DURATION,
                "errors": metrics::RFS_PIPELINE_ERRORS,
            },
        },
    })
}

/// `engine: rfs` only: the collector sidecar and what the worker container needs to reach it.
fn otel_view(m: &Migration) -> Value {
    match m.worker.engine {
        Engine::Backfill => json!({ "enabled": false }),
        Engine::Rfs => json!({
            "enabled": true,
            "container": otel::collector_container(m),
            "depends_on": otel::worker_depends_on(),
        }),
    }
}

/// What the dashboard body needs, already `${`-escaped for its `Fn::Sub`. The target charts take their
/// `DomainName` from the dashboard's `DomainName` variable, a select filled from the account's `AWS/ES`
/// domains; its default is the configured (or endpoint-named) domain, else the first domain found.
fn dashboard_view(m: &Migration) -> Value {
    let target = aws_target::aws_target(m);
    json!({
        "name": m.dashboard.name,
        "domain_default": target.domain.clone().unwrap_or_else(|| "__FIRST".into()),
        // The value the variable replaces in every target metric; shown only before a domain is chosen.
        "domain": target.domain.unwrap_or_else(|| "choose-a-domain".into()),
        "target_region": target.region,
        "target_account": target.account,
        "rfs": m.worker.engine == Engine::Rfs,
    })
}

fn cluster_view(m: &Migration) -> Value {
    match &m.aws.cluster {
        Some(existing) => json!({ "create": false, "name": existing }),
        None => json!({ "create": true, "name": format!("{}-backfill", m.name) }),
    }
}

fn worker_view(m: &Migration) -> Value {
    let w = &m.worker;
    let (command, environment) = match w.engine {
        Engine::Backfill => (
            json!(["worker", "--log-format", "json"]),
            backfill_environment(m),
        ),
        Engine::Rfs => (
            json!(["/bin/sh", "-c", "/rfs-app/entrypoint.sh"]),
            json!([{ "Name": "RFS_COMMAND", "Value": rfs_command(m) }]),
        ),
    };
    json!({
        "image": w.image,
        "cpu": w.cpu.to_string(),
        "memory": w.memory_mib.to_string(),
        "ephemeral_storage_gib": w.ephemeral_storage_gib,
        "has_extra_storage": w.ephemeral_storage_gib > 21,
        "command": command,
        "environment": environment,
        "subnets": w.subnets,
        "security_groups": w.security_groups,
        "assign_public_ip": if w.assign_public_ip { "ENABLED" } else { "DISABLED" },
        // The worker checkpoints within this bound on SIGTERM (ECS waits StopTimeout before SIGKILL).
        "stop_timeout_seconds": 120,
        "capacity_provider_strategy": capacity_provider_strategy(w.capacity),
    })
}

/// `None` for on-demand Fargate (the service keeps `LaunchType: FARGATE`, which any cluster accepts); the
/// strategy otherwise. `mixed`: one on-demand task as a base, the rest 3:1 on Spot.
fn capacity_provider_strategy(capacity: Capacity) -> Value {
    match capacity {
        Capacity::Fargate => Value::Null,
        Capacity::FargateSpot => json!([{ "CapacityProvider": "FARGATE_SPOT", "Weight": 1 }]),
        Capacity::Mixed => json!([
            { "CapacityProvider": "FARGATE", "Base": 1, "Weight": 1 },
            { "CapacityProvider": "FARGATE_SPOT", "Weight": 3 },
        ]),
    }
}

/// Migration Assistant's `RfsMigrateDocuments` command line (worker.md section 2), every value shell-quoted.
pub(crate) fn rfs_command(m: &Migration) -> String {
    let q = shell_quote;
    let mut args = vec![
        "/rfs-app/runJavaWithClasspath.sh org.opensearch.migrations.RfsMigrateDocuments"
            .to_string(),
        format!("--snapshot-name {}", q(&m.source.snapshot)),
        format!("--s3-repo-uri {}", q(&m.source.repository.to_string())),
        format!("--s3-local-dir {}", q(&format!("{RFS_STORAGE}/s3_files"))),
        format!("--lucene-dir {}", q(&format!("{RFS_STORAGE}/lucene"))),
        format!("--target-host {}", q(&m.target.endpoint)),
        format!("--max-connections {}", m.worker.max_connections),
        format!("--initial-lease-duration PT{}S", m.worker.lease.as_secs()),
        format!("--documents-per-bulk-request {}", m.worker.batch_max_docs),
        format!(
            "--documents-size-per-bulk-request {}",
            m.worker.batch_max_bytes
        ),
        format!("--index-allowlist {}", q(&rfs_allowlist(&m.source.indices))),
    ];
    if let Some(region) = m.source.region.as_ref().or(m.aws.region.as_ref()) {
        args.push(format!("--s3-region {}", q(region)));
    }
    if let Some(version) = &m.source.version {
        args.push(format!("--source-version {}", q(version)));
    }
    match &m.target.auth {
        TargetAuth::None => {}
        // The password arrives as RFS_TARGET_PASSWORD from the task's secrets, never on the command line.
        TargetAuth::Basic { username, .. } => {
            args.push(format!("--target-username {}", q(username)))
        }
        TargetAuth::Sigv4 { service, region } => {
            let service = if *service == Sigv4Service::Aoss {
                "aoss"
            } else {
                "es"
            };
            args.push(format!(
                "--target-aws-service-signing-name {service} --target-aws-region {}",
                q(region)
            ));
        }
    }
    if m.target.tls.insecure_skip_verify {
        args.push("--target-insecure".to_string());
    }
    // Metrics over OTLP to the collector sidecar (traces stay off, as in Migration Assistant's default). A
    // worker released before the flag would refuse it and never start: it runs without metrics instead.
    if otel::takes_metrics_flag(&m.worker.image) {
        args.push(format!(
            "--otel-metrics-collector-endpoint {}",
            q(otel::COLLECTOR_ENDPOINT)
        ));
    }
    if let Some(session) = &m.backfill.session {
        args.push(format!("--session-name {}", q(session)));
    }
    if let Some(Location::S3(dest)) = &m.worker.failed_documents {
        args.push(format!(
            "--failed-document-stream-s3-bucket {}",
            q(&dest.bucket)
        ));
        // RFS appends its own key layout to the prefix as is, so it ends in `/`.
        if !dest.key.is_empty() {
            args.push(format!(
                "--failed-document-stream-s3-prefix {}",
                q(&dest.prefix())
            ));
        }
    }
    args.join(" ")
}

/// One `regex:` allowlist entry equivalent to include/exclude globs.
fn rfs_allowlist(sel: &IndexSelection) -> String {
    let to_regex = |glob: &str| {
        let mut out = String::new();
        for c in glob.chars() {
            match c {
                '*' => out.push_str(".*"),
                '?' => out.push('.'),
                c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
        out
    };
    let include: Vec<String> = sel.include.iter().map(|g| to_regex(g)).collect();
    let exclude: Vec<String> = sel.exclude.iter().map(|g| to_regex(g)).collect();
    let mut regex = String::from("regex:");
    if !exclude.is_empty() {
        regex.push_str(&format!("(?!(?:{})$)", exclude.join("|")));
    }
    regex.push_str(&format!("(?:{})", include.join("|")));
    regex
}

/// Single-quotes a value for `sh -c`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn secrets_view(m: &Migration) -> Value {
    match (&m.target.auth, m.worker.engine) {
        (
            TargetAuth::Basic {
                password: PasswordSource::SecretArn(arn),
                ..
            },
            engine,
        ) => {
            let name = if engine == Engine::Rfs {
                "RFS_TARGET_PASSWORD"
            } else {
                WorkerVar::TargetPassword.name()
            };
            // ECS reads one field of a JSON secret with `<arn>:<json-key>:<version-stage>:<version-id>`.
            let value_from = match m.target.aws.password_secret_format {
                Some(SecretFormat::Json) => format!("{arn}:password::"),
                _ => arn.clone(),
            };
            json!({ "any": true, "arn": arn, "list": [{ "Name": name, "ValueFrom": value_from }] })
        }
        _ => json!({ "any": false, "arn": "", "list": [] }),
    }
}

/// The task role's statements: least privilege for what this worker touches.
fn task_policy(m: &Migration) -> Value {
    let mut statements = Vec::new();
    if let Location::S3(repository) = &m.source.repository {
        let (bucket, prefix) = (&repository.bucket, &repository.key);
        let objects = format!("{bucket}/{}*", repository.prefix());
        statements.push(json!({
            "Sid": "ReadSnapshotObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [{ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{}", sub_escape(&objects)) }],
        }));
        let mut list = json!({
            "Sid": "ListSnapshotRepository",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [{ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{}", sub_escape(bucket)) }],
        });
        if !prefix.is_empty() {
            list["Condition"] =
                json!({ "StringLike": { "s3:prefix": [format!("{prefix}/*"), prefix.clone()] } });
        }
        statements.push(list);
    }
    if let Some(Location::S3(dest)) = &m.worker.failed_documents {
        let objects = format!("{}/{}*", dest.bucket, dest.prefix());
        statements.push(json!({
            "Sid": "WriteFailedDocuments",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [{ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{}", sub_escape(&objects)) }],
        }));
    }
    if let Some(statement) = aws_target::data_access_statement(m) {
        statements.push(statement);
    }
    if m.worker.engine == Engine::Rfs {
        statements.push(otel::emf_statement());
    }
    // Every task needs at least one statement to attach a policy; reading its own cluster's identity is harmless.
    if statements.is_empty() {
        statements.push(json!({
            "Sid": "NoDataAccess",
            "Effect": "Allow",
            "Action": ["sts:GetCallerIdentity"],
            "Resource": "*",
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(extra: &str) -> Migration {
        let text = format!(
            "version: 1\nname: orders\nsource:\n  repository: s3://bucket/snaps\n  snapshot: s1\ntarget:\n  endpoint: https://t:443\nbackfill:\n  workers: 1\n{extra}"
        );
        crate::config::parse(
            &text,
            std::path::Path::new("/x/migration.yaml"),
            &MapEnv::default(),
            crate::config::LoadOptions::default(),
        )
        .expect("valid")
    }

    #[test]
    fn a_session_reaches_both_engines_workers() {
        let m = migration("  session: orders-b\n");
        let env = backfill_environment(&m);
        assert!(
            env.as_array()
                .expect("list")
                .contains(&serde_json::json!({"Name": "BACKFILL_SESSION", "Value": "orders-b"})),
            "{env}"
        );
        assert!(rfs_command(&m).contains("--session-name 'orders-b'"));
        let m = migration("");
        assert!(
            !backfill_environment(&m)
                .to_string()
                .contains("BACKFILL_SESSION")
        );
        assert!(!rfs_command(&m).contains("--session-name"));
    }

    #[test]
    fn only_the_rfs_engine_gets_the_collector_its_endpoint_and_its_emf_permissions() {
        let ours = migration("");
        assert_eq!(otel_view(&ours)["enabled"], false);
        assert!(
            !task_policy(&ours)
                .to_string()
                .contains("CollectorWritesEmfMetrics")
        );
        let mut rfs = migration("");
        rfs.worker.engine = Engine::Rfs;
        let view = otel_view(&rfs);
        assert_eq!(view["enabled"], true);
        assert_eq!(view["container"]["Name"], "otel-collector");
        assert_eq!(view["depends_on"][0]["Condition"], "HEALTHY");
        assert!(
            rfs_command(&rfs)
                .ends_with("--otel-metrics-collector-endpoint 'http://localhost:4317'")
        );
        let policy = task_policy(&rfs).to_string();
        assert!(policy.contains("CollectorWritesEmfMetrics"), "{policy}");
        assert!(!policy.contains("\"Resource\":\"*\""), "{policy}");
        // A worker released before the flag would refuse it and never start.
        rfs.worker.image = "opensearch-migrations-reindex-from-snapshot:3.3.3".into();
        assert!(!rfs_command(&rfs).contains("--otel-metrics-collector-endpoint"));
    }
}
