//! `backfill snapshot ...`: inspect a snapshot repository straight from where it lives (a directory or S3):
//! `list`, `indices`, `docs` (NDJSON on stdout; `--transformed`: what the worker would send, through the migration
//! file's `transforms`) and `verify` (every file of every shard read and
//! checksummed, live documents counted; exit 1 on any problem). The repository comes from `--repository` or
//! from `source.repository` in migration.yaml.
//!
//! Every line is written as soon as it is known, and the first failed write stops the command: `docs` stops
//! reading the shard, so `backfill snapshot docs … | head -1` returns after one document.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use crate::cli::Context;
use crate::config::{self, AwsSettings, LoadOptions, Location, ProcessEnv};
use crate::exit::Outcome;
use crate::snapshot::{self, DocumentError, Repository, SnapshotInfo};
use crate::worker::transform::{self, Transforms};

#[derive(Debug, clap::Args)]
pub(crate) struct RepoArgs {
    /// Repository: `s3://bucket/prefix`, `file:///path` or a directory (default: source.repository).
    #[arg(long)]
    pub repository: Option<Location>,
    /// S3 region of the repository (default: source.region, then the SDK's default).
    #[arg(long)]
    pub region: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List the snapshots in the repository.
    List(RepoArgs),
    /// List a snapshot's indices with their shard counts.
    Indices {
        /// Snapshot name (default: source.snapshot).
        snapshot: Option<String>,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Print an index's live documents as NDJSON, in checkpoint order.
    Docs {
        snapshot: String,
        index: String,
        /// Only this shard (default: all).
        #[arg(long)]
        shard: Option<u32>,
        /// Start at this global document number within the shard.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Read at most this many documents of the index (default: all).
        #[arg(long)]
        limit: Option<u64>,
        /// Print what would be sent: each document through the migration file's `transforms` that match the
        /// index (zero, one or several lines per document; a failing program prints the failed document).
        #[arg(long)]
        transformed: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Read every file of every shard, check every checksum and count documents; exit 1 on any problem.
    Verify {
        snapshot: Option<String>,
        #[command(flatten)]
        repo: RepoArgs,
    },
}

struct Resolved {
    repo: Repository,
    default_snapshot: Option<String>,
}

/// Opens the repository from the flag or the config (on a blocking thread: the reader is synchronous).
async fn open(args: &RepoArgs, ctx: &Context) -> anyhow::Result<Resolved> {
    let (location, aws, region, default_snapshot) = match &args.repository {
        Some(location) => (
            location.clone(),
            AwsSettings::default(),
            args.region.clone(),
            None,
        ),
        None => {
            let m = config::load(&ctx.global.config, &ProcessEnv, LoadOptions::default()).context(
                "no --repository given, so the repository comes from the migration file",
            )?;
            let region = args.region.clone().or(m.source.region.clone());
            (m.source.repository, m.aws, region, Some(m.source.snapshot))
        }
    };
    let repo = tokio::task::spawn_blocking(move || -> anyhow::Result<Repository> {
        let source = snapshot::blob_source(&location, &aws, region.as_deref())?;
        Ok(Repository::open(source)?)
    })
    .await??;
    Ok(Resolved {
        repo,
        default_snapshot,
    })
}

fn pick(resolved: &Resolved, name: Option<String>) -> anyhow::Result<SnapshotInfo> {
    let name = name
        .or(resolved.default_snapshot.clone())
        .context("name the snapshot (or run with a migration.yaml that does)")?;
    Ok(resolved.repo.snapshot(&name)?)
}

pub(crate) async fn run(command: Command, ctx: &Context) -> anyhow::Result<Outcome> {
    match command {
        Command::List(repo) => {
            let resolved = open(&repo, ctx).await?;
            let snapshots = resolved.repo.snapshots();
            if ctx.global.json {
                ctx.printer.json(
                    &json!({ "repository": resolved.repo.location(), "snapshots": snapshots }),
                )?;
            } else {
                ctx.printer.result(format!(
                    "{:<32} {:<24} {:<12} {:<10} indices",
                    "snapshot", "uuid", "state", "version"
                ))?;
                for s in snapshots {
                    let version = s.version.as_deref().unwrap_or("-");
                    ctx.printer.result(format!(
                        "{:<32} {:<24} {:<12} {:<10} {}",
                        s.name,
                        s.uuid,
                        s.state,
                        version,
                        s.indices.len()
                    ))?;
                }
            }
            Ok(Outcome::Success)
        }
        Command::Indices { snapshot, repo } => {
            let resolved = open(&repo, ctx).await?;
            let info = pick(&resolved, snapshot)?;
            let resolved = Arc::new(resolved);
            let r = resolved.clone();
            let indices = tokio::task::spawn_blocking(move || r.repo.indices(&info)).await??;
            if ctx.global.json {
                ctx.printer.json(&json!({ "indices": indices }))?;
            } else {
                ctx.printer
                    .result(format!("{:<40} {:<24} shards", "index", "id"))?;
                for i in indices {
                    ctx.printer
                        .result(format!("{:<40} {:<24} {}", i.name, i.id, i.shards))?;
                }
            }
            Ok(Outcome::Success)
        }
        Command::Docs {
            snapshot,
            index,
            shard,
            from,
            limit,
            transformed,
            repo,
        } => {
            let transforms = if transformed {
                let m = config::load(&ctx.global.config, &ProcessEnv, LoadOptions::default())
                    .context("--transformed applies the migration file's `transforms`")?;
                Transforms::compile(&m.transforms)?
            } else {
                Transforms::default()
            };
            let resolved = open(&repo, ctx).await?;
            let info = pick(&resolved, Some(snapshot))?;
            let printer = ctx.printer.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let chain = transforms.chain_for(&index);
                let mut left = limit.unwrap_or(u64::MAX);
                let index = resolved.repo.index(&info, &index)?;
                let shards: Vec<u32> = match shard {
                    Some(s) if s < index.shards => vec![s],
                    Some(s) => anyhow::bail!("index {} has {} shard(s); there is no shard {s}", index.name, index.shards),
                    None => (0..index.shards).collect(),
                };
                for s in shards {
                    let open = resolved.repo.open_shard(&info, &index, s)?;
                    // A failed write (the reader has gone) ends the loop: the rest of the shard is not read.
                    for doc in open.documents(from) {
                        if left == 0 {
                            return Ok(());
                        }
                        left -= 1;
                        let doc = match doc {
                            Ok(doc) => doc,
                            // Listed with its reason, as the worker records it; the shard goes on.
                            Err(DocumentError::Unusable(u)) => {
                                printer.result(
                                    json!({"_index": u.index, "_id": u.id, "shard": s, "doc": u.global_doc, "error": {"type": u.problem.error_type(), "reason": u.problem.to_string()}})
                                        .to_string(),
                                )?;
                                continue;
                            }
                            Err(DocumentError::Unreadable(e)) => return Err(e.into()),
                        };
                        let sent = if chain.is_empty() {
                            vec![doc]
                        } else {
                            match transform::transformed(&chain, &doc) {
                                Ok(docs) => docs,
                                Err(f) => {
                                    printer.result(
                                        json!({"_index": f.index, "_id": f.id, "shard": s, "doc": doc.global_doc, "error": {"type": f.error_type, "reason": f.reason}})
                                            .to_string(),
                                    )?;
                                    continue;
                                }
                            }
                        };
                        for doc in sent {
                            let source: serde_json::Value = serde_json::from_str(&doc.source)
                                .with_context(|| format!("index {}, shard {s}, document {}: _source is not valid JSON", doc.index, doc.global_doc))?;
                            printer.result(
                                json!({"_index": doc.index, "_id": doc.id, "_type": doc.doc_type, "_routing": doc.routing, "shard": s, "doc": doc.global_doc, "_source": source})
                                    .to_string(),
                            )?;
                        }
                    }
                }
                Ok(())
            })
            .await??;
            Ok(Outcome::Success)
        }
        Command::Verify { snapshot, repo } => {
            let resolved = open(&repo, ctx).await?;
            let info = pick(&resolved, snapshot)?;
            let printer = ctx.printer.clone();
            let json_out = ctx.global.json;
            let problems = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                let mut problems = 0;
                let mut report = Vec::new();
                for index in resolved.repo.indices(&info)? {
                    for s in 0..index.shards {
                        let outcome = (|| -> anyhow::Result<(usize, u64, u64, u64)> {
                            let open = resolved.repo.open_shard(&info, &index, s)?;
                            let (files, bytes) = open.lucene.verify_files().map_err(|e| anyhow::anyhow!("snapshot {}, index {}, shard {s}: {e}", info.name, index.name))?;
                            let mut read = 0u64;
                            for doc in open.lucene.documents(0) {
                                doc.map_err(|e| anyhow::anyhow!("snapshot {}, index {}, shard {s}: {e}", info.name, index.name))?;
                                read += 1;
                            }
                            Ok((files, bytes, read, open.lucene.live_doc_count()))
                        })();
                        match outcome {
                            Ok((files, bytes, read, live)) => {
                                let ok = read == live;
                                if !ok {
                                    problems += 1;
                                }
                                report.push(json!({"index": index.name, "shard": s, "files": files, "bytes": bytes, "docs_read": read, "live_docs": live, "ok": ok}));
                                if !json_out {
                                    let mark = if ok { "ok" } else { "MISMATCH" };
                                    printer.line(format!("{mark:<8} {} shard {s}: {files} files, {bytes} bytes verified; {read} live documents read, {live} expected", index.name))?;
                                }
                            }
                            Err(e) => {
                                problems += 1;
                                report.push(json!({"index": index.name, "shard": s, "ok": false, "error": format!("{e:#}")}));
                                if !json_out {
                                    printer.line(format!("FAILED   {} shard {s}: {e:#}", index.name))?;
                                }
                            }
                        }
                    }
                }
                if json_out {
                    printer.json(&json!({"snapshot": info.name, "ok": problems == 0, "shards": report}))?;
                }
                Ok(problems)
            })
            .await??;
            if problems > 0 {
                anyhow::bail!("{problems} shard(s) failed verification");
            }
            if !ctx.global.json {
                ctx.printer.line("every file of every shard verified")?;
            }
            Ok(Outcome::Success)
        }
    }
}
