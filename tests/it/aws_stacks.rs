//! The AWS platform against a real CloudFormation/ECS API (`moto_server` 5.2.5): plans are change sets, apply
//! executes them and follows stack events, destroy deletes, and the ECS fleet observes and scales the service the
//! workers stack made. The stacks are those `backfill render` makes from `examples/aws/migration.yaml`.
//!
//! Where moto differs from CloudFormation the test says so: moto executes change sets synchronously and reports a
//! failing resource as an error of ExecuteChangeSet (never a rollback), so `ROLLBACK_COMPLETE` and
//! `UPDATE_ROLLBACK_FAILED` are produced by an interceptor that rewrites DescribeStacks answers.

use crate::support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_sdk_cloudformation::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_cloudformation::error::BoxError;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackInput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::types::StackStatus;
use backfill::config::{LoadOptions, MapEnv, Migration};
use backfill::converge::ports::{Fleet, PlatformError};
use backfill::plan::{Action, StackAction, StackPlan};
use backfill::platform::aws::{AwsClients, CloudFormation, EcsFleet, Timing};
use backfill::platform::{DeployError, DeployEvent, Stacks, StatusCategory};
use backfill::render::{RenderedStack, RenderedStacks, Templates, render};

const EXAMPLE: &str = "examples/aws/migration.yaml";

/// The example migration, with `edit` applied to its text.
fn migration(edit: impl Fn(String) -> String) -> Migration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE);
    let text = edit(std::fs::read_to_string(&path).expect("example config"));
    backfill::config::parse(&text, &path, &MapEnv::default(), LoadOptions::default())
        .expect("example config is valid")
}

fn rendered(m: &Migration) -> RenderedStacks {
    render(m, &Templates::embedded()).expect("render").stacks
}

async fn sdk_config(moto: &support::Moto) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

fn fast() -> Timing {
    Timing {
        first_poll: Duration::from_millis(20),
        max_poll: Duration::from_millis(200),
        change_set_wait: Duration::from_secs(30),
        busy_wait: Duration::from_secs(30),
        stack_wait: Duration::from_secs(60),
    }
}

async fn platform(moto: &support::Moto) -> CloudFormation {
    CloudFormation::new(AwsClients::from_sdk_config(&sdk_config(moto).await)).with_timing(fast())
}

/// Collects deploy events.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<DeployEvent>>>);

impl Recorder {
    fn sink(&self) -> impl Fn(DeployEvent) + Send + Sync + use<> {
        let events = self.0.clone();
        move |e| events.lock().expect("events").push(e)
    }

    fn take(&self) -> Vec<DeployEvent> {
        std::mem::take(&mut *self.0.lock().expect("events"))
    }
}

/// Applies `plans` to `stacks` (the apply must succeed) and returns the deploy events it emitted.
async fn apply_recorded(
    cfn: &CloudFormation,
    plans: &[StackPlan],
    stacks: &RenderedStacks,
) -> Vec<DeployEvent> {
    let recorder = Recorder::default();
    cfn.apply(plans, stacks, &recorder.sink())
        .await
        .expect("apply");
    recorder.take()
}

async fn plan_and_apply(cfn: &CloudFormation, stacks: &RenderedStacks) -> Vec<DeployEvent> {
    let plans = cfn.plan(stacks).await.expect("plan");
    apply_recorded(cfn, &plans, stacks).await
}

/// The names of `stacks`, in their order.
fn stack_names(stacks: &RenderedStacks) -> Vec<String> {
    stacks.stacks.iter().map(|s| s.stack_name.clone()).collect()
}

/// `(stack, status, ok)` of every `StackFinished` event, in order.
fn finished_stacks(events: &[DeployEvent]) -> Vec<(&str, &str, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::StackFinished {
                stack, status, ok, ..
            } => Some((stack.as_str(), status.native.as_deref().unwrap_or(""), *ok)),
            _ => None,
        })
        .collect()
}

