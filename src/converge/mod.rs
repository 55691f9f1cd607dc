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

pub(crate) mod failures;
pub mod health;
pub mod lifecycle;
pub mod ports;
pub(crate) mod ramp;
pub mod reconcile;

pub use lifecycle::{Declared, DeclaredState, DerivedStatus, Observed, RampPolicy, Status};
pub use reconcile::{Action, Decision, reconcile};
pub mod runner;
pub mod status;
pub(crate) mod status_owner;
pub mod working_state;

pub(crate) use runner::{ConvergeEvent, Runner, SettleOptions, WorkingState};
