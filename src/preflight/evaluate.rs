//! The pure judgement: [`Observations`] in, the [`Preflight`] report out. Every rule lives here (or, for mappings,
//! in `mapping.rs`), so each is unit-tested without a repository or a target.

use std::collections::BTreeMap;

use super::observe::{
    IndexObservation, Observations, ShardFailure, SnapshotObservation, SourceObservation,
    TargetAnswer, TargetObservation, detect_target,
};
use super::{
    Distribution, IndexSummary, Preflight, Problem, ProblemKind, SourceSummary, TargetInfo, Warning,
};
use super::{mapping, working_state};
use crate::cluster::transport::TransportError;
use crate::config::TypeMappings;

/// Judges what was observed: problems, warnings, the source summary and the detected target.
pub(crate) fn evaluate(observations: &Observations) -> Preflight {
    let mut report = Preflight::default();
    let selected = source(observations, &mut report);
    target(observations, selected.as_deref(), &mut report);
    working_state::judge(
        &observations.working_state,
        &observations.source,
        &mut report,
    );
    report
}

/// Fills the source part; returns the selected index names when the snapshot was read.
fn source(observations: &Observations, report: &mut Preflight) -> Option<Vec<String>> {
    let repository = |location: &str| Some(format!("repository {location}"));
    match &observations.source {
        SourceObservation::Skipped { location, reason } => {
            report.not_checked.push(format!(
                "the source repository {location}, the snapshot, the index selection and the shards ({reason})"
            ));
            None
        }
        SourceObservation::TimedOut { location, seconds } => {
            report.checked.source = true;
            report.problems.push(
                Problem::new(
                    ProblemKind::SourceTimedOut,
                    repository(location),
                    format!("reading the snapshot metadata did not finish within {seconds} s"),
                )
                .with_ways_out([
                    "check that the repository answers quickly from here (network, throttling), then plan again",
                ]),
            );
            None
        }
        SourceObservation::Unreadable {
            location,
            message,
            s3,
        } => {
            report.checked.source = true;
            let mut ways_out = vec![
                "check source.repository: it names the directory (or s3://bucket/prefix) that holds the repository's index-N file".to_string(),
            ];
            if *s3 {
                ways_out.push("check the AWS credentials and source.region (or aws.region) for this bucket, and that they allow s3:ListBucket and s3:GetObject".into());
            }
            report.problems.push(
                Problem::new(
                    ProblemKind::RepositoryUnreadable,
                    repository(location),
                    format!("the source repository cannot be read: {message}"),
                )
                .with_ways_out(ways_out),
            );
            None
        }
        SourceObservation::NoSuchSnapshot {
            location,
            snapshot,
            known,
        } => {
            report.checked.source = true;
            let has = if known.is_empty() {
                "it holds no snapshot".to_string()
            } else {
                format!("it has: {}", known.join(", "))
            };
            report.problems.push(
                Problem::new(
                    ProblemKind::SnapshotMissing,
                    Some(format!("snapshot {snapshot}")),
                    format!("repository {location} has no snapshot `{snapshot}`; {has}"),
                )
                .with_ways_out(["set source.snapshot to one of the snapshots it has (or take the snapshot first)"]),
            );
            None
        }
        SourceObservation::Read(snapshot) => {
            report.checked.source = true;
            Some(read_snapshot(observations, snapshot, report))
        }
    }
}

fn read_snapshot(
    observations: &Observations,
    snapshot: &SnapshotObservation,
    report: &mut Preflight,
) -> Vec<String> {
    if snapshot.state != "SUCCESS" {
        report.warnings.push(Warning::new(
            Some(format!("snapshot {}", snapshot.snapshot)),
            format!(
                "the snapshot's state is {}, not SUCCESS: shards it did not finish cannot be read",
                snapshot.state
            ),
        ));
    }
    if snapshot.selected.is_empty() {
        let selection = &observations.selection;
        let there = if snapshot.indices.is_empty() {
            "the snapshot holds no index".to_string()
        } else {
            format!("the snapshot holds: {}", snapshot.indices.join(", "))
        };
        report.problems.push(
            Problem::new(
                ProblemKind::NoIndexSelected,
                Some("source.indices".into()),
                format!(
                    "source.indices (include {:?}, exclude {:?}) selects no index of snapshot {}; {there}",
                    selection.include, selection.exclude, snapshot.snapshot
                ),
            )
            .with_ways_out(["change source.indices.include / exclude so they match the indices to migrate"]),
        );
    }
    let mut summary = SourceSummary {
        repository: snapshot.location.clone(),
        snapshot: snapshot.snapshot.clone(),
        state: snapshot.state.clone(),
        version: snapshot.version.clone(),
        indices: snapshot.selected.len(),
        ..SourceSummary::default()
    };
    for index in &snapshot.selected {
        let counted = judge_index(index, &observations.type_mappings, report);
        summary.shards += u64::from(counted.shards);
        summary.live_documents += counted.live_documents;
        summary.bytes += counted.bytes;
        summary.per_index.push(counted);
    }
    // The target indices the documents go to: each index's own name, or its types' routes.
    let targets = summary
        .per_index
        .iter()
        .flat_map(|i| {
            if i.routes.is_empty() {
                vec![i.name.clone()]
            } else {
                i.routes.iter().filter_map(|r| r.target.clone()).collect()
            }
        })
        .collect();
    report.source = Some(summary);
    targets
}

