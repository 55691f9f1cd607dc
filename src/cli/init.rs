//! `backfill init`: writes a commented starter migration.yaml; never overwrites an existing file.

use std::io::Write;

use anyhow::Context as _;

use crate::cli::Context;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) async fn run(_args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let path = &ctx.global.config;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} already exists; not overwriting it (remove it or pass --config NEW_PATH)",
                    path.display()
                )
            } else {
                anyhow::Error::new(err).context(format!("cannot create {}", path.display()))
            }
        })?;
    file.write_all(crate::config::STARTER.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    ctx.printer.line(format!(
        "wrote {}; edit it, then run `backfill validate`",
        path.display()
    ))?;
    Ok(Outcome::Success)
}
