//! Time, in one place, at the bottom of the dependency graph (it depends on nothing in the crate).
//!
//! - [`Timestamp`]: a wall-clock instant (epoch milliseconds). What the working state stores (as epoch seconds),
//!   what leases and the lease-bounded retry deadline are measured in, what is compared with the target's clock,
//!   and what is printed (RFC 3339 via `humantime`, the archive's `YYYYmmddHHMMSS`). It can jump (NTP), so it
//!   never times a wait.
//! - [`std::time::Instant`]: a monotonic instant, for timeouts, elapsed times and the supervisor's restart
//!   schedule. Never written anywhere.
//! - [`Clock`]: the one injected source of both, and of sleeping: [`SystemClock`] in the binary,
//!   [`ManualClock`] in tests (time moves only when the test or a sleep moves it).
//! - [`Backoff`]: exponential, capped delays with a [`Jitter`] policy, the one backoff of the target client, the
//!   worker's bulk retries, the converge runner and the local supervisor. Randomness is an argument (a sample or
//!   an `Rng`), so every delay is reproducible in tests.

mod backoff;
mod clock;
mod timestamp;

pub(crate) use backoff::{Backoff, Delays, Jitter};
pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use timestamp::{Timestamp, epoch_seconds, option_epoch_seconds};
