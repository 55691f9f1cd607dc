//! Renders a [`Plan`]: Terraform-like text (symbols, per-property before/after, capabilities, the fleet layer,
//! the summary line) for people, and one stable JSON document for programs.

use serde_json::{Value, json};

use super::{Color, Format, Printer};
use crate::plan::{Action, Operation, Plan, PropertyChange, StackAction};

fn color_of(action: Action) -> Color {
    match action {
        Action::Add => Color::Green,
        Action::Modify | Action::Dynamic => Color::Yellow,
        Action::Replace | Action::MaybeReplace | Action::Remove => Color::Red,
    }
}

fn value(v: &Option<String>) -> String {
    match v {
        Some(v) if v.chars().count() > 120 => {
            let cut: String = v.chars().take(117).collect();
            format!("{cut}...")
        }
        Some(v) => v.clone(),
        None => "(unknown)".into(),
    }
}

fn property_line(p: &PropertyChange) -> String {
    let forces = if p.forces_replacement {
        "  # forces replacement"
    } else {
        ""
    };
    match (&p.before, &p.after) {
        (None, Some(_)) => format!("+ {}: {}{forces}", p.name, value(&p.after)),
        (Some(_), None) => format!("- {}: {}{forces}", p.name, value(&p.before)),
        _ => format!(
            "~ {}: {} -> {}{forces}",
            p.name,
            value(&p.before),
            value(&p.after)
        ),
    }
}

/// The human plan, line by line.
pub(crate) fn plan_lines(plan: &Plan, printer: &Printer) -> Vec<String> {
    let mut out = Vec::new();
    let what = match plan.operation {
        Operation::Apply => "apply",
        Operation::Destroy => "destroy",
    };
    out.push(printer.paint(
        Color::Bold,
        &format!(
            "Migration {} ({}): {what} plan",
            plan.migration, plan.platform
        ),
    ));
    if let Some(report) = &plan.preflight {
        out.push(String::new());
        out.extend(super::preflight_view::preflight_lines(report, printer));
    }
    for stack in &plan.stacks {
        let state = match stack.action {
            StackAction::Create => "create",
            StackAction::Update => "update",
            StackAction::NoChange => "no changes",
            StackAction::Recreate => "delete the failed stack, then create",
            StackAction::Delete => "delete",
            StackAction::Absent => "absent, nothing to delete",
        };
        out.push(String::new());
        out.push(format!("stack {}: {state}", stack.stack_name));
        if let Some(note) = &stack.note {
            out.push(format!("  note: {note}"));
        }
        for change in &stack.resources {
            let symbol = printer.paint(color_of(change.action), change.action.symbol());
            let mut line = format!(
                "  {symbol} {} ({})",
                change.logical_id, change.resource_type
            );
            if let Some(reason) = &change.reason {
                line.push_str(&format!("  # {reason}"));
            }
            out.push(line);
            for p in &change.properties {
                out.push(format!("      {}", property_line(p)));
            }
        }
        if !stack.parameters.is_empty() {
            out.push("  parameters:".into());
            for p in &stack.parameters {
                out.push(format!("      {}", property_line(p)));
            }
        }
        if !stack.tags.is_empty() {
            out.push("  tags:".into());
            for p in &stack.tags {
                out.push(format!("      {}", property_line(p)));
            }
        }
        if stack.has_changes() && !stack.capabilities.is_empty() {
            out.push(format!(
                "  acknowledges {} (the stack creates or changes IAM roles)",
                stack.capabilities.join(", ")
            ));
        }
    }
    out.push(String::new());
    out.push("fleet (driven by the converge loop after the stacks; not part of any stack):".into());
    out.push(format!("  {}", plan.fleet.line()));
    out.push(String::new());
    out.push(printer.paint(Color::Bold, &plan.summary_line()));
    out
}

/// The `--json` document: the plan itself plus `summary` and `has_changes`.
pub(crate) fn plan_json(plan: &Plan) -> Value {
    let mut v = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("summary".into(), json!(plan.summary()));
        map.insert("has_changes".into(), json!(plan.has_changes()));
        map.insert("summary_line".into(), json!(plan.summary_line()));
    }
    v
}

/// Prints the plan: the human text on stderr, or the `--json` document on stdout.
pub(crate) fn print(plan: &Plan, printer: &Printer) -> super::Result {
    match printer.format {
        Format::Json => printer.json(&plan_json(plan)),
        Format::Human => printer.line(plan_lines(plan, printer).join("\n")),
    }
}

#[cfg(test)]
mod tests;
