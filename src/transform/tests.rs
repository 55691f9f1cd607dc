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
    Chain::new(
        programs
            .iter()
            .enumerate()
            .map(|(n, code)| (n + 1, Arc::new(Program::compile(code).expect("compiles"))))
            .collect(),
    )
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
