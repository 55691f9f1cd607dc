//! The worker: acquire a work item → open its shard straight from the snapshot → stream documents from the
//! item's starting document → bulk-index them → complete the item, or hand the rest to a successor before
//! the lease runs out (and on SIGTERM). `bulk.rs` is the pure request/response logic; `run.rs` the loop.

pub mod bulk;
pub mod metrics;
pub mod run;