fn actions(plans: &[StackPlan]) -> Vec<(&str, StackAction)> {
    plans
        .iter()
        .map(|p| (p.stack_name.as_str(), p.action))
        .collect()
}

/// Change sets of `stack` that were never executed (moto keeps executed ones, and lists every stack's).
async fn pending_change_sets(cfn: &CloudFormation, stack: &str) -> Vec<String> {
    let out = cfn
        .clients()
        .cfn
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        .expect("list change sets");
    out.summaries()
        .iter()
        .filter(|s| s.stack_name() == Some(stack))
        .filter(|s| s.execution_status().map(|e| e.as_str()) != Some("EXECUTE_COMPLETE"))
        .map(|s| s.change_set_id().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn from_nothing_every_resource_is_added_then_a_second_plan_changes_nothing() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let stacks = rendered(&migration(|t| t));
    let names = stack_names(&stacks);

    let plans = cfn.plan(&stacks).await.expect("plan");
    assert_eq!(
        actions(&plans),
        vec![
            ("orders-2024-logs", StackAction::Create),
            ("orders-2024-workers", StackAction::Create),
            ("orders-2024-dashboard", StackAction::Create),
        ]
    );
    let resources = |i: usize| -> Vec<(&str, Action)> {
        plans[i]
            .resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r.action))
            .collect()
    };
    assert_eq!(resources(0), vec![("WorkerLogGroup", Action::Add)]);
    assert_eq!(
        resources(1),
        vec![
            ("WorkerCluster", Action::Add),
            ("ExecutionRole", Action::Add),
            ("TaskRole", Action::Add),
            ("WorkerTaskDefinition", Action::Add),
            ("WorkerService", Action::Add),
        ]
    );
    assert_eq!(resources(2), vec![("BackfillDashboard", Action::Add)]);
    assert_eq!(plans[1].capabilities, vec!["CAPABILITY_IAM".to_string()]);
    assert_eq!(plans[0].parameters[0].after.as_deref(), Some("30"));
    for plan in &plans {
        assert!(plan.change_set_id.is_some());
        // The baseline is taken after the change set made its placeholder: a saved plan stays fresh.
        assert_eq!(plan.baseline.status.as_deref(), Some("REVIEW_IN_PROGRESS"));
        assert_eq!(
            cfn.baseline(&plan.stack_name).await.expect("baseline"),
            plan.baseline
        );
    }

    let events = apply_recorded(&cfn, &plans, &stacks).await;
    assert_eq!(
        finished_stacks(&events),
        vec![
            ("orders-2024-logs", "CREATE_COMPLETE", true),
            ("orders-2024-workers", "CREATE_COMPLETE", true),
            ("orders-2024-dashboard", "CREATE_COMPLETE", true),
        ]
    );
    assert!(
        matches!(&events[0], DeployEvent::StackStarted { stack, operation } if stack == "orders-2024-logs" && operation == "create")
    );
    // moto records only stack-level events for a change set execution; they stream as resource events.
    assert!(events.iter().any(|e| matches!(e,
        DeployEvent::Resource { stack, status, .. } if stack == "orders-2024-workers"
            && status.native.as_deref() == Some("CREATE_COMPLETE")
            && status.category == StatusCategory::Complete)));

    let again = cfn.plan(&stacks).await.expect("second plan");
    assert!(
        again
            .iter()
            .all(|p| p.action == StackAction::NoChange && p.resources.is_empty())
    );
    assert!(
        again
            .iter()
            .all(|p| p.baseline.status.as_deref() == Some("CREATE_COMPLETE"))
    );
    for name in &names {
        assert_eq!(pending_change_sets(&cfn, name).await, Vec::<String>::new());
    }
}

