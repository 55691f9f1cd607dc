use std::sync::Arc;

use super::*;

fn doc(source: &str) -> Document {
    Document {
        index: "logs-1".into(),
        id: "a1".into(),
        doc_type: None,
        routing: Some("r".into()),
        source: source.into(),
    }
}

fn chain(programs: &[&str]) -> Chain {
    timed_chain(programs, Duration::from_secs(60))
}

fn timed_chain(programs: &[&str], timeout: Duration) -> Chain {
    Chain::new(
        programs
            .iter()
            .enumerate()
            .map(|(n, code)| Step {
                rule: n + 1,
                program: Arc::new(Program::compile(code).expect("compiles")),
                timeout,
            })
            .collect(),
    )
}

#[test]
fn a_program_that_keeps_yielding_past_its_time_fails_the_document_naming_the_rule() {
    // Yields a document now and then, far fewer than the output limit: stopped at the deadline.
    let c = timed_chain(
        &[
            ".",
            "range(100000) as $i | ([range(100000)] | length) as $n | .",
        ],
        Duration::from_millis(50),
    );
    let err = c.apply(&doc(r#"{"a":1}"#)).expect_err("runs too long");
    assert_eq!(err.error_type(), "transform_timeout");
    assert_eq!(
        err,
        TransformError::Timeout {
            rule: 2,
            limit: Duration::from_millis(50)
        }
    );
    assert_eq!(
        err.to_string(),
        "transform 2: still running after 50ms on this document (does the program loop? the rule's `timeout` sets the limit)"
    );
}

#[test]
fn the_watchdog_is_told_which_rule_runs_and_by_when() {
    let c = timed_chain(&[".", ".source.b = 2"], Duration::from_secs(5));
    let mut seen = Vec::new();
    let before = Instant::now();
    let out = c
        .apply_watched(&doc(r#"{"a":1}"#), &mut |rule, deadline| {
            seen.push((rule, deadline))
        })
        .expect("runs");
    assert_eq!(out.len(), 1);
    assert_eq!(seen.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [1, 2]);
    assert!(
        seen.iter()
            .all(|(_, d)| *d >= before + Duration::from_secs(5))
    );
}

#[test]
fn the_issue_example_renames_filters_and_drops_a_field() {
    let c = chain(&[
        r#"select(.source.level != "debug") | .index = "app-" + .index | del(.source.tmp)"#,
    ]);
    let out = c
        .apply(&doc(
            r#"{"level":"info","tmp":1,"n":12345678901234567890,"f":1.10}"#,
        ))
        .expect("runs");
    assert_eq!(
        out,
        [Document {
            index: "app-logs-1".into(),
            id: "a1".into(),
            doc_type: None,
            routing: Some("r".into()),
            // Numbers keep their text; `del` moves the last key into the deleted one's place (jaq's maps).
            source: r#"{"level":"info","f":1.10,"n":12345678901234567890}"#.into(),
        }]
    );
    assert_eq!(c.apply(&doc(r#"{"level":"debug"}"#)).expect("runs"), []);
}

#[test]
fn several_outputs_routing_and_a_chain_of_programs() {
    let c = chain(&[
        r#"., (.id += "-copy" | .routing = null | .source.copy = true)"#,
        r#".source.seen = (.source.seen // 0) + 1 | .type = "t""#,
    ]);
    let out = c.apply(&doc(r#"{"a":1}"#)).expect("runs");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].id.as_str(), out[0].routing.as_deref()),
        ("a1", Some("r"))
    );
    assert_eq!(out[0].source, r#"{"a":1,"seen":1}"#);
    assert_eq!(
        (out[1].id.as_str(), out[1].routing.as_deref()),
        ("a1-copy", None)
    );
    assert_eq!(out[1].source, r#"{"a":1,"copy":true,"seen":1}"#);
    assert_eq!(out[1].doc_type.as_deref(), Some("t"));
}

#[test]
fn a_failing_program_is_an_error_of_that_document_with_jq_s_message() {
    let c = chain(&["if .source.bad then error(\"bad document \\(.id)\") else . end"]);
    assert_eq!(c.apply(&doc(r#"{"bad":false}"#)).expect("runs").len(), 1);
    let e = c.apply(&doc(r#"{"bad":true}"#)).expect_err("fails");
    assert_eq!(e.error_type(), "transform_error");
    assert_eq!(e.to_string(), "transform 1: jq: bad document a1");
    let typed = chain(&[".source.n + 1"])
        .apply(&doc(r#"{"n":"x"}"#))
        .expect_err("fails");
    assert!(typed.to_string().contains("cannot"), "{typed}");
}

#[test]
fn outputs_that_are_not_documents_are_errors() {
    for (program, why) in [
        ("1", "expected an object"),
        (".index = 5", "`.index` must be non-empty text"),
        (".id = \"\"", "`.id` must be non-empty text"),
        ("del(.source)", "`.source` is missing"),
        (".source = [1]", "`.source` must be an object"),
        (".routing = 1", "`.routing` must be text or null"),
    ] {
        let e = chain(&[program]).apply(&doc("{}")).expect_err(program);
        assert_eq!(e.error_type(), "transform_invalid_output");
        assert!(e.to_string().contains(why), "{program}: {e}");
    }
    let e = chain(&["repeat(.)"]).apply(&doc("{}")).expect_err("loops");
    assert!(matches!(e, TransformError::TooManyOutputs { rule: 1 }));
    let e = chain(&["."]).apply(&doc("{not json")).expect_err("source");
    assert_eq!(e.error_type(), "transform_source_unreadable");
}

#[test]
fn long_messages_do_not_carry_the_whole_document() {
    let big = format!(r#"{{"s":"{}"}}"#, "x".repeat(5_000));
    let e = chain(&[".source + 1"])
        .apply(&doc(&big))
        .expect_err("fails");
    assert!(
        e.to_string().chars().count() < MAX_MESSAGE_CHARS + 40,
        "{e}"
    );
}

#[test]
fn compile_errors_name_the_offset_in_the_program() {
    let errors = Program::compile(".a | (").expect_err("syntax");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].offset, 6, "{errors:?}");
    let errors = Program::compile(".a | nosuchfn(1)").expect_err("undefined");
    assert_eq!(errors[0].offset, 5, "{errors:?}");
    assert!(errors[0].message.contains("nosuchfn"), "{errors:?}");
    let errors = Program::compile(".a | $x").expect_err("variable");
    assert!(errors[0].message.contains("variable"), "{errors:?}");
}
