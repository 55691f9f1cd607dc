//! `backfill status`: console-compatible status text (or one JSON document), exact counts at any scale.
//! A missing working-state index, an unreachable target or refused credentials are printed and exit 1.

use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::platforms::{self, with_platform};
use crate::cluster::transport::JsonTransport;
use crate::converge::lifecycle::Declared;
use crate::converge::ports::Fleet;
use crate::converge::status::{NoFleet, collect};
use crate::coordination::progress::working_state_index;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::status_view::{json_document, text_lines};
use crate::time::{Clock, SystemClock};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also count work items (shard lines, percent, ETA, documents).
    #[arg(long)]
    pub deep_check: bool,
    /// Re-print the status every --interval until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Time between reports with --watch (e.g. 10s, 1m).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Target cluster URL holding the working state (default: target.endpoint of migration.yaml).
    #[arg(long, env = "BACKFILL_TARGET_URL")]
    pub target: Option<String>,
    /// Session name: the index is `.migrations_working_state_<session>`.
    #[arg(long)]
    pub session: Option<String>,
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let index = working_state_index(args.session.as_deref());
    if let Some(url) = &args.target {
        let transport = platforms::url_client(url)?;
        return report_loop(&args, ctx, None, None::<&NoFleet>, &transport, &index).await;
    }
    let m = platforms::load(ctx, true)
        .context("no --target given, so the target comes from the migration file")?;
    let transport = platforms::target_client(&m, ctx).await?;
    let declared = Declared::from(&m.backfill);
    match platforms::platform(&m, ctx).await {
        Ok(platform) => {
            with_platform!(&platform, |_stacks, fleet| {
                report_loop(&args, ctx, Some(&declared), Some(fleet), &transport, &index).await
            })
        }
        // A platform that cannot be reached still leaves the working state to report.
        Err(err) => {
            ctx.printer.line(format!("warning: {err:#}"))?;
            report_loop(
                &args,
                ctx,
                Some(&declared),
                None::<&NoFleet>,
                &transport,
                &index,
            )
            .await
        }
    }
}

async fn report_loop<F: Fleet, T: JsonTransport>(
    args: &Args,
    ctx: &Context,
    declared: Option<&Declared>,
    fleet: Option<&F>,
    transport: &T,
    index: &str,
) -> anyhow::Result<Outcome> {
    loop {
        let now = SystemClock.now();
        let report = collect(declared, fleet, transport, index, now).await;
        match ctx.printer.format {
            Format::Json => ctx.printer.json(&json_document(&report))?,
            Format::Human => ctx
                .printer
                .result(text_lines(&report, args.deep_check).join("\n"))?,
        }
        if !args.watch {
            if let Some(problem) = report
                .working_state_error
                .as_ref()
                .or(report.fleet_error.as_ref())
            {
                anyhow::bail!("status is incomplete: {problem}");
            }
            return Ok(Outcome::Success);
        }
        SystemClock.sleep(args.interval).await;
    }
}
