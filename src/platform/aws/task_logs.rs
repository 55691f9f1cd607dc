//! The last error of a stopped worker task, from its CloudWatch Logs stream: the task definition's `awslogs`
//! options name the log group and the stream prefix (`templates/workers.json.hbs`: the stack's log group,
//! prefix `worker`), and the awslogs driver names each task's stream `<prefix>/<container>/<task id>`. The end
//! of that stream goes through the same reader as a local worker's log file
//! ([`crate::platform::worker_log::last_error`]).
//!
//! A log that cannot be read (no stream: the task never started; no permission; a definition without
//! `awslogs`) leaves the failure with the task's `stoppedReason`: the logs add detail, they never decide
//! whether something failed.

use std::collections::HashMap;

use aws_sdk_ecs::types::{LogDriver, TaskDefinition};

use crate::platform::worker_log::last_error;

/// Log events read from the end of a stream: an error and its causes are the last few lines a worker writes.
const TAIL_EVENTS: i32 = 50;

/// Where one task's container writes its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogStream {
    pub group: String,
    pub stream: String,
}

/// The stream of task `task_id` of `definition`: its first container logging with `awslogs` and a stream
/// prefix (without a prefix the stream is named after the container id, which a stopped task no longer
/// tells).
pub(crate) fn log_stream(definition: &TaskDefinition, task_id: &str) -> Option<LogStream> {
    definition.container_definitions().iter().find_map(|c| {
        let config = c.log_configuration()?;
        if config.log_driver() != &LogDriver::Awslogs {
            return None;
        }
        let options = config.options()?;
        Some(LogStream {
            group: options.get("awslogs-group")?.clone(),
            stream: format!(
                "{}/{}/{task_id}",
                options.get("awslogs-stream-prefix")?,
                c.name()?
            ),
        })
    })
}

/// `log_error` and the platform's reason in one message: the log says what went wrong, the reason how the task
/// ended.
pub(crate) fn with_log_error(reason: &str, log_error: &str) -> String {
    match (log_error.trim(), reason.trim()) {
        ("", reason) => reason.to_string(),
        (log, "") => log.to_string(),
        (log, reason) => format!("{log} (task stopped: {reason})"),
    }
}

/// Reads stopped tasks' logs, remembering each task definition it described.
pub(crate) struct TaskLogs<'a> {
    pub ecs: &'a aws_sdk_ecs::Client,
    pub logs: &'a aws_sdk_cloudwatchlogs::Client,
    definitions: HashMap<String, Option<TaskDefinition>>,
}

impl<'a> TaskLogs<'a> {
    pub fn new(ecs: &'a aws_sdk_ecs::Client, logs: &'a aws_sdk_cloudwatchlogs::Client) -> Self {
        TaskLogs {
            ecs,
            logs,
            definitions: HashMap::new(),
        }
    }

    /// The last error in the log of task `task_id` of the definition `definition_arn`; `None` when there is
    /// none to read.
    pub async fn last_error(&mut self, definition_arn: &str, task_id: &str) -> Option<String> {
        if !self.definitions.contains_key(definition_arn) {
            let described = self
                .ecs
                .describe_task_definition()
                .task_definition(definition_arn)
                .send()
                .await
                .ok()
                .and_then(|out| out.task_definition().cloned());
            self.definitions
                .insert(definition_arn.to_string(), described);
        }
        let stream = log_stream(self.definitions.get(definition_arn)?.as_ref()?, task_id)?;
        let events = self
            .logs
            .get_log_events()
            .log_group_name(&stream.group)
            .log_stream_name(&stream.stream)
            .start_from_head(false)
            .limit(TAIL_EVENTS)
            .send()
            .await
            .ok()?;
        let text: Vec<&str> = events.events().iter().filter_map(|e| e.message()).collect();
        Some(last_error(&text.join("\n"))).filter(|e| !e.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_ecs::types::{ContainerDefinition, LogConfiguration};

    fn definition(driver: LogDriver, prefix: Option<&str>) -> TaskDefinition {
        let mut config = LogConfiguration::builder()
            .log_driver(driver)
            .options("awslogs-group", "/backfill/orders")
            .options("awslogs-region", "us-east-1");
        if let Some(prefix) = prefix {
            config = config.options("awslogs-stream-prefix", prefix);
        }
        TaskDefinition::builder()
            .container_definitions(
                ContainerDefinition::builder()
                    .name("worker")
                    .log_configuration(config.build().expect("log configuration"))
                    .build(),
            )
            .build()
    }

    #[test]
    fn the_stream_is_prefix_container_and_task_id() {
        assert_eq!(
            log_stream(&definition(LogDriver::Awslogs, Some("worker")), "abc123"),
            Some(LogStream {
                group: "/backfill/orders".into(),
                stream: "worker/worker/abc123".into(),
            })
        );
        assert_eq!(
            log_stream(&definition(LogDriver::Awslogs, None), "abc"),
            None
        );
        assert_eq!(
            log_stream(&definition(LogDriver::Fluentd, Some("worker")), "abc"),
            None
        );
    }

    #[test]
    fn the_log_error_comes_first_and_the_reason_after_it() {
        assert_eq!(
            with_log_error(
                "Essential container in task exited",
                "the snapshot cannot be read: no such directory"
            ),
            "the snapshot cannot be read: no such directory (task stopped: Essential container in task exited)"
        );
        assert_eq!(with_log_error("OutOfMemoryError", ""), "OutOfMemoryError");
        assert_eq!(with_log_error("", "boom"), "boom");
    }
}
