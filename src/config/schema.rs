//! The schema of `migration.yaml` version 1: which keys exist, their types, ranges and defaults. Builds the
//! resolved [`Migration`]; cross-field rules live in `rules.rs`.

use std::path::PathBuf;
use std::time::Duration;

use super::location::Location;
use super::reader::{MapReader, Walk};
use super::schema_type_mappings::read_type_mappings;
use super::tree::Node;
use super::type_mappings::TypeMappings;
use super::types::*;

pub(crate) const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "platform",
    "source",
    "target",
    "backfill",
    "worker",
    "logs",
    "dashboard",
    "aws",
    "local",
    "transforms",
];
const SOURCE_KEYS: &[&str] = &[
    "repository",
    "snapshot",
    "region",
    "version",
    "indices",
    "type_mappings",
];
const INDICES_KEYS: &[&str] = &["include", "exclude"];
const TARGET_KEYS: &[&str] = &["endpoint", "auth", "tls", "emit_type"];
const AUTH_KEYS: &[&str] = &[
    "type",
    "username",
    "password_env",
    "password_secret_arn",
    "service",
    "region",
    "account",
    "password_secret_format",
];
const TLS_KEYS: &[&str] = &["ca_file", "insecure_skip_verify"];
const BACKFILL_KEYS: &[&str] = &[
    "state",
    "workers",
    "stop_when_complete",
    "ramp",
    "archive",
    "stop_timeout",
    "session",
    "adopt_unrecorded_working_state",
];
const RAMP_KEYS: &[&str] = &[
    "step",
    "every",
    "max_cpu_percent",
    "max_jvm_memory_pressure_percent",
];
const WORKER_KEYS: &[&str] = &[
    "batch",
    "max_connections",
    "lease",
    "failed_documents",
    "engine",
    "image",
    "cpu",
    "memory",
    "ephemeral_storage_gib",
    "subnets",
    "security_groups",
    "assign_public_ip",
    "capacity",
];
const BATCH_KEYS: &[&str] = &["max_docs", "max_bytes"];
const LOGS_KEYS: &[&str] = &["group", "retention_days"];
const DASHBOARD_KEYS: &[&str] = &["name", "target_domain"];
const AWS_KEYS: &[&str] = &["region", "profile", "tags", "cluster"];
const LOCAL_KEYS: &[&str] = &["state_dir"];

/// Upper bound on `backfill.workers`: beyond this a typo (`400` for `40`) is likelier than intent.
pub const MAX_WORKERS: i64 = 200;
pub const DEFAULT_DASHBOARD_NAME: &str = "MigrationAssistant_ReindexFromSnapshot_Dashboard";
/// Retention values CloudWatch Logs accepts.
pub const RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Walks the document; `None` when a required part could not be read (the errors say why).
pub(crate) fn read_migration(walk: &mut Walk, root: &Node, text: &str) -> Option<Migration> {
    let top = walk.map(root, "", TOP_KEYS)?;
    let version = match top.integer(walk, "version", 0, i64::MAX) {
        Some(1) => Some(1),
        Some(v) => {
            walk.error_hint(
                top.pos_of("version"),
                "version",
                format!("unsupported schema version {v}"),
                "this backfill reads version 1",
            );
            None
        }
        None if !top.has("version") => {
            walk.error_hint(
                top.pos,
                "version",
                "missing required key `version`",
                "add `version: 1` at the top",
            );
            None
        }
        None => None,
    };
    let name = top
        .required_string(walk, "name", "a DNS-like name, e.g. `orders-2024`")
        .and_then(|name| {
            if is_slug(&name) {
                return Some(name);
            }
            walk.error_hint(
                top.pos_of("name"),
                "name",
                format!("`{name}` is not a valid name"),
                "use 2-32 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit (it names stacks and the log group)",
            );
            None
        });
    let platform = match top.choice(walk, "platform", &["local", "aws"]) {
        Some("aws") => PlatformKind::Aws,
        _ => PlatformKind::Local,
    };
    let source = read_source(walk, &top);
    let target = read_target(walk, &top);
    let backfill = read_lifecycle(walk, &top);
    let worker = read_worker(walk, &top);
    let name_for_defaults = name.clone().unwrap_or_default();
    let logs = read_logs(walk, &top, &name_for_defaults);
    let dashboard = read_dashboard(walk, &top);
    let aws = read_aws(walk, &top);
    let local = read_local(walk, &top, &name_for_defaults);
    let transforms = super::transforms::read_transforms(walk, top.node("transforms"), text);
    Some(Migration {
        version: version?,
        name: name?,
        platform,
        source: source?,
        target: target?,
        backfill: backfill?,
        worker: worker?,
        logs: logs?,
        dashboard: dashboard?,
        aws: aws?,
        local: local?,
        transforms: transforms?,
    })
}

