//! `backfill apply [PLAN] [--auto-approve] [--wait]`: deploys the stacks (a saved plan exactly, or a fresh plan
//! after a literal `yes`), then converges the fleet to the declared lifecycle — one pass, or with `--wait` until
//! the declared state is reached or the backfill completed, with live progress.
//!
//! Before anything changes, the preflight checks the source snapshot and the target (for a saved plan too, since
//! the world may have moved since it was made); any problem refuses the apply with the full list, exit 1.
//!
//! Without a terminal, apply refuses at once unless `--auto-approve` or a saved plan is given: it never waits
//! for input nobody can type. Ctrl-C stops waiting and says what continues without us.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::platforms::{
    self, Platform, approve, make_plan, require_approval_possible, with_platform,
};
use crate::config::Migration;
use crate::config::ProcessEnv;
use crate::converge::SettleOptions;
use crate::converge::ports::Fleet;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::converge_view::ConvergeView;
use crate::output::deploy_view::DeployView;
use crate::output::plan_view;
use crate::output::preflight_view;
use crate::plan::{Operation, Plan};
use crate::platform::Stacks;
use crate::platform::local::dashboard::{IndexTotal, record_index_totals};
use crate::platform::local::state::StateDir;
use crate::preflight::{self, Preflight, PreflightFailed, SourceSummary};
use crate::render::Rendered;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A saved plan (`plan --out FILE`) to execute exactly; it is the approval.
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Keep converging until the declared state is reached (or the backfill completed).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this long (with --wait).
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub wait_timeout: Duration,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    require_approval_possible(ctx, args.auto_approve, args.plan.is_some())?;
    let m = platforms::load(ctx, true)?;
    let rendered = platforms::render_stacks(&m)?;
    let platform = platforms::platform(&m, ctx).await?;
    let work = async {
        with_platform!(&platform, |stacks, fleet| {
            deploy(&args, ctx, &m, &rendered, &platform, stacks, fleet).await
        })
    };
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => {
            // The interruption decides the exit code, also when this message cannot be written.
            let _ = ctx.printer.line(
                "\nInterrupted: stopped waiting. A deployment already started continues on the platform \
                 (CloudFormation keeps going; local resources are as recorded). Watch it with `backfill status`, \
                 then run `backfill apply` again to finish converging.",
            );
            anyhow::bail!("apply interrupted")
        }
    }
}

async fn deploy<S: Stacks, F: Fleet + Clone>(
    args: &Args,
    ctx: &Context,
    m: &Migration,
    rendered: &Rendered,
    platform: &Platform,
    stacks: &S,
    fleet: &F,
) -> anyhow::Result<Outcome> {
    let options = preflight::Options::default();
    let check = preflight::check(m, &ProcessEnv, &options);
    let (plan, source) = match &args.plan {
        Some(path) => {
            let report = check.await;
            preflight_view::print(&report, &ctx.printer)?;
            refuse_on_problems(&report)?;
            (saved_plan(path, m, stacks, fleet).await?, report.source)
        }
        None => {
            let (plan, report) = tokio::join!(
                make_plan(stacks, fleet, m, rendered, Operation::Apply),
                check
            );
            let mut plan = plan?;
            plan.preflight = Some(report);
            let refused = plan.preflight.as_ref().map_or(Ok(()), refuse_on_problems);
            let approved = plan_view::print(&plan, &ctx.printer)
                .map_err(anyhow::Error::from)
                .and(refused)
                .and_then(|()| {
                    Ok(!plan.stacks_change()
                        || approve(
                            ctx,
                            "Do you want to perform these actions?",
                            args.auto_approve,
                        )?)
                });
            // A plan that is not applied leaves nothing behind (unexecuted change sets are deleted).
            if !matches!(approved, Ok(true)) {
                stacks.discard(&plan.stacks).await;
                approved?;
                anyhow::bail!("apply cancelled; nothing was changed");
            }
            let source = plan.preflight.as_ref().and_then(|r| r.source.clone());
            (plan, source)
        }
    };
    if plan.stacks_change() {
        let view = DeployView::new(ctx.printer.clone());
        if let Err(err) = stacks
            .apply(&plan.stacks, &rendered.stacks, &|e| view.event(e))
            .await
        {
            // The failed deployment decides the exit code, also when its report cannot be written.
            let _ = view.finish_failed(&err);
            return Err(anyhow::Error::new(err).context("apply failed"));
        }
        view.finish_ok("Apply")?;
    } else if ctx.printer.format == Format::Human {
        ctx.printer.line("Stacks: no changes.")?;
    }
    record_index_sizes(ctx, m, platform, source.as_ref())?;
    converge(args, ctx, m, platform, fleet.clone()).await.context(
        "the stacks are deployed, but converging the fleet failed; fix the cause and run `backfill apply` (or `backfill converge`) again",
    )
}

