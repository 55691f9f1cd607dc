//! Rendering: every example renders deterministically, passes cfn-lint, keeps the fleet size out of the
//! stack, never leaks a secret, charts only metrics the worker emits, and is injection-safe for any string.

use crate::support;

use std::path::{Path, PathBuf};

use backfill::config::{
    self, Capacity, LoadOptions, Location, MapEnv, Migration, PasswordSource, S3Location,
    TargetAuth,
};
use backfill::render::{self, Templates, metrics};
use proptest::prelude::*;
use serde_json::Value;

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read examples").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("migration"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(found.len() >= 3, "examples missing: {found:?}");
    found
}

fn load(path: &Path) -> Migration {
    config::load(path, &MapEnv::default(), LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_example_is_valid_and_renders_deterministically() {
    for path in examples() {
        let m = load(&path);
        let a = render::render(&m, &Templates::embedded()).expect("render");
        let b = render::render(&load(&path), &Templates::embedded()).expect("render again");
        assert_eq!(a, b, "{}: rendering must be byte-identical", path.display());
        assert_eq!(a.stacks.stacks.len(), 3);
        let names: Vec<&str> = a
            .stacks
            .stacks
            .iter()
            .map(|s| s.stack_name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                format!("{}-logs", m.name),
                format!("{}-workers", m.name),
                format!("{}-dashboard", m.name)
            ]
        );
    }
}

/// A text replacement in an example (`from`, `to`).
type Edit<'a> = (&'a str, &'a str);

/// The examples, and variants of them that take the other branches of the templates: Spot and mixed capacity,
/// a serverless target, a SigV4 target in another account, a plain secret.
fn examples_and_variants() -> Vec<(String, Migration)> {
    let mut all: Vec<(String, Migration)> = examples()
        .iter()
        .map(|p| (p.display().to_string(), load(p)))
        .collect();
    let variants: [(&str, &str, &[Edit]); 4] = [
        (
            "spot",
            "aws/migration.yaml",
            &[("  batch:\n", "  capacity: fargate_spot\n  batch:\n")],
        ),
        (
            "aoss-other-account",
            "aws/migration.yaml",
            &[
                (
                    "    service: es\n",
                    "    service: aoss\n    account: \"210987654321\"\n",
                ),
                (
                    "https://search-orders-abc123.us-east-1.es.amazonaws.com",
                    "https://abc123def456.us-east-1.aoss.amazonaws.com",
                ),
            ],
        ),
        (
            "rfs-plain-fargate",
            "aws/migration-rfs-basic.yaml",
            &[
                (
                    "password_secret_format: json",
                    "password_secret_format: plain",
                ),
                ("capacity: mixed", "capacity: fargate"),
            ],
        ),
        (
            "rfs-created-cluster",
            "aws/migration-rfs-basic.yaml",
            &[("  cluster: migration-cluster\n", "")],
        ),
    ];
    for (label, example, edits) in variants {
        all.push((label.to_string(), example_with(example, edits)));
    }
    all
}

#[test]
fn every_rendered_template_passes_cfn_lint() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut templates = Vec::new();
    for (i, (_, m)) in examples_and_variants().iter().enumerate() {
        let dir = out.path().join(i.to_string());
        std::fs::create_dir(&dir).expect("mkdir");
        let rendered = render::render(m, &Templates::embedded()).expect("render");
        for (name, content) in &rendered.files {
            std::fs::write(dir.join(name), content).expect("write");
            if name.to_string_lossy().ends_with(".template.json") {
                templates.push(dir.join(name));
            }
        }
    }
    // One run for every template (cfn-lint starts slowly).
    let result = std::process::Command::new(support::venv_bin("cfn-lint"))
        .args(&templates)
        .output()
        .expect("run cfn-lint");
    assert!(
        result.status.success(),
        "cfn-lint failed ({:?}):\n{}{}",
        examples_and_variants()
            .iter()
            .map(|(l, _)| l)
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

fn workers_template(m: &Migration) -> Value {
    let rendered = render::render(m, &Templates::embedded()).expect("render");
    serde_json::from_str(&rendered.stacks.stacks[1].template_body).expect("json")
}

#[test]
fn the_service_is_created_with_no_task_and_the_deployment_settings_of_issue_17() {
    for (path, m) in examples_and_variants() {
        let t = workers_template(&m);
        let service = &t["Resources"]["WorkerService"]["Properties"];
        assert_eq!(
            service["DesiredCount"], 0,
            "{path}: a new service starts no task; the platform leaves the count out of updates"
        );
        assert_eq!(
            service["DeploymentConfiguration"]["DeploymentCircuitBreaker"],
            serde_json::json!({ "Enable": true, "Rollback": true })
        );
        assert_eq!(service["PropagateTags"], "SERVICE");
        match m.worker.capacity {
            Capacity::Fargate => {
                assert_eq!(service["LaunchType"], "FARGATE");
                assert!(service.get("CapacityProviderStrategy").is_none());
            }
            Capacity::FargateSpot | Capacity::Mixed => {
                assert!(service.get("LaunchType").is_none(), "{path}");
                let providers: Vec<&str> = service["CapacityProviderStrategy"]
                    .as_array()
                    .expect("strategy")
                    .iter()
                    .filter_map(|s| s["CapacityProvider"].as_str())
                    .collect();
                assert!(providers.contains(&"FARGATE_SPOT"), "{providers:?}");
            }
        }
        if let Some(cluster) = t["Resources"].get("WorkerCluster") {
            assert_eq!(
                cluster["Properties"]["CapacityProviders"],
                serde_json::json!(["FARGATE", "FARGATE_SPOT"]),
                "a created cluster can run every capacity"
            );
        }
    }
}

#[test]
fn secrets_never_appear_in_rendered_output() {
    let yaml = "version: 1\nname: demo\nsource: {repository: /s, snapshot: x}\ntarget:\n  endpoint: http://t:9200\n  auth: {type: basic, username: u, password_env: TARGET_PW}\n";
    let env = MapEnv::default().with("TARGET_PW", "hunter2-SECRET");
    let m = config::parse(
        yaml,
        Path::new("m.yaml"),
        &env,
        LoadOptions {
            needs_credentials: true,
        },
    )
    .expect("valid");
    let rendered = render::render(&m, &Templates::embedded()).expect("render");
    for (name, content) in &rendered.files {
        assert!(
            !content.contains("hunter2-SECRET"),
            "{} leaks the password",
            name.display()
        );
    }
    // With a secret ARN, only the ARN is referenced (through ECS secrets), never a value.
    let m =
        load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration-rfs-basic.yaml"));
    let t = workers_template(&m);
    let container =
        &t["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"][0];
    assert_eq!(container["Secrets"][0]["Name"], "RFS_TARGET_PASSWORD");
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:target-password-AbCdEf";
    assert_eq!(
        container["Secrets"][0]["ValueFrom"],
        format!("{arn}:password::"),
        "a JSON secret (password_secret_format: json): ECS reads its `password` field"
    );
    let plain = example_with(
        "aws/migration-rfs-basic.yaml",
        &[(
            "password_secret_format: json",
            "password_secret_format: plain",
        )],
    );
    let container = &workers_template(&plain)["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"]
        [0];
    assert_eq!(
        container["Secrets"][0]["ValueFrom"], arn,
        "a plain secret is the password as it is"
    );
}

/// An example with text replacements (each must apply).
fn example_with(example: &str, edits: &[(&str, &str)]) -> Migration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    let mut text = std::fs::read_to_string(&path).expect("example");
    for (from, to) in edits {
        assert!(text.contains(from), "{example} has no `{from}`");
        text = text.replace(from, to);
    }
    config::parse(&text, &path, &MapEnv::default(), LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn task_role_is_least_privilege() {
    let m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
    let t = workers_template(&m);
    let statements =
        &t["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    let text = statements.to_string();
    assert!(
        text.contains("my-snapshot-bucket/es7-snapshots/*"),
        "read of the snapshot prefix only: {text}"
    );
    assert!(
        text.contains("es:us-east-1:${AWS::AccountId}:domain/orders-abc123"),
        "es:ESHttp* on the target domain only: {text}"
    );
    // A target in another region and account: the statement names the target's, not the stack's.
    let elsewhere = example_with(
        "aws/migration.yaml",
        &[
            (
                "https://search-orders-abc123.us-east-1.es.amazonaws.com",
                "https://search-orders-0a1b2c3d.eu-west-1.es.amazonaws.com",
            ),
            (
                "    region: us-east-1\n\nbackfill:",
                "    region: eu-west-1\n    account: \"210987654321\"\n\nbackfill:",
            ),
            ("dashboard:\n  target_domain: orders-abc123\n", ""),
        ],
    );
    let t = workers_template(&elsewhere);
    let text =
        t["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .to_string();
    assert!(
        text.contains("arn:${AWS::Partition}:es:eu-west-1:210987654321:domain/orders\"")
            && text.contains("es:eu-west-1:210987654321:domain/orders/*"),
        "the domain named by the endpoint, in the target's region and account: {text}"
    );
    assert!(!text.contains("AWS::Region"), "{text}");
    assert!(
        !text.contains("\"s3:*\"") && !text.contains("\"Resource\":\"*\""),
        "no wildcards: {text}"
    );
}

fn dashboard_metrics(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(ns), Some(name)) = (row[0].as_str(), row[1].as_str()) {
                out.push((ns.to_string(), name.to_string()));
            }
        }
    }
    out
}

#[test]
fn dashboard_charts_only_metrics_the_worker_emits_and_every_required_series() {
    let m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
    let rendered = render::render(&m, &Templates::embedded()).expect("render");
    let t: Value = serde_json::from_str(&rendered.stacks.stacks[2].template_body).expect("json");
    let props = &t["Resources"]["BackfillDashboard"]["Properties"];
    assert_eq!(
        props["DashboardName"],
        "MigrationAssistant_ReindexFromSnapshot_Dashboard"
    );
    let body: Value = serde_json::from_str(
        props["DashboardBody"]["Fn::Sub"]
            .as_str()
            .expect("Fn::Sub body"),
    )
    .expect("body json");
    let charted = dashboard_metrics(&body);
    for (ns, name) in &charted {
        if ns == metrics::NAMESPACE {
            assert!(
                metrics::WORKER_METRICS.contains(&name.as_str()),
                "dashboard charts {name}, which the worker does not emit"
            );
        } else {
            assert!(
                ["AWS/ES", "AWS/ECS", "ECS/ContainerInsights"].contains(&ns.as_str()),
                "unexpected namespace {ns}"
            );
        }
    }
    let has = |ns: &str, name: &str| charted.iter().any(|(n, m)| n == ns && m == name);
    for name in [
        metrics::DOCUMENTS_MIGRATED,
        metrics::BYTES_MIGRATED,
        metrics::SHARDS_COMPLETED,
        metrics::SHARDS_TOTAL,
        metrics::FAILED_DOCUMENTS,
        metrics::BULK_RETRIES,
    ] {
        assert!(has(metrics::NAMESPACE, name), "missing {name}");
    }
    for name in [
        "CPUUtilization",
        "MasterCPUUtilization",
        "JVMMemoryPressure",
        "IndexingRate",
        "SearchableDocuments",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "ClusterUsedSpace",
        "ThroughputThrottle",
        "IopsThrottle",
        "ThreadpoolWriteRejected",
    ] {
        assert!(has("AWS/ES", name), "missing target {name}");
    }
    assert!(has("AWS/ECS", "CPUUtilization") && has("AWS/ECS", "MemoryUtilization"));
    assert!(has("ECS/ContainerInsights", "RunningTaskCount"));
    // Migration Assistant's stats and periods.
    assert_eq!(stats(&body, "AWS/ES", "IndexingRate"), ["Sum@60"]);
    assert_eq!(
        stats(&body, "AWS/ES", "SearchableDocuments"),
        ["Average@60"]
    );
    assert_eq!(stats(&body, "AWS/ES", "5xx"), ["Sum@300"]);
    for cpu in [
        ("AWS/ES", "CPUUtilization"),
        ("AWS/ES", "MasterCPUUtilization"),
        ("AWS/ECS", "CPUUtilization"),
    ] {
        let mut found = stats(&body, cpu.0, cpu.1);
        found.sort();
        assert_eq!(found, ["Average@60", "Maximum@60", "Minimum@60"], "{cpu:?}");
    }
    assert_eq!(
        stats(&body, metrics::NAMESPACE, metrics::SHARD_DURATION),
        ["p50@300", "p90@300", "Maximum@300"]
    );
}

/// `stat@period` of every row charting `namespace`/`name` (the row's own, else its widget's).
fn stats(body: &Value, namespace: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        let props = &widget["properties"];
        for row in props["metrics"].as_array().into_iter().flatten() {
            if row[0] == namespace && row[1] == name {
                let options = row
                    .as_array()
                    .and_then(|r| r.last())
                    .cloned()
                    .unwrap_or_default();
                let stat = options["stat"]
                    .as_str()
                    .or(props["stat"].as_str())
                    .unwrap_or("?");
                let period = options["period"]
                    .as_u64()
                    .or(props["period"].as_u64())
                    .unwrap_or(0);
                out.push(format!("{stat}@{period}"));
            }
        }
    }
    out
}

fn dashboard_body(m: &Migration) -> Value {
    let rendered = render::render(m, &Templates::embedded()).expect("render");
    let t: Value = serde_json::from_str(&rendered.stacks.stacks[2].template_body).expect("json");
    let sub = t["Resources"]["BackfillDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("Fn::Sub body")
        .to_string();
    serde_json::from_str(&sub).expect("body json")
}

#[test]
fn a_domain_name_selector_drives_every_target_chart() {
    let m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
    let body = dashboard_body(&m);
    let variables = body["variables"].as_array().expect("variables");
    assert_eq!(variables.len(), 1);
    let v = &variables[0];
    assert_eq!(
        (
            &v["type"],
            &v["property"],
            &v["inputType"],
            &v["populateFrom"]
        ),
        (
            &"property".into(),
            &"DomainName".into(),
            &"select".into(),
            &"DomainName".into()
        )
    );
    assert!(
        v["search"]
            .as_str()
            .is_some_and(|s| s.starts_with("{AWS/ES,ClientId,DomainName}")),
        "filled from a search of the account's AWS/ES domains: {v}"
    );
    assert_eq!(
        v["defaultValue"], "orders-abc123",
        "dashboard.target_domain is the default"
    );
    let mut target_rows = 0;
    for widget in body["widgets"].as_array().expect("widgets") {
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if row[0] == "AWS/ES" {
                target_rows += 1;
                assert_eq!(
                    (&row[2], &row[3]),
                    (&"DomainName".into(), &"orders-abc123".into()),
                    "{row}"
                );
                assert_eq!(row[5], "${AWS::AccountId}");
            }
        }
    }
    assert!(target_rows >= 13, "{target_rows}");

    // No target domain and an endpoint that names none: the first domain the search finds.
    let custom = example_with("aws/migration-rfs-basic.yaml", &[]);
    assert_eq!(custom.dashboard.target_domain, None);
    assert_eq!(
        dashboard_body(&custom)["variables"][0]["defaultValue"],
        "__FIRST"
    );
}

#[test]
fn the_rfs_engine_says_which_charts_stay_empty() {
    let text_widgets = |m: &Migration| -> String {
        dashboard_body(m)["widgets"]
            .as_array()
            .expect("widgets")
            .iter()
            .filter(|w| w["type"] == "text")
            .map(|w| {
                w["properties"]["markdown"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let rfs_migration = example_with("aws/migration-rfs-basic.yaml", &[]);
    let rfs = text_widgets(&rfs_migration);
    for missing in [
        "shards total and completed of total",
        "p50, p90 and maximum of the shard duration",
        "failed documents, bulk retries, bulk requests and lease handoffs",
    ] {
        assert!(rfs.contains(missing), "the rfs note names {missing}: {rfs}");
    }
    // Every worker chart of the rfs dashboard queries what its collector writes: the Java worker's metric
    // names with the dimensions qualifier=<name>, OTelLib=documentMigration.
    let body = dashboard_body(&rfs_migration);
    let mut rfs_rows = 0;
    for widget in body["widgets"].as_array().expect("widgets") {
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if row[0] == metrics::NAMESPACE {
                rfs_rows += 1;
                let name = row[1].as_str().expect("name");
                assert!(metrics::RFS_WORKER_METRICS.contains(&name), "{row}");
                assert_eq!(
                    (&row[2], &row[3], &row[4], &row[5]),
                    (
                        &"qualifier".into(),
                        &"legacy-logs".into(),
                        &"OTelLib".into(),
                        &"documentMigration".into()
                    ),
                    "{row}"
                );
            }
        }
    }
    assert_eq!(rfs_rows, 5);
    assert_eq!(
        stats(&body, metrics::NAMESPACE, metrics::RFS_SHARD_DURATION),
        ["SampleCount@60", "Average@300"]
    );
    let backfill = text_widgets(&load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"),
    ));
    assert!(!backfill.contains("engine: rfs"), "{backfill}");
}

#[test]
fn the_rfs_engine_runs_migration_assistants_collector_beside_the_worker() {
    let rfs = workers_template(&example_with("aws/migration-rfs-basic.yaml", &[]));
    let containers = rfs["Resources"]["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"]
        .as_array()
        .expect("containers")
        .clone();
    assert_eq!(containers.len(), 2);
    let (worker, collector) = (&containers[0], &containers[1]);
    assert_eq!(collector["Name"], "otel-collector");
    assert_eq!(
        collector["Image"],
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
    );
    assert_eq!(collector["Essential"], true);
    assert_eq!(
        collector["HealthCheck"]["Command"],
        serde_json::json!(["CMD", "/healthcheck"])
    );
    let env = |name: &str| {
        collector["Environment"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["Name"] == name)
            .map(|e| e["Value"].as_str().expect("value").to_string())
    };
    assert_eq!(env("QUALIFIER").as_deref(), Some("legacy-logs"));
    let config = env("AOT_CONFIG_CONTENT").expect("inline collector config");
    assert!(
        config.contains("namespace: 'OpenSearchMigrations'"),
        "{config}"
    );
    assert!(config.contains("exporters: [awsemf]"), "{config}");
    assert_eq!(
        worker["DependsOn"],
        serde_json::json!([{ "ContainerName": "otel-collector", "Condition": "HEALTHY" }])
    );
    let command = worker["Environment"][0]["Value"]
        .as_str()
        .expect("RFS_COMMAND");
    assert!(
        command.contains("--otel-metrics-collector-endpoint 'http://localhost:4317'"),
        "{command}"
    );
    let policy =
        rfs["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"].to_string();
    assert!(policy.contains("CollectorWritesEmfMetrics"), "{policy}");
    assert!(
        policy.contains("logs:PutLogEvents") && policy.contains("log-group:/metrics/default"),
        "{policy}"
    );

    // Our own engine: one container, no collector, no EMF statement.
    let ours = workers_template(&load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"),
    ));
    let task = &ours["Resources"]["WorkerTaskDefinition"]["Properties"];
    assert_eq!(
        task["ContainerDefinitions"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(task["ContainerDefinitions"][0].get("DependsOn").is_none());
    assert!(!ours.to_string().contains("otel") && !ours.to_string().contains("/metrics/default"));
}

#[test]
fn pipeline_artifacts_list_stacks_in_order_with_configuration_files() {
    let m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
    let rendered = render::render(&m, &Templates::embedded()).expect("render");
    let file = |name: &str| -> Value {
        let (_, content) = rendered
            .files
            .iter()
            .find(|(p, _)| p == Path::new(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        serde_json::from_str(content).expect("json")
    };
    let manifest = file("manifest.json");
    let order: Vec<&str> = manifest["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| s["stack_name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        [
            "orders-2024-logs",
            "orders-2024-workers",
            "orders-2024-dashboard"
        ]
    );
    let workers = file("orders-2024-workers.config.json");
    assert_eq!(
        workers["Parameters"]["WorkerImage"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/backfill:0.1.0"
    );
    assert_eq!(workers["Tags"]["team"], "search");
    assert_eq!(
        file("orders-2024-logs.config.json")["Parameters"]["RetentionInDays"],
        "30"
    );
}

#[test]
fn template_overrides_replace_embedded_files_and_unescaped_output_is_refused() {
    let m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("logs.json.hbs"), r#"{"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "custom-{{name}}"}}}}"#).expect("write");
    let rendered = render::render(
        &m,
        &Templates::with_overrides(dir.path()).expect("overrides"),
    )
    .expect("render");
    assert!(
        rendered.stacks.stacks[0]
            .template_body
            .contains("custom-orders-2024")
    );
    std::fs::write(dir.path().join("logs.json.hbs"), r#"{"a": "{{{name}}}"}"#).expect("write");
    let err = render::render(
        &m,
        &Templates::with_overrides(dir.path()).expect("overrides"),
    )
    .expect_err("refused");
    assert!(err.to_string().contains("skips escaping"), "{err}");
}

/// Every string leaf of a JSON document, with Fn::Sub escapes undone.
fn leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            out.push(s.replace("${!", "${"));
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                leaves(&inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| leaves(v, out)),
        Value::Object(map) => map.values().for_each(|v| leaves(v, out)),
        _ => {}
    }
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"}, {\"Injected\": true, \"x\": \"".to_string()),
        Just("line1\nline2\r\n\t".to_string()),
        Just("{{name}} {{{raw}}} {{#if x}}".to_string()),
        Just("- item\n? key\n: value\n&anchor *alias !tag | >".to_string()),
        Just("${AWS::AccountId} ${!x} $$".to_string()),
        Just("ünïcødé 日本語 🚀 \u{2028}\u{0}".to_string()),
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_render_to_valid_templates_carrying_the_value(value in hostile()) {
        let mut m = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml"));
        m.source.snapshot = value.clone();
        m.source.repository = Location::S3(S3Location { bucket: "bucket".into(), key: value.clone() });
        m.source.indices.include = vec![value.clone()];
        m.target.endpoint = value.clone();
        m.target.auth = TargetAuth::Basic { username: value.clone(), password: PasswordSource::SecretArn(value.clone()) };
        m.worker.image = value.clone();
        m.worker.subnets = vec![value.clone()];
        m.worker.security_groups = vec![value.clone()];
        m.worker.failed_documents = Some(Location::S3(S3Location { bucket: "b".into(), key: value.clone() }));
        m.logs.group = value.clone();
        m.dashboard.target_domain = Some(value.clone());
        m.aws.cluster = Some(value.clone());
        m.aws.tags = vec![("k".into(), value.clone())];
        let rendered = render::render(&m, &Templates::embedded()).expect("every template renders to valid JSON");
        let mut all = Vec::new();
        for stack in &rendered.stacks.stacks {
            let parsed: Value = serde_json::from_str(&stack.template_body).expect("valid JSON");
            leaves(&parsed, &mut all);
            prop_assert!(stack.tags.iter().any(|(_, v)| v == &value));
        }
        for (_, content) in &rendered.files {
            let parsed: Value = serde_json::from_str(content).expect("every artifact is valid JSON");
            leaves(&parsed, &mut all);
        }
        // Verbatim where the value is a whole property: snapshot, endpoint, username, subnets, groups,
        // cluster, secret ARN, image and log group (the last two as template configuration parameters).
        for expected in [&m.source.snapshot, &m.target.endpoint, &value] {
            prop_assert!(all.iter().any(|leaf| leaf == expected), "value {:?} not carried unchanged", expected);
        }
        prop_assert!(all.iter().any(|leaf| leaf.contains(&value)), "value not found inside a property");
    }
}

#[test]
fn the_codepipeline_example_passes_cfn_lint() {
    let pipeline =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/codepipeline/pipeline.yaml");
    let result = std::process::Command::new(support::venv_bin("cfn-lint"))
        .arg(&pipeline)
        .output()
        .expect("cfn-lint");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
    let buildspec =
        std::fs::read_to_string(pipeline.with_file_name("buildspec.yml")).expect("buildspec");
    assert!(
        buildspec.contains("render --out rendered"),
        "the buildspec renders what the pipeline deploys"
    );
}
