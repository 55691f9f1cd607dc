//! `backfill restore-state FILE`: re-creates the working-state index from an archive written by `stopped`
//! (or by the console's `backfill stop`), so a stopped migration resumes where it left off.

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::platforms;
use crate::coordination::archive::{ArchiveLocation, restore};
use crate::exit::Outcome;
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Archive: a local path or s3://bucket/key.
    pub file: String,
    /// Target cluster URL (default: target.endpoint and auth of migration.yaml).
    #[arg(long, env = "BACKFILL_TARGET_URL")]
    pub target: Option<String>,
    /// Session name: the index is `.migrations_working_state_<session>`.
    #[arg(long)]
    pub session: Option<String>,
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let location = ArchiveLocation::parse(&args.file)?;
    let store = platforms::archive_store(&args.file).await;
    let transport = match &args.target {
        Some(url) => platforms::url_client(url)?,
        None => {
            let m = platforms::load(ctx, true)
                .context("no --target given, so the target comes from the migration file")?;
            platforms::target_client(&m, ctx).await?
        }
    };
    let report = restore(&transport, &store, args.session.as_deref(), &location).await?;
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&serde_json::to_value(&report)?)?,
        Format::Human => ctx.printer.line(format!(
            "restored {} documents into {} from {}",
            report.documents, report.index, report.location
        ))?,
    }
    Ok(Outcome::Success)
}
