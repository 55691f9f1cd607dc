//! The one mapping from outcomes to process exit codes.
//!
//! Every subcommand returns an [`Outcome`] or an error; `cli::main` turns it into an exit code here and
//! nowhere else. The codes are documented in the README ("Exit codes").

use std::process::ExitCode;

/// What a finished subcommand wants the process to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success (0).
    Success,
    /// `plan --detailed-exitcode` found changes (2).
    ChangesPresent,
    /// The worker handed its lease to a successor and stopped (3).
    LeaseHandedOff,
    /// The worker found every remaining work item leased by others (4).
    AllWorkLeased,
}

/// Exit code for any error (bad input, failed deployment, unreachable service): 1.
pub const ERROR: u8 = 1;
/// Exit code when the snapshot cannot be read by the worker: 5.
pub const SNAPSHOT_UNREADABLE: u8 = 5;
/// Exit code when the worker's working state records another migration (or none, without the opt-in): 6.
/// Permanent: restarting the worker cannot change it; the configuration must (README, "Several migrations
/// on one target").
pub const WORKING_STATE_NOT_OURS: u8 = 6;
/// Exit code for a command-line usage error (clap's own): 64 would be sysexits, but clap uses 2; we keep clap's.
pub const USAGE: u8 = 2;

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::ChangesPresent => 2,
            Outcome::LeaseHandedOff => 3,
            Outcome::AllWorkLeased => 4,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}
