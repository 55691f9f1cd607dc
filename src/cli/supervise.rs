//! `backfill supervise` (hidden): the local worker service process that `apply` starts detached. It keeps the
//! desired number of `backfill worker` processes alive (see `platform::local::supervisor`).

use crate::cli::Context;
use crate::cli::platforms;
use crate::exit::Outcome;
use crate::platform::local::state::{StateDir, StateError};
use crate::platform::local::supervisor::{self, SupervisorOptions};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) async fn run(_args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, false)?;
    let options = SupervisorOptions {
        state: StateDir::new(&m.local.state_dir),
        exe: std::env::current_exe()?,
        config_path: std::path::absolute(&ctx.global.config)?,
        name: m.name.clone(),
        stop_timeout: m.backfill.stop_timeout,
        retention_days: m.logs.retention_days,
    };
    let printer = ctx.printer.clone();
    // The supervisor's stderr is its log file: one it cannot write to is no reason to stop keeping workers.
    let notice = move |message: &str| {
        let _ = printer.line(message);
    };
    match tokio::task::spawn_blocking(move || supervisor::run(&options, &notice)).await? {
        Ok(()) => Ok(Outcome::Success),
        Err(StateError::Locked { .. }) => {
            ctx.printer
                .line("supervisor: another supervisor already runs this migration")?;
            Ok(Outcome::Success)
        }
        Err(e) => Err(e.into()),
    }
}
