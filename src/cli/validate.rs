//! `backfill validate`: checks a migration.yaml strictly and reports every problem.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "validate",
        issue: 3,
    }
    .into())
}
