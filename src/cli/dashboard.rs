//! `backfill dashboard`: prints or opens the local dashboard page.

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: Args, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "dashboard",
        issue: 8,
    }
    .into())
}
