//! The integration tests, one binary (as cargo's `tests/testsuite` and uv's `tests/it`): each test binary links the
//! library and six AWS SDKs, so one link instead of twenty-four. Each module is one area; `support` starts the real
//! servers (osmem, moto) and `synthetic` writes snapshot repositories with real Lucene.

#[path = "support/codec_fixtures.rs"]
mod codec_fixtures;
mod status_support;
mod support;
#[path = "support/synthetic.rs"]
mod synthetic;

mod approval;
mod archive_locations;
mod aws_cli;
mod aws_failures;
mod aws_health;
mod aws_stacks;
mod cli_config;
mod cluster_client;
mod codecs;
mod config_errors;
mod converge_osmem;
mod coordination_osmem;
mod dashboard_e2e;
mod failures_e2e;
mod first_run;
mod local_e2e;
mod lucene_fixtures;
mod lucene_fuzz_smoke;
mod preflight;
mod render_templates;
mod servers;
mod snapshot_fixtures;
mod snapshot_pipe;
mod snapshot_s3;
mod status_osmem;
mod transforms_e2e;
mod type_mappings;
mod worker_corrupt_snapshot;
mod worker_data_path;
mod worker_faults;
mod worker_logs;
mod worker_osmem;
mod worker_sigterm;
mod worker_sourceless;
mod working_state_owner;
