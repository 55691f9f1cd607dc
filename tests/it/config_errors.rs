//! Bad `migration.yaml` files: each must fail with the exact message, key path and position, and never
//! produce a configuration. Pure (no I/O beyond parsing text).

use std::path::Path;

use backfill::config::{self, ConfigErrors, LoadOptions, MapEnv};

const BASE: &str = "version: 1
name: demo
source:
  repository: /snapshots
  snapshot: snap
target:
  endpoint: http://localhost:9200
";

const AWS_BASE: &str = "version: 1
name: demo
platform: aws
source:
  repository: s3://bucket-a/prefix
  snapshot: snap
target:
  endpoint: https://search.example.com
worker:
  image: repo/backfill:1
  subnets: [subnet-1]
";

fn errors_of(yaml: &str, env: &MapEnv, options: LoadOptions) -> ConfigErrors {
    match config::parse(yaml, Path::new("migration.yaml"), env, options) {
        Ok(m) => panic!("expected errors, got a configuration: {m:?}\n--- yaml ---\n{yaml}"),
        Err(e) => e,
    }
}

/// (yaml, line, column, key path, message fragment, hint fragment)
type Case = (String, u64, u64, &'static str, &'static str, &'static str);

fn with(base: &str, extra: &str) -> String {
    format!("{base}{extra}")
}

fn cases() -> Vec<Case> {
    vec![
        // 1. syntax
        ("version: 1\nname: [a, b\n".into(), 2, 7, "(document)", "invalid YAML", "fix the syntax"),
        // 2. empty
        ("".into(), 1, 1, "(document)", "the file is empty", "backfill init"),
        // 3. not a mapping at the top
        ("- a\n- b\n".into(), 1, 1, "(document)", "expected a mapping of keys, found a list", ""),
        // 4. unknown top-level key with suggestion
        (with(BASE, "platfrom: aws\n"), 8, 1, "platfrom", "unknown key `platfrom`", "did you mean `platform`?"),
        // 5. unknown nested key with suggestion
        (with(BASE, "backfill:\n  wrokers: 3\n"), 9, 3, "backfill.wrokers", "unknown key `wrokers`", "did you mean `workers`?"),
        // 6. unknown key without a close match lists the allowed ones
        (with(BASE, "logs:\n  zzz: 1\n"), 9, 3, "logs.zzz", "unknown key `zzz`", "expected one of: group, retention_days"),
        // 7. missing version
        (BASE.replace("version: 1\n", ""), 1, 1, "version", "missing required key `version`", "add `version: 1`"),
        // 8. unsupported version
        (BASE.replace("version: 1", "version: 2"), 1, 10, "version", "unsupported schema version 2", "version 1"),
        // 9. missing name
        (BASE.replace("name: demo\n", ""), 1, 1, "name", "missing required key `name`", "DNS-like"),
        // 10. invalid name
        (BASE.replace("name: demo", "name: Demo_1"), 2, 7, "name", "`Demo_1` is not a valid name", "lowercase"),
        // 11. unknown platform
        (with(BASE, "platform: ecs\n"), 8, 11, "platform", "`ecs` is not a valid value; expected one of: local, aws", ""),
        // 12. missing source
        ("version: 1\nname: demo\ntarget:\n  endpoint: http://x:9200\n".into(), 1, 1, "source", "missing required key `source`", "repository"),
        // 13. bad S3 bucket
        (BASE.replace("/snapshots", "s3://Bad_Bucket/x"), 4, 15, "source.repository", "`Bad_Bucket` is not a valid S3 bucket name", "3-63"),
        // 14. unsupported URL scheme
        (BASE.replace("/snapshots", "gs://bucket/x"), 4, 15, "source.repository", "unsupported URL `gs://bucket/x`", "s3://"),
        // 15. missing snapshot
        (BASE.replace("  snapshot: snap\n", ""), 4, 3, "source.snapshot", "missing required key `snapshot`", "snapshot's name"),
        // 16. include is not a list
        (BASE.replace("  snapshot: snap\n", "  snapshot: snap\n  indices:\n    include: logs-*\n"), 7, 14, "source.indices.include", "expected a list of text values, found text", ""),
        // 17. endpoint without scheme
        (BASE.replace("http://localhost:9200", "localhost:9200"), 7, 13, "target.endpoint", "`localhost:9200` is not an http(s) URL", "https://host:port"),
        // 18. unknown auth type with suggestion
        (with(BASE, "  auth:\n    type: sigv5\n"), 9, 11, "target.auth.type", "`sigv5` is not a valid value", "did you mean `sigv4`?"),
        // 19. basic auth without password source
        (with(BASE, "  auth:\n    type: basic\n    username: u\n"), 9, 5, "target.auth.password_env", "basic auth needs a password source", "password_secret_arn"),
        // 20. both password sources
        (with(BASE, "  auth:\n    type: basic\n    username: u\n    password_env: P\n    password_secret_arn: arn:aws:secretsmanager:us-east-1:1:secret:x\n"), 12, 26, "target.auth.password_secret_arn", "not both", ""),
        // 21. field of another auth type
        (with(BASE, "  auth:\n    type: none\n    username: u\n"), 10, 15, "target.auth.username", "`username` does not apply to auth type `none`", "remove it"),
        // 22. bad secret ARN
        (with(BASE, "  auth:\n    type: basic\n    username: u\n    password_secret_arn: my-secret\n"), 11, 26, "target.auth.password_secret_arn", "`my-secret` is not a Secrets Manager ARN", "arn:aws:secretsmanager"),
        // 23. sigv4 without region anywhere
        (AWS_BASE.replace("https://search.example.com\n", "https://search.example.com\n  auth:\n    type: sigv4\n"), 10, 5, "target.auth.region", "sigv4 needs a region", "aws.region"),
        // 24. sigv4 over http
        (with(BASE, "  auth:\n    type: sigv4\n    region: us-east-1\n"), 7, 13, "target.endpoint", "sigv4 requests must go over https", ""),
        // 25. tls contradiction
        (with(BASE, "  tls:\n    ca_file: ca.pem\n    insecure_skip_verify: true\n"), 10, 27, "target.tls.insecure_skip_verify", "contradict", ""),
        // 26. tls flag not a boolean
        (with(BASE, "  tls:\n    insecure_skip_verify: yes please\n"), 9, 27, "target.tls.insecure_skip_verify", "expected true or false, found text", ""),
        // 27. workers out of range
        (with(BASE, "backfill:\n  workers: 1000\n"), 9, 12, "backfill.workers", "1000 is out of range: expected 0 to 200", ""),
        // 28. negative workers
        (with(BASE, "backfill:\n  workers: -1\n"), 9, 12, "backfill.workers", "-1 is out of range", ""),
        // 29. workers as text
        (with(BASE, "backfill:\n  workers: many\n"), 9, 12, "backfill.workers", "expected a whole number", ""),
        // 30. state typo
        (with(BASE, "backfill:\n  state: stoped\n"), 9, 10, "backfill.state", "`stoped` is not a valid value", "did you mean `stopped`?"),
        // 31. bad duration
        (with(BASE, "backfill:\n  ramp:\n    every: soon\n"), 10, 12, "backfill.ramp.every", "`soon` is not a duration", "90m"),
        // 32. ramp step larger than workers
        (with(BASE, "backfill:\n  workers: 2\n  ramp:\n    step: 4\n"), 11, 11, "backfill.ramp.step", "a ramp step of 4 is larger than `workers: 2`", ""),
        // 33. ramp too fast
        (with(BASE, "backfill:\n  ramp:\n    every: 10s\n"), 10, 12, "backfill.ramp.every", "closer than 1m apart", ""),
        // 34. CPU limit out of range
        (with(BASE, "backfill:\n  ramp:\n    max_cpu_percent: 150\n"), 10, 22, "backfill.ramp.max_cpu_percent", "150 is out of range: expected 1 to 100", ""),
        // 35. bad size
        (with(BASE, "worker:\n  batch:\n    max_bytes: ten megs\n"), 10, 16, "worker.batch.max_bytes", "`ten megs` is not a size", "10MiB"),
        // 36. batch too large
        (with(BASE, "worker:\n  batch:\n    max_bytes: 1GiB\n"), 10, 16, "worker.batch.max_bytes", "outside 1KiB..100MiB", ""),
        // 37. lease too short
        (with(BASE, "worker:\n  lease: 5s\n"), 9, 10, "worker.lease", "outside 1m..24h", ""),
        // 38. unknown engine
        (with(BASE, "worker:\n  engine: java\n"), 9, 11, "worker.engine", "`java` is not a valid value; expected one of: backfill, rfs", ""),
        // 39. retention not allowed by CloudWatch
        (with(BASE, "logs:\n  retention_days: 10\n"), 9, 19, "logs.retention_days", "does not accept a retention of 10 days", "nearest is 7"),
        // 40. bad dashboard name
        (with(BASE, "dashboard:\n  name: my dashboard\n"), 9, 9, "dashboard.name", "`my dashboard` is not a valid CloudWatch dashboard name", ""),
        // 41. tags not a mapping
        (with(BASE, "aws:\n  tags: [a, b]\n"), 9, 9, "aws.tags", "expected a mapping of text to text, found a list", ""),
        // 42. aws needs subnets
        (AWS_BASE.replace("  subnets: [subnet-1]\n", ""), 10, 3, "worker.subnets", "platform `aws` needs the subnets", "subnet-"),
        // 43. aws needs an image
        (AWS_BASE.replace("  image: repo/backfill:1\n", ""), 10, 3, "worker.image", "needs the worker's container image", "Dockerfile"),
        // 44. aws cannot read a local repository
        (AWS_BASE.replace("s3://bucket-a/prefix", "/mnt/snapshots"), 5, 15, "source.repository", "ECS workers cannot read the local path `/mnt/snapshots`", "s3://"),
        // 45. aws cannot use password_env
        (AWS_BASE.replace("https://search.example.com\n", "https://search.example.com\n  auth:\n    type: basic\n    username: u\n    password_env: PW\n"), 12, 19, "target.auth.password_env", "ECS workers cannot see your `PW` environment variable", "password_secret_arn"),
        // 46. aws stopped needs an S3 archive
        (with(AWS_BASE, "backfill:\n  state: stopped\n"), 13, 3, "backfill.archive", "needs an S3 destination", "archive: s3://"),
        // 47. invalid Fargate size
        (with(AWS_BASE, "  cpu: 2048\n  memory: 1GiB\n"), 13, 11, "worker.memory", "Fargate has no task size with cpu 2048 and memory 1024 MiB", ""),
        // 48. section of the wrong type
        (with(BASE, "backfill: running\n"), 8, 11, "backfill", "expected a mapping of keys, found text", ""),
        // 49. unset environment variable without default
        (BASE.replace("http://localhost:9200", "${TARGET_URL}"), 7, 13, "target.endpoint", "environment variable `TARGET_URL` is not set", "${TARGET_URL:-value}"),
        // 50. malformed interpolation
        (BASE.replace("http://localhost:9200", "${TARGET_URL"), 7, 13, "target.endpoint", "without a closing", "${NAME}"),
        // 51. duplicate key
        (with(BASE, "name: other\n"), 8, 1, "(document)", "invalid YAML", ""),
        // 52-56. every location key goes through the one parser, with the key's position
        (BASE.replace("/snapshots", "file://"), 4, 15, "source.repository", "`file://` needs a path", "file:///"),
        (BASE.replace("/snapshots", "' '"), 4, 15, "source.repository", "the location is empty", "s3://bucket/prefix"),
        (with(BASE, "backfill:\n  archive: s3://x/working-state.json\n"), 9, 12, "backfill.archive", "`x` is not a valid S3 bucket name", "3-63"),
        (with(BASE, "backfill:\n  archive: s3://my..bucket/a\n"), 9, 12, "backfill.archive", "`my..bucket` is not a valid S3 bucket name", "3-63"),
        (with(BASE, "worker:\n  failed_documents: ftp://host/failed\n"), 9, 21, "worker.failed_documents", "unsupported URL `ftp://host/failed`", "s3://"),
    ]
}

#[test]
fn every_bad_config_reports_message_and_location() {
    let env = MapEnv::default();
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 30, "keep at least 30 bad-config cases");
    for (i, (yaml, line, column, path, message, hint)) in all.iter().enumerate() {
        let errs = errors_of(yaml, &env, LoadOptions::default());
        let found = errs.errors.iter().any(|e| {
            e.key_path == *path
                && e.message.contains(message)
                && (hint.is_empty() || e.hint.as_deref().is_some_and(|h| h.contains(hint)))
                && (*line == 0 || (e.line == *line && e.column == *column))
        });
        if !found {
            failures.push(format!(
                "case {}: wanted {line}:{column} {path}: {message} [{hint}]\n  got: {errs}",
                i + 1
            ));
        }
        assert!(
            errs.errors
                .iter()
                .all(|e| e.file == Path::new("migration.yaml")),
            "every error names the file"
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let yaml = with(
        BASE,
        "platfrom: aws\nbackfill:\n  workers: 1000\n  state: runing\n",
    );
    let errs = errors_of(&yaml, &MapEnv::default(), LoadOptions::default());
    assert_eq!(errs.errors.len(), 3, "{errs}");
    assert!(
        errs.to_string()
            .starts_with("migration.yaml: 3 problems found; nothing was changed")
    );
}

#[test]
fn password_variable_must_be_set_when_the_command_connects() {
    let yaml = with(
        BASE,
        "  auth:\n    type: basic\n    username: u\n    password_env: TARGET_PW\n",
    );
    // `validate` and `render` do not connect: the variable may be unset.
    config::parse(
        &yaml,
        Path::new("migration.yaml"),
        &MapEnv::default(),
        LoadOptions::default(),
    )
    .expect("valid");
    let connect = LoadOptions {
        needs_credentials: true,
    };
    let errs = errors_of(&yaml, &MapEnv::default(), connect);
    assert_eq!(errs.errors[0].key_path, "target.auth.password_env");
    assert!(
        errs.errors[0].message.contains("`TARGET_PW` is not set"),
        "{errs}"
    );
    let env = MapEnv::default().with("TARGET_PW", "s3cret");
    let m = config::parse(&yaml, Path::new("migration.yaml"), &env, connect).expect("set now");
    assert!(
        !format!("{m:?}").contains("s3cret"),
        "the password itself never enters the configuration"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let errs = config::load(
        Path::new("/nonexistent/migration.yaml"),
        &MapEnv::default(),
        LoadOptions::default(),
    )
    .expect_err("missing file");
    let text = errs.to_string();
    assert!(
        text.contains("/nonexistent/migration.yaml: cannot read the file"),
        "{text}"
    );
    assert!(text.contains("backfill init"), "{text}");
}
