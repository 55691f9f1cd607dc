//! The preflight's I/O, kept thin: it observes the source repository (through `snapshot::Repository`, shards
//! opened a few at a time) and the target (through the `cluster` client) at the same time, each under a deadline,
//! and hands the [`Observations`] to the pure [`evaluate`](super::evaluate).
//!
//! Guarantees: nothing is written anywhere; the target gets three GETs (`/`, `/_cat/indices` and the working
//! state's `_mapping`, whose owner record it holds; together), sent once each (no retries: a preflight reports, the worker retries); the whole check ends within the larger of the two
//! deadlines, whatever the source or the target do — work still running then is abandoned, never awaited.

use std::time::Duration;

use super::observe::{
    IndexObservation, Observations, OwnerRead, ShardObservation, SnapshotObservation,
    SourceObservation, TargetAnswer, TargetObservation, WorkingStateObservation, parse_cat_indices,
    shard_failure,
};
use super::{Preflight, evaluate, working_state};
use crate::aws_sdk::AwsSdk;
use crate::cluster::transport::{JsonTransport, Method};
use crate::cluster::{Client, ClusterError, RetryPolicy};
use crate::config::{
    AwsSettings, DesiredState, Env, IndexSelection, Location, Migration, Sigv4Service, TargetAuth,
};
use crate::coordination::identity::Identity;
use crate::coordination::ownership;
use crate::coordination::progress::working_state_index;
use crate::snapshot::{self, Repository, SnapshotError};

/// How the preflight runs.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// No network: the target and an S3 repository are not checked (a repository on a filesystem still is).
    pub offline: bool,
    /// How long the target may take to answer, credentials resolution included.
    pub target_timeout: Duration,
    /// How long reading the snapshot metadata and opening every selected shard may take.
    pub source_timeout: Duration,
    /// Index metadata blobs and shards read at once.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            offline: false,
            target_timeout: Duration::from_secs(10),
            source_timeout: Duration::from_secs(120),
            concurrency: snapshot::READ_CONCURRENCY,
        }
    }
}

/// Runs the preflight for `m`: observes the source and the target, then judges. A migration declared `paused`
/// or `stopped` starts no worker, so nothing is checked (pausing an overloaded target must never wait on it).
pub(crate) async fn check(m: &Migration, env: &dyn Env, options: &Options) -> Preflight {
    let state = match m.backfill.state {
        DesiredState::Running => None,
        DesiredState::Paused => Some("paused"),
        DesiredState::Stopped => Some("stopped"),
    };
    if let Some(state) = state {
        // No worker starts, but `apply` may still archive or delete the working state: whose it is still matters.
        let recorded = read_owner_only(m, env, options).await;
        let mut report = Preflight {
            not_checked: vec![format!(
                "the source and the target: backfill.state is {state}, so no worker starts (they are checked when it is running)"
            )],
            ..Preflight::default()
        };
        let source = SourceObservation::Skipped {
            location: m.source.repository.to_string(),
            reason: format!("backfill.state is {state}"),
        };
        working_state::judge(&working_state(m, recorded), &source, &mut report);
        return report;
    }
    let (source, (target, recorded)) =
        tokio::join!(observe_source(m, options), observe_target(m, env, options));
    evaluate(&Observations {
        selection: m.source.indices.clone(),
        type_mappings: m.source.type_mappings.clone(),
        source,
        target,
        working_state: working_state(m, recorded),
    })
}

fn working_state(m: &Migration, recorded: OwnerRead) -> WorkingStateObservation {
    WorkingStateObservation {
        index: working_state_index(m.backfill.session.as_deref()),
        declared: Identity::declared_by(m),
        adopt_unrecorded: m.backfill.adopt_unrecorded_working_state,
        recorded,
    }
}

