//! `backfill restore-state FILE`: re-creates the working-state index from an archive written by `stopped`
//! (or by the console's `backfill stop`), so a stopped migration resumes where it left off.

use anyhow::Context as _;

use crate::cli::Context;
use crate::coordination::archive::{ArchiveLocation, FileOrS3Store, restore};
use crate::coordination::transport::HttpTransport;
use crate::exit::Outcome;
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Archive: a local path or s3://bucket/key.
    pub file: String,
    /// Target cluster URL (until migration.yaml supplies it).
    #[arg(long, env = "BACKFILL_TARGET_URL")]
    pub target: String,
    /// Session name: the index is `.migrations_working_state_<session>`.
    #[arg(long)]
    pub session: Option<String>,
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let location = ArchiveLocation::parse(&args.file)?;
    let s3 = if matches!(location, ArchiveLocation::S3 { .. }) {
        let config = aws_config::load_from_env().await;
        Some(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        ))
    } else {
        None
    };
    let transport = HttpTransport::new(&args.target, None).context("target client")?;
    let report = restore(
        &transport,
        &FileOrS3Store { s3 },
        args.session.as_deref(),
        &location,
    )
    .await?;
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&serde_json::to_value(&report)?),
        Format::Human => ctx.printer.line(format!(
            "restored {} documents into {} from {}",
            report.documents, report.index, report.location
        )),
    }
    Ok(Outcome::Success)
}
