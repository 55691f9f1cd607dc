//! `backfill plan [--detailed-exitcode] [--out FILE]`: what apply would change — the stacks (change sets on AWS,
//! the state directory locally) and the fleet. `--out` saves the plan for `backfill apply FILE`.

use std::path::PathBuf;

use crate::cli::Context;
use crate::cli::platforms::{self, make_plan, with_platform};
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::plan_view;
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
    let platform = platforms::platform(&m, ctx).await?;
    let plan = with_platform!(&platform, |stacks, fleet| {
        let plan = make_plan(stacks, fleet, &m, &rendered, Operation::Apply).await?;
        match &args.out {
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
    plan_view::print(&plan, &ctx.printer)?;
    if ctx.printer.format == Format::Human {
        match &args.out {
            Some(path) => ctx.printer.line(format!(
                "\nSaved the plan to {}. To perform exactly these actions, run:\n  backfill apply {}",
                path.display(),
                path.display()
            ))?,
            None if plan.has_changes() => ctx.printer.line(
                "\nNote: this plan was not saved; `backfill apply` will plan again before it changes anything.",
            )?,
            None => {}
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::ChangesPresent
    } else {
        Outcome::Success
    })
}
