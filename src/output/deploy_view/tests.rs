use super::*;
use crate::output::testing::{closed, live, plain, stdout_closed};
use crate::platform::{DeployAction, DeployStatus, FailedResource, StatusCategory};

/// The CloudFormation statuses these tests use, as the AWS platform reports them.
fn cfn(status: &str) -> DeployStatus {
    let (action, category) = match status {
        "CREATE_IN_PROGRESS" => (DeployAction::Create, StatusCategory::InProgress),
        "CREATE_COMPLETE" => (DeployAction::Create, StatusCategory::Complete),
        "UPDATE_FAILED" => (DeployAction::Update, StatusCategory::Failed),
        "UPDATE_ROLLBACK_COMPLETE" => (DeployAction::Update, StatusCategory::RolledBack),
        other => panic!("add {other} to the test's statuses"),
    };
    DeployStatus {
        category,
        action: Some(action),
        native: Some(status.to_string()),
    }
}

fn started(stack: &str, operation: &str) -> DeployEvent {
    DeployEvent::StackStarted {
        stack: stack.into(),
        operation: operation.into(),
    }
}

fn resource(stack: &str, logical_id: &str, status: &str, reason: Option<&str>) -> DeployEvent {
    let resource_type = match logical_id {
        "LogGroup" => "AWS::Logs::LogGroup",
        _ => "AWS::ECS::Service",
    };
    DeployEvent::Resource {
        stack: stack.into(),
        logical_id: logical_id.into(),
        resource_type: resource_type.into(),
        status: cfn(status),
        reason: reason.map(String::from),
        timestamp: "2026-07-21T14:02:11Z".into(),
    }
}

fn finished(stack: &str, status: &str, ok: bool) -> DeployEvent {
    DeployEvent::StackFinished {
        stack: stack.into(),
        status: cfn(status),
        ok,
        elapsed_ms: 12_345,
    }
}

/// A create that succeeds, then an update whose service fails and rolls back.
fn failing_update() -> Vec<DeployEvent> {
    vec![
        started("m-logs", "create"),
        resource("m-logs", "LogGroup", "CREATE_IN_PROGRESS", None),
        resource("m-logs", "LogGroup", "CREATE_COMPLETE", None),
        finished("m-logs", "CREATE_COMPLETE", true),
        DeployEvent::Notice {
            stack: "m-workers".into(),
            message: "deleting the failed stack before creating it again".into(),
        },
        started("m-workers", "update"),
        resource(
            "m-workers",
            "Service",
            "UPDATE_FAILED",
            Some("Resource handler returned message: \"Invalid request\""),
        ),
        finished("m-workers", "UPDATE_ROLLBACK_COMPLETE", false),
    ]
}

fn failure() -> DeployError {
    DeployError::Failed {
        stack: "m-workers".into(),
        root_cause: Some(Box::new(FailedResource {
            logical_id: "Service".into(),
            resource_type: "AWS::ECS::Service".into(),
            status: cfn("UPDATE_FAILED"),
            reason: "Resource handler returned message: \"Invalid request\"".into(),
        })),
        outcome: "UPDATE_ROLLBACK_COMPLETE".into(),
    }
}

/// A view on `printer` that has rendered the failing update.
fn after_failing_update(printer: Printer) -> DeployView {
    let view = DeployView::new(printer);
    for event in failing_update() {
        view.event(event);
    }
    view
}

