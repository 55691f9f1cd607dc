//! Worker failures on `platform: aws`: stopped ECS tasks, made through the ECS API of a real `moto_server` with
//! a `stoppedReason`, reach `status` (text and JSON) as `Failing` with the reason, after the last error of the
//! task's CloudWatch Logs stream when it has one (the stream and its events made through moto's Logs API, named
//! as the awslogs driver names them). moto reports a stopped task's container as never having ended (no exit
//! code), so these are failures without an exit code: transient.

use crate::aws_cli::{Aws, no_ramp};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

/// The log group of the stand-in task definition.
const LOG_GROUP: &str = "/backfill/orders-2024/workers";

#[tokio::test(flavor = "multi_thread")]
async fn stopped_ecs_tasks_are_reported_by_status() {
    // Aws::start runs its own runtime to upload the snapshot: not on this test's runtime threads.
    let aws = std::thread::spawn(Aws::start)
        .join()
        .expect("start moto and osmem");
    aws.write(no_ramp);
    let apply = aws.run(&["apply", "--auto-approve"]);
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );

    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&aws.moto.url)
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
                .log_configuration(
                    aws_sdk_ecs::types::LogConfiguration::builder()
                        .log_driver(aws_sdk_ecs::types::LogDriver::Awslogs)
                        .options("awslogs-group", LOG_GROUP)
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "worker")
                        .build()
                        .expect("log configuration"),
                )
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
    let reasons = [
        "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        "Essential container in task exited",
    ];
    let mut task_ids = Vec::new();
    for reason in reasons {
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
        task_ids.push(arn.rsplit('/').next().expect("task id").to_string());
    }
    // The second task ran and logged its error before it ended; the first never started (no stream).
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.create_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .expect("log group");
    let stream = format!("worker/worker/{}", task_ids[1]);
    logs.create_log_stream()
        .log_group_name(LOG_GROUP)
        .log_stream_name(&stream)
        .send()
        .await
        .expect("log stream");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let lines = [
        r#"{"timestamp":1,"level":"info","message":"worker w1 starting"}"#,
        "error: the snapshot cannot be read",
        "  caused by: repository s3://snapshots/orders: no such bucket",
        r#"{"timestamp":2,"level":"info","message":"worker w1: 0 item(s) completed"}"#,
    ];
    let events: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now_ms + i as i64)
                .message(*line)
                .build()
                .expect("event")
        })
        .collect();
    logs.put_log_events()
        .log_group_name(LOG_GROUP)
        .log_stream_name(&stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put log events");

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
    }
    let message_of = |task: &str| {
        failures
            .iter()
            .find(|f| f["worker"] == format!("task {task}"))
            .and_then(|f| f["message"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(message_of(&task_ids[0]), reasons[0], "{json}");
    assert_eq!(
        message_of(&task_ids[1]),
        "the snapshot cannot be read: repository s3://snapshots/orders: no such bucket (task stopped: Essential container in task exited)",
        "{json}"
    );
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
