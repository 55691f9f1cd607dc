//! Rendering: `Migration -> Rendered`, pure and deterministic (same configuration, byte-identical output),
//! from the handlebars templates in `templates/` (CloudFormation, JSON) and `dashboards/` (the CloudWatch
//! dashboard body), embedded in the binary and overridable per file with `--templates DIR`.
//!
//! Besides the three stacks it emits what a CodePipeline CloudFormation action needs to deploy them without
//! this binary: a template configuration file (`Parameters`, `Tags`) beside each template and a
//! `manifest.json` listing the stacks in deployment order. Secrets never reach the output: passwords are
//! referenced by Secrets Manager ARN only.

mod aws_target;
mod engine;
pub mod metrics;
mod otel;
mod view;
pub(crate) mod worker_env;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::config::Migration;

/// One CloudFormation stack ready to deploy: what `render` writes and what `plan`/`apply` submit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedStack {
    /// Stack name, e.g. `<name>-logs`.
    pub stack_name: String,
    /// The template body (JSON).
    pub template_body: String,
    /// Parameters (key, value), sorted by key.
    pub parameters: Vec<(String, String)>,
    /// Stack tags (key, value), sorted by key.
    pub tags: Vec<(String, String)>,
    /// Capabilities the stack needs acknowledged (`CAPABILITY_IAM`).
    pub capabilities: Vec<String>,
}

/// The three stacks in deployment order: logs → workers → dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedStacks {
    pub stacks: Vec<RenderedStack>,
}

