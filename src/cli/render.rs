//! `backfill render`: renders the stacks, dashboard and pipeline artifacts.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "render",
        issue: 3,
    }
    .into())
}
