//! The preflight's rules on literal observations: no repository, no target.

use serde_json::{Value, json};

use super::observe::{
    IndexObservation, Observations, OwnerRead, ShardFailure, ShardObservation, SnapshotObservation,
    SourceObservation, TargetAnswer, TargetObservation, WorkingStateObservation, detect_target,
    parse_cat_indices, shard_failure,
};
use super::*;
use crate::cluster::transport::TransportError;
use crate::config::IndexSelection;
use crate::coordination::identity::{Identity, Recorded};
use crate::lucene::LuceneError;
use crate::snapshot::{IndexInfo, ShardCounts, SnapshotError};

fn index(name: &str, shards: u32, mappings: Value, settings: Value) -> IndexInfo {
    IndexInfo {
        name: name.into(),
        id: format!("id-{name}"),
        shards,
        settings,
        mappings,
    }
}

fn plain(name: &str) -> IndexObservation {
    let info = index(
        name,
        2,
        json!([{"_doc": {"properties": {"title": {"type": "text"}}}}]),
        json!({"index.number_of_shards": "2"}),
    );
    IndexObservation {
        name: name.into(),
        metadata: Ok(info),
        shards: vec![counted(0, 10, 1000), counted(1, 5, 500)],
    }
}

fn counted(shard: u32, live_documents: u64, bytes: u64) -> ShardObservation {
    ShardObservation {
        shard,
        outcome: Ok(ShardCounts {
            live_documents,
            bytes,
        }),
    }
}

fn snapshot(selected: Vec<IndexObservation>) -> SourceObservation {
    SourceObservation::Read(SnapshotObservation {
        location: "/repo".into(),
        snapshot: "snap".into(),
        uuid: "snap-uuid".into(),
        state: "SUCCESS".into(),
        version: Some("7.10.2".into()),
        indices: vec!["events".into(), "logs".into()],
        selected,
    })
}

fn opensearch(indices: Vec<ExistingIndex>) -> TargetObservation {
    TargetObservation::Answered(TargetAnswer {
        endpoint: "http://t:9200".into(),
        root: Some(json!({"version": {"distribution": "opensearch", "number": "2.11.1"}})),
        serverless: false,
        insecure_tls: false,
        indices: Ok(indices),
    })
}

fn judge(source: SourceObservation, target: TargetObservation) -> Preflight {
    evaluate(&Observations {
        selection: IndexSelection::default(),
        type_mappings: Default::default(),
        source,
        target,
        working_state: free_working_state(),
    })
}

/// A working state the target does not hold yet (the common first run).
pub(super) fn free_working_state() -> WorkingStateObservation {
    WorkingStateObservation {
        index: ".migrations_working_state".into(),
        declared: Identity::new("m", "/repo", "snap"),
        adopt_unrecorded: false,
        recorded: OwnerRead::Read(Recorded::Absent),
    }
}

fn kinds(report: &Preflight) -> Vec<ProblemKind> {
    report.problems.iter().map(|p| p.kind).collect()
}

#[test]
fn a_readable_snapshot_and_an_answering_target_pass_with_the_exact_summary() {
    let report = judge(
        snapshot(vec![plain("events"), plain("logs")]),
        opensearch(vec![]),
    );
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(
        report.checked,
        Checked {
            source: true,
            target: true
        }
    );
    let source = report.source.expect("summary");
    assert_eq!(
        source.line(),
        "2 indices, 4 shards, 30 live documents, 3000 bytes of shard data"
    );
    assert_eq!(source.per_index.len(), 2);
    assert_eq!(source.per_index[0].live_documents, 15);
    assert_eq!(report.target.expect("target").label(), "OpenSearch 2.11.1");
}

#[test]
fn the_summary_line_speaks_in_the_singular_for_one() {
    let s = SourceSummary {
        indices: 1,
        shards: 1,
        live_documents: 1,
        bytes: 1,
        ..SourceSummary::default()
    };
    assert_eq!(
        s.line(),
        "1 index, 1 shard, 1 live document, 1 byte of shard data"
    );
}

#[test]
fn a_missing_snapshot_names_it_and_lists_those_that_exist() {
    let report = judge(
        SourceObservation::NoSuchSnapshot {
            location: "/repo".into(),
            snapshot: "nightly".into(),
            known: vec!["snap-1".into(), "snap-2".into()],
        },
        opensearch(vec![]),
    );
    assert_eq!(kinds(&report), [ProblemKind::SnapshotMissing]);
    let p = &report.problems[0];
    assert!(p.message.contains("no snapshot `nightly`"), "{}", p.message);
    assert!(
        p.message.contains("it has: snap-1, snap-2"),
        "{}",
        p.message
    );
    assert!(!p.ways_out.is_empty());
}