/// The elapsed-time stamps are the only thing that changes from run to run.
fn without_times(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.strip_prefix('[').and_then(|l| l.split_once("s] ")) {
            Some((_, rest)) => format!("[T] {rest}"),
            None => line.to_string(),
        };
        let line = match line.split_once(" stack(s) in ") {
            Some((head, _)) => format!("{head} stack(s) in T."),
            None => line,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The text a terminal would show at the end, roughly: ANSI escapes removed, every line ever drawn kept.
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI: ESC [ parameters final-byte
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            '\r' => out.push('\n'),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn plain_events_then_the_root_cause_block() {
    let (printer, out, err) = plain(Format::Human);
    let view = after_failing_update(printer);
    view.finish_failed(&failure()).expect("printed");
    assert_eq!(
        out.text(),
        "",
        "events are progress, not the command's result"
    );
    insta::assert_snapshot!(without_times(&err.text()));
}

#[test]
fn plain_events_then_the_summary_line() {
    let (printer, _, err) = plain(Format::Human);
    let view = DeployView::new(printer);
    for event in failing_update().into_iter().take(4) {
        view.event(event);
    }
    view.finish_ok("Apply").expect("printed");
    let text = without_times(&err.text());
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "[T] m-logs: create started",
            "[T] m-logs: LogGroup (AWS::Logs::LogGroup) CREATE_IN_PROGRESS",
            "[T] m-logs: LogGroup (AWS::Logs::LogGroup) CREATE_COMPLETE",
            "[T] m-logs: CREATE_COMPLETE in 12.3s",
            "Apply complete: 1 stack(s) in T.",
        ]
    );
}

#[test]
fn a_root_cause_without_a_failed_resource_says_so() {
    let (printer, _, err) = plain(Format::Human);
    let view = DeployView::new(printer);
    let error = DeployError::Failed {
        stack: "m-logs".into(),
        root_cause: None,
        outcome: "ROLLBACK_COMPLETE".into(),
    };
    view.finish_failed(&error).expect("printed");
    assert_eq!(
        err.text(),
        "Root cause (m-logs):\n  no failed resource event was reported\n  stack is now: ROLLBACK_COMPLETE\n"
    );
}

#[test]
fn live_bars_show_each_resource_and_lines_above_them() {
    let (printer, out, err) = live();
    let view = after_failing_update(printer);
    view.finish_failed(&failure()).expect("printed");
    drop(view);
    assert_eq!(out.text(), "");
    let raw = err.text();
    assert!(raw.contains('\x1b'), "bars redraw in place: {raw:?}");
    let screen = without_escapes(&raw);
    let has = |needle: &str| screen.lines().any(|l| l.contains(needle));
    // Each resource is one bar, ending with its final status.
    assert!(
        has("m-logs/LogGroup (AWS::Logs::LogGroup) CREATE_COMPLETE"),
        "{screen}"
    );
    assert!(
        has(
            "m-workers/Service (AWS::ECS::Service) UPDATE_FAILED (Resource handler returned message: \"Invalid request\")"
        ),
        "{screen}"
    );
    // Stack events are printed as lines above the bars, as in plain mode.
    assert!(has("m-logs: create started"), "{screen}");
    assert!(
        has("m-workers: UPDATE_ROLLBACK_COMPLETE in 12.3s"),
        "{screen}"
    );
    assert!(has("m-workers: deleting the failed stack"), "{screen}");
    // Resource events are not also printed as plain lines.
    assert!(
        !has("m-logs: LogGroup (AWS::Logs::LogGroup) CREATE_COMPLETE"),
        "{screen}"
    );
    assert!(has("Root cause (m-workers):"), "{screen}");
}

#[test]
fn json_is_one_event_document_per_line_on_stdout_and_no_root_cause_text() {
    let (printer, out, err) = plain(Format::Json);
    let view = after_failing_update(printer);
    view.finish_failed(&failure()).expect("printed");
    assert_eq!(err.text(), "");
    let lines = out.json_lines();
    assert_eq!(lines.len(), failing_update().len());
    assert_eq!(lines[0]["event"], "stack_started");
    assert_eq!(lines[6]["status"]["native"], "UPDATE_FAILED");
    assert_eq!(lines[6]["status"]["category"], "failed");
    assert_eq!(lines[7]["ok"], false);
}

#[test]
fn the_first_write_error_is_returned_at_the_end_and_nothing_is_printed_after_it() {
    for format in [Format::Human, Format::Json] {
        let view = after_failing_update(closed(format));
        let err = view
            .finish_ok("Apply")
            .expect_err("the events were not written");
        assert!(err.is_closed_pipe());
        let view = DeployView::new(closed(format));
        view.event(started("m-logs", "create"));
        assert!(view.finish_failed(&failure()).is_err());
    }
    // stdout closed, stderr fine: the human events still print (they go to stderr).
    let (printer, err) = stdout_closed(Format::Human);
    let view = DeployView::new(printer);
    view.event(started("m-logs", "create"));
    view.finish_ok("Apply").expect("stderr is open");
    assert_eq!(err.text().lines().count(), 2);
}
