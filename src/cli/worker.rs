//! `backfill worker`: runs one worker against the snapshot and target of migration.yaml until no work is
//! left (exit 0), the lease is handed to a successor (3), everything left is leased elsewhere (4), the
//! snapshot cannot be read (5), the working state is another migration's (6, before anything is written), or
//! the target refuses the worker's credentials (7: HTTP 401/403 on any request); any other error exits 1.
//! 5, 6 and 7 are permanent: a restart cannot fix them (`exit::ERROR_EXITS`). SIGTERM (and Ctrl-C)
//! checkpoint the current item before exiting.
//!
//! Settings: `migration.yaml` gives the defaults and the `BACKFILL_*` variables the ECS task sets win
//! (`worker::env`); without a file, the variables alone are enough.
//!
//! Unlike every other command, the worker keeps going when its log cannot be written (a full disk under the
//! local supervisor, a closed pipe): the documents and the lease matter more than the log lines.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::aws_sdk::AwsSdk;
use crate::cli::Context;
use crate::cli::ownership;
use crate::cluster::transport::{JsonTransport as _, Method};
use crate::cluster::version::{self, ServerVersion};
use crate::cluster::{self, Client};
use crate::config::{self, Env, LoadOptions, ProcessEnv};
use crate::exit::Outcome;
use crate::snapshot::{self, Repository, SnapshotError};
use crate::time::{Clock, SystemClock};
use crate::worker::env as worker_env;
use crate::worker::report::Observer;
use crate::worker::retry::RetryPolicy;
use crate::worker::run;
use crate::worker::transform::Transforms;
use crate::worker::{Source, WorkerError, WorkerExit, WorkerOptions, WorkerStats};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Worker id (default: hostname + random suffix).
    #[arg(long)]
    pub id: Option<String>,
    /// Log lines for people (`human`) or one JSON object per line (`json`, what the ECS task uses).
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

/// How the worker writes its log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Writes one log line in the chosen format (JSON lines go to stdout with the EMF metrics, for awslogs). A
/// line that cannot be written is lost (see the module doc).
fn log(ctx: &Context, format: LogFormat, message: String) {
    let _ = match format {
        LogFormat::Human => ctx.printer.line(message),
        LogFormat::Json => ctx.printer.json(&serde_json::json!({
            "timestamp": SystemClock.now().epoch_millis(),
            "level": "info",
            "message": message,
        })),
    };
}

/// Prints the worker's log lines and EMF documents.
struct CliObserver<'a> {
    ctx: &'a Context,
    format: LogFormat,
}

impl Observer for CliObserver<'_> {
    fn log(&self, message: &str) {
        log(self.ctx, self.format, message.to_string());
    }

    fn metrics(&self, document: &serde_json::Value) {
        // Lost when it cannot be written, as a log line is (see the module doc).
        let _ = self.ctx.printer.json(document);
    }
}

/// migration.yaml with the `BACKFILL_*` variables over it; the variables alone when there is no file.
fn load_settings(ctx: &Context) -> anyhow::Result<config::Migration> {
    let options = LoadOptions {
        needs_credentials: true,
    };
    let path = &ctx.global.config;
    let mut m = match worker_env::minimal_document(&ProcessEnv) {
        Some(text) if !path.exists() => config::parse(
            &text,
            std::path::Path::new("BACKFILL_* environment"),
            &ProcessEnv,
            options,
        )?,
        _ => config::load(path, &ProcessEnv, options)?,
    };
    worker_env::apply(&mut m, &ProcessEnv)?;
    Ok(m)
}

/// Opens the repository, the snapshot and the selected indices' metadata on a blocking thread. Every failure
/// (a thread that died included) is a typed [`WorkerError::Snapshot`], so it exits 5 naming the file.
async fn open_source(m: &config::Migration) -> Result<Source, WorkerError> {
    let (repository_location, aws, region) = (
        m.source.repository.clone(),
        m.aws.clone(),
        m.source.region.clone(),
    );
    let (snapshot_name, selection) = (m.source.snapshot.clone(), m.source.indices.clone());
    let location = repository_location.to_string();
    let opened = tokio::task::spawn_blocking(move || -> Result<Source, SnapshotError> {
        let repository = Arc::new(Repository::open(snapshot::blob_source(
            &repository_location,
            &aws,
            region.as_deref(),
        )?)?);
        let snapshot = repository.snapshot(&snapshot_name)?;
        // Only the selected indices' metadata is read: an index this worker never touches cannot stop it.
        let indices = snapshot
            .indices
            .iter()
            .filter(|name| selection.matches(name))
            .map(|name| repository.index(&snapshot, name))
            .collect::<Result<_, _>>()?;
        Ok(Source {
            repository,
            snapshot,
            indices,
        })
    })
    .await
    .map_err(|e| SnapshotError::Repository {
        location,
        message: format!("opening the repository stopped unexpectedly ({e}); this is a bug"),
    })?;
    Ok(opened?)
}

