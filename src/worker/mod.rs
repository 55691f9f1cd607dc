//! The worker: acquire a work item → open its shard straight from the snapshot → stream documents from the
//! item's starting document → bulk-index them, several requests in flight → complete the item, or hand the rest
//! to a successor before the lease runs out (and on SIGTERM).
//!
//! Pure parts: `bulk` (requests/responses), `pipeline` (the acknowledged-prefix checkpoint), `retry` (backoff
//! bounded by the lease), `skew` (clock-skew decision), `metrics` (EMF documents), `env` (container settings).
//! I/O: `reader` (the shard's documents into batches, on a blocking thread, through `transform` when a rule matches
//! the index), `send` (one batch), `item` (one work
//! item), `run` (the loop), `failed` (failed documents), `report`. Shared values: `types` (options, source,
//! totals, exit, error), re-exported here. Files import in one direction: `run` → `item` →
//! `reader`/`send`/`report` → `metrics`, all onto `types` and the pure parts, never back.

pub mod bulk;
pub(crate) mod env;
pub(crate) mod failed;
pub(crate) mod item;
pub(crate) mod metrics;
pub(crate) mod pipeline;
pub(crate) mod reader;
pub(crate) mod report;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod send;
pub(crate) mod skew;
pub mod transform;
pub(crate) mod types;

pub(crate) use types::{Source, WorkerError, WorkerExit, WorkerOptions, WorkerStats};
