//! `backfill status`: reports the backfill's status.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "status",
        issue: 5,
    }
    .into())
}