/// Reads the owner record of `m`'s working state alone (a migration declared paused or stopped), under the
/// target's deadline.
async fn read_owner_only(m: &Migration, env: &dyn Env, options: &Options) -> OwnerRead {
    if options.offline {
        return OwnerRead::Skipped("--offline".into());
    }
    let read = async {
        match preflight_client(m, env).await {
            Ok(client) => read_owner(&client, m).await,
            Err(err) => OwnerRead::Failed(err.to_string()),
        }
    };
    tokio::time::timeout(options.target_timeout, read)
        .await
        .unwrap_or_else(|_| {
            OwnerRead::Failed(format!(
                "no answer within {} s",
                options.target_timeout.as_secs()
            ))
        })
}

/// The target client the preflight asks through: each request sent once (a preflight reports, the worker
/// retries).
async fn preflight_client(m: &Migration, env: &dyn Env) -> Result<Client, ClusterError> {
    Ok(Client::from_target(&m.target, env, &AwsSdk::new(&m.aws))
        .await?
        .with_retry_policy(RetryPolicy::none()))
}

async fn read_owner(client: &Client, m: &Migration) -> OwnerRead {
    let index = working_state_index(m.backfill.session.as_deref());
    match ownership::read_record(client, &index).await {
        Ok(recorded) => OwnerRead::Read(recorded),
        Err(err) => OwnerRead::Failed(err.to_string()),
    }
}