async fn saved_plan<S: Stacks, F: Fleet>(
    path: &std::path::Path,
    m: &Migration,
    stacks: &S,
    fleet: &F,
) -> anyhow::Result<Plan> {
    let plan = Plan::load(path)?;
    if plan.operation != Operation::Apply || plan.migration != m.name {
        anyhow::bail!(
            "{} is a {:?} plan for migration {:?}, not an apply plan for {:?}",
            path.display(),
            plan.operation,
            plan.migration,
            m.name
        );
    }
    let mut current = std::collections::HashMap::new();
    for stack in &plan.stacks {
        current.insert(
            stack.stack_name.clone(),
            stacks.baseline(&stack.stack_name).await?,
        );
    }
    let exists = fleet
        .observe()
        .await
        .context("cannot observe the worker fleet")?
        .exists;
    plan.check_fresh(
        &m.content_hash(),
        &|name| current.get(name).cloned().unwrap_or_default(),
        exists,
    )?;
    Ok(plan)
}

/// On the local platform, records the selected indices' sizes the preflight counted, for the dashboard's
/// per-index progress. A page without them still shows what was migrated, so failing to write them is said,
/// not fatal.
fn record_index_sizes(
    ctx: &Context,
    m: &Migration,
    platform: &Platform,
    source: Option<&SourceSummary>,
) -> anyhow::Result<()> {
    let (Platform::Local(..), Some(source)) = (platform, source) else {
        return Ok(());
    };
    let sizes: Vec<IndexTotal> = source
        .per_index
        .iter()
        .map(|i| IndexTotal {
            name: i.name.clone(),
            shards: i.shards,
            documents: i.live_documents,
        })
        .collect();
    if let Err(err) = record_index_totals(&StateDir::new(&m.local.state_dir), &sizes) {
        ctx.printer.line(format!(
            "warning: the dashboard will show no per-index totals: {err}"
        ))?;
    }
    Ok(())
}

/// Refuses to go on when the preflight found a problem (the report was shown already).
fn refuse_on_problems(report: &Preflight) -> anyhow::Result<()> {
    if report.ok() {
        return Ok(());
    }
    Err(PreflightFailed {
        problems: report.problems.len(),
        refused: true,
    }
    .into())
}

/// Hands over to the converge loop: one pass, or until settled with `--wait`.
async fn converge<F: Fleet>(
    args: &Args,
    ctx: &Context,
    m: &Migration,
    platform: &Platform,
    fleet: F,
) -> anyhow::Result<Outcome> {
    let mut runner = platforms::runner(m, ctx, platform, fleet).await?;
    if args.wait {
        let options = SettleOptions {
            timeout: args.wait_timeout,
            poll_cap: Duration::from_secs(2),
            until_complete: true,
            ..SettleOptions::default()
        };
        platforms::settle(ctx, &mut runner, &options).await?;
    } else {
        let mut view = ConvergeView::new(ctx.printer.clone());
        let decision = runner.pass(&mut |e| view.event(&e)).await?;
        view.finish()?;
        platforms::report_decision(
            ctx,
            &decision,
            ". The converge loop keeps it there with `backfill apply --wait` or `backfill converge --watch`.",
        )?;
    }
    Ok(Outcome::Success)
}