/// `engine: rfs` (Migration Assistant's worker with its OpenTelemetry collector beside it): CloudFormation creates
/// the two-container task definition, the collector's EMF permissions and the dashboard, and a second plan
/// changes nothing.
#[tokio::test]
async fn the_rfs_engine_with_its_collector_is_created_and_a_second_plan_changes_nothing() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration-rfs-basic.yaml");
    let text = std::fs::read_to_string(&path).expect("rfs example");
    let m = backfill::config::parse(&text, &path, &MapEnv::default(), LoadOptions::default())
        .expect("the rfs example is valid");
    let stacks = rendered(&m);
    let workers = stacks
        .stacks
        .iter()
        .find(|s| s.stack_name.ends_with("-workers"))
        .expect("a workers stack");
    assert!(
        workers.template_body.contains("otel-collector"),
        "the rfs task runs the collector"
    );

    // The example runs in an existing cluster (`worker.cluster`), which the account has before the stacks.
    aws_sdk_ecs::Client::new(&sdk_config(&moto).await)
        .create_cluster()
        .cluster_name(
            m.aws
                .cluster
                .as_deref()
                .expect("the example names its cluster"),
        )
        .send()
        .await
        .expect("create the existing cluster");

    let events = plan_and_apply(&cfn, &stacks).await;
    let finished = finished_stacks(&events);
    assert_eq!(finished.len(), stacks.stacks.len(), "{finished:?}");
    assert!(
        finished
            .iter()
            .all(|(_, status, ok)| *ok && *status == "CREATE_COMPLETE"),
        "{finished:?}"
    );
    let again = cfn.plan(&stacks).await.expect("second plan");
    assert!(
        again
            .iter()
            .all(|p| p.action == StackAction::NoChange && p.resources.is_empty()),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_retention_change_is_one_modify_with_before_and_after() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    plan_and_apply(&cfn, &rendered(&migration(|t| t))).await;

    let changed = rendered(&migration(|t| {
        t.replace("retention_days: 30", "retention_days: 60")
    }));
    let plans = cfn.plan(&changed).await.expect("plan");
    assert_eq!(
        actions(&plans),
        vec![
            ("orders-2024-logs", StackAction::Update),
            ("orders-2024-workers", StackAction::NoChange),
            ("orders-2024-dashboard", StackAction::NoChange),
        ]
    );
    let logs = &plans[0];
    assert_eq!(logs.resources.len(), 1);
    let change = &logs.resources[0];
    assert_eq!(
        (
            change.logical_id.as_str(),
            change.resource_type.as_str(),
            change.action
        ),
        ("WorkerLogGroup", "AWS::Logs::LogGroup", Action::Modify)
    );
    let props: Vec<_> = change
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.before.as_deref(), p.after.as_deref()))
        .collect();
    assert_eq!(props, vec![("RetentionInDays", Some("30"), Some("60"))]);
    assert_eq!(logs.parameters.len(), 1);
    assert_eq!(logs.parameters[0].name, "RetentionInDays");
    assert!(logs.tags.is_empty());

    let events = apply_recorded(&cfn, &plans, &changed).await;
    // Only the stack that changes is touched.
    assert!(events.iter().all(|e| match e {
        DeployEvent::StackStarted { stack, operation } =>
            stack == "orders-2024-logs" && operation == "update",
        _ => true,
    }));
    let after = cfn.plan(&changed).await.expect("plan after apply");
    assert!(after.iter().all(|p| p.action == StackAction::NoChange));
    assert_eq!(
        pending_change_sets(&cfn, "orders-2024-logs").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn renaming_the_log_group_replaces_it() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let m = migration(|t| t);
    plan_and_apply(&cfn, &rendered(&m)).await;
    let old_group = m.logs.group.clone();

    let renamed = rendered(&migration(|t| {
        t.replace(
            "logs:\n",
            "logs:\n  group: /migration/orders-2024/renamed\n",
        )
    }));
    let plans = cfn.plan(&renamed).await.expect("plan");
    let logs = &plans[0];
    assert_eq!(logs.action, StackAction::Update);
    let group = &logs.resources[0];
    assert_eq!(group.action, Action::Replace);
    assert_eq!(group.action.symbol(), "-/+");
    assert_eq!(
        group.reason.as_deref(),
        Some("LogGroupName forces replacement")
    );
    assert_eq!(group.properties[0].name, "LogGroupName");
    assert_eq!(
        group.properties[0].before.as_deref(),
        Some(old_group.as_str())
    );
    assert!(group.properties[0].forces_replacement);
    // The workers stack gets the new name through its LogGroupName parameter: its task definition (immutable)
    // is replaced.
    let workers = &plans[1];
    assert_eq!(workers.parameters[0].name, "LogGroupName");
    assert!(
        workers
            .resources
            .iter()
            .any(|r| r.logical_id == "WorkerTaskDefinition" && r.action == Action::Replace)
    );
    cfn.discard(&plans).await;
    for plan in &plans {
        assert_eq!(
            pending_change_sets(&cfn, &plan.stack_name).await,
            Vec::<String>::new()
        );
    }
}

