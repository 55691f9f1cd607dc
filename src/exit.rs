//! The one mapping from outcomes to process exit codes.
//!
//! Every subcommand returns an [`Outcome`] or an error; `cli::main` turns it into an exit code here and
//! nowhere else. The codes are documented in the README ("Exit codes"). The same table reads them back: the
//! local supervisor decides whether to restart a worker from [`Outcome::from_code`], and whoever restarts
//! workers (the supervisor, the converge loop on ECS) reads an error exit's meaning and permanence from
//! [`ERROR_EXITS`] through [`error_exit`]: add a row there for a new error code.

use std::process::ExitCode;

/// What a finished subcommand wants the process to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
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
pub(crate) const ERROR: u8 = 1;
/// Exit code when the preflight found problems (`plan`, and `apply`, which then changes nothing): 1, as for any
/// error. Never 2: a plan that cannot be applied is not a plan with changes (`--detailed-exitcode`).
pub(crate) const PREFLIGHT_PROBLEMS: u8 = 1;
/// Exit code when the snapshot cannot be read by the worker: 5.
pub(crate) const SNAPSHOT_UNREADABLE: u8 = 5;
/// Exit code when the worker's working state records another migration (or none, without the opt-in): 6.
/// Permanent: restarting the worker cannot change it; the configuration must (README, "Several migrations
/// on one target").
pub(crate) const WORKING_STATE_NOT_OURS: u8 = 6;
/// Exit code when the target refuses the worker's credentials (HTTP 401/403): 7.
pub(crate) const TARGET_REFUSED: u8 = 7;
/// Exit code for a command-line usage error (clap's own): 64 would be sysexits, but clap uses 2; we keep clap's.
pub(crate) const USAGE: u8 = 2;

impl Outcome {
    /// Every outcome, for reading a code back.
    pub(crate) const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::ChangesPresent,
        Outcome::LeaseHandedOff,
        Outcome::AllWorkLeased,
    ];

    pub(crate) fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::ChangesPresent => 2,
            Outcome::LeaseHandedOff => 3,
            Outcome::AllWorkLeased => 4,
        }
    }
}

impl Outcome {
    /// The outcome a finished `backfill` process reported with exit code `code`; `None` for an error exit
    /// (one of [`ERROR_EXITS`]) or a code `backfill` never uses. A usage error shares
    /// `ChangesPresent`'s code (clap's 2), so a caller that never expects that outcome treats it as an error.
    pub(crate) fn from_code(code: i32) -> Option<Outcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| i32::from(o.code()) == code)
    }
}

/// What an error exit code means to whoever restarts the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorExit {
    pub code: u8,
    /// The cause in words, as `status` shows it ("the snapshot cannot be read").
    pub meaning: &'static str,
    /// A restart cannot fix it (the source, the configuration or the credentials must change): restarts stop
    /// after a short crash loop. Otherwise restarts go on with backoff.
    pub permanent: bool,
}

/// Every error exit code `backfill` uses, one row each. A code not listed (a crash, a signal) is transient.
pub(crate) const ERROR_EXITS: [ErrorExit; 4] = [
    ErrorExit {
        code: ERROR,
        meaning: "error",
        permanent: false,
    },
    ErrorExit {
        code: SNAPSHOT_UNREADABLE,
        meaning: "the snapshot cannot be read",
        permanent: true,
    },
    ErrorExit {
        code: WORKING_STATE_NOT_OURS,
        meaning: "the working state belongs to another migration",
        permanent: true,
    },
    ErrorExit {
        code: TARGET_REFUSED,
        meaning: "the target refused the credentials",
        permanent: true,
    },
];

/// The row of [`ERROR_EXITS`] for `code`, if `backfill` uses it.
pub(crate) fn error_exit(code: i32) -> Option<ErrorExit> {
    ERROR_EXITS.into_iter().find(|e| i32::from(e.code) == code)
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_from_its_code_and_errors_read_as_none() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::from_code(i32::from(outcome.code())), Some(outcome));
        }
        for e in ERROR_EXITS {
            assert_eq!(Outcome::from_code(i32::from(e.code)), None);
        }
        assert_eq!(Outcome::from_code(-1), None);
        assert_eq!(Outcome::from_code(137), None);
    }

    #[test]
    fn error_exits_have_one_row_each_and_only_unfixable_causes_are_permanent() {
        let mut codes: Vec<u8> = ERROR_EXITS.iter().map(|e| e.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_EXITS.len());
        assert!(!error_exit(i32::from(ERROR)).is_some_and(|e| e.permanent));
        assert!(error_exit(i32::from(SNAPSHOT_UNREADABLE)).is_some_and(|e| e.permanent));
        assert!(error_exit(i32::from(TARGET_REFUSED)).is_some_and(|e| e.permanent));
        assert!(error_exit(i32::from(WORKING_STATE_NOT_OURS)).is_some_and(|e| e.permanent));
        assert_eq!(error_exit(137), None);
        assert_eq!(error_exit(0), None);
    }
}
