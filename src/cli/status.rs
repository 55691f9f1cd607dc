//! `backfill status`: console-compatible status text (or one JSON document), exact counts at any scale.
//! A missing working-state index, an unreachable target or refused credentials are printed and exit 1, and so
//! is a working state that records another migration (its counts are not shown as this migration's).

use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::ownership;
use crate::cli::platforms::{self, with_platform};
use crate::cluster::transport::JsonTransport;
use crate::config::Migration;
use crate::converge::lifecycle::Declared;
use crate::converge::ports::Fleet;
use crate::converge::status::{NoFleet, StatusReport, collect};
use crate::converge::status_owner::with_owner;
use crate::coordination::ownership::read_record;
use crate::coordination::progress::working_state_index;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::status_view::{json_document, text_lines};
use crate::time::{Clock, SystemClock};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
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
    /// Session name: the index is `.migrations_working_state_<session>` (default: `backfill.session`).
    #[arg(long)]
    pub session: Option<String>,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    if let Some(url) = &args.target {
        let transport = platforms::url_client(url)?;
        let index = working_state_index(args.session.as_deref());
        return report_loop(&args, ctx, None, None::<&NoFleet>, &transport, &index).await;
    }
    let mut m = platforms::load(ctx, true)
        .context("no --target given, so the target comes from the migration file")?;
    if args.session.is_some() {
        m.backfill.session = args.session.clone();
    }
    let index = ownership::state_index(&m);
    let transport = platforms::target_client(&m, ctx).await?;
    let declared = Declared::from(&m.backfill);
    let mine = Some((&declared, &m));
    match platforms::platform(&m, ctx).await {
        Ok(platform) => {
            with_platform!(&platform, |_stacks, fleet| {
                report_loop(&args, ctx, mine, Some(fleet), &transport, &index).await
            })
        }
        // A platform that cannot be reached still leaves the working state to report.
        Err(err) => {
            ctx.printer.line(format!("warning: {err:#}"))?;
            report_loop(&args, ctx, mine, None::<&NoFleet>, &transport, &index).await
        }
    }
}

/// The report with the working state's owner: compared with the migration file when there is one (another
/// migration's counts are never shown as this one's), only read with `--target`.
async fn owned_report<T: JsonTransport>(
    report: StatusReport,
    migration: Option<&Migration>,
    transport: &T,
    index: &str,
) -> StatusReport {
    match migration {
        Some(m) => match ownership::check(m, transport).await {
            Ok(check) => {
                let refusal = check.refusal(m.backfill.adopt_unrecorded_working_state);
                with_owner(report, check.recorded, refusal.as_ref())
            }
            Err(_) => report,
        },
        None => match read_record(transport, index).await {
            Ok(recorded) => with_owner(report, recorded, None),
            Err(_) => report,
        },
    }
}

async fn report_loop<F: Fleet, T: JsonTransport>(
    args: &Args,
    ctx: &Context,
    mine: Option<(&Declared, &Migration)>,
    fleet: Option<&F>,
    transport: &T,
    index: &str,
) -> anyhow::Result<Outcome> {
    let declared = mine.map(|(d, _)| d);
    loop {
        let now = SystemClock.now();
        let report = collect(declared, fleet, transport, index, now).await;
        let report = owned_report(report, mine.map(|(_, m)| m), transport, index).await;
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
