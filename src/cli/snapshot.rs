//! `backfill snapshot ...`: inspect a snapshot repository (list, indices, docs, verify).

use crate::cli::{Context, NotBuiltYet};
use crate::exit::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the snapshots in the repository.
    List,
}

pub async fn run(_command: Command, _ctx: &Context) -> anyhow::Result<Outcome> {
    Err(NotBuiltYet {
        command: "snapshot",
        issue: 6,
    }
    .into())
}