/// A stack whose only resource is an ECS service in a cluster that does not exist.
fn broken_stack(name: &str) -> RenderedStacks {
    let template = serde_json::json!({
        "Resources": { "Service": { "Type": "AWS::ECS::Service", "Properties": {
            "ServiceName": "svc", "Cluster": "no-such-cluster", "TaskDefinition": "td"
        }}}
    });
    RenderedStacks {
        stacks: vec![RenderedStack {
            stack_name: name.into(),
            template_body: template.to_string(),
            parameters: vec![],
            tags: vec![("backfill:managed-by".into(), "backfill".into())],
            capabilities: vec![],
        }],
    }
}

/// The same stack name with a template that deploys.
fn fixed_stack(name: &str) -> RenderedStacks {
    let template = serde_json::json!({
        "Resources": { "Group": { "Type": "AWS::Logs::LogGroup", "Properties": { "LogGroupName": "/fixed" }}}
    });
    let mut stacks = broken_stack(name);
    stacks.stacks[0].template_body = template.to_string();
    stacks
}

#[tokio::test]
async fn a_failing_create_names_the_cause_and_the_next_plan_recreates_the_stack() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let broken = broken_stack("broken");
    let plans = cfn.plan(&broken).await.expect("plan");
    assert_eq!(actions(&plans), vec![("broken", StackAction::Create)]);

    let recorder = Recorder::default();
    let err = cfn
        .apply(&plans, &broken, &recorder.sink())
        .await
        .expect_err("the service cannot be created");
    // moto fails the resource synchronously inside ExecuteChangeSet (no resource event, no rollback), so the
    // root cause is the stack's execution with the service's error; real CloudFormation names the resource.
    let DeployError::Failed {
        stack,
        root_cause: Some(root),
        outcome,
    } = &err
    else {
        panic!("expected a failed deployment, got {err}");
    };
    assert_eq!(stack, "broken");
    assert_eq!(root.status.native.as_deref(), Some("EXECUTE_FAILED"));
    assert_eq!(root.status.category, StatusCategory::Failed);
    assert!(root.reason.contains("ClusterNotFoundException"), "{root:?}");
    assert!(root.reason.contains("Cluster not found"), "{root:?}");
    assert_eq!(outcome, "REVIEW_IN_PROGRESS");
    assert!(err.to_string().contains("stack broken failed"), "{err}");
    assert!(
        recorder
            .take()
            .iter()
            .any(|e| matches!(e, DeployEvent::StackFinished { ok: false, .. }))
    );

    // What is left can only be deleted and created again.
    let fixed = fixed_stack("broken");
    let plans = cfn.plan(&fixed).await.expect("plan after failure");
    assert_eq!(plans[0].action, StackAction::Recreate);
    assert!(
        plans[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("REVIEW_IN_PROGRESS")
    );
    assert_eq!(plans[0].resources[0].action, Action::Add);
    let events = apply_recorded(&cfn, &plans, &fixed).await;
    assert!(matches!(&events[0], DeployEvent::Notice { .. }));
    assert_eq!(
        cfn.baseline("broken")
            .await
            .expect("baseline")
            .status
            .as_deref(),
        Some("CREATE_COMPLETE")
    );
}

