//! The worker loop: check the clock against the target's, create the work items, then claim items one at a
//! time and migrate each (`item.rs`) until no work is left, everything left is leased elsewhere, or the lease
//! had to be handed off. The checkpoint only ever moves past a contiguous prefix of acknowledged batches, so a
//! handoff never skips a document and redoes at most the batches after the first unacknowledged one.
//!
//! Before it creates or claims anything, the worker claims the working state for its migration
//! (`coordination::ownership::claim`): absent, it is created with the migration's record; another migration's
//! is refused ([`WorkerError::Ownership`], a permanent exit).
//!
//! Work items are created create-only by every worker at start (idempotent: the first `_create` wins), which
//! replaces the upstream `shard_setup` mutex. Bulk writes are index-by-id, so a batch sent twice (a retry, or a
//! lease taken over after a crash) lands once.

use std::time::Duration;

use tokio::sync::watch;

use super::failed::FailedDocuments;
use super::item::{self, ItemEnd, Outputs, Work};
use super::report::{Observer, Reporter};
use super::skew::{self, SkewCheck};
use super::types::{Source, WorkerError, WorkerExit, WorkerOptions, WorkerStats};
use crate::aws_sdk::AwsSdk;
use crate::cluster::transport::JsonTransport;
use crate::coordination::coordinator::{Acquired, Coordinator};
use crate::coordination::lease::WorkItemId;
use crate::coordination::ownership::{Claimed, claim};
use crate::time::Clock;

/// Runs until no work is left, the lease must be handed off, or everything left is leased elsewhere. Logs and
/// metrics (periodic, per item, and a last line at the end, whatever the outcome) go to `observer`.
pub(crate) async fn run<T: JsonTransport>(
    transport: &T,
    source: &Source,
    options: &WorkerOptions,
    clock: &dyn Clock,
    shutdown: watch::Receiver<bool>,
    stats: &mut WorkerStats,
    observer: &dyn Observer,
) -> Result<WorkerExit, WorkerError> {
    let mut reporter = Reporter::new(observer, clock, &options.migration);
    let result = run_items(
        transport,
        source,
        options,
        clock,
        shutdown,
        stats,
        &mut reporter,
    )
    .await;
    reporter.flush(stats);
    result
}

async fn run_items<T: JsonTransport>(
    transport: &T,
    source: &Source,
    options: &WorkerOptions,
    clock: &dyn Clock,
    shutdown: watch::Receiver<bool>,
    stats: &mut WorkerStats,
    reporter: &mut Reporter<'_>,
) -> Result<WorkerExit, WorkerError> {
    match skew::check(transport, clock, options.lease_seconds)
        .await
        .map_err(WorkerError::ClockCheck)?
    {
        SkewCheck::TooFar { skew_s, max_s } => {
            return Err(WorkerError::ClockSkew { skew_s, max_s });
        }
        SkewCheck::Unknown => reporter.log(
            "the target does not report its time (_cat/health): the clock-skew check is skipped",
        ),
        SkewCheck::Ok { .. } => {}
    }
    let coordinator = Coordinator::new(
        transport,
        &options.state_index,
        &options.worker_id,
        options.lease_seconds,
    );
    // After the clock check and before any work item: the working state must be this migration's.
    let claimed = claim(
        transport,
        &options.state_index,
        &options.identity,
        options.adopt_unrecorded,
    )
    .await
    .map_err(|e| WorkerError::Ownership(Box::new(e)))?;
    if claimed == Claimed::Adopted {
        reporter.log(&format!(
            "recorded the unrecorded working state {} as migration {}'s (backfill.adopt_unrecorded_working_state)",
            options.state_index, options.identity.migration
        ));
    }
    let items: Vec<WorkItemId> = source
        .indices
        .iter()
        .flat_map(|i| {
            (0..i.shards).map(move |s| WorkItemId {
                index: i.name.clone(),
                shard: s,
                starting_doc: 0,
            })
        })
        .collect();
    coordinator.create_items(&items, 0).await?;
    coordinator.mark_setup_complete(clock.now()).await?;
    // Shards of the selected indices; each shard has at most one incomplete item at a time (a successor is
    // created just before its parent completes), so completed shards = total − incomplete items.
    let shards_total = items.len() as u64;
    let gauges = |remaining: u64| shards_total.saturating_sub(remaining);
    reporter.shards(shards_total, gauges(coordinator.remaining().await?), None);
    let mut failed = FailedDocuments::open(
        options.failed_documents.as_ref(),
        &options.worker_id,
        clock.now().epoch_millis(),
        &AwsSdk::new(&options.aws),
    )
    .await;
    let work = Work {
        transport,
        coordinator: &coordinator,
        source,
        options,
        clock,
        shutdown: shutdown.clone(),
    };
    let mut rng: rand::rngs::StdRng = rand::SeedableRng::from_os_rng();
    loop {
        if *shutdown.borrow() {
            return Ok(WorkerExit::LeaseHandedOff);
        }
        match coordinator.acquire(clock.now(), &mut rng).await? {
            Acquired::AllComplete => return Ok(WorkerExit::NoWorkLeft),
            Acquired::AllLeased { .. } => return Ok(WorkerExit::AllLeased),
            Acquired::Item {
                id, lease_until, ..
            } => {
                let (acquired, started) = (clock.now(), clock.instant());
                let lease_ms = lease_until
                    .saturating_duration_since(acquired)
                    .as_millis()
                    .max(1);
                let margin_ms = (lease_ms as f64 * options.handoff_fraction).ceil() as u64;
                let deadline = lease_until - Duration::from_millis(margin_ms);
                let mut out = Outputs {
                    stats: &mut *stats,
                    reporter: &mut *reporter,
                    failed: &mut failed,
                };
                out.reporter.start_item(&id, out.stats);
                // On an error the item stays the reporter's, so the run's last line still names it.
                let end = item::migrate_item(&work, &id, deadline, &mut out).await?;
                reporter.finish_item(stats);
                match end {
                    ItemEnd::HandedOff => return Ok(WorkerExit::LeaseHandedOff),
                    ItemEnd::Completed => {
                        let took = clock.instant().saturating_duration_since(started);
                        let took = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
                        let remaining = coordinator.remaining().await?;
                        reporter.shards(shards_total, gauges(remaining), Some((&id, took)));
                    }
                }
            }
        }
    }
}
