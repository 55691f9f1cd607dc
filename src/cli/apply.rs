//! `backfill apply [PLAN] [--auto-approve] [--wait]`: deploys the stacks (a saved plan exactly, or a fresh plan
//! after a literal `yes`), then converges the fleet to the declared lifecycle — one pass, or with `--wait` until
//! the declared state is reached or the backfill completed, with live progress.
//!
//! Without a terminal, apply refuses at once unless `--auto-approve` or a saved plan is given: it never waits
//! for input nobody can type. Ctrl-C stops waiting and says what continues without us.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::ownership;
use crate::cli::platforms::{
    self, Platform, approve, make_plan, require_approval_possible, with_platform,
};
use crate::config::Migration;
use crate::converge::SettleOptions;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::converge_view::ConvergeView;
use crate::output::deploy_view::DeployView;
use crate::output::plan_view::{plan_json, plan_lines};
use crate::plan::{Operation, Plan};
use crate::platform::{Fleet, Stacks};
use crate::render::Rendered;

#[derive(Debug, clap::Args)]
pub struct Args {
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

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    require_approval_possible(ctx, args.auto_approve, args.plan.is_some())?;
    let m = platforms::load(ctx, true)?;
    let rendered = platforms::render_stacks(&m)?;
    // Whose working state the target holds is settled before anything is planned or changed.
    let client = platforms::target_client(&m, ctx).await?;
    if let Some(refusal) = ownership::refusal(ctx, &m, &client).await? {
        return Err(anyhow::Error::new(refusal).context("apply refused; nothing was changed"));
    }
    let platform = platforms::platform(&m, ctx).await?;
    let work = async {
        with_platform!(&platform, |stacks, fleet| {
            deploy(&args, ctx, &m, &rendered, &platform, stacks, fleet).await
        })
    };
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => {
            ctx.printer.line(
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
    let plan = match &args.plan {
        Some(path) => saved_plan(path, m, stacks, fleet).await?,
        None => {
            let plan = make_plan(stacks, fleet, m, rendered, Operation::Apply).await?;
            show(ctx, &plan);
            if plan.stacks_change()
                && !approve(
                    ctx,
                    "Do you want to perform these actions?",
                    args.auto_approve,
                )?
            {
                stacks.discard(&plan.stacks).await;
                anyhow::bail!("apply cancelled; nothing was changed");
            }
            plan
        }
    };
    if plan.stacks_change() {
        let view = DeployView::new(ctx.printer.clone());
        if let Err(err) = stacks
            .apply(&plan.stacks, &rendered.stacks, &|e| view.event(e))
            .await
        {
            if ctx.printer.format == Format::Human {
                ctx.printer.line(view.root_cause(&err));
            }
            return Err(anyhow::Error::new(err).context("apply failed"));
        }
        view.finish_ok("Apply");
    } else if ctx.printer.format == Format::Human {
        ctx.printer.line("Stacks: no changes.");
    }
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

fn show(ctx: &Context, plan: &Plan) {
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&plan_json(plan)),
        Format::Human => ctx.printer.line(plan_lines(plan, &ctx.printer).join("\n")),
    }
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
    let mut view = ConvergeView::new(ctx.printer.clone());
    if args.wait {
        let options = SettleOptions {
            timeout: args.wait_timeout,
            poll_cap: Duration::from_secs(2),
            until_complete: true,
            ..SettleOptions::default()
        };
        let decision = runner
            .run_until_settled(&options, &mut |e| view.event(&e))
            .await?;
        view.finish();
        platforms::report_decision(ctx, &decision, "");
    } else {
        let decision = runner.pass(&mut |e| view.event(&e)).await?;
        view.finish();
        platforms::report_decision(
            ctx,
            &decision,
            ". The converge loop keeps it there with `backfill apply --wait` or `backfill converge --watch`.",
        );
    }
    Ok(Outcome::Success)
}
