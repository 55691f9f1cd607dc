//! Shared glue of the control-plane commands (`plan`, `apply`, `destroy`, `converge`, `status`): resolves
//! migration.yaml into the platform (stacks + fleet), the target client and the working state, and builds plans.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::aws_sdk::AwsSdk;
use crate::cli::Context;
use crate::cli::ownership;
use crate::cluster::{Auth, Client, TlsSettings};
use crate::config::{
    self, DesiredState, Engine, LoadOptions, Location, Migration, PlatformKind, ProcessEnv,
};
use crate::converge::health::TargetHealth;
use crate::converge::ports::{Fleet, HealthSample, HealthSource};
use crate::converge::working_state::TargetWorkingState;
use crate::converge::{Decision, Declared, Runner, SettleOptions};
use crate::coordination::archive::{ArchiveDestination, FileOrS3Store};
use crate::coordination::identity::Ownership;
use crate::output::converge_view::ConvergeView;
use crate::output::{self, Format};
use crate::plan::{FORMAT_VERSION, FleetPlan, Operation, Plan};
use crate::platform::Stacks;
use crate::platform::aws::{AwsClients, CloudFormation, CloudWatchHealth, EcsFleet};
use crate::platform::local::{self, LocalFleet, LocalStacks};
use crate::render::{self, Rendered, Templates};
use crate::time::SystemClock;

/// The platform of a migration: its stacks and its fleet.
pub(crate) enum Platform {
    Local(LocalStacks, LocalFleet),
    Aws(CloudFormation, EcsFleet),
}

/// Runs `$body` with `$stacks` and `$fleet` bound to the concrete platform's values.
macro_rules! with_platform {
    ($platform:expr, |$stacks:ident, $fleet:ident| $body:expr) => {
        match $platform {
            $crate::cli::platforms::Platform::Local($stacks, $fleet) => $body,
            $crate::cli::platforms::Platform::Aws($stacks, $fleet) => $body,
        }
    };
}
pub(crate) use with_platform;

/// Loads migration.yaml (with credentials resolved when `needs_credentials`).
pub(crate) fn load(ctx: &Context, needs_credentials: bool) -> anyhow::Result<Migration> {
    Ok(config::load(
        &ctx.global.config,
        &ProcessEnv,
        LoadOptions { needs_credentials },
    )?)
}

