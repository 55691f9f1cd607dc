//! `backfill destroy`: scales the fleet to zero and deletes the stacks.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "destroy",
        issue: 4,
    }
    .into())
}
