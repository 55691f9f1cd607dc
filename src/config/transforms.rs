//! `transforms:`: a list of `{match, jq, timeout}` rules. Every program is compiled here (with `crate::transform`), so
//! `validate`, `plan` and `apply` refuse a program that does not compile, at the line and column of the
//! problem inside the program when the program is written on one line (plain or quoted), else at its value.

use super::reader::{Walk, join};
use super::tree::{Node, Pos, Value};
use super::types::{DEFAULT_TRANSFORM_TIMEOUT, TransformRule};
use crate::transform::Program;

const RULE_KEYS: &[&str] = &["match", "jq", "timeout"];

/// Reads `transforms` (absent: none). `text` is the file, to place compile errors inside one-line programs.
pub(crate) fn read_transforms(
    walk: &mut Walk,
    node: Option<&Node>,
    text: &str,
) -> Option<Vec<TransformRule>> {
    let Some(node) = node else {
        return Some(Vec::new());
    };
    let Value::Seq(items) = &node.value else {
        walk.error_hint(
            node.pos,
            "transforms",
            format!("expected a list of transforms, found {}", node.value.kind()),
            "each item is a mapping `{match: \"logs-*\", jq: '...'}`",
        );
        return None;
    };
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("transforms[{i}]");
        let map = walk.map(item, &path, RULE_KEYS)?;
        let index_pattern = match map.node("match") {
            None => "*".to_string(),
            Some(Node {
                value: Value::Str(s),
                ..
            }) => s.clone(),
            Some(other) => {
                walk.error(
                    other.pos,
                    &join(&path, "match"),
                    format!(
                        "expected a glob on the index name, found {}",
                        other.value.kind()
                    ),
                );
                continue;
            }
        };
        // Read as written: jq's `$var` and `\(...)` are not `${VAR}` references.
        let jq = match map.node("jq") {
            Some(Node {
                value: Value::Str(s),
                pos,
            }) => (s.clone(), *pos),
            Some(other) => {
                walk.error(
                    other.pos,
                    &join(&path, "jq"),
                    format!("expected a jq program, found {}", other.value.kind()),
                );
                continue;
            }
            None => {
                map.missing(walk, "jq", "a jq program, e.g. `jq: 'del(.source.tmp)'`");
                continue;
            }
        };
        let (program, pos) = jq;
        if let Err(errors) = Program::compile(&program) {
            for e in errors {
                walk.error_hint(
                    place(text, pos, &program, e.offset),
                    &join(&path, "jq"),
                    format!("the jq program does not compile: {}", e.message),
                    "programs run on {\"index\", \"id\", \"type\", \"routing\", \"source\"}; see the README, \"Transforms\"",
                );
            }
            continue;
        }
        let timeout = map
            .duration(walk, "timeout")
            .unwrap_or(DEFAULT_TRANSFORM_TIMEOUT);
        if timeout.is_zero() {
            walk.error(
                map.node("timeout").map_or(item.pos, |n| n.pos),
                &join(&path, "timeout"),
                "a program needs some time to run: write e.g. `timeout: 2s`".to_string(),
            );
            continue;
        }
        rules.push(TransformRule {
            index_pattern,
            jq: program,
            timeout,
        });
    }
    Some(rules)
}

