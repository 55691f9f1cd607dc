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
pub mod env;
pub mod failed;
pub mod item;
pub mod metrics;
pub mod pipeline;
pub mod reader;
pub mod report;
pub mod retry;
pub mod run;
pub mod send;
pub mod skew;
pub mod transform;
pub mod types;

pub use types::{Source, WorkerError, WorkerExit, WorkerOptions, WorkerStats};