#[test]
fn a_selection_that_matches_nothing_lists_the_indices_there_are() {
    let report = judge(snapshot(vec![]), opensearch(vec![]));
    assert_eq!(kinds(&report), [ProblemKind::NoIndexSelected]);
    assert!(
        report.problems[0]
            .message
            .contains("the snapshot holds: events, logs")
    );
}

#[test]
fn an_unreadable_s3_repository_points_at_credentials_and_region() {
    let report = judge(
        SourceObservation::Unreadable {
            location: "s3://b/p".into(),
            message: "cannot list: NoSuchBucket".into(),
            s3: true,
        },
        opensearch(vec![]),
    );
    assert_eq!(kinds(&report), [ProblemKind::RepositoryUnreadable]);
    assert!(
        report.problems[0]
            .ways_out
            .iter()
            .any(|w| w.contains("source.region"))
    );
    assert!(report.source.is_none());
}

#[test]
fn every_problem_is_listed_at_once_source_and_target() {
    let report = judge(
        SourceObservation::Unreadable {
            location: "/nope".into(),
            message: "not a directory".into(),
            s3: false,
        },
        TargetObservation::TimedOut {
            endpoint: "http://t:9200".into(),
            seconds: 10,
        },
    );
    assert_eq!(
        kinds(&report),
        [
            ProblemKind::RepositoryUnreadable,
            ProblemKind::TargetTimedOut
        ]
    );
    assert!(
        report.problems[1]
            .message
            .contains("did not answer within 10 s")
    );
}

fn with_mapping(mappings: Value, settings: Value) -> Preflight {
    let mut obs = plain("logs");
    obs.metadata = Ok(index("logs", 2, mappings, settings));
    judge(snapshot(vec![obs]), opensearch(vec![]))
}

#[test]
fn disabled_source_is_refused_with_the_index_named_and_the_way_out() {
    let report = with_mapping(
        json!([{"_doc": {"_source": {"enabled": false}}}]),
        json!({}),
    );
    assert_eq!(kinds(&report), [ProblemKind::SourceDisabled]);
    assert_eq!(report.problems[0].subject.as_deref(), Some("index logs"));
    assert!(report.problems[0].ways_out[0].contains("source.indices.exclude"));
    // The flag may be stored as text.
    let report = with_mapping(
        json!({"_doc": {"_source": {"enabled": "false"}}}),
        json!({}),
    );
    assert_eq!(kinds(&report), [ProblemKind::SourceDisabled]);
}