/// Everything `backfill render` writes: the stacks plus the pipeline artifacts, as (relative path, content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub stacks: RenderedStacks,
    pub files: Vec<(PathBuf, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error(
        "template {name} did not render to valid JSON ({message}); check the template's commas and braces"
    )]
    InvalidJson { name: String, message: String },
    #[error(
        "template {name} uses `{{{{{{...}}}}}}`, which skips escaping; use `{{{{value}}}}` or `{{{{json value}}}}`"
    )]
    Unescaped { name: String },
    #[error("cannot read template override {path}: {source}")]
    Override {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The template files, by name.
const TEMPLATE_FILES: [(&str, &str); 4] = [
    (
        "logs.json.hbs",
        include_str!("../../templates/logs.json.hbs"),
    ),
    (
        "workers.json.hbs",
        include_str!("../../templates/workers.json.hbs"),
    ),
    (
        "dashboard.json.hbs",
        include_str!("../../templates/dashboard.json.hbs"),
    ),
    (
        "reindex-from-snapshot.json.hbs",
        include_str!("../../dashboards/reindex-from-snapshot.json.hbs"),
    ),
];

/// Where templates come from: the embedded set, with files of an override directory taking precedence.
#[derive(Debug, Clone)]
pub struct Templates {
    files: Vec<(String, String)>,
}

impl Templates {
    pub fn embedded() -> Self {
        Templates {
            files: TEMPLATE_FILES
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        }
    }

    /// Embedded templates, each replaced by `dir/<name>` when that file exists.
    pub fn with_overrides(dir: &Path) -> Result<Self, RenderError> {
        let mut templates = Templates::embedded();
        for (name, text) in &mut templates.files {
            let path = dir.join(name.as_str());
            if path.exists() {
                *text = std::fs::read_to_string(&path)
                    .map_err(|source| RenderError::Override { path, source })?;
            }
        }
        Ok(templates)
    }
}

/// Renders the stacks, the dashboard body and the pipeline artifacts.
pub fn render(m: &Migration, templates: &Templates) -> Result<Rendered, RenderError> {
    let mut hb = engine::registry();
    for (name, text) in &templates.files {
        if text.contains("{{{") {
            return Err(RenderError::Unescaped { name: name.clone() });
        }
        hb.register_template_string(name, text)
            .map_err(|e| RenderError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
    }
    let mut context = view::view(m);
    let body = render_json(
        &hb,
        "reindex-from-snapshot.json.hbs",
        &dashboard_context(&context),
    )?;
    let body_text = body.to_string();
    context["dashboard_body"] = Value::String(body_text);

    let tags = stack_tags(m);
    let stack_names = m.stack_names();
    let specs: [StackSpec; 3] = [
        (
            "logs.json.hbs",
            vec![("RetentionInDays".into(), m.logs.retention_days.to_string())],
            vec![],
        ),
        (
            "workers.json.hbs",
            vec![
                ("LogGroupName".into(), m.logs.group.clone()),
                ("WorkerImage".into(), m.worker.image.clone()),
            ],
            vec!["CAPABILITY_IAM".into()],
        ),
        ("dashboard.json.hbs", vec![], vec![]),
    ];
    let mut stacks = Vec::new();
    let mut files = Vec::new();
    for ((template, parameters, capabilities), stack_name) in specs.into_iter().zip(stack_names) {
        let value = render_json(&hb, template, &context)?;
        let template_body = pretty(&value);
        let configuration = json!({
            "Parameters": parameters.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "Tags": tags.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        });
        files.push((
            PathBuf::from(format!("{stack_name}.template.json")),
            template_body.clone(),
        ));
        files.push((
            PathBuf::from(format!("{stack_name}.config.json")),
            pretty(&configuration),
        ));
        stacks.push(RenderedStack {
            stack_name,
            template_body,
            parameters,
            tags: tags.clone(),
            capabilities,
        });
    }
    files.push((PathBuf::from("dashboard-body.json"), pretty(&body)));
    files.push((
        PathBuf::from("manifest.json"),
        pretty(&manifest(m, &stacks)),
    ));
    files.push((
        PathBuf::from("pipeline-actions.json"),
        pretty(&pipeline_actions(&stacks)),
    ));
    Ok(Rendered {
        stacks: RenderedStacks { stacks },
        files,
    })
}

/// (template file, parameters, capabilities) of one stack.
type StackSpec = (&'static str, Vec<(String, String)>, Vec<String>);

fn render_json(
    hb: &handlebars::Handlebars,
    name: &str,
    context: &Value,
) -> Result<Value, RenderError> {
    let text = hb
        .render(name, context)
        .map_err(|e| RenderError::Template {
            name: name.to_string(),
            message: e.to_string(),
        })?;
    serde_json::from_str(&text).map_err(|e| RenderError::InvalidJson {
        name: name.to_string(),
        message: e.to_string(),
    })
}

/// The dashboard body is placed inside `Fn::Sub`, so user values are `${`-escaped there.
fn dashboard_context(context: &Value) -> Value {
    let sub = |v: &Value| Value::String(v.as_str().unwrap_or_default().replace("${", "${!"));
    json!({
        "name": sub(&context["name"]),
        "service_name": sub(&context["service_name"]),
        "cluster_name": sub(&context["cluster"]["name"]),
        "dashboard": context["dashboard"],
        "metrics": context["metrics"],
    })
}

fn stack_tags(m: &Migration) -> Vec<(String, String)> {
    let mut tags = m.aws.tags.clone();
    for (k, v) in [
        ("backfill:migration", m.name.as_str()),
        ("backfill:managed-by", "backfill"),
    ] {
        if !tags.iter().any(|(key, _)| key == k) {
            tags.push((k.to_string(), v.to_string()));
        }
    }
    tags.sort();
    tags
}

fn manifest(m: &Migration, stacks: &[RenderedStack]) -> Value {
    use sha2::Digest;
    json!({
        "version": 1,
        "migration": m.name,
        "generator": format!("backfill {}", env!("CARGO_PKG_VERSION")),
        "note": "Deploy the stacks in this order; each has a template and a CodePipeline template configuration file.",
        "stacks": stacks.iter().map(|s| json!({
            "stack_name": s.stack_name,
            "template": format!("{}.template.json", s.stack_name),
            "template_configuration": format!("{}.config.json", s.stack_name),
            "template_sha256": hex::encode(sha2::Sha256::digest(s.template_body.as_bytes())),
            "capabilities": s.capabilities,
        })).collect::<Vec<_>>(),
    })
}

/// Ready-to-paste CodePipeline action declarations: a change set per stack, then its execution, in order.
fn pipeline_actions(stacks: &[RenderedStack]) -> Value {
    let mut actions = Vec::new();
    for (i, s) in stacks.iter().enumerate() {
        let run_order = 2 * i + 1;
        let mut configuration = json!({
            "ActionMode": "CHANGE_SET_REPLACE",
            "StackName": s.stack_name,
            "ChangeSetName": format!("{}-pipeline", s.stack_name),
            "TemplatePath": format!("RenderedArtifact::rendered/{}.template.json", s.stack_name),
            "TemplateConfiguration": format!("RenderedArtifact::rendered/{}.config.json", s.stack_name),
            "RoleArn": "<CloudFormation service role ARN>",
        });
        if !s.capabilities.is_empty() {
            configuration["Capabilities"] = Value::String(s.capabilities.join(","));
        }
        actions.push(json!({
            "Name": format!("plan-{}", s.stack_name),
            "ActionTypeId": { "Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1" },
            "RunOrder": run_order,
            "InputArtifacts": [{ "Name": "RenderedArtifact" }],
            "Configuration": configuration,
        }));
        actions.push(json!({
            "Name": format!("apply-{}", s.stack_name),
            "ActionTypeId": { "Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1" },
            "RunOrder": run_order + 1,
            "Configuration": {
                "ActionMode": "CHANGE_SET_EXECUTE",
                "StackName": s.stack_name,
                "ChangeSetName": format!("{}-pipeline", s.stack_name),
            },
        }));
    }
    json!({ "Actions": actions })
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
