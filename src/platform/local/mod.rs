//! Local platform (the embedded runtime): the logical resources of the three stacks realised on this machine.
//!
//! - [`spec`]: the local resources (log group, worker service, dashboard) and their pure diff for `plan`;
//! - [`state`]: the state directory that records what `apply` made (atomic writes, flock locks);
//! - [`stacks`]: plan / apply / destroy through the platform's `Stacks` trait;
//! - [`slots`] + [`supervisor`]: the worker service — a detached process keeping `desired` workers alive;
//! - [`fleet`]: the converge loop's view of it (observe / scale), and starting/stopping the supervisor;
//! - [`logs`]: the log group's retention; [`dashboard`]: the HTML page charting the workers' metrics.

pub(crate) mod dashboard;
pub(crate) mod fleet;
pub(crate) mod logs;
pub(crate) mod slots;
pub(crate) mod spec;
pub(crate) mod stacks;
pub(crate) mod state;
pub(crate) mod supervisor;

pub(crate) use fleet::{LocalFleet, SupervisorLaunch};
pub(crate) use stacks::LocalStacks;

use std::path::PathBuf;

use crate::config::Migration;

/// The local platform of one migration: its stacks and its fleet, sharing one state directory.
pub(crate) fn for_migration(
    m: &Migration,
    config_path: PathBuf,
    exe: PathBuf,
) -> (LocalStacks, LocalFleet) {
    let spec = spec::LocalSpec {
        name: m.name.clone(),
        state_dir: m.local.state_dir.clone(),
        config_path: config_path.clone(),
        retention_days: m.logs.retention_days,
    };
    let launch = SupervisorLaunch {
        state: state::StateDir::new(&m.local.state_dir),
        exe,
        config_path,
        stop_timeout: m.backfill.stop_timeout,
    };
    (
        LocalStacks {
            spec,
            launch: launch.clone(),
            stack_names: m.stack_names(),
        },
        LocalFleet { launch },
    )
}
