//! The transform step of the worker: the `transforms` rules compiled once per worker ([`Transforms`]), the
//! chain of programs for one index ([`Transforms::chain_for`], decided once per work item), and one snapshot
//! document through it ([`transformed`]) — zero, one or several documents of the same type the bulk builder
//! takes, or a failed document with jq's message. An index no rule matches gets an empty chain, and its
//! documents never come here: they keep the byte-exact path.

use std::sync::Arc;

use super::bulk::ItemFailure;
use crate::config::TransformRule;
use crate::snapshot::SnapshotDocument;
use std::time::Instant;

use crate::transform::{Chain, Document, Program, Step, TransformError};

/// Every rule of `transforms`, compiled.
#[derive(Debug, Clone, Default)]
pub struct Transforms {
    rules: Vec<(TransformRule, Arc<Program>)>,
}

/// A rule whose program does not compile (only rules that did not come through `config`'s loading, such as
/// the worker's `BACKFILL_TRANSFORMS`, can get here).
#[derive(Debug, thiserror::Error)]
#[error("transform {rule} (match `{pattern}`) does not compile: {message}")]
pub struct TransformsError {
    pub(crate) rule: usize,
    pub(crate) pattern: String,
    pub(crate) message: String,
}

impl Transforms {
    pub fn compile(rules: &[TransformRule]) -> Result<Self, TransformsError> {
        let mut compiled = Vec::with_capacity(rules.len());
        for (n, rule) in rules.iter().enumerate() {
            let program = Program::compile(&rule.jq).map_err(|errors| TransformsError {
                rule: n + 1,
                pattern: rule.index_pattern.clone(),
                message: errors
                    .iter()
                    .map(|e| format!("{} (at character {})", e.message, e.offset + 1))
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
            compiled.push((rule.clone(), Arc::new(program)));
        }
        Ok(Transforms { rules: compiled })
    }

    /// The programs that apply to source index `index`, in order (empty: send its documents untouched).
    pub fn chain_for(&self, index: &str) -> Chain {
        Chain::new(
            self.rules
                .iter()
                .enumerate()
                .filter(|(_, (rule, _))| rule.applies_to(index))
                .map(|(n, (rule, program))| Step {
                    rule: n + 1,
                    program: program.clone(),
                    timeout: rule.timeout,
                })
                .collect(),
        )
    }
}

/// `doc` through `chain`: the documents to send (they keep `doc`'s shard and position, so the checkpoint
/// moves past `doc` as for any document), or `doc` as a failed document (`status` 0: never sent).
pub fn transformed(
    chain: &Chain,
    doc: &SnapshotDocument,
) -> Result<Vec<SnapshotDocument>, ItemFailure> {
    transformed_watched(chain, doc, &mut |_, _| {})
}

/// [`transformed`], telling `started` which rule starts and by when it must be done (the reader's watchdog).
pub(crate) fn transformed_watched(
    chain: &Chain,
    doc: &SnapshotDocument,
    started: &mut dyn FnMut(usize, Instant),
) -> Result<Vec<SnapshotDocument>, ItemFailure> {
    let input = Document {
        index: doc.index.clone(),
        id: doc.id.clone(),
        doc_type: doc.doc_type.clone(),
        routing: doc.routing.clone(),
        source: doc.source.to_string(),
    };
    match chain.apply_watched(&input, started) {
        Ok(outputs) => Ok(outputs
            .into_iter()
            .map(|out| SnapshotDocument {
                index: out.index,
                shard: doc.shard,
                global_doc: doc.global_doc,
                id: out.id,
                doc_type: out.doc_type,
                routing: out.routing,
                source: out.source.into(),
            })
            .collect()),
        Err(e) => Err(failed(&doc.index, &doc.id, doc.global_doc, doc.shard, &e)),
    }
}

/// Document `global_doc` of `shard` (`index`, `id`) as a failed document for `e` (`status` 0: never sent).
pub(crate) fn failed(
    index: &str,
    id: &str,
    global_doc: u64,
    shard: u32,
    e: &TransformError,
) -> ItemFailure {
    ItemFailure {
        index: index.to_string(),
        id: id.to_string(),
        status: 0,
        error_type: e.error_type().to_string(),
        reason: format!("document {global_doc} of shard {shard}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, jq: &str) -> TransformRule {
        TransformRule {
            index_pattern: pattern.into(),
            jq: jq.into(),
            timeout: crate::config::DEFAULT_TRANSFORM_TIMEOUT,
        }
    }

    fn doc(index: &str) -> SnapshotDocument {
        SnapshotDocument {
            index: index.into(),
            shard: 2,
            global_doc: 41,
            id: "7".into(),
            doc_type: None,
            routing: None,
            source: "{\"level\":\"info\"}".into(),
        }
    }

    #[test]
    fn rules_apply_to_the_indices_they_match_in_order() {
        let t = Transforms::compile(&[
            rule("logs-*", ".index = \"app-\" + .index"),
            rule("*", ".source.migrated = true"),
        ])
        .expect("compiles");
        assert!(
            t.chain_for("metrics")
                .apply(&Document {
                    index: "metrics".into(),
                    id: "1".into(),
                    doc_type: None,
                    routing: None,
                    source: "{}".into(),
                })
                .expect("runs")[0]
                .index
                == "metrics"
        );
        let out = transformed(&t.chain_for("logs-1"), &doc("logs-1")).expect("runs");
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].index.as_str(), out[0].shard, out[0].global_doc),
            ("app-logs-1", 2, 41)
        );
        assert_eq!(out[0].source, r#"{"level":"info","migrated":true}"#);
        assert!(Transforms::default().chain_for("logs-1").is_empty());
    }

    #[test]
    fn outputs_become_action_lines_with_their_index_id_and_routing() {
        let t = Transforms::compile(&[rule(
            "*",
            r#"(.index = "renamed" | .routing = "r1"), (.source.copy = 1 | .routing = null), (.id = "8" | .type = "t")"#,
        )])
        .expect("compiles");
        let mut batch = super::super::bulk::Batch::default();
        for out in transformed(&t.chain_for("logs-1"), &doc("logs-1")).expect("runs") {
            batch.push(&out, false);
        }
        let body = String::from_utf8(batch.body.clone()).expect("utf8");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"index":{"_index":"renamed","_id":"7","routing":"r1"}}"#,
                r#"{"level":"info"}"#,
                r#"{"index":{"_index":"logs-1","_id":"7"}}"#,
                r#"{"level":"info","copy":1}"#,
                r#"{"index":{"_index":"logs-1","_id":"8"}}"#,
                r#"{"level":"info"}"#,
            ]
        );
        assert_eq!(batch.docs, 3);
        assert_eq!(
            batch.last_doc,
            Some(41),
            "the checkpoint moves past the source document"
        );
    }

    #[test]
    fn a_failing_program_makes_a_failed_document_with_jq_s_message() {
        let t = Transforms::compile(&[rule("*", "error(\"no \\(.id)\")")]).expect("compiles");
        let f = transformed(&t.chain_for("logs-1"), &doc("logs-1")).expect_err("fails");
        assert_eq!(
            (
                f.index.as_str(),
                f.id.as_str(),
                f.status,
                f.error_type.as_str()
            ),
            ("logs-1", "7", 0, "transform_error")
        );
        assert_eq!(f.reason, "document 41 of shard 2: transform 1: jq: no 7");
        let bad = Transforms::compile(&[rule("*", "."), rule("x", ".a |")]).expect_err("syntax");
        assert_eq!(bad.rule, 2);
    }
}
