//! `backfill plan [--detailed-exitcode] [--out FILE]`: what apply would change — the stacks (change sets on AWS,
//! the state directory locally) and the fleet, next to what the preflight found (source, target, problems). Exit 1
//! when the preflight found a problem (and nothing is saved). `--out` saves the plan for `backfill apply FILE`.

use std::path::PathBuf;

use crate::cli::Context;
use crate::cli::platforms::{self, make_plan, with_platform};
use crate::config::ProcessEnv;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::plan_view;
use crate::plan::Operation;
use crate::platform::Stacks;
use crate::preflight::{self, PreflightFailed};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Exit 0 when nothing changes, 2 when something does (1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (JSON, whatever the extension) for `backfill apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the preflight's network checks: the target, and the source repository when it is in S3 (a
    /// repository on a filesystem is still read). The plan says what was not checked.
    #[arg(long)]
    pub offline: bool,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, false)?;
    let rendered = platforms::render_stacks(&m)?;
    let platform = platforms::platform(&m, ctx).await?;
    let options = preflight::Options {
        offline: args.offline,
        ..preflight::Options::default()
    };
    let check = preflight::check(&m, &ProcessEnv, &options);
    let plan = with_platform!(&platform, |stacks, fleet| {
        let (plan, report) = tokio::join!(
            make_plan(stacks, fleet, &m, &rendered, Operation::Apply),
            check
        );
        let mut plan = plan?;
        let ok = report.ok();
        plan.preflight = Some(report);
        match &args.out {
            Some(path) if ok => {
                if let Err(err) = plan.save(path) {
                    stacks.discard(&plan.stacks).await;
                    return Err(err.into());
                }
            }
            // A plan nobody can apply leaves nothing behind (unexecuted change sets are deleted).
            _ => stacks.discard(&plan.stacks).await,
        }
        plan
    });
    let problems = plan.preflight.as_ref().map_or(0, |p| p.problems.len());
    plan_view::print(&plan, &ctx.printer)?;
    if ctx.printer.format == Format::Human {
        match &args.out {
            Some(path) if problems > 0 => ctx.printer.line(format!(
                "\nThe plan was not saved to {}: the preflight found problems.",
                path.display()
            ))?,
            Some(path) => ctx.printer.line(format!(
                "\nSaved the plan to {}. To perform exactly these actions, run:\n  backfill apply {}",
                path.display(),
                path.display()
            ))?,
            None if plan.has_changes() && problems == 0 => ctx.printer.line(
                "\nNote: this plan was not saved; `backfill apply` will plan again before it changes anything.",
            )?,
            None => {}
        }
    }
    if problems > 0 {
        return Err(PreflightFailed {
            problems,
            refused: false,
        }
        .into());
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::ChangesPresent
    } else {
        Outcome::Success
    })
}