/// A DNS-like slug that is also a valid stack, service and log-group name part.
pub(crate) fn is_slug(name: &str) -> bool {
    (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn section<'n>(
    walk: &mut Walk,
    parent: &MapReader<'n>,
    key: &str,
    keys: &'static [&'static str],
) -> Option<MapReader<'n>> {
    let path = parent.key_path(key);
    match parent.node(key) {
        Some(node) => walk.map(node, &path, keys),
        None => Some(MapReader::empty(path, parent.pos)),
    }
}

fn read_source(walk: &mut Walk, top: &MapReader) -> Option<Source> {
    if !top.has("source") {
        top.missing(walk, "source", "a mapping with `repository` and `snapshot`");
        return None;
    }
    let map = section(walk, top, "source", SOURCE_KEYS)?;
    let repository = map
        .required_string(
            walk,
            "repository",
            "`s3://bucket/prefix`, a directory path or a `file://` URL",
        )
        .and_then(|text| parse_location(walk, &map, "repository", &text));
    let snapshot = map.required_string(walk, "snapshot", "the snapshot's name");
    let region = map.string(walk, "region");
    let version = map.string(walk, "version");
    let indices = match section(walk, &map, "indices", INDICES_KEYS) {
        Some(sel) => {
            let defaults = IndexSelection::default();
            IndexSelection {
                include: sel.string_list(walk, "include").unwrap_or(defaults.include),
                exclude: sel.string_list(walk, "exclude").unwrap_or(defaults.exclude),
            }
        }
        None => IndexSelection::default(),
    };
    let type_mappings = match map.node("type_mappings") {
        Some(node) => read_type_mappings(walk, node, &map.key_path("type_mappings")),
        None => Some(TypeMappings::default()),
    };
    Some(Source {
        repository: repository?,
        snapshot: snapshot?,
        region,
        version,
        indices,
        type_mappings: type_mappings?,
    })
}

/// An optional key naming a [`Location`].
fn location(walk: &mut Walk, map: &MapReader, key: &str) -> Option<Location> {
    let text = map.string(walk, key)?;
    parse_location(walk, map, key, &text)
}

/// `text`, the value of `key`, as a [`Location`]; a value that does not parse is an error at the key.
fn parse_location(walk: &mut Walk, map: &MapReader, key: &str, text: &str) -> Option<Location> {
    match Location::parse(text) {
        Ok(location) => Some(location),
        Err(err) => {
            walk.error_hint(
                map.pos_of(key),
                &map.key_path(key),
                err.to_string(),
                err.hint(),
            );
            None
        }
    }
}

fn read_target(walk: &mut Walk, top: &MapReader) -> Option<Target> {
    if !top.has("target") {
        top.missing(
            walk,
            "target",
            "a mapping with the target cluster's `endpoint`",
        );
        return None;
    }
    let map = section(walk, top, "target", TARGET_KEYS)?;
    let endpoint = map.required_string(
        walk,
        "endpoint",
        "the target's URL, e.g. `https://search.example.com:443`",
    );
    let endpoint = endpoint.and_then(|e| {
        let trimmed = e.trim_end_matches('/').to_string();
        let ok = (trimmed.starts_with("http://") || trimmed.starts_with("https://"))
            && trimmed
                .split_once("://")
                .is_some_and(|(_, host)| !host.is_empty() && !host.contains(char::is_whitespace));
        if ok {
            Some(trimmed)
        } else {
            walk.error_hint(
                map.pos_of("endpoint"),
                &map.key_path("endpoint"),
                format!("`{e}` is not an http(s) URL"),
                "write it as `https://host:port`",
            );
            None
        }
    });
    let auth = read_auth(walk, &map);
    let (auth, aws) = match auth {
        Some((auth, aws)) => (Some(auth), Some(aws)),
        None => (None, None),
    };
    let tls = section(walk, &map, "tls", TLS_KEYS).map(|t| Tls {
        ca_file: t.string(walk, "ca_file").map(PathBuf::from),
        insecure_skip_verify: t.boolean(walk, "insecure_skip_verify").unwrap_or(false),
    });
    let emit_type = match map.choice(walk, "emit_type", &["auto", "always", "never"]) {
        Some("always") => EmitType::Always,
        Some("never") => EmitType::Never,
        _ => EmitType::Auto,
    };
    Some(Target {
        endpoint: endpoint?,
        emit_type,
        auth: auth?,
        tls: tls?,
        aws: aws?,
    })
}

