//! `backfill dashboard [--open]`: refreshes the local dashboard page and prints its path (or opens it). On AWS
//! it prints the CloudWatch dashboard's name.

use crate::cli::Context;
use crate::cli::platforms;
use crate::config::PlatformKind;
use crate::exit::Outcome;
use crate::platform::local::dashboard;
use crate::platform::local::state::StateDir;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Open the page with the desktop's default browser (`xdg-open` / `open`).
    #[arg(long)]
    pub open: bool,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, false)?;
    if m.platform == PlatformKind::Aws {
        ctx.printer.result(format!(
            "CloudWatch dashboard {} (region {})",
            m.dashboard.name,
            m.aws.region.as_deref().unwrap_or("from the AWS profile")
        ))?;
        return Ok(Outcome::Success);
    }
    let state = StateDir::new(&m.local.state_dir);
    if !state.root().exists() {
        anyhow::bail!(
            "no local state for migration {} at {}; run `backfill apply` first",
            m.name,
            state.root().display()
        );
    }
    dashboard::refresh(&state, &m.name)?;
    let path = std::path::absolute(state.dashboard_path())?;
    ctx.printer.result(path.display().to_string())?;
    if args.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        std::process::Command::new(opener)
            .arg(&path)
            .status()
            .map_err(|e| {
                anyhow::anyhow!("cannot run {opener}: {e}; open {} yourself", path.display())
            })?;
    }
    Ok(Outcome::Success)
}
