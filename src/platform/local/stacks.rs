//! The local platform's "stacks": the three logical resources realised on this machine, planned and applied
//! through the same [`Stacks`] trait as CloudFormation.
//!
//! Stack `<name>-logs` is the log directory (retention), `<name>-workers` the supervisor, `<name>-dashboard` the
//! HTML page. `plan` diffs the state directory's record against the config ([`super::spec::diff`]); `apply`
//! realises each change and records it before going on, so an interrupted apply leaves a truthful record;
//! `destroy` stops the supervisor and its workers first, then removes logs, page and the state directory.
//! `apply` and `destroy` hold `apply.lock` for their whole run: two never interleave.

use std::time::Instant;

use super::fleet::{SupervisorLaunch, start_supervisor, stop_supervisor};
use super::spec::{self, LocalResources, LocalSpec, ResourceKind};
use super::state::{StateDir, StateError};
use crate::converge::ports::PlatformError;
use crate::plan::{Action, PropertyChange, ResourceChange, StackAction, StackBaseline, StackPlan};
use crate::platform::{
    DeployAction, DeployError, DeployEvent, DeployStatus, Stacks, StatusCategory,
};
use crate::render::RenderedStacks;
use crate::time::{Clock, SystemClock};

/// The local platform's stacks for one migration.
#[derive(Debug, Clone)]
pub(crate) struct LocalStacks {
    pub(crate) spec: LocalSpec,
    pub(crate) launch: SupervisorLaunch,
    /// `[logs, workers, dashboard]` stack names.
    pub(crate) stack_names: [String; 3],
}

const KINDS: [ResourceKind; 3] = [
    ResourceKind::LogGroup,
    ResourceKind::WorkerService,
    ResourceKind::Dashboard,
];

fn state_error(e: StateError) -> DeployError {
    DeployError::Platform(PlatformError::Api {
        resource: "state directory".into(),
        message: e.to_string(),
    })
}

fn resource_type(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::LogGroup => "local::LogGroup",
        ResourceKind::WorkerService => "local::WorkerService",
        ResourceKind::Dashboard => "local::Dashboard",
    }
}

fn kind_of(change: &spec::ResourceChange) -> ResourceKind {
    match change {
        spec::ResourceChange::Add { resource }
        | spec::ResourceChange::Remove { resource }
        | spec::ResourceChange::Modify { resource, .. } => *resource,
    }
}

fn present(resources: &LocalResources, kind: ResourceKind) -> bool {
    match kind {
        ResourceKind::LogGroup => resources.log_group.is_some(),
        ResourceKind::WorkerService => resources.worker_service.is_some(),
        ResourceKind::Dashboard => resources.dashboard.is_some(),
    }
}

fn to_plan_change(change: &spec::ResourceChange) -> ResourceChange {
    let kind = kind_of(change);
    let (action, properties) = match change {
        spec::ResourceChange::Add { .. } => (Action::Add, vec![]),
        spec::ResourceChange::Remove { .. } => (Action::Remove, vec![]),
        spec::ResourceChange::Modify {
            field, from, to, ..
        } => (
            Action::Modify,
            vec![PropertyChange {
                name: (*field).to_string(),
                before: Some(from.clone()),
                after: Some(to.clone()),
                forces_replacement: false,
            }],
        ),
    };
    ResourceChange {
        logical_id: kind.label().to_string(),
        resource_type: resource_type(kind).to_string(),
        action,
        reason: None,
        properties,
    }
}

impl LocalStacks {
    fn state(&self) -> &StateDir {
        &self.launch.state
    }

    fn baseline_of(&self, applied: &LocalResources, index: usize) -> StackBaseline {
        if !present(applied, KINDS[index]) {
            return StackBaseline::default();
        }
        StackBaseline {
            stack_id: Some(format!(
                "local:{}#{}",
                self.state().root().display(),
                self.stack_names[index]
            )),
            status: Some("APPLIED".into()),
            last_updated: Some(format!("serial {}", applied.serial)),
        }
    }