/// Makes DescribeStacks report `status` for one stack until a DeleteStack for it is sent: moto has no rollback,
/// so this is how the test reaches `ROLLBACK_COMPLETE` and `UPDATE_ROLLBACK_FAILED`.
#[derive(Debug)]
struct StatusOverride {
    stack: String,
    status: &'static str,
    deleted: AtomicBool,
}

impl Intercept for StatusOverride {
    fn name(&self) -> &'static str {
        "StatusOverride"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(input) = context.input().downcast_ref::<DeleteStackInput>()
            && input
                .stack_name()
                .is_some_and(|n| n == self.stack || n.contains(&format!("/{}/", self.stack)))
        {
            self.deleted.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.deleted.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(Ok(output)) = context.output_or_error_mut()
            && let Some(out) = output.downcast_mut::<DescribeStacksOutput>()
        {
            for stack in out.stacks.iter_mut().flatten() {
                if stack.stack_name.as_deref() == Some(self.stack.as_str()) {
                    stack.stack_status = Some(StackStatus::from(self.status));
                }
            }
        }
        Ok(())
    }
}

async fn platform_with_status(
    moto: &support::Moto,
    stack: &str,
    status: &'static str,
) -> CloudFormation {
    let sdk = sdk_config(moto).await;
    let cfn = aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::config::Builder::from(&sdk)
            .interceptor(StatusOverride {
                stack: stack.into(),
                status,
                deleted: AtomicBool::new(false),
            })
            .build(),
    );
    let mut clients = AwsClients::from_sdk_config(&sdk);
    clients.cfn = cfn;
    CloudFormation::new(clients).with_timing(fast())
}

#[tokio::test]
async fn a_stack_in_rollback_complete_is_planned_as_recreate_and_apply_recreates_it() {
    let moto = support::Moto::start();
    let stacks = fixed_stack("first-create-failed");
    let before = platform(&moto).await;
    plan_and_apply(&before, &stacks).await;
    let old_id = before
        .baseline("first-create-failed")
        .await
        .expect("baseline")
        .stack_id;

    let cfn = platform_with_status(&moto, "first-create-failed", "ROLLBACK_COMPLETE").await;
    let plans = cfn.plan(&stacks).await.expect("plan");
    assert_eq!(plans[0].action, StackAction::Recreate);
    assert!(
        plans[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("ROLLBACK_COMPLETE")
    );
    assert_eq!(
        plans[0].change_set_id, None,
        "planning must not touch the failed stack"
    );
    assert_eq!(
        before
            .baseline("first-create-failed")
            .await
            .expect("baseline")
            .stack_id,
        old_id,
        "planning must not delete"
    );

    let events = apply_recorded(&cfn, &plans, &stacks).await;
    let started: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DeployEvent::StackStarted { operation, .. } => Some(operation.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec!["delete", "create"]);
    assert!(
        matches!(&events[0], DeployEvent::Notice { message, .. } if message.contains("ROLLBACK_COMPLETE"))
    );
    let now = cfn.baseline("first-create-failed").await.expect("baseline");
    assert_eq!(now.status.as_deref(), Some("CREATE_COMPLETE"));
    assert_ne!(now.stack_id, old_id);
}

#[tokio::test]
async fn update_rollback_failed_is_stuck_with_the_command_that_unblocks_it() {
    let moto = support::Moto::start();
    let stacks = fixed_stack("rollback-failed");
    plan_and_apply(&platform(&moto).await, &stacks).await;
    let cfn = platform_with_status(&moto, "rollback-failed", "UPDATE_ROLLBACK_FAILED").await;
    let err = cfn.plan(&stacks).await.expect_err("stuck");
    assert!(matches!(err, DeployError::Stuck { .. }));
    assert!(
        err.to_string()
            .contains("aws cloudformation continue-update-rollback --stack-name rollback-failed"),
        "{err}"
    );
}

#[tokio::test]
async fn destroy_removes_every_stack_in_reverse_order() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let stacks = rendered(&migration(|t| t));
    plan_and_apply(&cfn, &stacks).await;
    let names = stack_names(&stacks);

    let plans = cfn.plan_destroy(&names).await.expect("plan destroy");
    assert_eq!(
        actions(&plans),
        vec![
            ("orders-2024-dashboard", StackAction::Delete),
            ("orders-2024-workers", StackAction::Delete),
            ("orders-2024-logs", StackAction::Delete),
        ]
    );
    assert_eq!(plans[1].resources.len(), 5);
    assert!(
        plans[1]
            .resources
            .iter()
            .all(|r| r.action == Action::Remove)
    );

    let recorder = Recorder::default();
    cfn.destroy(&plans, &recorder.sink())
        .await
        .expect("destroy");
    let events = recorder.take();
    let finished = finished_stacks(&events);
    assert_eq!(finished.len(), 3);
    assert!(
        finished
            .iter()
            .all(|(_, status, ok)| *status == "DELETE_COMPLETE" && *ok)
    );

    let again = cfn.plan_destroy(&names).await.expect("second destroy plan");
    assert!(again.iter().all(|p| p.action == StackAction::Absent));
    assert_eq!(
        cfn.baseline("orders-2024-logs").await.expect("baseline"),
        Default::default()
    );
}

