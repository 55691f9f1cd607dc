//! Local platform (the embedded runtime): the logical resources of the three stacks realised on this machine.
//!
//! - [`spec`]: the local resources (log group, worker service, dashboard) and their pure diff for `plan`;
//! - [`state`]: the state directory that records what `apply` made (atomic writes, flock locks), so `plan`
//!   diffs against it and `destroy` removes exactly it.
//!
//! The supervisor of worker processes, the log retention and the HTML dashboard build on these (issue #8).

pub mod spec;
pub mod state;
