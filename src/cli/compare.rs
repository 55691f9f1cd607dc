//! `backfill compare [--refresh]`: for every index the migration selects, the live documents of the source
//! snapshot (from each shard's live-docs count: only small Lucene files are read) next to the target's `_count`.
//! Exit 1 when any index differs, so a pipeline stage can gate on it.
//!
//! Counts compare per group of indices after type mapping and transforms, with the documents the configuration
//! leaves out subtracted, as the work items recorded them (`coordination::expected_counts`); a group whose
//! destinations are unknown is printed as not compared, with the reason, and is neither a match nor a mismatch.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde_json::json;

use crate::cli::Context;
use crate::cli::{ownership, platforms};
use crate::cluster::transport::{JsonTransport, Method};
use crate::config::{Migration, Route};
use crate::coordination::archive;
use crate::coordination::expected_counts::{self, Group, SourceIndex, Verdict};
use crate::exit::Outcome;
use crate::output::Format;
use crate::snapshot::{self, Repository};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Refresh the target indices before counting (documents indexed in the last second become visible).
    #[arg(long)]
    pub refresh: bool,
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
    // What the work items recorded (skipped documents, target indices); best effort: without it, indices the
    // configuration changes nothing about are still compared under their own names.
    let (records, state_note) = match archive::read_all(&client, &ownership::state_index(&m)).await
    {
        Ok(documents) => (expected_counts::records(&documents), None),
        Err(e) => (Default::default(), Some(e.to_string())),
    };
    let sources: Vec<SourceIndex> = source_counts
        .into_iter()
        .map(|(name, live)| SourceIndex {
            record: records.get(&name).cloned(),
            configured: configured(&m, &name),
            name,
            live,
        })
        .collect();
    let mut target_counts = BTreeMap::new();
    for group in expected_counts::groups(&sources, &target_counts) {
        for index in group.targets {
            let count = target_count(&client, &index, args.refresh).await?;
            target_counts.insert(index, count);
        }
    }
    let groups = expected_counts::groups(&sources, &target_counts);
    let count = |v: &Verdict| groups.iter().filter(|g| g.verdict == *v).count();
    let mismatches = count(&Verdict::Different);
    let unknown = groups.len() - mismatches - count(&Verdict::Ok);
    match ctx.printer.format {
        Format::Json => ctx.printer.json(&json!({
            "groups": groups,
            "mismatches": mismatches,
            "not_compared": unknown,
            "working_state_error": state_note,
        }))?,
        Format::Human => {
            ctx.printer.result(format!(
                "{:<40} {:>10} {:>10} {:>10} {:>10}  result",
                "index", "source", "skipped", "expected", "target"
            ))?;
            for g in &groups {
                ctx.printer.result(row_text(g))?;
            }
            if let Some(why) = &state_note {
                ctx.printer.result(format!(
                    "note: the working state could not be read ({why}): skipped documents and renamed indices are unknown"
                ))?;
            }
        }
    }
    if mismatches > 0 {
        anyhow::bail!(
            "{mismatches} of {} index(es) differ between the snapshot and the target (a running backfill is not done yet: check `backfill status`)",
            groups.len()
        );
    }
    Ok(Outcome::Success)
}

/// Whether type mappings or transforms may send `index`'s documents elsewhere than an index of its name.
fn configured(m: &Migration, index: &str) -> bool {
    let mappings = &m.source.type_mappings;
    m.transforms.iter().any(|rule| rule.applies_to(index))
        || mappings.static_routes.iter().any(|(name, _)| name == index)
        || (!mappings.is_empty() && mappings.route(index, None).0 != Route::To(index.to_string()))
}

/// The documents `index` holds on the target; `None` when it does not exist.
async fn target_count<T: JsonTransport>(
    client: &T,
    index: &str,
    refresh: bool,
) -> anyhow::Result<Option<u64>> {
    let encoded = urlencode(index);
    if refresh {
        client
            .send(Method::Post, &format!("/{encoded}/_refresh"), None)
            .await?;
    }
    let resp = client
        .send(Method::Get, &format!("/{encoded}/_count"), None)
        .await?;
    if resp.status == 404 {
        return Ok(None);
    }
    Ok(Some(resp.body["count"].as_u64().with_context(|| {
        format!("_count of {index} has no count")
    })?))
}

/// One group's line: `source -> target(s)` when the documents went elsewhere than an index of the same name.
fn row_text(g: &Group) -> String {
    let name = if g.targets == g.sources || g.targets.is_empty() {
        g.sources.join(", ")
    } else {
        format!("{} -> {}", g.sources.join(", "), g.targets.join(", "))
    };
    let target = match (g.target, g.missing.is_empty()) {
        (Some(n), true) => n.to_string(),
        (Some(n), false) => format!("{n}+missing"),
        (None, _) if g.targets.is_empty() => "-".to_string(),
        (None, _) => "missing".to_string(),
    };
    let verdict = match &g.verdict {
        Verdict::Ok => "ok".to_string(),
        Verdict::Different => "DIFFERENT".to_string(),
        Verdict::Unknown(why) => format!("not compared: {why}"),
    };
    let pending = if g.incomplete > 0 {
        format!(" ({} work item(s) not completed yet)", g.incomplete)
    } else {
        String::new()
    };
    format!(
        "{name:<40} {:>10} {:>10} {:>10} {target:>10}  {verdict}{pending}",
        g.source, g.skipped, g.expected
    )
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
