//! The lease protocol over the target: the I/O half of `lease.rs`. Every write is conditional — `_create` for
//! new items, `if_seq_no`/`if_primary_term` on the version that was read for updates — so the pure transitions'
//! guarantees hold across workers without scripts (Elasticsearch 6.7+, every OpenSearch, osmem-server).
//! Writes use `refresh=true`, and "no more work" comes from a refreshed exact count, never from an empty search.

use rand::seq::SliceRandom;
use serde_json::{Value, json};

use super::item_counts::ItemCounts;
use super::lease::{self, Refusal, SHARD_SETUP_ID, WorkItem, WorkItemId};
use crate::cluster::transport::{Body, JsonTransport, Method, TransportError};
use crate::time::Timestamp;

/// What an acquisition attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// This worker now holds the item until `lease_until` (a whole second, as stored).
    Item {
        id: WorkItemId,
        lease_until: Timestamp,
        exponent: u32,
    },
    /// Work remains, but every remaining item is leased by someone else.
    AllLeased { remaining: u64 },
    /// Every item is complete.
    AllComplete,
}

#[derive(Debug, thiserror::Error)]
pub enum CoordinationError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("work item {id}: {refusal}")]
    Refused { id: String, refusal: Refusal },
    #[error("work item {id}: lost a race with another worker")]
    Conflict { id: String },
    #[error("working state: unexpected response to {what}: {body}")]
    Unexpected { what: String, body: String },
}

/// One worker's view of the working state.
pub struct Coordinator<'t, T: JsonTransport> {
    transport: &'t T,
    index: String,
    worker_id: String,
    /// Initial lease in seconds; doubled on each re-acquisition.
    window_seconds: u64,
}

fn is_conflict(err: &TransportError) -> bool {
    matches!(err, TransportError::Http { status: 409, .. })
}

/// A document with the version it was read at.
struct Versioned {
    item: WorkItem,
    seq_no: i64,
    primary_term: i64,
}

impl<'t, T: JsonTransport> Coordinator<'t, T> {
    pub fn new(transport: &'t T, index: &str, worker_id: &str, window_seconds: u64) -> Self {
        Coordinator {
            transport,
            index: index.to_string(),
            worker_id: worker_id.to_string(),
            window_seconds,
        }
    }

    /// Creates the working-state index if it does not exist (idempotent, safe to race).
    pub async fn setup_index(&self) -> Result<(), CoordinationError> {
        self.setup_index_recording(None).await
    }

