//! Converge the backfill to its declared lifecycle, and report it.
//!
//! - [`ports`]: what the loop needs from where the workers run ([`Fleet`], [`HealthSource`], the observations and
//!   [`PlatformError`]), defined here and implemented by `platform::aws` and `platform::local` (wired in `cli`),
//!   so `converge` never depends on `platform`;
//! - [`lifecycle`]: declared state, observation, derived status;
//! - [`reconcile`]: the pure decision `(declared, observed, now) -> Decision` (table-tested);
//! - [`failures`]: worker failures and the crash-loop policy (when `Failing`, when restarts stop);
//! - [`ramp`]: gradual scale-up guarded by target health;
//! - [`health`]: the ramp's [`HealthSource`] read from the target itself (`_cluster/health`, `_nodes/stats`);
//! - [`runner`]: executes decisions through a [`Fleet`] and the coordination module, level-triggered and
//!   idempotent, with bounded exponential backoff on errors.
//!
//! Guarantees: the runner never archives or deletes the working state while a task runs; the index is deleted
//! only after a verified archive; a pass that fails changes nothing that the next pass would not redo.

pub mod failures;
pub mod health;
pub mod lifecycle;
pub mod ports;
pub mod ramp;
pub mod reconcile;

pub use lifecycle::{Declared, DeclaredState, DerivedStatus, Observed, RampPolicy, Status};
pub use ports::{Fleet, FleetObservation, HealthSample, HealthSource, PlatformError};
pub use reconcile::{Action, Decision, reconcile};
pub mod runner;
pub mod status;
pub mod status_owner;
pub mod working_state;

pub use runner::{ConvergeError, ConvergeEvent, Runner, SettleOptions, WorkingState};

use crate::time::SystemClock;

/// Converges once to the declared state (or completion) with the system clock: what `apply --wait` calls.
/// `sink` receives every [`ConvergeEvent`] (render it with `output::converge_view::ConvergeView`).
pub async fn run_until_settled<F, W, H>(
    declared: Declared,
    fleet: F,
    working_state: W,
    health: H,
    options: &SettleOptions,
    sink: &mut impl FnMut(ConvergeEvent),
) -> Result<Decision, ConvergeError>
where
    F: Fleet,
    W: WorkingState,
    H: HealthSource,
{
    let mut runner = Runner::new(declared, fleet, working_state, health, SystemClock);
    runner.run_until_settled(options, sink).await
}
