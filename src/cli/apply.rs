//! `backfill apply`: deploys the stacks, then converges the fleet.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A saved plan (`plan --out FILE`) to execute exactly.
    pub plan: Option<std::path::PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Keep converging until the declared state is reached.
    #[arg(long)]
    pub wait: bool,
}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "apply",
        issue: 4,
    }
    .into())
}
