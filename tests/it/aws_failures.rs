//! Worker failures on `platform: aws`: stopped ECS tasks, made through the ECS API of a real `moto_server` with
//! a `stoppedReason`, reach `status` (text and JSON) as `Failing` with the reason. moto reports a stopped task's
//! container as never having ended (no exit code), so these are failures without an exit code: transient.

use crate::aws_cli::{Aws, no_ramp};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

/// Why the two tasks stopped.
const REASONS: [&str; 2] = [
    "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
    "Essential container in task exited",
];

#[test]
fn stopped_ecs_tasks_are_reported_by_status() {
    // `Aws::start` runs a runtime of its own (the fixture's upload to S3), so this is not a tokio test.
    let aws = Aws::start();
    aws.write(no_ramp);
    let apply = aws.run(&["apply", "--auto-approve"]);
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(stop_two_tasks(&aws.moto.url));
    let reasons = REASONS;

    let out = aws.run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(json["status"], "Failing", "{json}");
    let failures = json["worker_failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 2, "{json}");
    for f in failures {
        assert!(
            f["worker"].as_str().is_some_and(|w| w.starts_with("task ")),
            "{json}"
        );
        assert_eq!(f["exit_code"], serde_json::Value::Null, "{json}");
        assert!(
            reasons.contains(&f["message"].as_str().unwrap_or_default()),
            "{json}"
        );
    }
    let reason = json["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("2 workers ended without an exit code in the last 5 minutes: "),
        "{reason}"
    );
    assert!(!reason.contains("restarts stopped"), "{reason}");

    let text = String::from_utf8_lossy(&aws.run(&["status"]).stdout).to_string();
    assert!(text.starts_with("BackfillStatus."), "{text}");
    assert!(
        text.contains("\nStatus: Failing\nReason: 2 workers ended without an exit code"),
        "{text}"
    );
}

/// Two tasks of the workers' cluster, started as the service would and stopped with [`REASONS`].
async fn stop_two_tasks(moto_url: &str) {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(moto_url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cluster = "orders-2024-backfill";
    // moto 5 cannot run the workers' own task definition (it answers 500), and its ListTasks ignores the
    // service filter: a minimal task definition in the workers' cluster stands in for the service's tasks.
    let registered = ecs
        .register_task_definition()
        .family("orders-2024-worker")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("worker")
                .image("backfill:latest")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    let task_definition = registered
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("task definition arn")
        .to_string();
    for reason in REASONS {
        let run = ecs
            .run_task()
            .cluster(cluster)
            .task_definition(&task_definition)
            .started_by("ecs-svc/1")
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .network_configuration(
                aws_sdk_ecs::types::NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                            .subnets("subnet-1")
                            .build()
                            .expect("awsvpc"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("run task");
        let arn = run.tasks()[0].task_arn().expect("arn").to_string();
        ecs.stop_task()
            .cluster(cluster)
            .task(&arn)
            .reason(reason)
            .send()
            .await
            .expect("stop task");
    }
}
