//! Sending one batch: `POST /_bulk`, then retry what is worth retrying — the whole request after a 429/5xx or a
//! connection error, only the items a bulk response rejected with 429/5xx otherwise — with the lease-bounded
//! backoff of `retry.rs`. Items rejected for good (mapping errors…) are returned, not retried. Several of these
//! futures run at once (the item loop polls up to `max_connections`); each owns its batch and reports counts
//! instead of touching shared state.

use tokio::sync::watch;

use super::bulk::{self, Batch, BodyPool, BulkBody, ItemFailure};
use super::retry::{Next, RetryPolicy};
use crate::cluster::transport::{Body, JsonTransport, Method, TransportError};
use crate::time::{Clock, Timestamp};

/// What a batch's sending needs; shared by every batch of an item.
pub(crate) struct Sender<'a, T: JsonTransport> {
    pub(crate) transport: &'a T,
    pub(crate) policy: RetryPolicy,
    pub(crate) clock: &'a dyn Clock,
    /// When the worker must checkpoint: no retry wait ends after it.
    pub(crate) deadline: Timestamp,
    /// Set on SIGTERM: stop retrying at once.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Where a sent batch's body goes back to, for the reader to fill again.
    pub(crate) pool: BodyPool,
}

/// How a batch ended.
#[derive(Debug, Clone)]
pub(crate) enum BatchEnd {
    /// Every document was indexed or rejected for good: the checkpoint may move past it.
    Acked,
    /// The deadline (or SIGTERM) came before the target accepted it: it stays unacknowledged.
    HandOff,
    /// A non-retryable request error, or attempts exhausted.
    Failed {
        attempts: u32,
        source: TransportError,
    },
}

/// The outcome and counts of one batch.
#[derive(Debug, Clone)]
pub(crate) struct BatchResult {
    pub(crate) seq: u64,
    pub(crate) docs: usize,
    pub(crate) source_bytes: u64,
    pub(crate) requests: u64,
    pub(crate) retries: u64,
    /// Items rejected for good (only meaningful when `Acked`).
    pub(crate) rejected: Vec<ItemFailure>,
    pub(crate) end: BatchEnd,
}

fn retryable(err: &TransportError) -> bool {
    matches!(
        err,
        TransportError::Unreachable { .. }
            | TransportError::Http {
                status: 429 | 500..=599,
                ..
            }
    )
}

impl<T: JsonTransport> Sender<'_, T> {
    /// Sends `batch` (sequence number `seq`) until it is acknowledged, must be handed off, or fails.
    pub(crate) async fn send(&self, seq: u64, batch: Batch) -> BatchResult {
        let mut result = BatchResult {
            seq,
            docs: batch.docs,
            source_bytes: batch.source_bytes,
            requests: 0,
            retries: 0,
            rejected: Vec::new(),
            end: BatchEnd::Acked,
        };
        let docs = batch.docs;
        let body = batch.into_body();
        result.end = self.send_body(&body, docs, &mut result).await;
        self.pool.put(body);
        result
    }

    /// The attempts of [`Sender::send`]: counts requests, retries and rejections into `result`, returns how
    /// the batch ended.
    async fn send_body(&self, body: &BulkBody, docs: usize, result: &mut BatchResult) -> BatchEnd {
        let mut pending: Vec<usize> = (0..docs).collect();
        let mut shutdown = self.shutdown.clone();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            result.requests += 1;
            let bytes = if pending.len() == docs {
                body.all()
            } else {
                body.subset(&pending)
            };
            let error = match self
                .transport
                .send_raw(Method::Post, bulk::BULK_PATH, Some(Body::Ndjson(bytes)))
                .await
            {
                Ok(resp) => {
                    let failures = match bulk::failures_in(&resp.body, pending.len(), |i| {
                        pending.get(i).and_then(|&p| body.key(p))
                    }) {
                        Ok(failures) => failures,
                        Err(e) => {
                            let source = TransportError::Decode {
                                url: self.transport.url().to_string(),
                                path: "/_bulk".into(),
                                message: format!("HTTP {}: {e}", resp.status),
                            };
                            return BatchEnd::Failed { attempts, source };
                        }
                    };
                    let mut again = Vec::new();
                    let mut last = None;
                    for (pos, failure) in failures {
                        if failure.retryable() {
                            again.extend(pending.get(pos).copied());
                            last = Some(failure);
                        } else {
                            result.rejected.push(failure);
                        }
                    }
                    let Some(last) = last else {
                        return BatchEnd::Acked;
                    };
                    pending = again;
                    TransportError::Http {
                        url: self.transport.url().to_string(),
                        path: "/_bulk".into(),
                        status: last.status,
                        body: format!(
                            "{} item(s) still rejected, e.g. {}: {}",
                            pending.len(),
                            last.error_type,
                            last.reason
                        ),
                    }
                }
                Err(e) if retryable(&e) => e,
                Err(source) => {
                    return BatchEnd::Failed { attempts, source };
                }
            };
            if *shutdown.borrow() {
                return BatchEnd::HandOff;
            }
            let jitter = rand::random::<f64>();
            match self
                .policy
                .next(attempts, self.clock.now(), self.deadline, jitter)
            {
                Next::Retry(wait) => {
                    result.retries += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => {
                            return BatchEnd::HandOff;
                        }
                    }
                }
                Next::HandOff => {
                    return BatchEnd::HandOff;
                }
                Next::GiveUp => {
                    return BatchEnd::Failed {
                        attempts,
                        source: error,
                    };
                }
            }
        }
    }
}