/// The problems of one index (metadata, mapping, shards) and what its readable shards hold.
fn judge_index(
    index: &IndexObservation,
    type_mappings: &TypeMappings,
    report: &mut Preflight,
) -> IndexSummary {
    let name = &index.name;
    let mut counted = IndexSummary {
        name: name.clone(),
        ..IndexSummary::default()
    };
    let info = match &index.metadata {
        Ok(info) => info,
        Err(message) => {
            report.problems.push(
                Problem::new(
                    ProblemKind::IndexUnreadable,
                    Some(format!("index {name}")),
                    format!("its metadata cannot be read: {message}"),
                )
                .with_ways_out([
                    format!("exclude it: add \"{name}\" to source.indices.exclude in migration.yaml"),
                    "or check the repository for missing or damaged blobs (`backfill snapshot verify`)".into(),
                ]),
            );
            return counted;
        }
    };
    counted.shards = info.shards;
    let (problems, warnings, routes) = mapping::judge(info, type_mappings);
    counted.routes = routes;
    report.problems.extend(problems);
    report.warnings.extend(warnings);

    // Unsupported formats grouped by what the reader refused, so a thousand shards make one problem.
    let mut unsupported: BTreeMap<(String, String), (u32, String, u32)> = BTreeMap::new();
    let mut unreadable: Vec<(u32, &str)> = Vec::new();
    for shard in &index.shards {
        match &shard.outcome {
            Ok(counts) => {
                counted.live_documents += counts.live_documents;
                counted.bytes += counts.bytes;
            }
            Err(ShardFailure::Unsupported { file, what, name }) => {
                unsupported
                    .entry((what.clone(), name.clone()))
                    .or_insert((shard.shard, file.clone(), 0))
                    .2 += 1;
            }
            Err(ShardFailure::Unreadable(message)) => unreadable.push((shard.shard, message)),
        }
    }
    let of_shards = |n: u32| format!("{n} of {} shard(s)", index.shards.len());
    for ((what, codec), (shard, file, count)) in unsupported {
        report.problems.push(
            Problem::new(
                ProblemKind::UnsupportedFormat,
                Some(format!("index {name}, shard {shard}, file {file}")),
                format!(
                    "unsupported {what} `{codec}` (in {}): the snapshot reader does not implement it",
                    of_shards(count)
                ),
            )
            .with_ways_out([
                format!("exclude it: add \"{name}\" to source.indices.exclude in migration.yaml"),
                "or rewrite the index in a supported format on the source (reindex or force-merge it there) and take a new snapshot".into(),
            ]),
        );
    }
    if let Some((shard, message)) = unreadable.first() {
        report.problems.push(
            Problem::new(
                ProblemKind::ShardUnreadable,
                Some(format!("index {name}, shard {shard}")),
                format!(
                    "{} cannot be opened; shard {shard}: {message}",
                    of_shards(unreadable.len() as u32)
                ),
            )
            .with_ways_out([
                "check the repository for missing or damaged blobs (`backfill snapshot verify`)"
                    .to_string(),
                format!(
                    "or exclude it: add \"{name}\" to source.indices.exclude in migration.yaml"
                ),
            ]),
        );
    }
    counted
}

/// Major versions of each distribution this tool is built for.
/// Elasticsearch before 7 holds one mapping type per index, and bulk actions carry each document's type: types
/// that `source.type_mappings` routes into one target index would be refused after the first.
fn merged_types_on_a_typed_target(info: &TargetInfo, report: &mut Preflight) {
    let typed = info.distribution == Distribution::Elasticsearch
        && info
            .version
            .as_deref()
            .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
            .is_some_and(|major| major < 7);
    let Some(source) = report.source.as_ref().filter(|_| typed) else {
        return;
    };
    let mut problems = Vec::new();
    for index in &source.per_index {
        let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for route in &index.routes {
            if let Some(target) = &route.target {
                by_target.entry(target).or_default().push(&route.doc_type);
            }
        }
        for (target, types) in by_target.into_iter().filter(|(_, t)| t.len() > 1) {
            problems.push(
                Problem::new(
                    ProblemKind::MultipleMappingTypes,
                    Some(format!("index {}", index.name)),
                    format!(
                        "source.type_mappings sends types {} to one target index, {target}, but {} holds one mapping type per index and bulk actions carry each document's type",
                        types.join(", "),
                        info.label()
                    ),
                )
                .with_ways_out(["map each type to its own target index in source.type_mappings"]),
            );
        }
    }
    report.problems.extend(problems);
}