/// `target.auth`: how to authenticate, and what the AWS stacks need beside it ([`TargetAws`]).
fn read_auth(walk: &mut Walk, target: &MapReader) -> Option<(TargetAuth, TargetAws)> {
    let map = section(walk, target, "auth", AUTH_KEYS)?;
    let kind = if map.has("type") {
        map.choice(walk, "type", &["none", "basic", "sigv4"])?
    } else {
        "none"
    };
    let stray = |walk: &mut Walk, allowed: &[&str]| {
        for key in AUTH_KEYS
            .iter()
            .filter(|k| **k != "type" && !allowed.contains(k))
        {
            if map.has(key) {
                walk.error_hint(
                    map.pos_of(key),
                    &map.key_path(key),
                    format!("`{key}` does not apply to auth type `{kind}`"),
                    format!(
                        "remove it, or change `type`{}",
                        if allowed.is_empty() {
                            ""
                        } else {
                            " to the one it belongs to"
                        }
                    ),
                );
            }
        }
    };
    match kind {
        "basic" => {
            stray(
                walk,
                &[
                    "username",
                    "password_env",
                    "password_secret_arn",
                    "password_secret_format",
                ],
            );
            let username =
                map.required_string(walk, "username", "the user name for HTTP basic auth");
            let env = map.string(walk, "password_env");
            let arn = map.string(walk, "password_secret_arn");
            let password = match (env, arn) {
                (Some(_), Some(_)) => {
                    walk.error_hint(
                        map.pos_of("password_secret_arn"),
                        &map.key_path("password_secret_arn"),
                        "give `password_env` or `password_secret_arn`, not both",
                        "keep the one the workers can read",
                    );
                    None
                }
                (Some(name), None) => {
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        walk.error(
                            map.pos_of("password_env"),
                            &map.key_path("password_env"),
                            format!("`{name}` is not an environment variable name"),
                        );
                        None
                    } else {
                        Some(PasswordSource::Env(name))
                    }
                }
                (None, Some(arn)) => {
                    if arn.starts_with("arn:") && arn.contains(":secretsmanager:") {
                        Some(PasswordSource::SecretArn(arn))
                    } else {
                        walk.error_hint(
                            map.pos_of("password_secret_arn"),
                            &map.key_path("password_secret_arn"),
                            format!("`{arn}` is not a Secrets Manager ARN"),
                            "expected `arn:aws:secretsmanager:<region>:<account>:secret:<name>`",
                        );
                        None
                    }
                }
                (None, None) => {
                    walk.error_hint(
                        map.pos,
                        &map.key_path("password_env"),
                        "basic auth needs a password source",
                        "add `password_env: NAME_OF_VARIABLE` or `password_secret_arn: arn:aws:secretsmanager:...`",
                    );
                    None
                }
            };
            let password_secret_format =
                match map.choice(walk, "password_secret_format", &["json", "plain"]) {
                    Some("json") => Some(SecretFormat::Json),
                    Some(_) => Some(SecretFormat::Plain),
                    None if map.has("password_secret_format") => return None,
                    None => None,
                };
            let aws = TargetAws {
                account: None,
                password_secret_format,
            };
            Some((
                TargetAuth::Basic {
                    username: username?,
                    password: password?,
                },
                aws,
            ))
        }
        "sigv4" => {
            stray(walk, &["service", "region", "account"]);
            let service = match map.choice(walk, "service", &["es", "aoss"]) {
                Some("aoss") => Sigv4Service::Aoss,
                Some(_) => Sigv4Service::Es,
                None if map.has("service") => return None,
                None => Sigv4Service::Es,
            };
            let region = map.string(walk, "region").unwrap_or_default();
            // An unquoted account id is a YAML number; its digits are the id (a leading 0 is lost, and caught).
            let account = match map.node("account").map(|n| &n.value) {
                Some(super::tree::Value::Int(n)) => Some(n.to_string()),
                _ => map.string(walk, "account"),
            };
            if let Some(account) = &account
                && (account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()))
            {
                walk.error_hint(
                    map.pos_of("account"),
                    &map.key_path("account"),
                    format!("`{account}` is not an AWS account id"),
                    "write the 12 digits of the account that owns the domain, quoted: `account: \"123456789012\"`",
                );
                return None;
            }
            let aws = TargetAws {
                account,
                password_secret_format: None,
            };
            // An empty region is resolved against `aws.region` in rules.rs.
            Some((TargetAuth::Sigv4 { service, region }, aws))
        }
        _ => {
            stray(walk, &[]);
            Some((TargetAuth::None, TargetAws::default()))
        }
    }
}

