//! `backfill plan | apply | destroy` on `platform: aws`, run as a user runs them, against a real `moto_server`
//! (CloudFormation, ECS) and an `osmem-server` target (the converge step after the stacks). The plan text is
//! covered by an `insta` snapshot with ids and times filtered. The example's source repository is a real one in
//! moto's S3 (the `ES_7_10_Single` fixture uploaded), so the preflight reads it as it would on AWS.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EXAMPLE: &str = "examples/aws/migration.yaml";
/// The shared fixture uploaded where the example's `source.repository` points.
const FIXTURE: &str = "fixtures/snapshots/ES_7_10_Single";

pub(crate) struct Aws {
    dir: tempfile::TempDir,
    pub(crate) moto: support::Moto,
    osmem: support::Osmem,
}

impl Aws {
    pub(crate) fn start() -> Self {
        let aws = Aws {
            dir: tempfile::tempdir().expect("tempdir"),
            moto: support::Moto::start(),
            osmem: support::Osmem::start(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let s3 = aws.moto.s3_client();
        rt.block_on(s3.create_bucket().bucket("my-snapshot-bucket").send())
            .expect("bucket");
        let fixture = support::shared_dir().join(FIXTURE);
        support::upload_dir(&s3, &rt, &fixture, "my-snapshot-bucket", "es7-snapshots");
        aws
    }

    /// The AWS example with the target pointed at osmem (auth none); `edit` changes the YAML text further.
    pub(crate) fn write(&self, edit: impl Fn(String) -> String) -> PathBuf {
        let base = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
            .expect("example");
        let start = base.find("target:\n").expect("target block");
        let end = base.find("backfill:\n").expect("backfill block");
        let source = base[..start]
            .replace(
                "snapshot: nightly-2024-11-01",
                "snapshot: global_state_snapshot",
            )
            .replace(
                r#"include: ["orders-*", "customers"]"#,
                r#"include: ["posts_*"]"#,
            );
        let yaml = format!(
            "{source}target:\n  endpoint: {}\n\n{}",
            self.osmem.url,
            &base[end..]
        );
        let path = self.dir.path().join("migration.yaml");
        std::fs::write(&path, edit(yaml)).expect("write config");
        path
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(support::backfill_bin());
        cmd.current_dir(self.dir.path())
            .args(["-c", "migration.yaml"])
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in self.moto.env() {
            cmd.env(k, v);
        }
        cmd.env_remove("AWS_PROFILE")
            .output()
            .expect("run backfill")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn retention(days: u32) -> impl Fn(String) -> String {
    move |y| no_ramp(y).replace("retention_days: 30", &format!("retention_days: {days}"))
}

/// Without a ramp the converge step after apply sets the fleet straight to `workers`, so the next plan is
/// empty; with a ramp the fleet keeps growing and the plan honestly shows `workers 2 -> 8`.
pub(crate) fn no_ramp(yaml: String) -> String {
    let start = yaml.find("  ramp:\n").expect("ramp block");
    let end = yaml[start..].find("  archive:").expect("after ramp") + start;
    format!("{}{}", &yaml[..start], &yaml[end..])
}

#[test]
fn from_nothing_plan_shows_adds_apply_deploys_and_the_next_plan_is_empty() {
    let aws = Aws::start();
    aws.write(|y| y);
    let plan = aws.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"arn:aws:[^\s)]+", "[arn]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "[time]");
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "[target]");
    settings.add_filter(r"is OpenSearch [\d.]+", "is OpenSearch [version]");
    settings.bind(|| insta::assert_snapshot!("aws_plan_from_nothing", stderr(&plan)));

    aws.write(no_ramp);
    let json = aws.run(&["plan", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan json");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["has_changes"], true);
    assert_eq!(doc["stacks"].as_array().map(Vec::len), Some(3));

    let apply = aws.run(&["apply", "--auto-approve"]);
    let text = stderr(&apply);
    assert!(apply.status.success(), "{text}");
    assert!(text.contains("CREATE_COMPLETE"), "{text}");
    assert!(text.contains("Apply complete: 3 stack(s)"), "{text}");
    assert!(text.contains("scaled the fleet to"), "{text}");

    // status reads the ECS service (moto runs the desired tasks at once) and the target's working state (none
    // yet: nothing runs the workers' image here).
    let status = aws.run(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.get(1..4),
        Some(&["Running=8", "Pending=0", "Desired=8"][..]),
        "{text}"
    );
    assert!(lines[0].starts_with("BackfillStatus."), "{text}");

    let again = aws.run(&["plan", "--detailed-exitcode"]);
    let text = stderr(&again);
    assert_eq!(again.status.code(), Some(0), "{text}");
    assert_eq!(text.matches(": no changes").count(), 3, "{text}");
}

#[test]
fn a_retention_change_is_one_modify_with_before_and_after_then_nothing() {
    let aws = Aws::start();
    aws.write(no_ramp);
    assert!(aws.run(&["apply", "--auto-approve"]).status.success());
    aws.write(retention(60));
    let plan = aws.run(&["plan", "--detailed-exitcode"]);
    let text = stderr(&plan);
    assert_eq!(plan.status.code(), Some(2), "{text}");
    let resources: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ~ ") && !l.contains("workers"))
        .collect();
    assert_eq!(
        resources,
        ["  ~ WorkerLogGroup (AWS::Logs::LogGroup)"],
        "{text}"
    );
    // The property under the resource, and the stack parameter that feeds it.
    assert_eq!(
        text.matches("~ RetentionInDays: 30 -> 60").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to destroy"),
        "{text}"
    );
    assert!(aws.run(&["apply", "--auto-approve"]).status.success());
    assert_eq!(
        aws.run(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn renaming_the_log_group_forces_a_replacement() {
    let aws = Aws::start();
    aws.write(|y| y);
    assert!(aws.run(&["apply", "--auto-approve"]).status.success());
    aws.write(|y| y.replace("logs:\n", "logs:\n  group: /backfill/orders-renamed\n"));
    let text = stderr(&aws.run(&["plan"]));
    assert!(
        text.contains(
            "-/+ WorkerLogGroup (AWS::Logs::LogGroup)  # LogGroupName forces replacement"
        ),
        "{text}"
    );
    assert!(text.contains("forces replacement"), "{text}");
}

#[test]
fn a_saved_plan_applies_exactly_and_a_stale_one_is_refused() {
    let aws = Aws::start();
    aws.write(|y| y);
    let saved = aws.run(&["plan", "--out", "plan.json"]);
    assert!(saved.status.success(), "{}", stderr(&saved));
    let apply = aws.run(&["apply", "plan.json"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    aws.write(retention(60));
    assert!(aws.run(&["plan", "--out", "stale.json"]).status.success());
    // Someone applies a different change first.
    aws.write(retention(90));
    assert!(aws.run(&["apply", "--auto-approve"]).status.success());
    aws.write(retention(60));
    let refused = aws.run(&["apply", "stale.json"]);
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("stale plan: stack orders-2024-logs changed"),
        "{text}"
    );
}

#[test]
fn destroy_removes_every_stack_and_a_second_destroy_has_nothing_to_do() {
    let aws = Aws::start();
    aws.write(|y| {
        y.replace(
            "  archive: s3://my-snapshot-bucket/backfill/orders-2024/working-state.json\n",
            "",
        )
    });
    assert!(aws.run(&["apply", "--auto-approve"]).status.success());
    let destroy = aws.run(&["destroy", "--auto-approve", "--keep-working-state"]);
    let text = stderr(&destroy);
    assert!(destroy.status.success(), "{text}");
    assert!(
        text.contains("Destroy plan: 0 to add, 0 to change,"),
        "{text}"
    );
    assert!(text.contains("DELETE_COMPLETE"), "{text}");
    let again = aws.run(&["destroy", "--auto-approve"]);
    assert!(
        stderr(&again).contains("Nothing to destroy."),
        "{}",
        stderr(&again)
    );
    let plan = stderr(&aws.run(&["plan"]));
    assert_eq!(plan.matches(": create").count(), 3, "{plan}");
}

#[test]
fn a_deployment_the_service_rejects_ends_with_the_root_cause_and_exit_1() {
    let aws = Aws::start();
    // The workers stack runs in an existing cluster that does not exist: ECS refuses the service.
    aws.write(|y| {
        y.replace(
            "aws:\n  region: us-east-1\n",
            "aws:\n  region: us-east-1\n  cluster: no-such-cluster\n",
        )
    });
    let apply = aws.run(&["apply", "--auto-approve"]);
    let text = stderr(&apply);
    assert_eq!(apply.status.code(), Some(1), "{text}");
    assert!(text.contains("Root cause (orders-2024-workers):"), "{text}");
    assert!(text.contains("Cluster not found"), "{text}");
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses_at_once() {
    let aws = Aws::start();
    aws.write(|y| y);
    let started = std::time::Instant::now();
    let out = aws.run(&["apply"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("stdin is not a terminal"), "{text}");
    assert!(text.contains("--auto-approve"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "never waits"
    );
    // Nothing was created.
    let plan = stderr(&aws.run(&["plan"]));
    assert_eq!(plan.matches(": create").count(), 3, "{plan}");
}

#[test]
fn plan_says_when_another_migration_uses_the_dashboard_name() {
    let aws = Aws::start();
    aws.write(|y| no_ramp(y).replace("name: orders-2024", "name: other-2024"));
    let apply = aws.run(&["apply", "--auto-approve"]);
    assert!(apply.status.success(), "{}", stderr(&apply));

    aws.write(no_ramp);
    let plan = aws.run(&["plan"]);
    let text = stderr(&plan);
    assert!(plan.status.success(), "{text}");
    assert!(
        text.contains(
            "note: the dashboard name MigrationAssistant_ReindexFromSnapshot_Dashboard is already used by stack other-2024-dashboard"
        ) && text.contains("`dashboard.name`"),
        "{text}"
    );
}
