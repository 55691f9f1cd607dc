//! `backfill converge [--watch] [--interval]`: drives the fleet to the declared lifecycle — until settled (a
//! pipeline step), or forever with `--watch` (a service), re-reading nothing but the platform and the target.

use std::time::Duration;

use crate::cli::Context;
use crate::cli::platforms::{self, with_platform};
use crate::converge::SettleOptions;
use crate::exit::Outcome;
use crate::output::converge_view::ConvergeView;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Keep converging forever (a pipeline stage or a service).
    #[arg(long)]
    pub watch: bool,
    /// Longest pause between passes.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Without --watch: give up when not settled after this long.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, true)?;
    let platform = platforms::platform(&m, ctx).await?;
    with_platform!(&platform, |_stacks, fleet| {
        let mut runner = platforms::runner(&m, ctx, &platform, fleet.clone()).await?;
        if args.watch {
            let mut view = ConvergeView::new(ctx.printer.clone());
            let closed = view.closed();
            let mut sink = |e: crate::converge::ConvergeEvent| view.event(&e);
            tokio::select! {
                _ = runner.watch(args.interval, &mut sink) => {}
                // Nobody reads the progress any more (`--json | head`): stop watching.
                () = closed.notified() => {}
                _ = tokio::signal::ctrl_c() => {
                    ctx.printer.line("converge: interrupted; the fleet stays at its current size")?;
                }
            }
            view.finish()?;
            return Ok(Outcome::Success);
        }
        let options = SettleOptions {
            timeout: args.timeout,
            poll_cap: args.interval,
            ..SettleOptions::default()
        };
        platforms::settle(ctx, &mut runner, &options).await?;
        Ok(Outcome::Success)
    })
}