fn read_lifecycle(walk: &mut Walk, top: &MapReader) -> Option<Lifecycle> {
    let map = section(walk, top, "backfill", BACKFILL_KEYS)?;
    let state = match map.choice(walk, "state", &["running", "paused", "stopped"]) {
        Some("paused") => DesiredState::Paused,
        Some("stopped") => DesiredState::Stopped,
        _ => DesiredState::Running,
    };
    let workers = map.integer(walk, "workers", 0, MAX_WORKERS).unwrap_or(1) as u32;
    let ramp = if map.has("ramp") {
        section(walk, &map, "ramp", RAMP_KEYS).map(|r| {
            let step = if r.has("step") {
                r.integer(walk, "step", 1, MAX_WORKERS).unwrap_or(1)
            } else {
                1
            };
            Ramp {
                step: step as u32,
                every: r
                    .duration(walk, "every")
                    .unwrap_or(Duration::from_secs(600)),
                max_cpu_percent: r.integer(walk, "max_cpu_percent", 1, 100).unwrap_or(80) as u32,
                max_jvm_memory_pressure_percent: r
                    .integer(walk, "max_jvm_memory_pressure_percent", 1, 100)
                    .unwrap_or(80) as u32,
            }
        })
    } else {
        None
    };
    Some(Lifecycle {
        state,
        workers,
        stop_when_complete: map.boolean(walk, "stop_when_complete").unwrap_or(true),
        ramp,
        archive: location(walk, &map, "archive"),
        stop_timeout: map
            .duration(walk, "stop_timeout")
            .unwrap_or(Duration::from_secs(15 * 60)),
        session: read_session(walk, &map)?,
        adopt_unrecorded_working_state: map
            .boolean(walk, "adopt_unrecorded_working_state")
            .unwrap_or(false),
    })
}

/// `backfill.session`: `Some(None)` when absent, `None` (with an error) when not a valid index-name suffix.
fn read_session(walk: &mut Walk, map: &MapReader) -> Option<Option<String>> {
    let Some(session) = map.string(walk, "session") else {
        return Some(None);
    };
    if is_session_name(&session) {
        return Some(Some(session));
    }
    walk.error_hint(
        map.pos_of("session"),
        &map.key_path("session"),
        format!("`{session}` is not a valid session name"),
        "use 1-64 lowercase letters, digits and hyphens: the working state becomes `.migrations_working_state_<session>`",
    );
    None
}

