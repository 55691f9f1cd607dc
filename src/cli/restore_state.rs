//! `backfill restore-state FILE`: re-creates the working-state index from an archive written by `stopped`
//! (or by the console's `backfill stop`), so a stopped migration resumes where it left off.
//!
//! The index is re-created with the owner record archived beside the file (`<FILE>.identity.json`). An
//! archive of another migration than migration.yaml's is refused unless `--other-migration`; an archive
//! without a record (the console's, an older backfill's) restores as an unrecorded working state.

use anyhow::Context as _;

use crate::aws_sdk::AwsSdk;
use crate::cli::Context;
use crate::cli::{ownership, platforms};
use crate::cluster::transport::{Body, JsonTransport, Method};
use crate::config::{AwsSettings, Location};
use crate::coordination::archive::{index_definition, restore};
use crate::coordination::archive_identity::{ArchivedOwner, read_identity};
use crate::coordination::identity::{Ownership, Recorded, compare};
use crate::coordination::ownership::and_list;
use crate::coordination::progress::working_state_index;
use crate::exit::Outcome;
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Archive: a local file or an S3 object (`s3://bucket/key`), read with migration.yaml's `aws.profile`
    /// and `aws.region`.
    pub file: Location,
    /// Target cluster URL (default: target.endpoint and auth of migration.yaml).
    #[arg(long, env = "BACKFILL_TARGET_URL")]
    pub target: Option<String>,
    /// Session name: the index is `.migrations_working_state_<session>` (default: `backfill.session`).
    #[arg(long)]
    pub session: Option<String>,
    /// Restore an archive that records another migration than migration.yaml's (it stays that migration's).
    #[arg(long)]
    pub other_migration: bool,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let (transport, aws, migration) = match &args.target {
        Some(url) => {
            // The file is optional with --target; when there is one, it still names the AWS profile and region.
            let aws = if ctx.global.config.exists() {
                platforms::load(ctx, false)?.aws
            } else {
                AwsSettings::default()
            };
            (platforms::url_client(url)?, aws, None)
        }
        None => {
            let m = platforms::load(ctx, true)
                .context("no --target given, so the target comes from the migration file")?;
            (
                platforms::target_client(&m, ctx).await?,
                m.aws.clone(),
                Some(m),
            )
        }
    };
    let location = &args.file;
    let store = platforms::archive_store(location, &AwsSdk::new(&aws)).await;
    let session = args
        .session
        .clone()
        .or_else(|| migration.as_ref().and_then(|m| m.backfill.session.clone()));
    let index = working_state_index(session.as_deref());
    let owner = read_identity(&store, location).await?;
    if let (Some(m), ArchivedOwner::Recorded(identity)) = (&migration, &owner) {
        let mut declared = ownership::declared_identity(m);
        if identity.same_names(&declared)
            && let Ok(full) = ownership::read_resolved_identity(m).await
        {
            declared = full;
        }
        let recorded = Recorded::Migration {
            identity: identity.clone(),
        };
        if matches!(compare(&declared, &recorded), Ownership::Other { .. }) && !args.other_migration
        {
            anyhow::bail!(
                "{location} is the archive of {}, not of this migration (they differ in the {}); nothing was restored. Run restore-state with that migration's file, or pass --other-migration to restore it anyway (it stays that migration's)",
                identity.describe(),
                and_list(&declared.differences(identity))
            );
        }
    }
    if let ArchivedOwner::Recorded(identity) = &owner {
        create_recorded(&transport, &index, identity.to_meta()).await?;
    }
    let report = restore(&transport, &store, session.as_deref(), location).await?;
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&serde_json::to_value(&report)?)?,
        Format::Human => {
            ctx.printer.line(format!(
                "restored {} documents into {} from {}",
                report.documents, report.index, report.location
            ))?;
            if let ArchivedOwner::Unrecorded(why) = &owner {
                ctx.printer.line(format!(
                    "note: the archive records no migration ({why}), so {} records none either: `backfill apply` uses it only with `backfill.adopt_unrecorded_working_state: true`",
                    report.index
                ))?;
            }
        }
    }
    Ok(Outcome::Success)
}

/// Creates `index` with the upstream definition and `meta` as its `_meta`, unless it exists (then `restore`
/// decides: it refuses an index that holds documents).
async fn create_recorded<T: JsonTransport>(
    transport: &T,
    index: &str,
    meta: serde_json::Value,
) -> anyhow::Result<()> {
    if transport
        .send(Method::Get, &format!("/{index}"), None)
        .await?
        .status
        != 404
    {
        return Ok(());
    }
    let mut definition = index_definition();
    definition["mappings"]["_meta"] = meta;
    transport
        .send(
            Method::Put,
            &format!("/{index}"),
            Some(Body::Json(definition)),
        )
        .await
        .with_context(|| format!("creating {index}"))?;
    Ok(())
}