/// The position of byte `offset` of `program`, whose value starts at `at`: exact when the program sits on that
/// line as written (plain, or in quotes without escapes before the offset), else the value's position.
fn place(text: &str, at: Pos, program: &str, offset: usize) -> Pos {
    let Some(line) = (at.line as usize)
        .checked_sub(1)
        .and_then(|n| text.lines().nth(n))
    else {
        return at;
    };
    let start: usize = line
        .chars()
        .take((at.column as usize).saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let Some(written) = line.get(start..) else {
        return at;
    };
    let quoted = written.starts_with(['\'', '"']);
    let body = if quoted { &written[1..] } else { written };
    let before = program.get(..offset).unwrap_or(program);
    if program.contains('\n') || !body.starts_with(before) {
        return at;
    }
    Pos {
        line: at.line,
        column: at.column + u64::from(quoted) + before.chars().count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{LoadOptions, MapEnv};

    const BASE: &str = "version: 1\nname: m1\nsource:\n  repository: /snap\n  snapshot: s1\ntarget:\n  endpoint: http://localhost:9200\n";

    fn load(transforms: &str) -> Result<Vec<TransformRule>, crate::config::ConfigErrors> {
        let text = format!("{BASE}{transforms}");
        crate::config::parse(
            &text,
            Path::new("m.yaml"),
            &MapEnv::default(),
            LoadOptions::default(),
        )
        .map(|m| m.transforms)
    }

    #[test]
    fn rules_keep_their_order_and_default_to_every_index() {
        let rules = load(
            "transforms:\n  - match: \"logs-*\"\n    jq: 'select(.source.level != \"debug\") | .index = \"app-\" + .index'\n  - jq: del(.source.tmp)\n",
        )
        .expect("valid");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].index_pattern, "logs-*");
        assert!(rules[0].jq.starts_with("select("));
        assert_eq!(
            (rules[1].index_pattern.as_str(), rules[1].jq.as_str()),
            ("*", "del(.source.tmp)")
        );
        assert!(load("").expect("valid").is_empty());
    }

    #[test]
    fn a_program_that_does_not_compile_is_reported_where_the_problem_is() {
        // Line 9: `    jq: '.a | (' `; the value starts at column 9, the quote is skipped, `(` is at offset 5.
        let errors = load("transforms:\n  - jq: '.a | ('\n")
            .expect_err("syntax")
            .errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!((e.line, e.key_path.as_str()), (9, "transforms[0].jq"));
        assert_eq!(e.column, 9 + 1 + 5 + 1, "{e}");
        assert!(e.message.contains("does not compile"), "{e}");
        let errors = load("transforms:\n  - match: x\n    jq: .a | nosuch(1)\n")
            .expect_err("undefined")
            .errors;
        assert_eq!(
            (errors[0].line, errors[0].column),
            (10, 9 + 5),
            "{}",
            errors[0]
        );
        assert!(errors[0].message.contains("nosuch"), "{}", errors[0]);
        // A block scalar: the position of its text.
        let errors = load("transforms:\n  - jq: |\n      .a |\n      nosuch\n")
            .expect_err("block")
            .errors;
        assert_eq!((errors[0].line, errors[0].column), (10, 7), "{}", errors[0]);
    }

    #[test]
    fn a_rule_s_timeout_defaults_to_one_second_and_must_be_a_duration() {
        let rules = load("transforms:\n  - jq: .\n  - jq: .\n    timeout: 250ms\n").expect("valid");
        assert_eq!(rules[0].timeout, std::time::Duration::from_secs(1));
        assert_eq!(rules[1].timeout, std::time::Duration::from_millis(250));
        for bad in ["soon", "0s"] {
            let errors = load(&format!("transforms:\n  - jq: .\n    timeout: {bad}\n"))
                .expect_err("refused")
                .errors;
            assert_eq!(
                errors[0].key_path, "transforms[0].timeout",
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn misshapen_rules_are_named() {
        let errors = load("transforms:\n  - match: 3\n    jq: .\n  - match: x\n  - jx: .\n")
            .expect_err("bad")
            .errors;
        let paths: Vec<&str> = errors.iter().map(|e| e.key_path.as_str()).collect();
        assert!(paths.contains(&"transforms[0].match"), "{paths:?}");
        assert!(paths.contains(&"transforms[1].jq"), "{paths:?}");
        assert!(paths.contains(&"transforms[2].jx"), "{paths:?}");
        assert!(load("transforms: {jq: .}\n").is_err());
    }
}

#[cfg(test)]
mod rfs_tests {
    use std::path::Path;

    use crate::config::{LoadOptions, MapEnv};

    #[test]
    fn the_rfs_engine_refuses_transforms() {
        let rfs = include_str!("../../examples/aws/migration-rfs-basic.yaml");
        let load = |text: &str| {
            crate::config::parse(
                text,
                Path::new("/x/m.yaml"),
                &MapEnv::default(),
                LoadOptions::default(),
            )
        };
        load(rfs).expect("the example is valid");
        let errors = load(&format!("{rfs}transforms:\n  - jq: .\n"))
            .expect_err("refused")
            .errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].key_path, "transforms");
        assert!(errors[0].message.contains("engine: rfs"), "{}", errors[0]);
    }
}