#[tokio::test]
async fn discarding_a_first_plan_leaves_nothing_behind() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let stacks = rendered(&migration(|t| t));
    let plans = cfn.plan(&stacks).await.expect("plan");
    cfn.discard(&plans).await;
    for plan in &plans {
        assert_eq!(
            cfn.baseline(&plan.stack_name).await.expect("baseline"),
            Default::default(),
            "the REVIEW_IN_PROGRESS placeholder of {} is deleted",
            plan.stack_name
        );
    }
}

#[tokio::test]
async fn the_ecs_fleet_observes_and_scales_the_service_of_the_workers_stack() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let m = migration(|t| t);
    let fleet = EcsFleet::for_migration(cfn.clients(), &m);
    assert_eq!(fleet.observe().await.expect("observe"), Default::default());
    assert!(matches!(
        fleet.scale(2).await,
        Err(PlatformError::Missing { .. })
    ));

    plan_and_apply(&cfn, &rendered(&m)).await;
    let from_stack = EcsFleet::from_stack(cfn.clients(), "orders-2024-workers")
        .await
        .expect("fleet from the stack");
    assert_eq!(
        (from_stack.cluster.as_str(), from_stack.service.as_str()),
        (fleet.cluster.as_str(), fleet.service.as_str()),
        "the names the config implies are the names the stack made"
    );
    // The stack creates the service with DesiredCount 0: no task before the converge loop asks for one.
    let observed = fleet.observe().await.expect("observe");
    assert!(observed.exists);
    assert_eq!(observed.desired, 0);

    fleet.scale(4).await.expect("scale up");
    let observed = fleet.observe().await.expect("observe");
    assert_eq!(observed.desired, 4);
    // moto starts no real tasks but reports the service as running whatever it desires, at once.
    assert_eq!((observed.running, observed.pending), (4, 0));
    fleet.scale(0).await.expect("scale down");
    assert_eq!(fleet.observe().await.expect("observe").desired, 0);
}

/// Run in a child process (see below) with only the environment to find moto: `AwsClients::load` honours
/// `AWS_ENDPOINT_URL` through aws-config's standard endpoint override.
#[tokio::test]
async fn child_loads_clients_from_the_environment() {
    if std::env::var_os("BACKFILL_AWS_ENV_CHILD").is_none() {
        return;
    }
    let m = migration(|t| t);
    let clients = AwsClients::load(&m.aws).await;
    let out = clients
        .cfn
        .list_stacks()
        .send()
        .await
        .expect("moto answers through AWS_ENDPOINT_URL");
    assert!(out.stack_summaries().is_empty());
}