/// Renders the stacks with the embedded templates.
pub(crate) fn render_stacks(m: &Migration) -> anyhow::Result<Rendered> {
    Ok(render::render(m, &Templates::embedded())?)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The platform named by `platform:`.
pub(crate) async fn platform(m: &Migration, ctx: &Context) -> anyhow::Result<Platform> {
    match m.platform {
        PlatformKind::Local => {
            let exe = std::env::current_exe().context("cannot find the backfill executable")?;
            let (stacks, fleet) = local::for_migration(m, absolute(&ctx.global.config), exe);
            Ok(Platform::Local(stacks, fleet))
        }
        PlatformKind::Aws => {
            let clients = AwsClients::load(&m.aws).await;
            let fleet = EcsFleet::for_migration(&clients, m);
            Ok(Platform::Aws(CloudFormation::new(clients), fleet))
        }
    }
}

/// The target client as migration.yaml describes it (auth none, basic from an env var or Secrets Manager,
/// SigV4 for `es`/`aoss`; CA bundle; retries). Warns once when TLS verification is off.
pub(crate) async fn target_client(m: &Migration, ctx: &Context) -> anyhow::Result<Client> {
    let client = Client::from_target(&m.target, &ProcessEnv, &AwsSdk::new(&m.aws))
        .await
        .with_context(|| format!("target {}", m.target.endpoint))?;
    if client.insecure_tls() {
        ctx.printer.line(format!(
            "warning: TLS certificates of {} are not verified (target.tls)",
            m.target.endpoint
        ))?;
    }
    Ok(client)
}

/// The ramp's health source: CloudWatch `AWS/ES` metrics plus the target's own health on AWS when
/// `dashboard.target_domain` names the domain, otherwise the target's `_cluster/health` and `_nodes/stats`.
pub(crate) enum Health {
    Target(TargetHealth<Client>),
    CloudWatch(CloudWatchHealth<TargetHealth<Client>>),
}

impl HealthSource for Health {
    async fn sample(&self) -> Result<HealthSample, String> {
        match self {
            Health::Target(h) => h.sample().await,
            Health::CloudWatch(h) => h.sample().await,
        }
    }
}

/// The health source for `m` (see [`Health`]), reading the target through `client` and CloudWatch through the
/// platform's AWS clients when there are any.
fn health(m: &Migration, client: Client, aws: Option<&AwsClients>) -> Health {
    let target = TargetHealth { transport: client };
    match (aws, &m.dashboard.target_domain) {
        (Some(aws), Some(domain)) => Health::CloudWatch(CloudWatchHealth {
            target,
            cloudwatch: aws.cloudwatch.clone(),
            domain: domain.clone(),
        }),
        _ => Health::Target(target),
    }
}

/// The converge loop of the commands (see [`runner`]).
pub(crate) type CliRunner<F> =
    Runner<F, TargetWorkingState<Client, FileOrS3Store>, Health, SystemClock>;

/// The converge loop for `m` over `fleet`: one target client (credentials and secrets resolved once) shared by
/// the working state and the ramp's health source.
pub(crate) async fn runner<F: Fleet>(
    m: &Migration,
    ctx: &Context,
    platform: &Platform,
    fleet: F,
) -> anyhow::Result<CliRunner<F>> {
    let client = target_client(m, ctx).await?;
    let aws = match platform {
        Platform::Aws(stacks, _) => Some(stacks.clients()),
        Platform::Local(..) => None,
    };
    let mut state = working_state(m, client.clone()).await;
    claim_before_workers(m, &mut state).await?;
    Ok(Runner::new(
        Declared::from(&m.backfill),
        fleet,
        state,
        health(m, client, aws),
        SystemClock,
    ))
}

/// Before any worker starts: refuses another migration's working state (and an unrecorded one without
/// `backfill.adopt_unrecorded_working_state`), records `m` on an unrecorded one with it, and creates it with
/// `m`'s record for the `rfs` engine (Migration Assistant's workers create it without one). The gate then
/// holds the identity resolved from the snapshot whenever it was read.
async fn claim_before_workers(
    m: &Migration,
    state: &mut TargetWorkingState<Client, FileOrS3Store>,
) -> anyhow::Result<()> {
    let check = ownership::check(m, &state.transport).await?;
    if let Some(refusal) = check.refusal(m.backfill.adopt_unrecorded_working_state) {
        return Err(refusal.into());
    }
    let starts_workers = m.backfill.state == DesiredState::Running && m.backfill.workers > 0;
    let adopt = check.ownership == Ownership::Unrecorded;
    let create =
        check.ownership == Ownership::Free && m.worker.engine == Engine::Rfs && starts_workers;
    let mut declared = check.declared;
    if (adopt || create) && !declared.is_resolved() {
        // Best effort: a record written without the snapshot still names the migration.
        if let Ok(full) = ownership::read_resolved_identity(m).await {
            declared = full;
        }
    }
    if let Some(gate) = state.owner.as_mut() {
        gate.declared = declared;
    }
    if adopt || create {
        state
            .claim()
            .await
            .with_context(|| format!("working state {}", state.index()))?;
    }
    Ok(())
}

/// The last line of a converge run (`apply`, `converge`): the derived status and its reason.
pub(crate) fn report_decision(ctx: &Context, decision: &Decision, hint: &str) -> output::Result {
    if ctx.printer.format == Format::Human {
        ctx.printer.line(format!(
            "Backfill {}: {}{hint}",
            decision.status.status.as_str(),
            decision.status.reason
        ))?;
    }
    Ok(())
}

/// Converges until settled (`apply --wait`, `converge`) with progress, then prints the decision; an error when
/// workers failed in a way a restart cannot fix (restarts stopped). Stops waiting as soon as the progress cannot
/// be written: the reader has gone, and the loop is safe to interrupt.
pub(crate) async fn settle<F: Fleet>(
    ctx: &Context,
    runner: &mut CliRunner<F>,
    options: &SettleOptions,
) -> anyhow::Result<()> {
    let mut view = ConvergeView::new(ctx.printer.clone());
    let closed = view.closed();
    let mut sink = |e| view.event(&e);
    let settled = tokio::select! {
        decision = runner.run_until_settled(options, &mut sink) => Some(decision?),
        () = closed.notified() => None,
    };
    view.finish()?;
    if let Some(decision) = settled {
        report_decision(ctx, &decision, "")?;
        if decision.restarts_stopped() {
            anyhow::bail!(
                "the workers failed and were not restarted: {}",
                decision.status.reason
            );
        }
    }
    Ok(())
}

/// An open target given on the command line (`--target URL`): no auth, TLS verified.
pub(crate) fn url_client(url: &str) -> anyhow::Result<Client> {
    Client::new(url, Auth::None, TlsSettings::default()).with_context(|| format!("target {url}"))
}

/// Where `stopped` and `destroy` archive the working state unless `backfill.archive` says otherwise:
/// `_archives/<name>/` beside the state directory (`.backfill/_archives/<name>/`), never inside it, because
/// `destroy` removes the state directory and an archive is the user's data. The `_` keeps it apart from every
/// migration's state directory (`.backfill/<name>/`): a name has no `_`, so destroying a migration named
/// `archives` cannot take the archives with it.
pub(crate) fn default_archive_dir(m: &Migration) -> PathBuf {
    let parent = m.local.state_dir.parent().unwrap_or(Path::new("."));
    parent.join(ARCHIVES_DIR).join(&m.name)
}

/// The directory beside the state directories that holds default archives.
const ARCHIVES_DIR: &str = "_archives";

/// Where archives are read and written: local files, and S3 (a client from `aws`) when `location` is in S3.
pub(crate) async fn archive_store(location: &Location, aws: &AwsSdk) -> FileOrS3Store {
    FileOrS3Store {
        s3: match location {
            Location::S3(_) => Some(aws.s3(None).await),
            Location::Local(_) => None,
        },
    }
}

/// The working state on the target (`backfill.session`'s index, only if it is `m`'s), archiving to
/// `backfill.archive` (default: [`default_archive_dir`]) with the migration's AWS settings.
pub(crate) async fn working_state(
    m: &Migration,
    client: Client,
) -> TargetWorkingState<Client, FileOrS3Store> {
    let destination = m
        .backfill
        .archive
        .clone()
        .unwrap_or_else(|| Location::Local(default_archive_dir(m)));
    TargetWorkingState {
        transport: client,
        store: archive_store(&destination, &AwsSdk::new(&m.aws)).await,
        session: m.backfill.session.clone(),
        destination: ArchiveDestination::new(destination),
        owner: Some(ownership::owner_gate(m)),
    }
}

/// Plans the stacks and the fleet for `operation`.
pub(crate) async fn make_plan<S: Stacks, F: Fleet>(
    stacks: &S,
    fleet: &F,
    m: &Migration,
    rendered: &Rendered,
    operation: Operation,
) -> anyhow::Result<Plan> {
    // The fleet and the stacks are independent reads: one round trip instead of two.
    let stack_plans = async {
        match operation {
            Operation::Apply => stacks.plan(&rendered.stacks).await,
            Operation::Destroy => stacks.plan_destroy(&m.stack_names()).await,
        }
    };
    let (observed, stack_plans) = tokio::join!(fleet.observe(), stack_plans);
    let stack_plans = stack_plans?;
    let observed = match observed {
        Ok(o) => o,
        Err(e) => {
            stacks.discard(&stack_plans).await;
            return Err(anyhow::Error::new(e).context("cannot observe the worker fleet"));
        }
    };
    Ok(Plan {
        format_version: FORMAT_VERSION,
        operation,
        migration: m.name.clone(),
        platform: stacks.platform_name().into(),
        config_hash: m.content_hash(),
        stacks: stack_plans,
        fleet: FleetPlan {
            observed,
            declared_state: m.backfill.state,
            declared_workers: m.backfill.workers,
            ramp_step: m.backfill.ramp.as_ref().map(|r| r.step),
            destroy: operation == Operation::Destroy,
        },
        preflight: None,
    })
}

/// Asks for the literal `yes` on a terminal. Errors at once when there is no terminal to ask on.
pub(crate) fn approve(ctx: &Context, question: &str, auto_approve: bool) -> anyhow::Result<bool> {
    use std::io::IsTerminal;
    if auto_approve {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || ctx.global.json {
        anyhow::bail!(
            "approval needed but there is no terminal to ask on; pass --auto-approve, or save a plan with `backfill plan --out plan.json` and run `backfill apply plan.json`"
        );
    }
    ctx.printer.line(format!(
        "\n{question}\n  Only 'yes' will be accepted to approve.\n"
    ))?;
    ctx.printer.prompt("  Enter a value: ")?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(answer.trim() == "yes")
}

/// Refuses apply/destroy without a way to approve, before anything is planned or changed.
pub(crate) fn require_approval_possible(
    ctx: &Context,
    auto_approve: bool,
    saved_plan: bool,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if auto_approve || saved_plan {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || ctx.global.json {
        anyhow::bail!(
            "refusing to change anything without approval: stdin is not a terminal. Pass --auto-approve, or save a plan with `backfill plan --out plan.json` and run `backfill apply plan.json`"
        );
    }
    Ok(())
}