    /// [`Coordinator::setup_index`], with `meta` (the owner record, `identity.rs`) as the mapping's `_meta`,
    /// written in the same request that creates the index. An existing index is left as it is.
    pub(crate) async fn setup_index_recording(
        &self,
        meta: Option<&Value>,
    ) -> Result<(), CoordinationError> {
        let path = format!("/{}", self.index);
        if self.transport.send(Method::Get, &path, None).await?.status != 404 {
            return Ok(());
        }
        let mut body = json!({
            "settings": { "index": { "number_of_shards": 1, "number_of_replicas": 0 } },
            "mappings": { "properties": {
                "expiration": { "type": "long" },
                "completedAt": { "type": "long" },
                "leaseHolderId": { "type": "keyword", "norms": false },
                "nextAcquisitionLeaseExponent": { "type": "integer" },
                "successor_items": { "type": "keyword", "norms": false },
                "creatorId": { "type": "keyword", "norms": false },
                "scriptVersion": { "type": "keyword", "norms": false },
                "documentsMigrated": { "type": "long" },
                "failedDocuments": { "type": "long" },
                "skippedDocuments": { "type": "long" },
                "extraDocuments": { "type": "long" },
                "targetIndices": { "type": "keyword", "norms": false }
            }}
        });
        if let Some(meta) = meta {
            body["mappings"]["_meta"] = meta.clone();
        }
        match self
            .transport
            .send(Method::Put, &path, Some(Body::Json(body)))
            .await
        {
            Ok(_) => Ok(()),
            // Another worker created it first (resource_already_exists_exception; the excerpt may be cut before
            // the type, so the reason's wording counts too).
            Err(TransportError::Http {
                status: 400, body, ..
            }) if body.contains("already_exists") || body.contains("already exists") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates unassigned items (create-only: existing ones are left as they are). Returns how many were new.
    pub async fn create_items(
        &self,
        ids: &[WorkItemId],
        exponent: u32,
    ) -> Result<usize, CoordinationError> {
        let mut created = 0;
        for id in ids {
            let doc = serde_json::to_value(lease::unassigned(id, &self.worker_id, exponent))
                .unwrap_or(Value::Null);
            let path = format!("/{}/_create/{}?refresh=true", self.index, id.to_id());
            match self
                .transport
                .send(Method::Put, &path, Some(Body::Json(doc)))
                .await
            {
                Ok(_) => created += 1,
                Err(e) if is_conflict(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(created)
    }

    /// Records that every work item exists: a completed `shard_setup` document, as the upstream workers leave
    /// it, so `status` (ours and the console's) knows creation is over. Create-only; an existing one is kept.
    pub(crate) async fn mark_setup_complete(
        &self,
        now: Timestamp,
    ) -> Result<(), CoordinationError> {
        let now = now.epoch_seconds();
        let doc = serde_json::json!({
            "scriptVersion": lease::SCRIPT_VERSION,
            "creatorId": self.worker_id,
            "leaseHolderId": self.worker_id,
            "expiration": now,
            "nextAcquisitionLeaseExponent": 0,
            "completedAt": now,
        });
        let path = format!("/{}/_create/{SHARD_SETUP_ID}?refresh=true", self.index);
        match self
            .transport
            .send(Method::Put, &path, Some(Body::Json(doc)))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A work item this worker is acting on: its absence is a protocol error, not "no item".
    async fn get_existing(&self, doc_id: &str) -> Result<Versioned, CoordinationError> {
        self.get(doc_id)
            .await?
            .ok_or_else(|| CoordinationError::Unexpected {
                what: format!("GET {doc_id}"),
                body: "not found".into(),
            })
    }

    async fn get(&self, doc_id: &str) -> Result<Option<Versioned>, CoordinationError> {
        let resp = self
            .transport
            .send(Method::Get, &format!("/{}/_doc/{doc_id}", self.index), None)
            .await?;
        if resp.status == 404 || resp.body["found"] == false {
            return Ok(None);
        }
        versioned(&resp.body).map(Some)
    }

    /// Writes `item` only if the stored version is still `(seq_no, primary_term)`.
    async fn put_if(
        &self,
        doc_id: &str,
        item: &WorkItem,
        seq_no: i64,
        primary_term: i64,
    ) -> Result<(), CoordinationError> {
        let path = format!(
            "/{}/_doc/{doc_id}?if_seq_no={seq_no}&if_primary_term={primary_term}&refresh=true",
            self.index
        );
        let body = serde_json::to_value(item).unwrap_or(Value::Null);
        match self
            .transport
            .send(Method::Put, &path, Some(Body::Json(body)))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Err(CoordinationError::Conflict {
                id: doc_id.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Claims a random claimable item (expired, incomplete), so workers do not stampede one document.
    pub async fn acquire(
        &self,
        now: Timestamp,
        rng: &mut impl rand::Rng,
    ) -> Result<Acquired, CoordinationError> {
        loop {
            let query = json!({
                "size": 50,
                "seq_no_primary_term": true,
                "query": { "bool": {
                    "filter": [{ "range": { "expiration": { "lt": now.epoch_seconds() } } }],
                    "must_not": [{ "exists": { "field": "completedAt" } }, { "ids": { "values": [SHARD_SETUP_ID] } }]
                }}
            });
            let resp = self
                .transport
                .send(
                    Method::Post,
                    &format!("/{}/_search", self.index),
                    Some(Body::Json(query)),
                )
                .await?;
            let mut hits = resp.body["hits"]["hits"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if hits.is_empty() {
                let remaining = self.remaining().await?;
                return Ok(if remaining == 0 {
                    Acquired::AllComplete
                } else {
                    Acquired::AllLeased { remaining }
                });
            }
            hits.shuffle(rng);
            for hit in &hits {
                let Some(doc_id) = hit["_id"].as_str() else {
                    continue;
                };
                let Some(id) = WorkItemId::parse(doc_id) else {
                    continue;
                };
                let current = versioned(hit)?;
                let Ok(claimed) =
                    lease::claim(&current.item, &self.worker_id, now, self.window_seconds)
                else {
                    continue;
                };
                match self
                    .put_if(doc_id, &claimed, current.seq_no, current.primary_term)
                    .await
                {
                    Ok(()) if lease::recorded_successors(&claimed).is_some() => {
                        // Its holder stopped between recording successors and completing it: finish that
                        // handoff (migrating it again from its start could only end in a refused checkpoint).
                        self.finish_handoff(&id, &claimed, now).await?;
                    }
                    Ok(()) => {
                        return Ok(Acquired::Item {
                            id,
                            lease_until: Timestamp::from_epoch_seconds(claimed.expiration),
                            exponent: claimed.next_acquisition_lease_exponent,
                        });
                    }
                    Err(CoordinationError::Conflict { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
            // Every candidate was taken by someone else in the meantime: look again.
        }
    }

    /// Finishes a handoff whose holder stopped after recording the successors: creates them (create-only, so
    /// ones already created are kept) and completes the item with the counts recorded with the successors.
    async fn finish_handoff(
        &self,
        id: &WorkItemId,
        claimed: &WorkItem,
        now: Timestamp,
    ) -> Result<(), CoordinationError> {
        let successors = lease::recorded_successors(claimed).unwrap_or_default();
        self.create_items(
            &successors,
            claimed.next_acquisition_lease_exponent.saturating_sub(1),
        )
        .await?;
        let doc_id = id.to_id();
        let current = self.get_existing(&doc_id).await?;
        let done =
            lease::complete_handoff(&current.item, &self.worker_id, now).map_err(|refusal| {
                CoordinationError::Refused {
                    id: doc_id.clone(),
                    refusal,
                }
            })?;
        self.put_if(&doc_id, &done, current.seq_no, current.primary_term)
            .await
    }

    /// Incomplete items (exact, after a refresh), excluding `shard_setup`.
    pub async fn remaining(&self) -> Result<u64, CoordinationError> {
        self.transport
            .send(Method::Post, &format!("/{}/_refresh", self.index), None)
            .await?;
        let query = json!({ "query": { "bool": { "must_not": [
            { "exists": { "field": "completedAt" } }, { "ids": { "values": [SHARD_SETUP_ID] } }
        ]}}});
        let resp = self
            .transport
            .send(
                Method::Post,
                &format!("/{}/_count", self.index),
                Some(Body::Json(query)),
            )
            .await?;
        resp.body["count"]
            .as_u64()
            .ok_or_else(|| CoordinationError::Unexpected {
                what: "_count".into(),
                body: resp.body.to_string(),
            })
    }

    /// Completes a held item with its document counts (terminal).
    pub async fn complete(
        &self,
        id: &WorkItemId,
        now: Timestamp,
        counts: &ItemCounts,
    ) -> Result<(), CoordinationError> {
        let doc_id = id.to_id();
        let current = self.get_existing(&doc_id).await?;
        let done =
            lease::complete(&current.item, &self.worker_id, now, counts).map_err(|refusal| {
                CoordinationError::Refused {
                    id: doc_id.clone(),
                    refusal,
                }
            })?;
        self.put_if(&doc_id, &done, current.seq_no, current.primary_term)
            .await
    }

    /// Gives a held item back without progress, claimable at once by any worker.
    pub(crate) async fn release(&self, id: &WorkItemId) -> Result<(), CoordinationError> {
        let doc_id = id.to_id();
        let current = self.get_existing(&doc_id).await?;
        let free = lease::release(&current.item, &self.worker_id).map_err(|refusal| {
            CoordinationError::Refused {
                id: doc_id.clone(),
                refusal,
            }
        })?;
        self.put_if(&doc_id, &free, current.seq_no, current.primary_term)
            .await
    }

    /// Hands the rest of a held item to a successor starting at `next_doc`: successor recorded → created →
    /// this item completed. Returns the successor.
    pub async fn checkpoint(
        &self,
        id: &WorkItemId,
        next_doc: u64,
        now: Timestamp,
        counts: &ItemCounts,
    ) -> Result<WorkItemId, CoordinationError> {
        let doc_id = id.to_id();
        if next_doc <= id.starting_doc {
            // A successor equal to the item would complete the item and lose the shard's rest.
            return Err(CoordinationError::Unexpected {
                what: format!("checkpoint of {doc_id}"),
                body: format!(
                    "no progress past document {}; release the lease instead",
                    id.starting_doc
                ),
            });
        }
        let successor = WorkItemId {
            starting_doc: next_doc,
            ..id.clone()
        };
        let current = self.get_existing(&doc_id).await?;
        let recorded =
            lease::record_successors(&current.item, &self.worker_id, &[successor.to_id()], counts)
                .map_err(|refusal| CoordinationError::Refused {
                    id: doc_id.clone(),
                    refusal,
                })?;
        if recorded != current.item {
            self.put_if(&doc_id, &recorded, current.seq_no, current.primary_term)
                .await?;
        }
        // The successor starts where this lease's length left off, so a slow shard keeps long leases.
        self.create_items(
            std::slice::from_ref(&successor),
            current
                .item
                .next_acquisition_lease_exponent
                .saturating_sub(1),
        )
        .await?;
        self.complete(id, now, counts).await?;
        Ok(successor)
    }
}

fn versioned(hit: &Value) -> Result<Versioned, CoordinationError> {
    let unexpected = || CoordinationError::Unexpected {
        what: "work item".into(),
        body: hit.to_string().chars().take(300).collect(),
    };
    let item: WorkItem =
        serde_json::from_value(hit["_source"].clone()).map_err(|_| unexpected())?;
    let seq_no = hit["_seq_no"].as_i64().ok_or_else(unexpected)?;
    let primary_term = hit["_primary_term"].as_i64().ok_or_else(unexpected)?;
    Ok(Versioned {
        item,
        seq_no,
        primary_term,
    })
}