#[test]
fn synthetic_source_is_refused_from_the_mapping_the_setting_or_the_index_mode() {
    for (mappings, settings) in [
        (
            json!([{"_doc": {"_source": {"mode": "synthetic"}}}]),
            json!({}),
        ),
        (json!([]), json!({"index.mapping.source.mode": "synthetic"})),
        (
            json!([]),
            json!({"index": {"mapping": {"source": {"mode": "synthetic"}}}}),
        ),
        (json!([]), json!({"index.mode": "time_series"})),
        (json!([]), json!({"index.mode": "logsdb"})),
    ] {
        let report = with_mapping(mappings.clone(), settings.clone());
        assert_eq!(
            kinds(&report),
            [ProblemKind::SyntheticSource],
            "{mappings} {settings}"
        );
    }
    // A logsdb index whose source is explicitly stored keeps it.
    let report = with_mapping(
        json!([]),
        json!({"index.mode": "logsdb", "index.mapping.source.mode": "stored"}),
    );
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn two_mapping_types_are_refused_but_a_default_mapping_is_not_a_type() {
    let report = with_mapping(
        json!([{"type2": {"properties": {}}}, {"type1": {"properties": {}}}]),
        json!({}),
    );
    assert_eq!(kinds(&report), [ProblemKind::MultipleMappingTypes]);
    assert!(
        report.problems[0]
            .message
            .contains("2 mapping types (type2, type1)")
    );
    let report = with_mapping(
        json!({"_default_": {"properties": {}}, "doc": {"properties": {}}}),
        json!({}),
    );
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn a_typeless_body_and_empty_mappings_pass_and_a_filtered_source_warns() {
    assert!(with_mapping(json!({"properties": {"a": {"type": "text"}}}), json!({})).ok());
    assert!(with_mapping(json!([{"_doc": {}}]), json!({})).ok());
    assert!(with_mapping(Value::Null, json!({})).ok());
    let report = with_mapping(
        json!([{"_doc": {"_source": {"excludes": ["secret"]}}}]),
        json!({}),
    );
    assert!(report.ok());
    assert!(
        report.warnings[0].message.contains("excludes"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn unsupported_formats_are_grouped_per_index_naming_the_codec_and_the_file() {
    let mut obs = plain("logs");
    let unsupported = |shard| ShardObservation {
        shard,
        outcome: Err(ShardFailure::Unsupported {
            file: "_0.si".into(),
            what: "segment info codec".into(),
            name: "Lucene99SegmentInfo".into(),
        }),
    };
    obs.shards = vec![unsupported(0), unsupported(1)];
    let report = judge(snapshot(vec![obs]), opensearch(vec![]));
    assert_eq!(kinds(&report), [ProblemKind::UnsupportedFormat]);
    let p = &report.problems[0];
    assert_eq!(
        p.subject.as_deref(),
        Some("index logs, shard 0, file _0.si")
    );
    assert!(
        p.message
            .contains("`Lucene99SegmentInfo` (in 2 of 2 shard(s))"),
        "{}",
        p.message
    );
}

#[test]
fn the_reader_s_unsupported_error_is_classified_as_such_and_others_as_unreadable() {
    let lucene = |source| SnapshotError::Lucene {
        snapshot: "s".into(),
        index: "i".into(),
        shard: 0,
        blob: None,
        source: Box::new(source),
    };
    assert_eq!(
        shard_failure(&lucene(LuceneError::unsupported(
            "_0.si",
            "segment info codec",
            "X"
        ))),
        ShardFailure::Unsupported {
            file: "_0.si".into(),
            what: "segment info codec".into(),
            name: "X".into()
        }
    );
    assert!(matches!(
        shard_failure(&lucene(LuceneError::corrupt("_0.si", 3, "bad"))),
        ShardFailure::Unreadable(m) if m.contains("_0.si at offset 3")
    ));
}

#[test]
fn the_target_is_detected_from_its_root_document() {
    let es = json!({"version": {"number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"});
    let info = detect_target("http://t", Some(&es), false).expect("es");
    assert_eq!(info.label(), "Elasticsearch 8.15.0");
    let serverless = detect_target("https://x.aoss.amazonaws.com", None, true).expect("aoss");
    assert_eq!(serverless.label(), "OpenSearch Serverless");
    assert!(detect_target("http://t", None, false).is_err());
    assert!(detect_target("http://t", Some(&json!({"ok": true})), false).is_err());
}

#[test]
fn an_old_target_warns_and_a_refusal_of_the_credentials_is_a_problem() {
    let report = judge(
        snapshot(vec![plain("logs")]),
        TargetObservation::Answered(TargetAnswer {
            endpoint: "http://t".into(),
            root: Some(json!({"version": {"number": "5.6.16"}})),
            serverless: false,
            insecure_tls: true,
            indices: Err("HTTP 403".into()),
        }),
    );
    assert!(report.ok());
    let warnings: Vec<&str> = report.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[1].contains("Elasticsearch 5.6.16 is not among"));

    let report = judge(
        snapshot(vec![plain("logs")]),
        TargetObservation::Failed {
            endpoint: "http://t".into(),
            error: TransportError::Unauthorized {
                url: "http://t".into(),
                path: "/".into(),
                status: 401,
            },
        },
    );
    assert_eq!(kinds(&report), [ProblemKind::TargetUnauthorized]);
}

#[test]
fn selected_target_indices_that_hold_documents_are_warnings() {
    let existing = parse_cat_indices(&json!([
        {"index": "logs", "docs.count": "700"},
        {"index": "events", "docs.count": "0"},
        {"index": "other", "docs.count": "9"},
        {"index": "closed", "docs.count": null}
    ]))
    .expect("cat");
    let report = judge(
        snapshot(vec![plain("logs"), plain("events")]),
        opensearch(existing),
    );
    assert!(report.ok());
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(
        report.warnings[0].subject.as_deref(),
        Some("target index logs")
    );
    let target = report.target.expect("target");
    assert_eq!(
        target.indices_with_documents,
        [ExistingIndex {
            index: "logs".into(),
            documents: 700
        }]
    );
}

#[test]
fn offline_says_what_was_not_checked() {
    let report = judge(
        SourceObservation::Skipped {
            location: "s3://b/p".into(),
            reason: "--offline".into(),
        },
        TargetObservation::Skipped {
            endpoint: "http://t".into(),
            reason: "--offline".into(),
        },
    );
    assert!(report.ok());
    assert_eq!(report.checked, Checked::default());
    assert_eq!(report.not_checked.len(), 2);
    assert!(report.not_checked[0].contains("s3://b/p"));
    assert!(report.not_checked[1].contains("http://t"));
}

#[test]
fn a_problem_from_another_check_joins_the_list() {
    let mut report = judge(snapshot(vec![plain("logs")]), opensearch(vec![]));
    report.add_problems([Problem::other(
        Some("working state".into()),
        "the working state belongs to migration `a`",
        vec!["backfill destroy of `a`".into()],
    )]);
    assert_eq!(kinds(&report), [ProblemKind::Other]);
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["problems"][0]["kind"], "other");
    assert_eq!(json["source"]["per_index"][0]["name"], "logs");
    let back: Preflight = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, report);
}

/// `source.type_mappings` over multi-type indices (with this file's observation builders).
#[path = "type_routes_tests.rs"]
mod type_routes;

/// Whose working state the target holds (with this file's observation builders).
#[path = "working_state_tests.rs"]
mod working_state;
