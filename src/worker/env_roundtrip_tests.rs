//! The `BACKFILL_*` round trip: the environment the renderer declares for the worker task parses back, through
//! `worker::env`, into the same settings; and the one table names every variable either side uses.

use std::path::Path;

use serde_json::{Value, json};

use crate::config::{LoadOptions, MapEnv, Migration, PasswordSource, TargetAuth};
use crate::render::worker_env::WorkerVar;
use crate::render::{Templates, render};
use crate::worker::env as worker_env;

const AWS_EXAMPLE: &str = include_str!("../../examples/aws/migration.yaml");

fn parse(text: &str) -> Migration {
    let options = LoadOptions::default();
    crate::config::parse(text, Path::new("/x/m.yaml"), &MapEnv::default(), options)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The AWS example, and variants of it that set every other variable.
fn configs() -> Vec<Migration> {
    let basic = AWS_EXAMPLE.replace(
        "    type: sigv4\n    service: es\n    region: us-east-1\n",
        "    type: basic\n    username: migrator\n    password_secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:target-pw\n  tls:\n    insecure_skip_verify: true\n",
    );
    let aoss = AWS_EXAMPLE
        .replace("    service: es\n", "    service: aoss\n")
        .replace("  region: us-east-1\n  indices:", "  indices:")
        .replace(
            "  failed_documents: s3://my-snapshot-bucket/backfill/orders-2024/failed/\n",
            "",
        );
    // One with a session, type mappings, emit_type and transforms, so their variables round-trip too.
    let none = AWS_EXAMPLE
        .replace(
            "    type: sigv4\n    service: es\n    region: us-east-1\n",
            "    type: none\n",
        )
        .replace("backfill:\n", "backfill:\n  session: orders-b\n")
        .replace(
            "  indices:",
            "  type_mappings:\n    static:\n      orders: {order: orders, refund: orders-refunds}\n    regex:\n      - {index: \"(logs-.*)\", type: \"(.*)\", target: \"$1-$2\"}\n  indices:",
        )
        .replace("target:\n", "target:\n  emit_type: always\n")
        + "transforms:\n  - match: \"logs-*\"\n    jq: 'select(.source.level != \"debug\") | .index = \"app-\" + .index'\n  - jq: del(.source.tmp)\n";
    vec![
        parse(AWS_EXAMPLE),
        parse(&basic),
        parse(&aoss),
        parse(&none),
    ]
}

/// The workers stack's worker container, as rendered for `m`.
fn container(m: &Migration) -> Value {
    let rendered = render(m, &Templates::embedded()).expect("render");
    let workers = rendered
        .stacks
        .stacks
        .iter()
        .find(|s| s.stack_name == m.stack_names()[1])
        .expect("workers stack");
    let template: Value = serde_json::from_str(&workers.template_body).expect("json");
    template["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"][0].clone()
}

/// The container's `Environment` as the worker process sees it.
fn declared_environment(container: &Value) -> MapEnv {
    container["Environment"]
        .as_array()
        .expect("Environment")
        .iter()
        .fold(MapEnv::default(), |env, pair| {
            env.with(
                pair["Name"].as_str().expect("Name"),
                pair["Value"].as_str().expect("Value"),
            )
        })
}

/// What the worker takes from a migration: its settings, with the password as where it is read from.
fn worker_settings(m: &Migration) -> Value {
    let auth = match &m.target.auth {
        TargetAuth::Basic { username, .. } => json!({ "basic": username }),
        other => json!(format!("{other:?}")),
    };
    json!({
        "name": m.name,
        "repository": m.source.repository.to_string(),
        "snapshot": m.source.snapshot,
        "region": m.source.region.clone().or(m.aws.region.clone()),
        "include": m.source.indices.include,
        "exclude": m.source.indices.exclude,
        "endpoint": m.target.endpoint,
        "auth": auth,
        "insecure_skip_verify": m.target.tls.insecure_skip_verify,
        "batch_max_docs": m.worker.batch_max_docs,
        "batch_max_bytes": m.worker.batch_max_bytes,
        "max_connections": m.worker.max_connections,
        "lease_s": m.worker.lease.as_secs(),
        "failed_documents": m.worker.failed_documents,
        "session": m.backfill.session,
        "type_mappings": m.source.type_mappings,
        "emit_type": m.target.emit_type,
        "transforms": m.transforms,
    })
}

#[test]
fn the_rendered_environment_parses_back_into_the_same_settings() {
    for m in configs() {
        let container = container(&m);
        let env = declared_environment(&container);
        // The ECS task has no migration.yaml: the variables alone describe the migration.
        let text = worker_env::minimal_document(&env).expect("the required variables");
        let mut back = parse(&text);
        worker_env::apply(&mut back, &env).expect("every variable is usable");
        assert_eq!(worker_settings(&back), worker_settings(&m), "{}", m.name);
        if let TargetAuth::Basic { .. } = m.target.auth {
            assert_eq!(
                back.target.auth,
                TargetAuth::Basic {
                    username: "migrator".into(),
                    password: PasswordSource::Env(WorkerVar::TargetPassword.name().into()),
                }
            );
            assert_eq!(
                container["Secrets"][0]["Name"],
                WorkerVar::TargetPassword.name(),
                "ECS sets the password variable from the secret"
            );
        }
    }
}

#[test]
fn the_table_names_every_variable_the_renderer_declares_and_each_is_used() {
    let names: Vec<&str> = WorkerVar::ALL.iter().map(|v| v.name()).collect();
    let mut used = std::collections::BTreeSet::new();
    for m in configs() {
        let container = container(&m);
        for pair in container["Environment"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(container["Secrets"].as_array().into_iter().flatten())
        {
            let name = pair["Name"].as_str().expect("Name");
            assert!(names.contains(&name), "{name} is not in WorkerVar");
            used.insert(name.to_string());
        }
    }
    let unused: Vec<&&str> = names.iter().filter(|n| !used.contains(**n)).collect();
    assert!(unused.is_empty(), "never rendered: {unused:?}");
}
