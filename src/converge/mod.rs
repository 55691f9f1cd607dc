//! Converge the backfill to its declared lifecycle, and report it.
//!
//! - [`lifecycle`]: declared state, observation, derived status;
//! - [`reconcile`]: the pure decision `(declared, observed, now) -> Decision` (table-tested);
//! - [`ramp`]: gradual scale-up guarded by target health;
//! - [`runner`]: executes decisions through the platform's [`crate::platform::Fleet`] and the coordination
//!   module, level-triggered and idempotent, with bounded exponential backoff on errors.
//!
//! Guarantees: the runner never archives or deletes the working state while a task runs; the index is deleted
//! only after a verified archive; a pass that fails changes nothing that the next pass would not redo.

pub mod lifecycle;
pub mod ramp;
pub mod reconcile;

pub use lifecycle::{Declared, DeclaredState, DerivedStatus, Observed, RampPolicy, Status};
pub use reconcile::{Action, Decision, reconcile};
pub mod runner;
pub mod status;

pub use runner::{
    Clock, ConvergeError, ConvergeEvent, Runner, SettleOptions, SystemClock, WorkingState,
};
