//! `backfill compare`: compares source and target document counts.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "compare",
        issue: 7,
    }
    .into())
}
