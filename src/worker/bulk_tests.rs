use proptest::prelude::*;
use serde_json::json;

use super::*;

fn doc(source: &str) -> SnapshotDocument {
    SnapshotDocument {
        index: "i".into(),
        shard: 0,
        global_doc: 7,
        id: "a\"b".into(),
        doc_type: Some("t".into()),
        routing: Some("r".into()),
        source: source.into(),
    }
}

fn body_of(doc: &SnapshotDocument, emit_type: bool) -> String {
    let mut body = Vec::new();
    append_document(&mut body, doc, emit_type);
    String::from_utf8(body).expect("a body is UTF-8")
}

/// The body as the worker built it before the in-place writer: a `serde_json` map for the action line, the
/// trimmed source pushed character by character with CR/LF as spaces. The new writer must match it byte for
/// byte.
fn reference_body(doc: &SnapshotDocument, emit_type: bool) -> String {
    let mut meta = serde_json::Map::new();
    meta.insert("_index".into(), Value::String(doc.index.clone()));
    meta.insert("_id".into(), Value::String(doc.id.clone()));
    if emit_type {
        let t = doc.doc_type.clone().unwrap_or_else(|| "_doc".into());
        meta.insert("_type".into(), Value::String(t));
    }
    if let Some(r) = &doc.routing {
        meta.insert("routing".into(), Value::String(r.clone()));
    }
    let mut body = json!({ "index": meta }).to_string();
    body.push('\n');
    for c in doc.source.trim().chars() {
        body.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
    body.push('\n');
    body
}

#[test]
fn sources_become_one_line_without_changing_their_content() {
    let body = body_of(
        &doc("\n\n{\n  \"n\": 12345678901234567890,\n  \"s\": \"x\\ny\", \"f\": 1.10\n}\n\n"),
        false,
    );
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        r#"{"index":{"_index":"i","_id":"a\"b","routing":"r"}}"#
    );
    assert_eq!(
        lines[1],
        r#"{   "n": 12345678901234567890,   "s": "x\ny", "f": 1.10 }"#
    );
    assert!(
        body_of(&doc("{}"), true)
            .starts_with(r#"{"index":{"_index":"i","_id":"a\"b","_type":"t","routing":"r"}}"#)
    );
}

#[test]
fn tricky_ids_and_sources_are_written_byte_for_byte_as_before() {
    let ids = [
        "plain",
        "",
        "quote\"back\\slash/slash",
        "tab\tnl\ncr\rff\u{c}bs\u{8}",
        "\u{0}\u{1}\u{1f}\u{7f}",
        "order:16/rosa",
        "ünïcödé-漢字-🦀",
        "\u{2028}\u{2029}\u{feff}",
    ];
    let sources = [
        "{}",
        "\r\n {\"a\":\"x\\r\\ny\"}\r\n",
        "{\"e\":\"\\u00e9\\ud83e\\udd80\",\"raw\":\"é🦀\"}",
        "\u{a0}\u{2003}{\"ws\":\"unicode spaces around\"}\u{3000}\u{85}",
        "{\n\"a\":\r1,\r\n\"b\":[\n]\n}",
        "\n\n\n",
    ];
    for (n, id) in ids.iter().enumerate() {
        for source in sources {
            let mut d = doc(source);
            d.id = (*id).into();
            d.index = format!("idx-{n}-{id}");
            d.routing = (n % 2 == 0).then(|| format!("r{id}"));
            d.doc_type = (n % 3 == 0).then(|| "_doc".into());
            for emit_type in [false, true] {
                assert_eq!(
                    body_of(&d, emit_type),
                    reference_body(&d, emit_type),
                    "{id:?} {source:?}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn any_document_is_written_byte_for_byte_as_before(
        index in any::<String>(),
        id in any::<String>(),
        routing in proptest::option::of(any::<String>()),
        doc_type in proptest::option::of(any::<String>()),
        source in "[ \t\r\n\u{a0}\u{2003}]{0,3}\\{[a-z\"\\\\\r\n é漢🦀\u{0}-\u{1f}]{0,40}\\}[ \t\r\n\u{85}]{0,3}",
        emit_type in any::<bool>(),
    ) {
        let d = SnapshotDocument { index, shard: 1, global_doc: 3, id, doc_type, routing, source: source.into() };
        prop_assert_eq!(body_of(&d, emit_type), reference_body(&d, emit_type));
    }
}

#[test]
fn batches_close_on_count_or_bytes() {
    let mut batch = Batch::default();
    batch.push(&doc("{\"a\":1}"), false);
    assert!(!batch.is_full(2, 1 << 20));
    batch.push(&doc("{\"a\":1}"), false);
    assert!(batch.is_full(2, 1 << 20));
    assert!(batch.is_full(100, 10));
    assert_eq!(batch.last_doc, Some(7));
}

#[test]
fn a_taken_batch_leaves_an_empty_one_with_room_for_the_next() {
    let pool = BodyPool::new(4);
    let mut batch = Batch::default();
    for _ in 0..10 {
        batch.push(&doc("{\"a\":1}"), false);
    }
    let len = batch.body.len();
    let full = batch.take(&pool);
    assert_eq!(
        (full.docs, full.body.len(), full.starts.len()),
        (10, len, 10)
    );
    assert_eq!(
        (batch.docs, batch.body.len(), batch.source_bytes),
        (0, 0, 0)
    );
    assert!(batch.body.capacity() >= len && batch.starts.capacity() >= 10);
    assert_eq!(batch.last_doc, None);
}

#[test]
fn a_sent_body_is_filled_again_by_a_later_batch() {
    let pool = BodyPool::new(1);
    let mut batch = Batch::default();
    batch.push(&doc("{\"a\":1}"), false);
    let body = batch.take(&pool).into_body();
    let address = body.all().as_ptr();
    pool.put(body);
    batch.push(&doc("{\"b\":2}"), false);
    let next = batch.take(&pool);
    assert_eq!(
        batch.body.as_ptr(),
        address,
        "the batch after it fills the returned buffer"
    );
    assert!(batch.body.is_empty());
    // A body still held elsewhere (by a request in flight) is not taken back.
    let body = next.into_body();
    let held = body.all();
    pool.put(body);
    assert_eq!(pool.get().capacity(), 0, "nothing was taken back");
    drop(held);
    // A full pool drops what it cannot keep.
    let full = BodyPool::new(0);
    let mut batch = Batch::default();
    batch.push(&doc("{}"), false);
    full.put(batch.take(&full).into_body());
    assert_eq!(full.get().capacity(), 0);
}

#[test]
fn a_subset_of_a_batch_is_its_documents_lines() {
    let mut batch = Batch::default();
    for n in 0..3 {
        let mut d = doc(&format!("{{\"n\":{n}}}"));
        d.id = n.to_string();
        batch.push(&d, false);
    }
    let whole = batch.body.clone();
    let body = batch.into_body();
    let sub = body.subset(&[2, 0, 9]);
    let lines: Vec<&str> = std::str::from_utf8(&sub).unwrap().lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].contains(r#""_id":"2""#) && lines[1] == r#"{"n":2}"#);
    assert!(lines[2].contains(r#""_id":"0""#) && lines[3] == r#"{"n":0}"#);
    assert_eq!(body.subset(&[0, 1, 2]), whole);
    assert_eq!(body.all(), whole);
}

#[test]
fn an_items_index_and_id_are_read_back_from_its_action_line() {
    let mut batch = Batch::default();
    for id in ["a\"b\\c\n", "漢字🦀", "\u{1}"] {
        let mut d = doc("{}");
        d.id = id.into();
        batch.push(&d, true);
    }
    let body = batch.into_body();
    assert_eq!(body.key(0), Some(("i".into(), "a\"b\\c\n".into())));
    assert_eq!(body.key(1), Some(("i".into(), "漢字🦀".into())));
    assert_eq!(body.key(2), Some(("i".into(), "\u{1}".into())));
    assert_eq!(body.key(3), None);
}

#[test]
fn a_bulk_answer_is_read_in_full_only_when_it_reports_errors() {
    let key = |i: usize| Some(("i".to_string(), i.to_string()));
    let ok =
        br#"{"took":3,"errors":false,"items":[{"index":{"_index":"i","_id":"0","status":201}}]}"#;
    assert!(failures_in(ok, 1, key).unwrap().is_empty());
    // As a target answers under the worker's `filter_path`.
    let filtered =
        br#"{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":200}}]}"#;
    assert!(failures_in(filtered, 2, key).unwrap().is_empty());
    let bad = json!({"took": 3, "errors": true, "items": [
        {"index": {"status": 201}},
        {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception", "reason": "exists"}}},
    ]});
    let text = serde_json::to_vec(&bad).unwrap();
    let found = failures_in(&text, 2, key).unwrap();
    assert_eq!(found, failures(&bad, key));
    assert_eq!(
        (found[0].0, found[0].1.id.as_str(), found[0].1.status),
        (1, "1", 409)
    );
}

#[test]
fn the_bulk_path_is_the_one_whose_sigv4_signature_is_checked_against_botocore() {
    // cluster::sigv4::tests::a_bulk_post_with_the_workers_filter_path_matches_a_botocore_vector signs this path.
    assert_eq!(
        BULK_PATH,
        "/_bulk?filter_path=errors%2Citems.%2A.status%2Citems.%2A.error"
    );
}

#[test]
fn an_answer_that_is_not_one_item_per_action_is_never_taken_as_acknowledged() {
    let key = |i: usize| Some(("i".to_string(), i.to_string()));
    let error = |body: &[u8], actions| failures_in(body, actions, key).unwrap_err().to_string();
    assert!(error(b"", 1).contains("EOF"), "{}", error(b"", 1));
    assert!(error(b"<html>", 1).contains("expected value"));
    // A proxy's or gateway's JSON error, even with a 2xx or 404 status, is no bulk answer.
    assert!(error(br#"{"message":"Not Found"}"#, 1).contains("not a bulk answer"));
    assert!(error(br#"{"items":[]}"#, 0).contains("not a bulk answer"));
    assert!(error(br#"{"errors":false}"#, 1).contains("not a bulk answer"));
    assert!(error(br#"{"errors":"no","items":[]}"#, 0).contains("invalid type"));
    assert_eq!(
        error(br#"{"errors":false,"items":[{"index":{"status":201}}]}"#, 2),
        "the bulk answer has 1 item(s) for 2 action(s)"
    );
    assert_eq!(
        error(br#"{"errors":true,"items":[]}"#, 1),
        "the bulk answer has 0 item(s) for 1 action(s)"
    );
}

#[test]
fn failed_items_are_classified() {
    let ids = [("i", "1"), ("i", "2"), ("i", "3")];
    let key = |i: usize| ids.get(i).map(|(x, y)| (x.to_string(), y.to_string()));
    let resp = json!({"errors": true, "items": [
        {"index": {"status": 201}},
        {"index": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}},
        {"index": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "busy"}}}
    ]});
    let f = failures(&resp, key);
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0].0, f[0].1.id.as_str(), f[0].1.retryable()),
        (1, "2", false)
    );
    assert_eq!(
        (f[1].0, f[1].1.error_type.as_str(), f[1].1.retryable()),
        (2, "es_rejected_execution_exception", true)
    );
    assert!(failures(&json!({"errors": false, "items": []}), key).is_empty());
}

#[test]
fn an_elasticsearch_6_action_names_the_type_or_doc() {
    assert!(body_of(&doc("{}"), true).contains(r#""_type":"t""#));
    let untyped = SnapshotDocument {
        doc_type: None,
        ..doc("{}")
    };
    assert!(body_of(&untyped, true).contains(r#""_type":"_doc""#));
    assert!(!body_of(&untyped, false).contains("_type"));
}
