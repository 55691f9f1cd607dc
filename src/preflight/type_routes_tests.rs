//! The preflight's reading of `source.type_mappings`: which multi-type indices it covers, the routes in the
//! report, and the warnings for types left out or merged.

use serde_json::json;

use super::*;

#[test]
fn type_mappings_cover_a_multi_type_index_and_the_routes_are_in_the_report() {
    let multi = json!([{"order": {"properties": {}}}, {"refund": {"properties": {}}}, {"note": {"properties": {}}}]);
    let judge_with = |type_mappings: crate::config::TypeMappings| {
        let mut obs = plain("logs");
        obs.metadata = Ok(index(
            "logs",
            2,
            multi.clone(),
            json!({"index.version.created": "5061699"}),
        ));
        evaluate(&Observations {
            selection: IndexSelection::default(),
            type_mappings,
            source: snapshot(vec![obs]),
            // Documents already in a routed target index are announced under its name, not the source's.
            target: opensearch(vec![ExistingIndex {
                index: "refunds".into(),
                documents: 3,
            }]),
            working_state: free_working_state(),
        })
    };
    let statics = crate::config::TypeMappings {
        static_routes: vec![(
            "logs".into(),
            vec![
                ("order".into(), "orders".into()),
                ("refund".into(), "refunds".into()),
            ],
        )],
        regex: None,
    };
    let report = judge_with(statics);
    assert!(report.ok(), "{:?}", report.problems);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.subject.as_deref() == Some("target index refunds")),
        "{:?}",
        report.warnings
    );
    let routes = &report.source.as_ref().expect("source").per_index[0].routes;
    let shown: Vec<(&str, Option<&str>)> = routes
        .iter()
        .map(|r| (r.doc_type.as_str(), r.target.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("order", Some("orders")),
            ("refund", Some("refunds")),
            ("note", None)
        ]
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("type(s) note are not migrated")),
        "{:?}",
        report.warnings
    );
    // A regex rule that matches some types covers the index; a type no rule matches is left out, as upstream.
    let partial = crate::config::TypeMappings {
        static_routes: vec![],
        regex: Some(vec![
            crate::config::RegexRoute::new("(logs)", "(order|refund)", "$1-$2").unwrap(),
        ]),
    };
    let report = judge_with(partial);
    assert!(report.ok(), "{:?}", report.problems);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.message.contains("type(s) note are not migrated"))
    );
    // Rules that match none of its types leave it uncovered: refused.
    let elsewhere = crate::config::TypeMappings {
        static_routes: vec![],
        regex: Some(vec![
            crate::config::RegexRoute::new("(metrics-.*)", "(.*)", "$1").unwrap(),
        ]),
    };
    let report = judge_with(elsewhere);
    assert_eq!(kinds(&report), [ProblemKind::MultipleMappingTypes]);
    assert!(
        report.problems[0]
            .message
            .contains("3 mapping types (order, refund, note)")
    );
    assert_eq!(report.problems[0].ways_out.len(), 3);
    // Merging two types into one index is allowed, with a warning about ids under both.
    let merged = crate::config::TypeMappings {
        static_routes: vec![],
        regex: Some(vec![
            crate::config::RegexRoute::new("(.*)", ".*", "$1").unwrap(),
        ]),
    };
    let report = judge_with(merged);
    assert!(report.ok());
    assert!(report.warnings.iter().any(|w| {
        w.message
            .contains("order, refund, note all go to target index logs")
    }));
}

#[test]
fn types_merged_into_one_index_are_refused_for_an_elasticsearch_6_target() {
    let mut obs = plain("logs");
    obs.metadata = Ok(index(
        "logs",
        1,
        json!({"order": {"properties": {}}, "refund": {"properties": {}}}),
        json!({}),
    ));
    let es6 = TargetObservation::Answered(TargetAnswer {
        endpoint: "http://t:9200".into(),
        root: Some(json!({"version": {"number": "6.8.23"}})),
        serverless: false,
        insecure_tls: false,
        indices: Ok(vec![]),
    });
    let report = evaluate(&Observations {
        selection: IndexSelection::default(),
        type_mappings: crate::config::TypeMappings {
            static_routes: vec![],
            regex: Some(vec![
                crate::config::RegexRoute::new("(.*)", ".*", "$1").unwrap(),
            ]),
        },
        source: snapshot(vec![obs]),
        target: es6,
        working_state: free_working_state(),
    });
    assert_eq!(kinds(&report), [ProblemKind::MultipleMappingTypes]);
    assert!(
        report.problems[0]
            .message
            .contains("types order, refund to one target index, logs, but Elasticsearch 6.8.23"),
        "{}",
        report.problems[0].message
    );
}
