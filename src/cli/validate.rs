//! `backfill validate`: checks a migration.yaml strictly and prints `ok` or every problem.

use crate::cli::Context;
use crate::config::{self, LoadOptions, ProcessEnv};
use crate::exit::Outcome;
use crate::output::Format;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) async fn run(_args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let result = config::load(&ctx.global.config, &ProcessEnv, LoadOptions::default());
    match (&result, ctx.printer.format) {
        (Ok(_), Format::Json) => ctx
            .printer
            .json(&serde_json::json!({ "ok": true, "errors": [] }))?,
        (Ok(_), Format::Human) => ctx.printer.result("ok")?,
        (Err(errors), Format::Json) => {
            // The invalid file decides the exit code, also when the report cannot be written.
            let _ = ctx
                .printer
                .json(&serde_json::json!({ "ok": false, "errors": errors.errors }));
        }
        (Err(_), Format::Human) => {}
    }
    result?;
    Ok(Outcome::Success)
}
