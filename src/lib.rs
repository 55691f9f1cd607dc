//! `backfill`: declarative document backfill for Elasticsearch/OpenSearch migrations.
//!
//! Two flows share this crate (see `ARCHITECTURE.md`):
//! - control plane: `config` → `render` → `plan` → `platform` (apply) → `converge`, reporting through `output`;
//! - data plane: `snapshot` → `lucene` → `worker` → `cluster`, coordinated through `coordination`.
//!
//! Before anything changes, `preflight` checks the source snapshot and the target (shown by `plan`, enforced by
//! `apply`).
//!
//! Domain modules return values or emit events; only `output` writes to the terminal.

// `output` is the only writer to the terminal, through writers it is given: `print!`-style macros would bypass
// it, and panic when the reader of stdout has gone.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod aws_sdk;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod converge;
pub mod coordination;
pub mod exit;
pub mod lucene;
pub mod output;
pub mod plan;
pub mod platform;
pub mod preflight;
pub mod render;
pub mod snapshot;
pub mod time;
pub mod transform;
pub mod worker;

#[cfg(test)]
mod architecture_tests;
