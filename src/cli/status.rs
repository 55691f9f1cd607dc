//! `backfill status`: console-compatible status text (or one JSON document), exact counts at any scale.
//! A missing working-state index, an unreachable target or refused credentials are printed and exit 1.

use std::time::Duration;

use anyhow::Context as _;

use crate::cli::Context;
use crate::config::{self, Env, LoadOptions, PasswordSource, ProcessEnv, TargetAuth};
use crate::converge::lifecycle::Declared;
use crate::converge::runner::{Clock, SystemClock};
use crate::converge::status::{NoFleet, collect};
use crate::coordination::progress::working_state_index;
use crate::coordination::transport::HttpTransport;
use crate::exit::Outcome;
use crate::output::Format;
use crate::output::status_view::{json_document, text_lines};

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
    let (endpoint, basic, declared) = match &args.target {
        Some(url) => (url.clone(), None, None),
        None => {
            let m = config::load(
                &ctx.global.config,
                &ProcessEnv,
                LoadOptions {
                    needs_credentials: true,
                },
            )
            .context("no --target given, so the target comes from the migration file")?;
            let basic = match &m.target.auth {
                TargetAuth::None => None,
                TargetAuth::Basic {
                    username,
                    password: PasswordSource::Env(var),
                } => {
                    let password = ProcessEnv.var(var).unwrap_or_default();
                    Some((username.clone(), password))
                }
                other => anyhow::bail!(
                    "status cannot use target auth `{}` yet (only none and basic with password_env); pass --target for an open endpoint",
                    match other {
                        TargetAuth::Sigv4 { .. } => "sigv4",
                        _ => "basic with password_secret_arn",
                    }
                ),
            };
            (
                m.target.endpoint.clone(),
                basic,
                Some(Declared::from(&m.backfill)),
            )
        }
    };
    let transport = HttpTransport::new(&endpoint, basic).context("target client")?;
    let index = working_state_index(args.session.as_deref());
    loop {
        let now = SystemClock.now();
        let report = collect(declared.as_ref(), None::<&NoFleet>, &transport, &index, now).await;
        match ctx.printer.format {
            Format::Json => ctx.printer.json(&json_document(&report)),
            Format::Human => ctx
                .printer
                .result(text_lines(&report, args.deep_check).join("\n")),
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
