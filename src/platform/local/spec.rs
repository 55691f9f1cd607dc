//! The local platform's logical resources and their pure diff.
//!
//! `apply` realises a [`LocalResources`] value on this machine and records it in the state directory; `plan`
//! compares the desired value (from `migration.yaml`) with the recorded one. The diff is a plain function of
//! two values — no I/O — so the plan view can render `+ worker service (local)` or
//! `~ log retention 7 -> 30 days` and `destroy` removes exactly what the recorded value lists.
//!
//! Invariant: a resource absent from the applied value was never created by `apply`, so `destroy` leaves it.

use std::path::PathBuf;

/// The minimal inputs the local platform needs from the migration (until `config::Migration` is wired in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalSpec {
    /// Migration name; one state directory and one supervisor per name.
    pub(crate) name: String,
    /// State directory (default `.backfill/<name>/`).
    pub(crate) state_dir: PathBuf,
    /// The `migration.yaml` the workers are started with.
    pub(crate) config_path: PathBuf,
    /// Log retention in days.
    pub(crate) retention_days: u32,
}

/// The worker service: the supervisor and what it starts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct WorkerService {
    /// The `migration.yaml` passed to `backfill worker --config`.
    pub(crate) config_path: PathBuf,
}

/// The log group: a directory of per-worker log files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct LogGroup {
    /// Files older than this many days are deleted.
    pub(crate) retention_days: u32,
}

/// The dashboard: a self-contained HTML page in the state directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Dashboard {
    /// File name inside the state directory.
    pub(crate) file: String,
}

/// Everything `apply` creates for one migration. `None` = not created.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LocalResources {
    /// Migration name the resources belong to.
    pub(crate) name: String,
    pub(crate) log_group: Option<LogGroup>,
    pub(crate) worker_service: Option<WorkerService>,
    pub(crate) dashboard: Option<Dashboard>,
    /// Bumped on every recorded apply (like Terraform's state serial): a saved plan made before an
    /// intervening apply sees a different serial and is refused as stale.
    #[serde(default)]
    pub(crate) serial: u64,
}

/// File name of the dashboard page inside the state directory.
pub(crate) const DASHBOARD_FILE: &str = "dashboard.html";

impl LocalResources {
    /// The resources a migration wants: all three.
    pub(crate) fn desired(spec: &LocalSpec) -> Self {
        Self {
            name: spec.name.clone(),
            log_group: Some(LogGroup {
                retention_days: spec.retention_days,
            }),
            worker_service: Some(WorkerService {
                config_path: spec.config_path.clone(),
            }),
            dashboard: Some(Dashboard {
                file: DASHBOARD_FILE.to_owned(),
            }),
            serial: 0,
        }
    }
}

/// Which logical resource a change concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResourceKind {
    LogGroup,
    WorkerService,
    Dashboard,
}

impl ResourceKind {
    /// The name the plan view shows, e.g. `worker service (local)`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            ResourceKind::LogGroup => "log group (local)",
            ResourceKind::WorkerService => "worker service (local)",
            ResourceKind::Dashboard => "dashboard (local)",
        }
    }
}

/// One difference between the applied and the desired resources.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum ResourceChange {
    /// `+ worker service (local)`
    Add { resource: ResourceKind },
    /// `- dashboard (local)`
    Remove { resource: ResourceKind },
    /// `~ log retention 7 -> 30 days`
    Modify {
        resource: ResourceKind,
        field: &'static str,
        from: String,
        to: String,
    },
}

impl std::fmt::Display for ResourceChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResourceChange::Add { resource } => write!(f, "+ {}", resource.label()),
            ResourceChange::Remove { resource } => write!(f, "- {}", resource.label()),
            ResourceChange::Modify {
                field, from, to, ..
            } => write!(f, "~ {field} {from} -> {to}"),
        }
    }
}

/// The changes that take `applied` (what the state directory records) to `desired`, in a stable order.
pub(crate) fn diff(applied: &LocalResources, desired: &LocalResources) -> Vec<ResourceChange> {
    let mut changes = Vec::new();
    presence(
        &mut changes,
        ResourceKind::LogGroup,
        &applied.log_group,
        &desired.log_group,
    );
    if let (Some(a), Some(d)) = (&applied.log_group, &desired.log_group)
        && a.retention_days != d.retention_days
    {
        changes.push(ResourceChange::Modify {
            resource: ResourceKind::LogGroup,
            field: "log retention",
            from: a.retention_days.to_string(),
            to: format!("{} days", d.retention_days),
        });
    }
    presence(
        &mut changes,
        ResourceKind::WorkerService,
        &applied.worker_service,
        &desired.worker_service,
    );
    if let (Some(a), Some(d)) = (&applied.worker_service, &desired.worker_service)
        && a.config_path != d.config_path
    {
        changes.push(ResourceChange::Modify {
            resource: ResourceKind::WorkerService,
            field: "worker config",
            from: a.config_path.display().to_string(),
            to: d.config_path.display().to_string(),
        });
    }
    presence(
        &mut changes,
        ResourceKind::Dashboard,
        &applied.dashboard,
        &desired.dashboard,
    );
    changes
}

fn presence<T>(
    changes: &mut Vec<ResourceChange>,
    resource: ResourceKind,
    applied: &Option<T>,
    desired: &Option<T>,
) {
    match (applied, desired) {
        (None, Some(_)) => changes.push(ResourceChange::Add { resource }),
        (Some(_), None) => changes.push(ResourceChange::Remove { resource }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(retention_days: u32) -> LocalSpec {
        LocalSpec {
            name: "demo".into(),
            state_dir: ".backfill/demo".into(),
            config_path: "migration.yaml".into(),
            retention_days,
        }
    }

    #[test]
    fn from_nothing_everything_is_added() {
        let lines: Vec<String> = diff(
            &LocalResources::default(),
            &LocalResources::desired(&spec(7)),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            lines,
            [
                "+ log group (local)",
                "+ worker service (local)",
                "+ dashboard (local)"
            ]
        );
    }

    #[test]
    fn retention_change_is_a_modification() {
        let changes = diff(
            &LocalResources::desired(&spec(7)),
            &LocalResources::desired(&spec(30)),
        );
        let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(lines, ["~ log retention 7 -> 30 days"]);
    }

    #[test]
    fn same_resources_have_no_changes() {
        let r = LocalResources::desired(&spec(7));
        assert!(diff(&r, &r).is_empty());
    }

    #[test]
    fn destroy_diff_removes_only_what_was_applied() {
        let applied = LocalResources {
            name: "demo".into(),
            log_group: Some(LogGroup { retention_days: 7 }),
            ..LocalResources::default()
        };
        let gone = LocalResources {
            name: "demo".into(),
            ..LocalResources::default()
        };
        let lines: Vec<String> = diff(&applied, &gone)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines, ["- log group (local)"]);
    }
}
