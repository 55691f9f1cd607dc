//! Rendering: `Config -> RenderedStacks`, pure and deterministic, from the handlebars templates in
//! `templates/` and `dashboards/` (embedded in the binary). Lands with issue #3.

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
}

/// The three stacks in deployment order: logs → workers → dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderedStacks {
    pub stacks: Vec<RenderedStack>,
}