fn supported(info: &TargetInfo) -> bool {
    let major = info
        .version
        .as_deref()
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    matches!(
        (info.distribution, major),
        (Distribution::OpenSearchServerless, _)
            | (Distribution::Elasticsearch, Some(6..=9))
            | (Distribution::OpenSearch, Some(1..=3))
    )
}

fn target(observations: &Observations, selected: Option<&[String]>, report: &mut Preflight) {
    let subject = |endpoint: &str| Some(format!("target {endpoint}"));
    let check_endpoint = "check target.endpoint and that this machine can reach it (DNS, network, security groups, proxy)";
    match &observations.target {
        TargetObservation::Skipped { endpoint, reason } => report.not_checked.push(format!(
            "the target {endpoint}: that it answers, accepts the credentials, its version and its existing documents ({reason})"
        )),
        TargetObservation::NoClient { endpoint, message } => {
            report.checked.target = true;
            report.problems.push(
                Problem::new(
                    ProblemKind::TargetCredentials,
                    subject(endpoint),
                    format!("no request can be sent to the target: {message}"),
                )
                .with_ways_out(["fix target.auth / target.tls (or the environment they name), then plan again"]),
            );
        }
        TargetObservation::TimedOut { endpoint, seconds } => {
            report.checked.target = true;
            report.problems.push(
                Problem::new(
                    ProblemKind::TargetTimedOut,
                    subject(endpoint),
                    format!("the target did not answer within {seconds} s"),
                )
                .with_ways_out([check_endpoint]),
            );
        }
        TargetObservation::Failed { endpoint, error } => {
            report.checked.target = true;
            let problem = match error {
                TransportError::Unreachable { message, .. } => Problem::new(
                    ProblemKind::TargetUnreachable,
                    subject(endpoint),
                    format!("the target cannot be reached: {message}"),
                )
                .with_ways_out([check_endpoint]),
                TransportError::Unauthorized { status, path, .. } => Problem::new(
                    ProblemKind::TargetUnauthorized,
                    subject(endpoint),
                    format!("the target refused the credentials (HTTP {status} to {path})"),
                )
                .with_ways_out(["check target.auth: the user (or IAM role) and its permissions on the target"]),
                other => Problem::new(
                    ProblemKind::TargetUnrecognized,
                    subject(endpoint),
                    other.to_string(),
                )
                .with_ways_out([check_endpoint]),
            };
            report.problems.push(problem);
        }
        TargetObservation::Answered(answer) => {
            report.checked.target = true;
            answered(observations, answer, selected, report);
        }
    }
}

fn answered(
    observations: &Observations,
    answer: &TargetAnswer,
    selected: Option<&[String]>,
    report: &mut Preflight,
) {
    let subject = Some(format!("target {}", answer.endpoint));
    if answer.insecure_tls {
        report.warnings.push(Warning::new(
            subject.clone(),
            "TLS certificates are not verified (target.tls.insecure_skip_verify)",
        ));
    }
    let mut info = match detect_target(&answer.endpoint, answer.root.as_ref(), answer.serverless) {
        Ok(info) => info,
        Err(message) => {
            report.problems.push(
                Problem::new(ProblemKind::TargetUnrecognized, subject, message).with_ways_out([
                    "check target.endpoint: the cluster's root URL (scheme, host, port), without a path",
                ]),
            );
            return;
        }
    };
    merged_types_on_a_typed_target(&info, report);
    if !supported(&info) {
        report.warnings.push(Warning::new(
            subject.clone(),
            format!(
                "{} is not among the targets this tool is built for (Elasticsearch 6-9, OpenSearch 1-3, OpenSearch Serverless)",
                info.label()
            ),
        ));
    }
    match &answer.indices {
        Ok(indices) => {
            let wanted = |index: &str| match selected {
                Some(names) => names.iter().any(|n| n == index),
                None => observations.selection.matches(index),
            };
            info.indices_with_documents = indices
                .iter()
                .filter(|i| i.documents > 0 && wanted(&i.index))
                .cloned()
                .collect();
            for existing in &info.indices_with_documents {
                report.warnings.push(Warning::new(
                    Some(format!("target index {}", existing.index)),
                    format!(
                        "it already holds {} document(s): documents with the same ids are overwritten, the others stay",
                        existing.documents
                    ),
                ));
            }
        }
        Err(message) => report.warnings.push(Warning::new(
            subject,
            format!("the target's indices could not be listed, so existing documents were not checked: {message}"),
        )),
    }
    report.target = Some(info);
}
