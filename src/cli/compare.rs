//! `backfill compare [--refresh]`: for every index the migration selects, the live documents of the source
//! snapshot (from each shard's live-docs count: only small Lucene files are read) next to the target's `_count`.
//! Exit 1 when any index differs, so a pipeline stage can gate on it.
//!
//! Counts compare per index name; a target index that routes several source indices together (aliases, renames)
//! is out of scope and shows as a mismatch.

use anyhow::Context as _;
use serde_json::json;

use crate::cli::Context;
use crate::cli::platforms;
use crate::cluster::transport::{JsonTransport, Method};
use crate::exit::Outcome;
use crate::output::Format;
use crate::snapshot::{self, Repository};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Refresh the target indices before counting (documents indexed in the last second become visible).
    #[arg(long)]
    pub refresh: bool,
}

/// One index's counts.
#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    index: String,
    source: u64,
    /// `None` when the index does not exist on the target.
    target: Option<u64>,
}

impl Row {
    fn matches(&self) -> bool {
        self.target == Some(self.source)
    }
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let m = platforms::load(ctx, true)?;
    let (location, aws, region) = (
        m.source.repository.clone(),
        m.aws.clone(),
        m.source.region.clone(),
    );
    let (snapshot_name, selection) = (m.source.snapshot.clone(), m.source.indices.clone());
    let source_counts =
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(String, u64)>> {
            let source = snapshot::blob_source(&location, &aws, region.as_deref())?;
            let repo = Repository::open(source)?;
            let info = repo.snapshot(&snapshot_name)?;
            let names = info.indices_where(|name| selection.matches(name));
            let indices = repo
                .read_indices(&info, &names, snapshot::READ_CONCURRENCY)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            let shards = repo.count_shards(&info, &indices, snapshot::READ_CONCURRENCY);
            let mut counts = Vec::new();
            for (index, shards) in indices.iter().zip(shards) {
                let mut live = 0u64;
                for (shard, count) in shards.into_iter().enumerate() {
                    live += count
                        .with_context(|| format!("index {}, shard {shard}", index.name))?
                        .live_documents;
                }
                counts.push((index.name.clone(), live));
            }
            Ok(counts)
        })
        .await??;

    let client = platforms::target_client(&m, ctx).await?;
    let mut rows = Vec::new();
    for (index, source) in source_counts {
        let encoded = urlencode(&index);
        if args.refresh {
            client
                .send(Method::Post, &format!("/{encoded}/_refresh"), None)
                .await?;
        }
        let resp = client
            .send(Method::Get, &format!("/{encoded}/_count"), None)
            .await?;
        let target = if resp.status == 404 {
            None
        } else {
            Some(resp.body["count"].as_u64().with_context(|| {
                format!("target {}: _count of {index} has no count", client.url())
            })?)
        };
        rows.push(Row {
            index,
            source,
            target,
        });
    }
    let mismatches = rows.iter().filter(|r| !r.matches()).count();
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&json!({
            "indices": rows,
            "mismatches": mismatches,
        }))?,
        Format::Human => {
            ctx.printer.result(format!(
                "{:<40} {:>12} {:>12}  result",
                "index", "source", "target"
            ))?;
            for r in &rows {
                let target = r.target.map_or("missing".to_string(), |t| t.to_string());
                let verdict = if r.matches() { "ok" } else { "DIFFERENT" };
                ctx.printer.result(format!(
                    "{:<40} {:>12} {:>12}  {verdict}",
                    r.index, r.source, target
                ))?;
            }
        }
    }
    if mismatches > 0 {
        anyhow::bail!(
            "{mismatches} of {} index(es) differ between the snapshot and the target (a running backfill is not done yet: check `backfill status`)",
            rows.len()
        );
    }
    Ok(Outcome::Success)
}

/// Percent-encodes an index name for a URL path.
fn urlencode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