/// Whether bulk actions carry `_type` (`target.emit_type`; for `auto`, what `GET /` says the target is), with
/// the target as detected for the log. OpenSearch Serverless is not asked: it takes no `_type`.
async fn detect_emit_type(
    transport: &Client,
    target: &config::Target,
) -> anyhow::Result<(String, bool)> {
    let serverless = matches!(
        target.auth,
        config::TargetAuth::Sigv4 {
            service: config::Sigv4Service::Aoss,
            ..
        }
    );
    if target.emit_type != config::EmitType::Auto || serverless {
        let label = if serverless {
            "OpenSearch Serverless"
        } else {
            "(not asked)"
        };
        return Ok((label.into(), version::emits_type(target.emit_type, None)));
    }
    let root = transport
        .send(Method::Get, "/", None)
        .await
        .map_err(WorkerError::TargetVersion)?;
    if root.status == 404 {
        return Ok(("without a version (GET / answered 404)".into(), false));
    }
    let detected = ServerVersion::from_root(&root.body).map_err(|e| {
        anyhow::anyhow!("{e}; set target.emit_type (always or never) to send documents anyway")
    })?;
    let label = format!("{:?} {}", detected.product, detected.number);
    Ok((
        label,
        version::emits_type(target.emit_type, Some(&detected)),
    ))
}

pub async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = load_settings(ctx)?;
    let args_log = args.log_format;
    let migration_name = m.name.clone();
    // The worker bounds its own retries by the lease (worker::retry), so the client does not retry.
    let transport = Client::from_target(&m.target, &ProcessEnv, &AwsSdk::new(&m.aws))
        .await
        .with_context(|| format!("target {}", m.target.endpoint))?
        .with_retry_policy(cluster::RetryPolicy::none());
    if transport.insecure_tls() {
        log(
            ctx,
            args_log,
            format!(
                "warning: TLS certificates of {} are not verified (target.tls)",
                m.target.endpoint
            ),
        );
    }
    let gzip = transport.accepts_gzip().await;
    let transport = transport.with_gzip(gzip);
    let emit_type = detect_emit_type(&transport, &m.target).await?;
    log(
        ctx,
        args_log,
        format!(
            "target {}: bulk actions {} `_type` (target.emit_type: {})",
            emit_type.0,
            if emit_type.1 { "carry" } else { "carry no" },
            serde_json::to_value(m.target.emit_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
    );
    let emit_type = emit_type.1;
    let source = open_source(&m).await?;
    let host = ProcessEnv
        .var("HOSTNAME")
        .unwrap_or_else(|| "worker".into());
    let options = WorkerOptions {
        worker_id: args
            .id
            .unwrap_or_else(|| format!("{host}_{}", uuid::Uuid::new_v4())),
        migration: migration_name,
        state_index: ownership::state_index(&m),
        identity: ownership::resolved_identity(&m, &source.snapshot, &source.indices),
        adopt_unrecorded: m.backfill.adopt_unrecorded_working_state,
        lease_seconds: m.worker.lease.as_secs().max(1),
        batch_max_docs: m.worker.batch_max_docs as usize,
        batch_max_bytes: m.worker.batch_max_bytes,
        emit_type,
        type_mappings: m.source.type_mappings.clone(),
        handoff_fraction: 0.25,
        max_connections: m.worker.max_connections.max(1),
        retry: RetryPolicy::default(),
        failed_documents: m.worker.failed_documents.clone(),
        aws: m.aws.clone(),
        transforms: Transforms::compile(&m.transforms)?,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        let _ = stop_tx.send(true);
    });
    let mut stats = WorkerStats::default();
    log(
        ctx,
        args_log,
        format!(
            "worker {} starting: {} index(es) of snapshot {}",
            options.worker_id,
            source.indices.len(),
            source.snapshot.name
        ),
    );
    let observer = CliObserver {
        ctx,
        format: args_log,
    };
    let outcome = run::run(
        &transport,
        &source,
        &options,
        &SystemClock,
        stop_rx,
        &mut stats,
        &observer,
    )
    .await;
    log(
        ctx,
        args_log,
        format!(
            "worker {}: {} item(s) completed, {} documents ({} bytes) in {} bulk requests, {} retries, {} rejected, {} skipped by configuration (source.type_mappings)",
            options.worker_id,
            stats.items_completed,
            stats.documents,
            stats.source_bytes,
            stats.bulk_requests,
            stats.retries,
            stats.failed_documents,
            stats.skipped_by_configuration
        ),
    );
    match outcome {
        Ok(WorkerExit::NoWorkLeft) => Ok(Outcome::Success),
        Ok(WorkerExit::LeaseHandedOff) => Ok(Outcome::LeaseHandedOff),
        Ok(WorkerExit::AllLeased) => Ok(Outcome::AllWorkLeased),
        Err(e) => Err(e.into()),
    }
}
