//! `backfill converge [--watch] [--interval]`: drives the fleet to the declared lifecycle.
//!
//! The loop itself is `converge::Runner`; this command needs the platform's fleet, which is resolved from
//! migration.yaml once the platforms are wired (aws: ECS service; local: the supervisor).

use std::time::Duration;

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep converging forever (a pipeline stage or a service).
    #[arg(long)]
    pub watch: bool,
    /// Longest pause between passes with --watch.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    // The loop exists (`converge::Runner`); the platform fleets it drives arrive with #4 (ECS) and #8 (local).
    Err(NotBuiltYet {
        command: "converge",
        issue: 5,
    }
    .into())
}