async fn observe_source(m: &Migration, options: &Options) -> SourceObservation {
    let repository = m.source.repository.clone();
    let location = repository.to_string();
    let s3 = repository.is_s3();
    if options.offline && s3 {
        return SourceObservation::Skipped {
            location,
            reason: "--offline: the repository is in S3".into(),
        };
    }
    let region = m.source.region.clone();
    let aws = m.aws.clone();
    let (snapshot, selection, concurrency) = (
        m.source.snapshot.clone(),
        m.source.indices.clone(),
        options.concurrency,
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A plain thread, not `spawn_blocking`: if the deadline passes, the runtime must not wait for it on exit.
    let spawned = std::thread::Builder::new()
        .name("preflight-source".into())
        .spawn(move || {
            let _ = tx.send(read_source(
                &repository,
                &aws,
                region.as_deref(),
                &snapshot,
                &selection,
                concurrency,
            ));
        });
    if let Err(e) = spawned {
        return SourceObservation::Unreadable {
            location,
            message: format!("cannot start a thread to read it: {e}"),
            s3,
        };
    }
    match tokio::time::timeout(options.source_timeout, rx).await {
        Ok(Ok(observation)) => observation,
        Ok(Err(_)) => SourceObservation::Unreadable {
            location,
            message: "the reading thread stopped without an answer".into(),
            s3,
        },
        Err(_) => SourceObservation::TimedOut {
            location,
            seconds: options.source_timeout.as_secs(),
        },
    }
}

/// The blocking half: open the repository, find the snapshot, read the selected indices and open their shards.
fn read_source(
    repository: &Location,
    aws: &AwsSettings,
    region: Option<&str>,
    snapshot: &str,
    selection: &IndexSelection,
    concurrency: usize,
) -> SourceObservation {
    let s3 = repository.is_s3();
    let unreadable = |err: SnapshotError| SourceObservation::Unreadable {
        location: repository.to_string(),
        message: match err {
            SnapshotError::Repository { message, .. } => message,
            other => other.to_string(),
        },
        s3,
    };
    let repo = match snapshot::blob_source(repository, aws, region).and_then(Repository::open) {
        Ok(repo) => repo,
        Err(err) => return unreadable(err),
    };
    let info = match repo.snapshot(snapshot) {
        Ok(info) => info,
        Err(SnapshotError::NoSuchSnapshot {
            location,
            snapshot,
            known,
        }) => {
            return SourceObservation::NoSuchSnapshot {
                location,
                snapshot,
                known,
            };
        }
        Err(err) => return unreadable(err),
    };
    let names = info.indices_where(|name| selection.matches(name));
    let metadata = repo.read_indices(&info, &names, concurrency);
    let readable: Vec<_> = metadata
        .iter()
        .filter_map(|m| m.as_ref().ok())
        .cloned()
        .collect();
    let mut counts = repo.count_shards(&info, &readable, concurrency).into_iter();
    let selected = names
        .into_iter()
        .zip(metadata)
        .map(|(name, metadata)| match metadata {
            Ok(index) => IndexObservation {
                name,
                shards: counts
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .zip(0u32..)
                    .map(|(outcome, shard)| ShardObservation {
                        shard,
                        outcome: outcome.map_err(|e| shard_failure(&e)),
                    })
                    .collect(),
                metadata: Ok(index),
            },
            Err(err) => IndexObservation {
                name,
                metadata: Err(match err {
                    SnapshotError::Index { message, .. } => message,
                    other => other.to_string(),
                }),
                shards: Vec::new(),
            },
        })
        .collect();
    SourceObservation::Read(SnapshotObservation {
        location: repo.location(),
        snapshot: info.name.clone(),
        uuid: info.uuid.clone(),
        state: info.state.clone(),
        version: info.version.clone(),
        indices: info.indices.clone(),
        selected,
    })
}

/// Asks the target (`GET /` and its index list) and reads the owner record of the working state, all at once.
async fn observe_target(
    m: &Migration,
    env: &dyn Env,
    options: &Options,
) -> (TargetObservation, OwnerRead) {
    let endpoint = m.target.endpoint.clone();
    if options.offline {
        return (
            TargetObservation::Skipped {
                endpoint,
                reason: "--offline".into(),
            },
            OwnerRead::Skipped("--offline".into()),
        );
    }
    let unasked = || OwnerRead::Skipped("the target did not answer".into());
    let ask = async {
        // The deadline below bounds every request; the client's own timeouts are longer.
        let client = match preflight_client(m, env).await {
            Ok(client) => client,
            Err(err) => {
                return (
                    TargetObservation::NoClient {
                        endpoint: endpoint.clone(),
                        message: err.to_string(),
                    },
                    unasked(),
                );
            }
        };
        let endpoint = client.url().to_string();
        let serverless = matches!(
            m.target.auth,
            TargetAuth::Sigv4 {
                service: Sigv4Service::Aoss,
                ..
            }
        );
        let cat = client.send(
            Method::Get,
            "/_cat/indices?format=json&h=index,docs.count",
            None,
        );
        // Serverless is not asked for a cluster root it does not have: the index listing alone shows that it
        // answers and accepts the credentials.
        let root = async {
            if serverless {
                None
            } else {
                Some(client.send(Method::Get, "/", None).await)
            }
        };
        let (root, cat, owner) = tokio::join!(root, cat, read_owner(&client, m));
        let failed = |error| {
            (
                TargetObservation::Failed {
                    endpoint: endpoint.clone(),
                    error,
                },
                unasked(),
            )
        };
        let root = match root {
            None => None,
            Some(Ok(resp)) if resp.status == 404 => None,
            Some(Ok(resp)) => Some(resp.body),
            Some(Err(error)) => return failed(error),
        };
        let indices = match cat {
            Ok(resp) if resp.status == 404 => Err("_cat/indices answered 404".to_string()),
            Ok(resp) => parse_cat_indices(&resp.body),
            Err(error) if serverless => return failed(error),
            Err(error) => Err(error.to_string()),
        };
        let answer = TargetAnswer {
            endpoint: endpoint.clone(),
            root,
            serverless,
            insecure_tls: client.insecure_tls(),
            indices,
        };
        (TargetObservation::Answered(answer), owner)
    };
    match tokio::time::timeout(options.target_timeout, ask).await {
        Ok(observed) => observed,
        Err(_) => (
            TargetObservation::TimedOut {
                endpoint,
                seconds: options.target_timeout.as_secs(),
            },
            unasked(),
        ),
    }
}
