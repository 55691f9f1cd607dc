//! The lease protocol against a real OpenSearch-compatible target (osmem-server): concurrent workers each win
//! distinct items, an expired lease is re-taken with twice the duration, completion is terminal, a checkpoint
//! hands the rest of a shard to a successor, and "no more work" is an exact count.

use crate::support;

use std::collections::HashSet;

use backfill::coordination::coordinator::{Acquired, Coordinator};
use backfill::coordination::item_counts::ItemCounts;
use backfill::coordination::lease::WorkItemId;
use backfill::time::Timestamp;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Epoch second `s` (the working state stores whole seconds).
fn at(s: i64) -> Timestamp {
    Timestamp::from_epoch_seconds(s)
}

const INDEX: &str = ".migrations_working_state";

fn items(n: u32) -> Vec<WorkItemId> {
    (0..n)
        .map(|s| WorkItemId {
            index: format!("logs-{}", s % 3),
            shard: s,
            starting_doc: 0,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_each_win_distinct_items_until_all_are_complete() {
    let osmem = support::Osmem::start();
    let transport = support::target_client(&osmem.url);
    let setup = Coordinator::new(&transport, INDEX, "setup", 600);
    setup.setup_index().await.expect("setup");
    setup.setup_index().await.expect("setup is idempotent");
    assert_eq!(setup.create_items(&items(24), 0).await.expect("create"), 24);
    assert_eq!(
        setup
            .create_items(&items(24), 0)
            .await
            .expect("create again"),
        0,
        "create-only"
    );

    let mut tasks = Vec::new();
    for w in 0..4u64 {
        let url = osmem.url.clone();
        tasks.push(tokio::spawn(async move {
            let transport = support::target_client(&url);
            let me = format!("worker-{w}");
            let coordinator = Coordinator::new(&transport, INDEX, &me, 600);
            let mut rng = StdRng::seed_from_u64(w);
            let mut won = Vec::new();
            loop {
                match coordinator
                    .acquire(at(1_000), &mut rng)
                    .await
                    .expect("acquire")
                {
                    Acquired::Item {
                        id,
                        lease_until,
                        exponent,
                    } => {
                        assert_eq!((lease_until, exponent), (at(1_600), 1));
                        won.push(id.to_id());
                    }
                    Acquired::AllLeased { .. } | Acquired::AllComplete => return won,
                }
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("worker"));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(
        all.len(),
        24,
        "every item leased exactly once while leases live: {all:?}"
    );
    assert_eq!(distinct.len(), 24);

    let lister = Coordinator::new(&transport, INDEX, "someone-else", 600);
    let mut rng = StdRng::seed_from_u64(9);
    assert_eq!(
        lister.acquire(at(1_000), &mut rng).await.expect("acquire"),
        Acquired::AllLeased { remaining: 24 }
    );
}

#[tokio::test]
async fn an_expired_lease_is_retaken_with_twice_the_duration_and_completion_is_terminal() {
    let osmem = support::Osmem::start();
    let transport = support::target_client(&osmem.url);
    let a = Coordinator::new(&transport, INDEX, "a", 60);
    let b = Coordinator::new(&transport, INDEX, "b", 60);
    a.setup_index().await.expect("setup");
    a.create_items(&items(1), 0).await.expect("create");
    let mut rng = StdRng::seed_from_u64(1);
    let Acquired::Item {
        id, lease_until, ..
    } = a.acquire(at(100), &mut rng).await.expect("a acquires")
    else {
        panic!("item")
    };
    assert_eq!(lease_until, at(160));
    assert_eq!(
        b.acquire(at(150), &mut rng).await.expect("b looks"),
        Acquired::AllLeased { remaining: 1 }
    );
    // a's lease lapses (a crashed): b takes it over for twice as long.
    let Acquired::Item {
        lease_until,
        exponent,
        ..
    } = b.acquire(at(161), &mut rng).await.expect("b acquires")
    else {
        panic!("item")
    };
    assert_eq!((lease_until, exponent), (at(161 + 120), 2));
    // The old holder can no longer write.
    assert!(
        a.complete(&id, at(170), &ItemCounts::sent(10, 0))
            .await
            .is_err(),
        "only the holder completes"
    );
    b.complete(&id, at(170), &ItemCounts::sent(10, 0))
        .await
        .expect("holder completes");
    assert_eq!(
        b.acquire(at(10_000), &mut rng).await.expect("after"),
        Acquired::AllComplete
    );
}

#[tokio::test]
async fn a_checkpoint_hands_the_rest_of_the_shard_to_a_successor() {
    let osmem = support::Osmem::start();
    let transport = support::target_client(&osmem.url);
    let a = Coordinator::new(&transport, INDEX, "a", 60);
    a.setup_index().await.expect("setup");
    a.create_items(&items(1), 0).await.expect("create");
    let mut rng = StdRng::seed_from_u64(2);
    let Acquired::Item { id, .. } = a.acquire(at(100), &mut rng).await.expect("acquire") else {
        panic!("item")
    };
    let successor = a
        .checkpoint(&id, 4_096, at(150), &ItemCounts::sent(4_096, 0))
        .await
        .expect("checkpoint");
    assert_eq!(
        successor,
        WorkItemId {
            starting_doc: 4_096,
            ..id.clone()
        }
    );
    let b = Coordinator::new(&transport, INDEX, "b", 60);
    let Acquired::Item { id: next, .. } = b.acquire(at(151), &mut rng).await.expect("b acquires")
    else {
        panic!("successor")
    };
    assert_eq!(
        next, successor,
        "the successor starts at the next unsent document"
    );
    b.complete(&next, at(200), &ItemCounts::sent(100, 0))
        .await
        .expect("complete");
    assert_eq!(b.remaining().await.expect("count"), 0);
}

#[tokio::test]
async fn a_handoff_interrupted_after_recording_its_successor_is_finished_by_the_next_claimer() {
    use backfill::cluster::transport::{Body, JsonTransport, Method};

    let osmem = support::Osmem::start();
    let transport = support::target_client(&osmem.url);
    let a = Coordinator::new(&transport, INDEX, "a", 60);
    a.setup_index().await.expect("setup");
    a.create_items(&items(1), 0).await.expect("create");
    let mut rng = StdRng::seed_from_u64(3);
    let Acquired::Item { id, .. } = a.acquire(at(100), &mut rng).await.expect("acquire") else {
        panic!("item")
    };
    // `a` records its successor (with the prefix's counts) and dies before creating it and completing the item.
    let path = format!("/{INDEX}/_doc/{}", id.to_id());
    let mut doc = transport
        .send(Method::Get, &path, None)
        .await
        .expect("get")
        .body["_source"]
        .clone();
    let successor = WorkItemId {
        starting_doc: 500,
        ..id.clone()
    };
    doc["successor_items"] = successor.to_id().into();
    doc["documentsMigrated"] = 500.into();
    doc["failedDocuments"] = 2.into();
    transport
        .send(
            Method::Put,
            &format!("{path}?refresh=true"),
            Some(Body::Json(doc)),
        )
        .await
        .expect("put");

    // After the lease lapses, `b` finishes the handoff and is handed the successor, not the shard from its start.
    let b = Coordinator::new(&transport, INDEX, "b", 60);
    let Acquired::Item { id: next, .. } = b.acquire(at(1_000), &mut rng).await.expect("b acquires")
    else {
        panic!("the successor")
    };
    assert_eq!(next, successor);
    let original = transport.send(Method::Get, &path, None).await.expect("get");
    let source = &original.body["_source"];
    assert_eq!(
        (
            source["completedAt"].as_i64(),
            source["documentsMigrated"].as_u64(),
            source["failedDocuments"].as_u64()
        ),
        (Some(1_000), Some(500), Some(2)),
        "completed with the counts recorded with the successor: {source}"
    );
    b.complete(&next, at(1_100), &ItemCounts::sent(100, 0))
        .await
        .expect("complete");
    assert_eq!(b.remaining().await.expect("count"), 0);
}
