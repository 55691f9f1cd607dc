//! Cross-field rules: what no single key can say about itself (a platform that needs subnets, SigV4 that needs
//! a region, a password variable that must be set when the command will connect). Runs after the typed walk,
//! on the resolved [`Migration`], and points each error at the key the user must change.

use std::path::Path;
use std::time::Duration;

use super::location::Location;
use super::reader::Walk;
use super::tree::{Node, Pos, Value};
use super::types::*;

/// What the command about to run will do with the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The command will connect to the target from this machine, so secrets named by env vars must be set.
    pub needs_credentials: bool,
}

/// Position of the deepest existing node along `path` (e.g. `["worker", "subnets"]`).
pub(crate) fn pos_at(root: &Node, path: &[&str]) -> Pos {
    let mut node = root;
    for key in path {
        let Value::Map(entries) = &node.value else {
            break;
        };
        match entries.iter().find(|(k, _)| k.name == *key) {
            Some((_, child)) => node = child,
            None => break,
        }
    }
    node.pos
}

pub(crate) fn check(
    walk: &mut Walk,
    root: &Node,
    m: &mut Migration,
    options: LoadOptions,
    config_dir: &Path,
) {
    let at = |path: &[&str]| pos_at(root, path);

    if let TargetAuth::Sigv4 { region, .. } = &mut m.target.auth {
        if region.is_empty() {
            match &m.aws.region {
                Some(r) => *region = r.clone(),
                None => walk.error_hint(
                    at(&["target", "auth"]),
                    "target.auth.region",
                    "sigv4 needs a region",
                    "add `region: us-east-1` (the target's region) under target.auth, or set aws.region",
                ),
            }
        }
        if !m.target.endpoint.starts_with("https://") {
            walk.error_hint(
                at(&["target", "endpoint"]),
                "target.endpoint",
                "sigv4 requests must go over https",
                "use the domain's https:// endpoint",
            );
        }
    }
    if m.target.tls.insecure_skip_verify && m.target.tls.ca_file.is_some() {
        walk.error_hint(
            at(&["target", "tls", "insecure_skip_verify"]),
            "target.tls.insecure_skip_verify",
            "`insecure_skip_verify: true` and `ca_file` contradict each other",
            "keep `ca_file` to verify against your CA, or drop it to skip verification",
        );
    }

    if let Some(ramp) = &m.backfill.ramp {
        if m.backfill.workers > 0 && ramp.step > m.backfill.workers {
            walk.error_hint(
                at(&["backfill", "ramp", "step"]),
                "backfill.ramp.step",
                format!(
                    "a ramp step of {} is larger than `workers: {}`",
                    ramp.step, m.backfill.workers
                ),
                "make the step at most the number of workers",
            );
        }
        if ramp.every < Duration::from_secs(60) {
            walk.error_hint(
                at(&["backfill", "ramp", "every"]),
                "backfill.ramp.every",
                "ramp steps closer than 1m apart cannot observe the target's response",
                "use `every: 5m` or more",
            );
        }
    }
    if m.backfill.stop_timeout < Duration::from_secs(30) {
        walk.error(
            at(&["backfill", "stop_timeout"]),
            "backfill.stop_timeout",
            "must be at least 30s",
        );
    }
    if m.worker.lease < Duration::from_secs(60) || m.worker.lease > Duration::from_secs(24 * 3600) {
        walk.error_hint(
            at(&["worker", "lease"]),
            "worker.lease",
            format!(
                "a lease of {} is outside 1m..24h",
                humantime::format_duration(m.worker.lease)
            ),
            "the initial lease must cover at least one batch; it doubles on each re-acquisition",
        );
    }
    if m.worker.batch_max_bytes < 1024 || m.worker.batch_max_bytes > 100 * 1024 * 1024 {
        walk.error_hint(
            at(&["worker", "batch", "max_bytes"]),
            "worker.batch.max_bytes",
            format!("a batch of {} bytes is outside 1KiB..100MiB", m.worker.batch_max_bytes),
            "OpenSearch rejects request bodies over its http.max_content_length (100MiB by default, 10MiB on small AWS instances)",
        );
    }

    match m.platform {
        PlatformKind::Aws => check_aws(walk, root, m),
        PlatformKind::Local => check_local(walk, root, m, options, config_dir),
    }
}

