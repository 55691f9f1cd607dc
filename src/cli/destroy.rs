//! `backfill destroy [--auto-approve]`: shows every resource that will be deleted, scales the fleet to zero and
//! waits (bounded by `backfill.stop_timeout`) until no worker runs, archives the working state if it exists
//! (the `stopped` logic: verified archive, then the index is deleted — so destroying never loses progress),
//! then deletes the stacks in reverse order with live progress. A second destroy finds nothing to delete.
//! Only this migration's working state is archived and deleted: another migration's (on the same index) is
//! left as it is, and said so.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::cli::Context;
use crate::cli::ownership;
use crate::cli::platforms::{self, approve, make_plan, require_approval_possible, with_platform};
use crate::config::Migration;
use crate::converge::WorkingState;
use crate::converge::ports::Fleet;
use crate::coordination::ownership::WorkingStateRefusal;
use crate::exit::Outcome;
use crate::output::deploy_view::DeployView;
use crate::output::plan_view;
use crate::plan::Operation;
use crate::platform::Stacks;
use crate::time::{Clock, SystemClock};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Delete the stacks without archiving the working state first (it stays on the target).
    #[arg(long)]
    pub keep_working_state: bool,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    require_approval_possible(ctx, args.auto_approve, false)?;
    let m = platforms::load(ctx, false)?;
    let rendered = platforms::render_stacks(&m)?;
    let platform = platforms::platform(&m, ctx).await?;
    with_platform!(&platform, |stacks, fleet| {
        let plan = make_plan(stacks, fleet, &m, &rendered, Operation::Destroy).await?;
        plan_view::print(&plan, &ctx.printer)?;
        if !plan.stacks_change() {
            ctx.printer.line("Nothing to destroy.")?;
            return Ok(Outcome::Success);
        }
        if !approve(
            ctx,
            "Do you really want to destroy every resource of this migration? There is no undo.",
            args.auto_approve,
        )? {
            anyhow::bail!("destroy cancelled; nothing was changed");
        }
        if plan.fleet.observed.exists {
            stop_fleet(ctx, fleet, &m).await?;
        }
        if !args.keep_working_state {
            archive_working_state(ctx, &m).await?;
        }
        let view = DeployView::new(ctx.printer.clone());
        if let Err(err) = stacks.destroy(&plan.stacks, &|e| view.event(e)).await {
            // The failed deletion decides the exit code, also when its report cannot be written.
            let _ = view.finish_failed(&err);
            return Err(anyhow::Error::new(err).context("destroy failed"));
        }
        view.finish_ok("Destroy")?;
        Ok(Outcome::Success)
    })
}

/// Scales to zero and waits until no worker runs (bounded by `stop_timeout` plus a margin).
async fn stop_fleet<F: Fleet>(ctx: &Context, fleet: &F, m: &Migration) -> anyhow::Result<()> {
    let observed = fleet
        .observe()
        .await
        .context("cannot observe the worker fleet")?;
    if observed.desired > 0 {
        fleet
            .scale(0)
            .await
            .context("cannot scale the worker fleet to 0")?;
    }
    let deadline = Instant::now() + m.backfill.stop_timeout + Duration::from_secs(30);
    loop {
        let observed = fleet
            .observe()
            .await
            .context("cannot observe the worker fleet")?;
        if observed.running == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "{} worker(s) still running after {:?}; nothing was deleted. Check the workers' logs, then run destroy again",
                observed.running,
                m.backfill.stop_timeout
            );
        }
        ctx.printer.line(format!(
            "waiting for {} worker(s) to stop...",
            observed.running
        ))?;
        SystemClock.sleep(Duration::from_secs(2)).await;
    }
}

/// Archives (verified) and deletes the working state when it exists and is this migration's; another
/// migration's (or an unrecorded one without the opt-in) is left as it is, and the destroy goes on. An
/// unreachable target stops the destroy.
async fn archive_working_state(ctx: &Context, m: &Migration) -> anyhow::Result<()> {
    let mut ws = platforms::working_state(m, platforms::target_client(m, ctx).await?).await;
    let check = ownership::check(m, &ws.transport).await.context(
        "cannot read the working state on the target (pass --keep-working-state to leave it)",
    )?;
    if let Some(gate) = ws.owner.as_mut() {
        gate.declared = check.declared.clone();
    }
    match check.refusal(m.backfill.adopt_unrecorded_working_state) {
        Some(WorkingStateRefusal::OtherMigration { index, owner, .. }) => {
            ctx.printer.line(format!(
                "the working state {index} belongs to {}, not to this migration: left as it is",
                owner.describe()
            ))?;
            return Ok(());
        }
        Some(WorkingStateRefusal::Unrecorded { index, .. }) => {
            ctx.printer.line(format!(
                "the working state {index} records no migration: left as it is (with `backfill.adopt_unrecorded_working_state: true` destroy archives and deletes it)"
            ))?;
            return Ok(());
        }
        None => {}
    }
    let now = SystemClock.now();
    let present = ws.observe(now).await.context(
        "cannot read the working state on the target (pass --keep-working-state to leave it)",
    )?;
    if present.is_none() {
        return Ok(());
    }
    let report = ws
        .archive_and_delete(now)
        .await
        .context("cannot archive the working state; nothing was deleted")?;
    ctx.printer.line(format!(
        "working state archived to {} ({} documents) and deleted; `backfill restore-state` brings it back",
        report.location, report.documents
    ))?;
    Ok(())
}
