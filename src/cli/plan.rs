//! `backfill plan [--detailed-exitcode] [--out FILE]`: what apply would change — the stacks (change sets on AWS,
//! the state directory locally) and the fleet. `--out` saves the plan for `backfill apply FILE`.

use std::path::PathBuf;

use crate::cli::Context;
use crate::cli::ownership;
use crate::cli::platforms::{self, make_plan, with_platform};
use crate::cluster::RetryPolicy;
use crate::config::Migration;
use crate::coordination::ownership::WorkingStateRefusal;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::plan_view::{plan_json, plan_lines};
use crate::plan::Operation;
use crate::platform::Stacks;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Exit 0 when nothing changes, 2 when something does (1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (JSON, whatever the extension) for `backfill apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, false)?;
    let rendered = platforms::render_stacks(&m)?;
    let refusal = working_state_refusal(ctx, &m).await;
    let platform = platforms::platform(&m, ctx).await?;
    let plan = with_platform!(&platform, |stacks, fleet| {
        let plan = make_plan(stacks, fleet, &m, &rendered, Operation::Apply).await?;
        match &args.out {
            // A plan apply would refuse is not saved.
            Some(_) if refusal.is_some() => stacks.discard(&plan.stacks).await,
            Some(path) => {
                if let Err(err) = plan.save(path) {
                    stacks.discard(&plan.stacks).await;
                    return Err(err.into());
                }
            }
            // A plan nobody can apply leaves nothing behind (unexecuted change sets are deleted).
            None => stacks.discard(&plan.stacks).await,
        }
        plan
    });
    if let Some(refusal) = refusal {
        match ctx.printer.format {
            Format::Json => ctx.printer.json(&plan_json(&plan)),
            Format::Human => ctx.printer.line(plan_lines(&plan, &ctx.printer).join("\n")),
        }
        return Err(anyhow::Error::new(refusal).context("`backfill apply` would refuse this plan"));
    }
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&plan_json(&plan)),
        Format::Human => {
            ctx.printer.line(plan_lines(&plan, &ctx.printer).join("\n"));
            match &args.out {
                Some(path) => ctx.printer.line(format!(
                    "\nSaved the plan to {}. To perform exactly these actions, run:\n  backfill apply {}",
                    path.display(),
                    path.display()
                )),
                None if plan.has_changes() => ctx.printer.line(
                    "\nNote: this plan was not saved; `backfill apply` will plan again before it changes anything.",
                ),
                None => {}
            }
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::ChangesPresent
    } else {
        Outcome::Success
    })
}

/// Whose working state the target holds: the refusal apply would give, if any. `plan` reads without
/// credentials checks of its own, so a target it cannot reach is a warning here, not an error.
async fn working_state_refusal(ctx: &Context, m: &Migration) -> Option<WorkingStateRefusal> {
    let checked = async {
        let client = platforms::target_client(m, ctx)
            .await?
            .with_retry_policy(RetryPolicy::none());
        ownership::refusal(ctx, m, &client).await
    };
    match checked.await {
        Ok(refusal) => refusal,
        Err(err) => {
            ctx.printer.line(format!(
                "warning: the working state was not checked: {err:#}"
            ));
            None
        }
    }
}
