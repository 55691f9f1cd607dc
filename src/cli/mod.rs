//! Command-line definitions: one file per subcommand, each thin — resolve inputs, call the library, hand the
//! result to `output`. This module owns the process edge: it builds the tokio runtime, dispatches, and maps
//! the outcome (or the error) to an exit code through `crate::exit`.
//!
//! Every print returns its write error and subcommands pass it up like any other error; a closed pipe
//! (`backfill snapshot docs … | head -1`) ends the command quietly with exit 0 (see [`exit_code_for`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{self, Outcome};
use crate::output::{self, Format, Printer};

mod apply;
mod compare;
mod converge;
mod dashboard;
mod destroy;
mod init;
mod ownership;
mod plan;
mod platforms;
mod render;
mod restore_state;
mod snapshot;
mod status;
mod supervise;
mod validate;
mod worker;

/// Declarative document backfill for Elasticsearch/OpenSearch migrations.
#[derive(Debug, Parser)]
#[command(name = "backfill", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GlobalArgs {
    /// The migration file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "migration.yaml",
        env = "BACKFILL_CONFIG"
    )]
    pub config: PathBuf,
    /// Machine-readable output: JSON documents on stdout (human text stays on stderr).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a commented starter migration.yaml.
    Init(init::Args),
    /// Check a migration.yaml and print `ok` or every error.
    Validate(validate::Args),
    /// Render the CloudFormation stacks, dashboard and pipeline artifacts.
    Render(render::Args),
    /// Show what apply would change.
    Plan(plan::Args),
    /// Deploy the stacks, then converge the fleet to the declared state.
    Apply(apply::Args),
    /// Scale the fleet to zero and delete the stacks.
    Destroy(destroy::Args),
    /// Report the backfill's status (console-compatible text, or --json).
    Status(status::Args),
    /// Run the converge loop (once, or --watch).
    Converge(converge::Args),
    /// Run one worker: reindex shards from the snapshot into the target.
    Worker(worker::Args),
    /// Inspect a snapshot repository.
    #[command(subcommand)]
    Snapshot(snapshot::Command),
    /// Compare live document counts of the source snapshot with the target's.
    Compare(compare::Args),
    /// Re-create the working-state index from an archive written by `stopped`.
    RestoreState(restore_state::Args),
    /// Print (or open) the local dashboard page.
    Dashboard(dashboard::Args),
    /// The local worker service (started by `apply`; not for direct use).
    #[command(hide = true)]
    Supervise(supervise::Args),
}

/// What every subcommand receives besides its own arguments.
pub(crate) struct Context {
    pub global: GlobalArgs,
    pub printer: Printer,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let format = if cli.global.json {
        Format::Json
    } else {
        Format::Human
    };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let printer = Printer::detect(format, no_color);
    let ctx = Context {
        global: cli.global.clone(),
        printer: printer.clone(),
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            // Nothing is left to do when even the error cannot be written.
            let _ = printer
                .error(&anyhow::Error::new(err).context("could not start the async runtime"));
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(run(cli.command, &ctx)) {
        Ok(outcome) => outcome.into(),
        Err(err) => {
            // After a closed pipe there is nobody to tell, and nothing went wrong. When the error cannot be
            // written otherwise, its exit code still says it.
            if !output::is_closed_pipe(&err) {
                let _ = printer.error(&err);
            }
            ExitCode::from(exit_code_for(&err))
        }
    }
}

async fn run(command: Command, ctx: &Context) -> anyhow::Result<Outcome> {
    match command {
        Command::Init(args) => init::run(args, ctx).await,
        Command::Validate(args) => validate::run(args, ctx).await,
        Command::Render(args) => render::run(args, ctx).await,
        Command::Plan(args) => plan::run(args, ctx).await,
        Command::Apply(args) => apply::run(args, ctx).await,
        Command::Destroy(args) => destroy::run(args, ctx).await,
        Command::Status(args) => status::run(args, ctx).await,
        Command::Converge(args) => converge::run(args, ctx).await,
        Command::Worker(args) => worker::run(args, ctx).await,
        Command::Snapshot(command) => snapshot::run(command, ctx).await,
        Command::Compare(args) => compare::run(args, ctx).await,
        Command::RestoreState(args) => restore_state::run(args, ctx).await,
        Command::Dashboard(args) => dashboard::run(args, ctx).await,
        Command::Supervise(args) => supervise::run(args, ctx).await,
    }
}

/// The single place where an error becomes an exit code: a worker that cannot read the snapshot exits 5
/// (the error still names the file and shard), one whose working state is another migration's 6, one whose
/// credentials the target refuses 7, every other error 1 (a preflight's problems included).
fn exit_code_for(err: &anyhow::Error) -> u8 {
    // A closed pipe on stdout or stderr (`| head -1` read what it wanted) is success, as in ripgrep.
    if output::is_closed_pipe(err) {
        return Outcome::Success.code();
    }
    if err
        .downcast_ref::<crate::preflight::PreflightFailed>()
        .is_some()
    {
        return exit::PREFLIGHT_PROBLEMS;
    }
    use crate::coordination::ownership::OwnershipError;
    use crate::worker::WorkerError;
    for cause in err.chain() {
        match cause.downcast_ref::<WorkerError>() {
            Some(WorkerError::Snapshot(_)) => return exit::SNAPSHOT_UNREADABLE,
            Some(WorkerError::Ownership(e)) if matches!(**e, OwnershipError::Refused(_)) => {
                return exit::WORKING_STATE_NOT_OURS;
            }
            Some(e) if e.is_refused_credentials() => return exit::TARGET_REFUSED,
            _ => {}
        }
    }
    exit::ERROR
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::transport::{TransportError, classify};
    use crate::coordination::coordinator::CoordinationError;
    use crate::snapshot::SnapshotError;
    use crate::worker::WorkerError;

    fn refused(status: u16) -> TransportError {
        classify("https://target:9200", "/_bulk", status, "")
    }

    #[test]
    fn a_refusal_of_the_workers_credentials_on_any_request_exits_7() {
        let refusals = [
            WorkerError::ClockCheck(refused(401)),
            WorkerError::Bulk {
                attempts: 1,
                source: refused(403),
            },
            WorkerError::Coordination(CoordinationError::Transport(refused(401))),
            WorkerError::TargetVersion(refused(403)),
        ];
        for e in refusals {
            let text = e.to_string();
            let err = anyhow::Error::new(e).context("worker w1");
            assert_eq!(exit_code_for(&err), exit::TARGET_REFUSED, "{text}");
        }
    }

    #[test]
    fn other_worker_errors_exit_5_or_1() {
        let unreadable = WorkerError::Snapshot(SnapshotError::Repository {
            location: "/r".into(),
            message: "no such directory".into(),
        });
        assert_eq!(
            exit_code_for(&anyhow::Error::new(unreadable)),
            exit::SNAPSHOT_UNREADABLE
        );
        let throttled = WorkerError::Bulk {
            attempts: 16,
            source: refused(429),
        };
        assert_eq!(exit_code_for(&anyhow::Error::new(throttled)), exit::ERROR);
        assert_eq!(exit_code_for(&anyhow::anyhow!("bad setting")), exit::ERROR);
    }
}
