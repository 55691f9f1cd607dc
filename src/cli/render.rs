//! `backfill render`: writes the three stack templates, their CodePipeline template configuration files, the
//! dashboard body and `manifest.json` into a directory, for review or for a pipeline that deploys them.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::Context;
use crate::config::{self, LoadOptions, ProcessEnv};
use crate::exit::Outcome;
use crate::render::{self, Templates};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory to write into (created if missing; files of the same names are replaced).
    #[arg(long, default_value = "rendered")]
    pub out: PathBuf,
    /// Directory whose `*.json.hbs` files replace the embedded templates of the same names.
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> anyhow::Result<Outcome> {
    let migration = config::load(&ctx.global.config, &ProcessEnv, LoadOptions::default())?;
    let templates = match &args.templates {
        Some(dir) => Templates::with_overrides(dir)?,
        None => Templates::embedded(),
    };
    let rendered = render::render(&migration, &templates)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Write every file to a temporary name first, then rename: a failure never leaves half an output.
    let mut written = Vec::new();
    for (name, content) in &rendered.files {
        let path = args.out.join(name);
        let tmp = args.out.join(format!(".{}.tmp", name.display()));
        std::fs::write(&tmp, content).with_context(|| format!("cannot write {}", tmp.display()))?;
        written.push((tmp, path));
    }
    for (tmp, path) in &written {
        std::fs::rename(tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if ctx.global.json {
        let files: Vec<String> = written
            .iter()
            .map(|(_, p)| p.display().to_string())
            .collect();
        ctx.printer
            .json(&serde_json::json!({ "out": args.out, "files": files }))?;
    } else {
        for (_, path) in &written {
            ctx.printer.line(format!("wrote {}", path.display()))?;
        }
    }
    Ok(Outcome::Success)
}