fn check_aws(walk: &mut Walk, root: &Node, m: &Migration) {
    let at = |path: &[&str]| pos_at(root, path);
    if m.worker.subnets.is_empty() {
        walk.error_hint(
            at(&["worker", "subnets"]),
            "worker.subnets",
            "platform `aws` needs the subnets the workers run in",
            "add `subnets: [subnet-...]` under worker: private subnets that can reach the target and S3",
        );
    }
    if m.worker.image.is_empty() {
        walk.error_hint(
            at(&["worker", "image"]),
            "worker.image",
            "platform `aws` needs the worker's container image",
            "build it with the repository's Dockerfile, push it to ECR and give its URI here",
        );
    }
    if let Location::Local(path) = &m.source.repository {
        walk.error_hint(
            at(&["source", "repository"]),
            "source.repository",
            format!(
                "ECS workers cannot read the local path `{}`",
                path.display()
            ),
            "put the snapshot repository in S3 and use `s3://bucket/prefix`",
        );
    }
    if let TargetAuth::Basic {
        password: PasswordSource::Env(name),
        ..
    } = &m.target.auth
    {
        walk.error_hint(
            at(&["target", "auth", "password_env"]),
            "target.auth.password_env",
            format!("ECS workers cannot see your `{name}` environment variable"),
            "store the password in Secrets Manager and use `password_secret_arn`",
        );
    }
    if let TargetAuth::Basic {
        password: PasswordSource::SecretArn(_),
        ..
    } = &m.target.auth
        && m.target.aws.password_secret_format.is_none()
        && m.worker.engine == Engine::Rfs
    {
        // The `backfill` engine keeps its earlier reading (the whole secret) unless the key says otherwise.
        walk.error_hint(
            at(&["target", "auth", "password_secret_arn"]),
            "target.auth.password_secret_format",
            "`engine: rfs` cannot tell how the secret holds the password",
            "add `password_secret_format: json` (a JSON object with a `password` field, as Migration Assistant stores it) or `plain` (the whole secret is the password)",
        );
    }
    if m.backfill.state == DesiredState::Stopped
        && !m.backfill.archive.as_ref().is_some_and(Location::is_s3)
    {
        walk.error_hint(
            at(&["backfill", "archive"]),
            "backfill.archive",
            "`state: stopped` on AWS archives the working state before deleting it, and needs an S3 destination",
            "add `archive: s3://bucket/backfill/<name>/working-state.json`",
        );
    }
    if let Some(Location::Local(_)) = &m.worker.failed_documents {
        walk.error_hint(
            at(&["worker", "failed_documents"]),
            "worker.failed_documents",
            "ECS tasks lose their local files when they stop",
            "use an `s3://bucket/prefix` destination for failed documents",
        );
    }
    if m.worker.engine == Engine::Rfs && !m.transforms.is_empty() {
        walk.error_hint(
            at(&["transforms"]),
            "transforms",
            "`engine: rfs` does not run this file's jq transforms",
            "use `engine: backfill`, or drop `transforms` and configure Migration Assistant's own transformers",
        );
    }
    if m.worker.engine == Engine::Rfs && m.source.version.is_none() {
        walk.error_hint(
            at(&["source"]),
            "source.version",
            "`engine: rfs` needs the source cluster's version",
            "add `version: ES_7.10` (or `ES_6.8`, `OS_2.11`, ...) under source",
        );
    }
    if m.worker.engine == Engine::Rfs && !m.source.type_mappings.is_empty() {
        walk.error_hint(
            at(&["source", "type_mappings"]),
            "source.type_mappings",
            "`engine: rfs` does not receive source.type_mappings from this tool (its TypeMappingSanitization transformer is not rendered)",
            "use `engine: backfill`, or remove type_mappings and configure the rfs worker's transformer yourself",
        );
    }
    if !fargate_size_ok(m.worker.cpu, m.worker.memory_mib) {
        walk.error_hint(
            at(&["worker", "memory"]),
            "worker.memory",
            format!("Fargate has no task size with cpu {} and memory {} MiB", m.worker.cpu, m.worker.memory_mib),
            "cpu 1024 takes 2-8 GiB, 2048 takes 4-16 GiB, 4096 takes 8-30 GiB (1 GiB steps); see the Fargate task size table",
        );
    }
}

fn check_local(
    walk: &mut Walk,
    root: &Node,
    m: &Migration,
    options: LoadOptions,
    config_dir: &Path,
) {
    let at = |path: &[&str]| pos_at(root, path);
    if options.needs_credentials
        && let TargetAuth::Basic {
            password: PasswordSource::Env(name),
            ..
        } = &m.target.auth
        && walk.env.var(name).is_none_or(|v| v.is_empty())
    {
        walk.error_hint(
            at(&["target", "auth", "password_env"]),
            "target.auth.password_env",
            format!(
                "environment variable `{name}` is not set, and this command connects to the target"
            ),
            format!("export {name}=... before running backfill"),
        );
    }
    if let Some(ca) = &m.target.tls.ca_file {
        let full = if ca.is_absolute() {
            ca.clone()
        } else {
            config_dir.join(ca)
        };
        if !full.is_file() {
            walk.error_hint(
                at(&["target", "tls", "ca_file"]),
                "target.tls.ca_file",
                format!("CA file `{}` does not exist", full.display()),
                "give the path of a PEM file, relative to migration.yaml or absolute",
            );
        }
    }
}

/// Fargate's valid (cpu, memory) combinations.
pub fn fargate_size_ok(cpu: u32, memory_mib: u32) -> bool {
    let gib = |g: u32| g * 1024;
    match cpu {
        256 => [512, 1024, 2048].contains(&memory_mib),
        512 => (1..=4).any(|g| memory_mib == gib(g)),
        1024 => (2..=8).any(|g| memory_mib == gib(g)),
        2048 => (4..=16).any(|g| memory_mib == gib(g)),
        4096 => (8..=30).any(|g| memory_mib == gib(g)),
        8192 => (16..=60).step_by(4).any(|g| memory_mib == gib(g)),
        16384 => (32..=120).step_by(8).any(|g| memory_mib == gib(g)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_sizes_follow_the_table() {
        assert!(fargate_size_ok(2048, 4096));
        assert!(fargate_size_ok(256, 512));
        assert!(!fargate_size_ok(2048, 2048));
        assert!(!fargate_size_ok(1000, 4096));
    }
}