#[test]
fn the_standard_endpoint_override_reaches_moto() {
    let moto = support::Moto::start();
    let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_loads_clients_from_the_environment",
            "--quiet",
        ])
        .env("BACKFILL_AWS_ENV_CHILD", "1")
        .envs(moto.env())
        .status()
        .expect("run the child test");
    assert!(status.success());
}

#[tokio::test]
async fn a_scaled_fleet_survives_a_stack_update_and_the_count_never_shows_in_a_plan() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    let m = migration(|t| t);
    plan_and_apply(&cfn, &rendered(&m)).await;
    let fleet = EcsFleet::for_migration(cfn.clients(), &m);
    assert_eq!(fleet.observe().await.expect("observe").desired, 0);
    fleet.scale(3).await.expect("the converge loop scales");

    let again = cfn.plan(&rendered(&m)).await.expect("second plan");
    assert!(
        again.iter().all(|p| p.action == StackAction::NoChange),
        "the deployed DesiredCount 0 is not a difference: {:?}",
        actions(&again)
    );

    // A change to the task (a new task definition, the service pointed at it) updates the service...
    let changed = migration(|t| t.replace("max_docs: 1000", "max_docs: 500"));
    let stacks = rendered(&changed);
    let plans = cfn.plan(&stacks).await.expect("plan the update");
    assert_eq!(
        plans[1].action,
        StackAction::Update,
        "{:?}",
        actions(&plans)
    );
    for change in &plans[1].resources {
        assert!(
            change.properties.iter().all(|p| p.name != "DesiredCount"),
            "the count is not the stack's: {change:?}"
        );
    }
    apply_recorded(&cfn, &plans, &stacks).await;
    // ...and leaves the count the converge loop set.
    assert_eq!(fleet.observe().await.expect("observe").desired, 3);
    let after = cfn.plan(&stacks).await.expect("plan after the update");
    assert!(
        after.iter().all(|p| p.action == StackAction::NoChange),
        "{:?}",
        actions(&after)
    );
}

#[tokio::test]
async fn a_dashboard_name_another_migration_uses_is_noted_with_the_key_that_avoids_it() {
    let moto = support::Moto::start();
    let cfn = platform(&moto).await;
    // Another migration, left at the default dashboard name, deployed its dashboard stack.
    let other = rendered(&migration(|t| {
        t.replace("name: orders-2024", "name: other-2024")
    }));
    let other_dashboard = RenderedStacks {
        stacks: vec![other.stacks[2].clone()],
    };
    plan_and_apply(&cfn, &other_dashboard).await;

    let plans = cfn.plan(&rendered(&migration(|t| t))).await.expect("plan");
    cfn.discard(&plans).await;
    let note = plans[2].note.as_deref().unwrap_or_default();
    assert!(
        note.contains("MigrationAssistant_ReindexFromSnapshot_Dashboard is already used by stack other-2024-dashboard")
            && note.contains("dashboard: {name: MigrationAssistant_ReindexFromSnapshot_orders-2024}"),
        "{note}"
    );
    assert!(plans[0].note.is_none() && plans[1].note.is_none());

    // A name of its own: no note, and none once the stack owns the dashboard and changes it.
    let own = |t: String| {
        t.replace(
            "dashboard:\n",
            "dashboard:\n  name: MigrationAssistant_ReindexFromSnapshot_orders-2024\n",
        )
    };
    let stacks = rendered(&migration(own));
    let plans = cfn.plan(&stacks).await.expect("plan");
    assert!(
        plans.iter().all(|p| p.note.is_none()),
        "{:?}",
        plans[2].note
    );
    apply_recorded(&cfn, &plans, &stacks).await;
    let redrawn = rendered(&migration(|t| {
        own(t).replace("target_domain: orders-abc123", "target_domain: orders-next")
    }));
    let plans = cfn.plan(&redrawn).await.expect("plan a dashboard change");
    cfn.discard(&plans).await;
    assert_eq!(plans[2].action, StackAction::Update);
    assert!(plans[2].note.is_none(), "{:?}", plans[2].note);
}
