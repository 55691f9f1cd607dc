//! `backfill restore-state FILE`: re-creates the working-state index from an archive written by `stopped`
//! (or by the console's `backfill stop`), so a stopped migration resumes where it left off.

use anyhow::Context as _;

use crate::aws_sdk::AwsSdk;
use crate::cli::Context;
use crate::cli::platforms;
use crate::config::{AwsSettings, Location};
use crate::coordination::archive::restore;
use crate::exit::Outcome;
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Archive: a local file or an S3 object (`s3://bucket/key`), read with migration.yaml's `aws.profile`
    /// and `aws.region`.
    pub file: Location,
    /// Target cluster URL (default: target.endpoint and auth of migration.yaml).
    #[arg(long, env = "BACKFILL_TARGET_URL")]
    pub target: Option<String>,
    /// Session name: the index is `.migrations_working_state_<session>`.
    #[arg(long)]
    pub session: Option<String>,
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let (transport, aws) = match &args.target {
        Some(url) => {
            // The file is optional with --target; when there is one, it still names the AWS profile and region.
            let aws = if ctx.global.config.exists() {
                platforms::load(ctx, false)?.aws
            } else {
                AwsSettings::default()
            };
            (platforms::url_client(url)?, aws)
        }
        None => {
            let m = platforms::load(ctx, true)
                .context("no --target given, so the target comes from the migration file")?;
            (platforms::target_client(&m, ctx).await?, m.aws)
        }
    };
    let store = platforms::archive_store(&args.file, &AwsSdk::new(&aws)).await;
    let report = restore(&transport, &store, args.session.as_deref(), &args.file).await?;
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&serde_json::to_value(&report)?)?,
        Format::Human => ctx.printer.line(format!(
            "restored {} documents into {} from {}",
            report.documents, report.index, report.location
        ))?,
    }
    Ok(Outcome::Success)
}