    fn plan_now(&self) -> Result<Vec<StackPlan>, DeployError> {
        let applied = self.state().applied().map_err(state_error)?;
        let desired = LocalResources::desired(&self.spec);
        let changes = spec::diff(&applied, &desired);
        Ok((0..3)
            .map(|i| {
                let resources: Vec<ResourceChange> = changes
                    .iter()
                    .filter(|c| kind_of(c) == KINDS[i])
                    .map(to_plan_change)
                    .collect();
                let action = match resources.first().map(|c| c.action) {
                    None => StackAction::NoChange,
                    Some(Action::Add) => StackAction::Create,
                    Some(_) => StackAction::Update,
                };
                StackPlan {
                    stack_name: self.stack_names[i].clone(),
                    action,
                    resources,
                    parameters: vec![],
                    tags: vec![],
                    capabilities: vec![],
                    note: None,
                    change_set_id: None,
                    baseline: self.baseline_of(&applied, i),
                }
            })
            .collect())
    }

    fn index_of(&self, stack_name: &str) -> Option<usize> {
        self.stack_names.iter().position(|n| n == stack_name)
    }

    /// Realises (or removes, with `remove`) one resource and records it.
    fn realise(&self, kind: ResourceKind, remove: bool) -> Result<(), DeployError> {
        let state = self.state();
        let mut applied = state.applied().map_err(state_error)?;
        let desired = LocalResources::desired(&self.spec);
        applied.name = self.spec.name.clone();
        let io = |what: &str, e: std::io::Error| {
            DeployError::Platform(PlatformError::Api {
                resource: kind.label().into(),
                message: format!("{what}: {e}"),
            })
        };
        match (kind, remove) {
            (ResourceKind::LogGroup, false) => {
                let logs = state.logs_dir();
                std::fs::create_dir_all(&logs).map_err(|e| io(&logs.display().to_string(), e))?;
                super::logs::apply_retention(
                    &logs,
                    self.spec.retention_days,
                    std::time::SystemTime::now(),
                );
                applied.log_group = desired.log_group;
            }
            (ResourceKind::LogGroup, true) => {
                let logs = state.logs_dir();
                match std::fs::remove_dir_all(&logs) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io(&logs.display().to_string(), e));
                    }
                    _ => {}
                }
                applied.log_group = None;
            }
            (ResourceKind::WorkerService, false) => {
                // A changed worker config restarts the service with it.
                if applied.worker_service.is_some()
                    && applied.worker_service != desired.worker_service
                {
                    stop_supervisor(&self.launch)?;
                }
                applied.worker_service = desired.worker_service;
                // Recorded first: the supervisor's fleet must exist for the converge loop to scale it.
                state.record_applied(&applied).map_err(state_error)?;
                start_supervisor(&self.launch)?;
                return self.bump(applied);
            }
            (ResourceKind::WorkerService, true) => {
                stop_supervisor(&self.launch)?;
                applied.worker_service = None;
            }
            (ResourceKind::Dashboard, false) => {
                super::dashboard::refresh(state, &self.spec.name)
                    .map_err(|e| io("dashboard page", e))?;
                applied.dashboard = desired.dashboard;
            }
            (ResourceKind::Dashboard, true) => {
                match std::fs::remove_file(state.dashboard_path()) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io("dashboard page", e));
                    }
                    _ => {}
                }
                applied.dashboard = None;
            }
        }
        self.bump(applied)
    }

    fn bump(&self, mut applied: LocalResources) -> Result<(), DeployError> {
        applied.serial += 1;
        self.state().record_applied(&applied).map_err(state_error)
    }

    fn run_stacks(
        &self,
        stacks: &[StackPlan],
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<(), DeployError> {
        self.state().ensure().map_err(state_error)?;
        let _lock = self.state().try_lock("apply").map_err(state_error)?;
        for stack in stacks.iter().filter(|s| s.has_changes()) {
            let started = Instant::now();
            let operation = match stack.action {
                StackAction::Create | StackAction::Recreate => DeployAction::Create,
                StackAction::Update => DeployAction::Update,
                StackAction::Delete => DeployAction::Delete,
                StackAction::NoChange | StackAction::Absent => continue,
            };
            events(DeployEvent::StackStarted {
                stack: stack.stack_name.clone(),
                operation: operation.as_str().into(),
            });
            let Some(index) = self.index_of(&stack.stack_name) else {
                continue;
            };
            let kind = KINDS[index];
            for change in &stack.resources {
                let action = match change.action {
                    Action::Add => DeployAction::Create,
                    Action::Remove => DeployAction::Delete,
                    _ => DeployAction::Update,
                };
                let event =
                    |category: StatusCategory, reason: Option<String>| DeployEvent::Resource {
                        stack: stack.stack_name.clone(),
                        logical_id: change.logical_id.clone(),
                        resource_type: change.resource_type.clone(),
                        status: DeployStatus::of(action, category),
                        reason,
                        timestamp: now_rfc3339(),
                    };
                events(event(StatusCategory::InProgress, None));
                if let Err(err) = self.realise(kind, change.action == Action::Remove) {
                    events(event(StatusCategory::Failed, Some(err.to_string())));
                    return Err(DeployError::Failed {
                        stack: stack.stack_name.clone(),
                        root_cause: Some(Box::new(crate::platform::FailedResource {
                            logical_id: change.logical_id.clone(),
                            resource_type: change.resource_type.clone(),
                            status: DeployStatus::of(action, StatusCategory::Failed),
                            reason: err.to_string(),
                        })),
                        outcome: "partially applied (recorded in the state directory)".into(),
                    });
                }
                events(event(StatusCategory::Complete, None));
            }
            events(DeployEvent::StackFinished {
                stack: stack.stack_name.clone(),
                status: DeployStatus::of(operation, StatusCategory::Complete),
                ok: true,
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
        Ok(())
    }
}

fn now_rfc3339() -> String {
    SystemClock.now().rfc3339()
}

impl Stacks for LocalStacks {
    fn platform_name(&self) -> &'static str {
        "local"
    }

    async fn plan(&self, _rendered: &RenderedStacks) -> Result<Vec<StackPlan>, DeployError> {
        self.plan_now()
    }

    async fn plan_destroy(&self, _names: &[String]) -> Result<Vec<StackPlan>, DeployError> {
        let applied = self.state().applied().map_err(state_error)?;
        Ok((0..3)
            .rev()
            .map(|i| {
                let exists = present(&applied, KINDS[i]);
                StackPlan {
                    stack_name: self.stack_names[i].clone(),
                    action: if exists {
                        StackAction::Delete
                    } else {
                        StackAction::Absent
                    },
                    resources: if exists {
                        vec![to_plan_change(&spec::ResourceChange::Remove {
                            resource: KINDS[i],
                        })]
                    } else {
                        vec![]
                    },
                    parameters: vec![],
                    tags: vec![],
                    capabilities: vec![],
                    note: None,
                    change_set_id: None,
                    baseline: self.baseline_of(&applied, i),
                }
            })
            .collect())
    }

    async fn baseline(&self, stack_name: &str) -> Result<StackBaseline, DeployError> {
        let applied = self.state().applied().map_err(state_error)?;
        Ok(self
            .index_of(stack_name)
            .map(|i| self.baseline_of(&applied, i))
            .unwrap_or_default())
    }

    async fn apply(
        &self,
        stacks: &[StackPlan],
        _rendered: &RenderedStacks,
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<(), DeployError> {
        tokio::task::block_in_place(|| self.run_stacks(stacks, events))
    }

    async fn destroy(
        &self,
        stacks: &[StackPlan],
        events: &(dyn Fn(DeployEvent) + Send + Sync),
    ) -> Result<(), DeployError> {
        tokio::task::block_in_place(|| self.run_stacks(stacks, events))?;
        // Everything recorded is gone: remove the state directory itself (locks, desired, report).
        let applied = self.state().applied().map_err(state_error)?;
        if KINDS.iter().all(|k| !present(&applied, *k)) {
            self.state().remove().map_err(state_error)?;
            // `.backfill/` itself goes too when nothing else (another migration, an archive) lives there.
            if let Some(parent) = self.state().root().parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        Ok(())
    }

    async fn discard(&self, _stacks: &[StackPlan]) {}
}
