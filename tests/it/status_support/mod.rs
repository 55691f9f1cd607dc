//! Writes a working-state index exactly as the upstream RFS workers do (worker.md section 1): the upstream
//! settings and mapping, `shard_setup` with `completedAt`, items `base64url(index)__<shard>__<startingDocId>`
//! with `scriptVersion`, `indexName`, `expiration`, `creatorId`, `nextAcquisitionLeaseExponent`,
//! `leaseHolderId`, `completedAt`, parents carrying `successor_items`, and successors without `indexName`.
#![allow(dead_code)]

use backfill::cluster::Client;
use backfill::cluster::transport::{Body, JsonTransport, Method};
use backfill::coordination::archive::index_definition;
use backfill::coordination::progress::working_state_index;
use backfill::time::{Clock, SystemClock, Timestamp};
use base64::Engine as _;
use serde_json::{Value, json};

pub const SETUP_AT: u64 = 1_784_642_531;

/// Now in epoch seconds, as the documents store times.
pub fn now() -> u64 {
    u64::try_from(SystemClock.now().epoch_seconds()).unwrap_or(0)
}

/// Epoch seconds (as the documents store them) as the library's instant.
pub fn at(epoch_seconds: u64) -> Timestamp {
    Timestamp::from_epoch_seconds(i64::try_from(epoch_seconds).unwrap_or(i64::MAX))
}

pub fn item_id(index: &str, shard: u32, start: u64) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(index.as_bytes());
    format!("{b}__{shard}__{start}")
}

pub fn unclaimed(index: &str) -> Value {
    json!({"scriptVersion": "3.0", "indexName": index, "expiration": 0, "creatorId": "host_1",
           "nextAcquisitionLeaseExponent": 0})
}

pub fn leased(index: &str, until: u64) -> Value {
    json!({"scriptVersion": "3.0", "indexName": index, "expiration": until, "creatorId": "host_1",
           "nextAcquisitionLeaseExponent": 1, "leaseHolderId": "host_2_9b1c"})
}

pub fn completed(index: &str, at: u64) -> Value {
    json!({"scriptVersion": "3.0", "indexName": index, "expiration": at - 10, "creatorId": "host_1",
           "nextAcquisitionLeaseExponent": 1, "leaseHolderId": "host_2_9b1c", "completedAt": at})
}

pub fn setup_doc() -> Value {
    json!({"scriptVersion": "3.0", "expiration": SETUP_AT + 300, "creatorId": "host_1",
           "nextAcquisitionLeaseExponent": 1, "leaseHolderId": "host_1", "completedAt": SETUP_AT})
}

pub async fn create_index(t: &Client, session: Option<&str>) {
    let index = working_state_index(session);
    let r = t
        .send(
            Method::Put,
            &format!("/{index}"),
            Some(Body::Json(index_definition())),
        )
        .await
        .unwrap();
    assert!(r.status < 300, "{:?}", r.body);
}

/// Bulk-creates documents with `?refresh=true`, as the workers do.
pub async fn put_docs(t: &Client, session: Option<&str>, docs: &[(String, Value)]) {
    let index = working_state_index(session);
    for chunk in docs.chunks(5000) {
        let mut body = String::new();
        for (id, source) in chunk {
            body.push_str(&json!({"create": {"_id": id}}).to_string());
            body.push('\n');
            body.push_str(&source.to_string());
            body.push('\n');
        }
        let r = t
            .send(
                Method::Post,
                &format!("/{index}/_bulk?refresh=true"),
                Some(Body::Ndjson(body.into())),
            )
            .await
            .unwrap();
        assert_eq!(r.body["errors"], json!(false), "{}", r.body);
    }
}

/// The mixed scenario: 5 countable items (1 completed, 2 in progress, 2 unclaimed), a split parent.
pub fn mixed_scenario(now: u64) -> Vec<(String, Value)> {
    let a = "logs-2024";
    let b = "my__index";
    let mut parent = completed(b, now - 50);
    parent["successor_items"] = json!(item_id(b, 0, 5000));
    vec![
        ("shard_setup".into(), setup_doc()),
        (item_id(a, 0, 0), completed(a, now - 100)),
        (item_id(a, 1, 0), leased(a, now + 3600)),
        (item_id(a, 2, 0), unclaimed(a)),
        (item_id(b, 0, 0), parent),
        (
            item_id(b, 0, 5000),
            json!({"nextAcquisitionLeaseExponent": 1, "scriptVersion": "3.0", "creatorId": "host_2_9b1c",
                   "expiration": now + 1800, "leaseHolderId": "host_3_77aa"}),
        ),
        (item_id(a, 3, 0), leased(a, now - 100)),
    ]
}