fn read_worker(walk: &mut Walk, top: &MapReader) -> Option<WorkerSettings> {
    let map = section(walk, top, "worker", WORKER_KEYS)?;
    let batch = section(walk, &map, "batch", BATCH_KEYS)?;
    let engine = match map.choice(walk, "engine", &["backfill", "rfs"]) {
        Some("rfs") => Engine::Rfs,
        _ => Engine::Backfill,
    };
    let memory_mib = match map.size(walk, "memory") {
        // A bare number is MiB, as in ECS; a size with a unit is converted.
        Some(bytes)
            if map
                .node("memory")
                .is_some_and(|n| matches!(n.value, super::tree::Value::Int(_))) =>
        {
            bytes
        }
        Some(bytes) => bytes / (1024 * 1024),
        None => 4096,
    };
    Some(WorkerSettings {
        batch_max_docs: batch.integer(walk, "max_docs", 1, 100_000).unwrap_or(1000) as u32,
        batch_max_bytes: batch.size(walk, "max_bytes").unwrap_or(10 * 1024 * 1024),
        max_connections: map.integer(walk, "max_connections", 1, 64).unwrap_or(4) as u32,
        lease: map
            .duration(walk, "lease")
            .unwrap_or(Duration::from_secs(600)),
        failed_documents: location(walk, &map, "failed_documents"),
        engine,
        image: map.string(walk, "image").unwrap_or_default(),
        cpu: map.integer(walk, "cpu", 256, 16384).unwrap_or(2048) as u32,
        memory_mib: u32::try_from(memory_mib).unwrap_or(u32::MAX),
        ephemeral_storage_gib: map
            .integer(walk, "ephemeral_storage_gib", 21, 200)
            .unwrap_or(21) as u32,
        subnets: map.string_list(walk, "subnets").unwrap_or_default(),
        security_groups: map.string_list(walk, "security_groups").unwrap_or_default(),
        assign_public_ip: map.boolean(walk, "assign_public_ip").unwrap_or(false),
        capacity: match map.choice(walk, "capacity", &["fargate", "fargate_spot", "mixed"]) {
            Some("fargate_spot") => Capacity::FargateSpot,
            Some("mixed") => Capacity::Mixed,
            _ => Capacity::Fargate,
        },
    })
}

fn read_logs(walk: &mut Walk, top: &MapReader, name: &str) -> Option<Logs> {
    let map = section(walk, top, "logs", LOGS_KEYS)?;
    let retention_days = match map.integer(walk, "retention_days", 1, 3653) {
        Some(days) if RETENTION_DAYS.contains(&days) => days as u32,
        Some(days) => {
            let nearest = RETENTION_DAYS
                .iter()
                .min_by_key(|v| (*v - days).abs())
                .copied()
                .unwrap_or(30);
            walk.error_hint(
                map.pos_of("retention_days"),
                &map.key_path("retention_days"),
                format!("CloudWatch Logs does not accept a retention of {days} days"),
                format!("use one of {RETENTION_DAYS:?}; the nearest is {nearest}"),
            );
            return None;
        }
        None if map.has("retention_days") => return None,
        None => 30,
    };
    let group = map
        .string(walk, "group")
        .unwrap_or_else(|| format!("/migration/{name}/reindex-from-snapshot"));
    Some(Logs {
        group,
        retention_days,
    })
}

fn read_dashboard(walk: &mut Walk, top: &MapReader) -> Option<Dashboard> {
    let map = section(walk, top, "dashboard", DASHBOARD_KEYS)?;
    let name = map
        .string(walk, "name")
        .unwrap_or_else(|| DEFAULT_DASHBOARD_NAME.to_string());
    if name.is_empty()
        || name.len() > 255
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        walk.error_hint(
            map.pos_of("name"),
            &map.key_path("name"),
            format!("`{name}` is not a valid CloudWatch dashboard name"),
            "use up to 255 letters, digits, `-` and `_`",
        );
        return None;
    }
    Some(Dashboard {
        name,
        target_domain: map.string(walk, "target_domain"),
    })
}

fn read_aws(walk: &mut Walk, top: &MapReader) -> Option<AwsSettings> {
    let map = section(walk, top, "aws", AWS_KEYS)?;
    let mut tags = map.string_map(walk, "tags").unwrap_or_default();
    tags.sort();
    Some(AwsSettings {
        region: map.string(walk, "region"),
        profile: map.string(walk, "profile"),
        tags,
        cluster: map.string(walk, "cluster"),
    })
}

fn read_local(walk: &mut Walk, top: &MapReader, name: &str) -> Option<LocalSettings> {
    let map = section(walk, top, "local", LOCAL_KEYS)?;
    let state_dir = map
        .string(walk, "state_dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!(".backfill/{name}")));
    Some(LocalSettings { state_dir })
}
