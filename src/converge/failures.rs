//! Worker failures and the crash-loop policy: which worker exits are failures, when they make the backfill
//! `Failing`, and when restarting must stop.
//!
//! A worker that ends with "no work left", "handed off" or "all leased" did its job; every other end is a
//! [`WorkerFailure`] with its exit code and the last error line of its log (or the platform's reason). The
//! platforms record them (the local supervisor per slot, ECS as stopped tasks) and report them through the
//! [`super::ports::Fleet`] port; this module only decides, from values:
//!
//! - a failure counts while it is younger than the policy's window (and, for a converge loop, not older than
//!   the loop: a fresh `apply` after a fix starts with a clean slate);
//! - any counted failure makes the status `Failing`, with the reason `N workers exited C in the last 5
//!   minutes: <last error line>`;
//! - when [`CrashLoopPolicy::permanent_limit`] counted failures have an exit code a restart cannot fix
//!   ([`crate::exit::ERROR_EXITS`]: unreadable snapshot, refused credentials, …), restarts stop: the local
//!   supervisor and the converge loop set the fleet to 0, and `apply --wait` / `converge` exit non-zero with
//!   the cause. Transient failures (an error exit 1, a crash, a signal) keep the platforms' backoff.
//!
//! Pure: time comes in as `now`, so the policy is unit-tested with [`crate::time::ManualClock`] instants.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::lifecycle::workers_text;
use crate::exit::{self, Outcome};
use crate::time::Timestamp;

/// One worker that ended in failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFailure {
    /// The worker: `worker-<slot>-<generation>` locally, the task id on ECS.
    pub worker: String,
    /// Its exit code; `None` when it ended without one (a signal, a container that never started).
    pub exit_code: Option<i32>,
    /// When it stopped.
    #[serde(with = "crate::time::epoch_seconds")]
    pub stopped_at: Timestamp,
    /// The last error line of its log, or the platform's reason (ECS `stoppedReason`); may be empty.
    pub message: String,
}

impl WorkerFailure {
    /// Whether a process that exited with `code` (`None`: no exit code) failed: anything but the three
    /// outcomes a worker ends with when it did its job.
    pub fn is_failure(code: Option<i32>) -> bool {
        !matches!(
            code.and_then(Outcome::from_code),
            Some(Outcome::Success | Outcome::LeaseHandedOff | Outcome::AllWorkLeased)
        )
    }

    /// A restart cannot fix it (its exit code is permanent in [`exit::ERROR_EXITS`]).
    pub fn is_permanent(&self) -> bool {
        self.exit_code
            .and_then(exit::error_exit)
            .is_some_and(|e| e.permanent)
    }

    /// What went wrong in words: the log's line, else the exit code's meaning.
    fn cause(&self) -> String {
        if !self.message.trim().is_empty() {
            return self.message.trim().to_string();
        }
        match self.exit_code.map(|c| (c, exit::error_exit(c))) {
            Some((_, Some(e))) => e.meaning.to_string(),
            Some((code, None)) => format!("exit code {code}"),
            None => "no exit code (killed by a signal, or never started)".to_string(),
        }
    }
}

/// How many failures, over how long, stop the restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashLoopPolicy {
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// Counted failures with a permanent exit code after which restarts stop.
    pub permanent_limit: usize,
}

/// The policy of both platforms: three permanent failures within five minutes stop the restarts. With the
/// supervisor's 1 s, 2 s backoff that is a few seconds of crash loop; on ECS a few task starts.
pub const CRASH_LOOP: CrashLoopPolicy = CrashLoopPolicy {
    window: Duration::from_secs(300),
    permanent_limit: 3,
};

/// The failures that matter now, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureAssessment {
    /// `2 workers exited 5 in the last 5 minutes: the snapshot cannot be read: …`
    pub reason: String,
    /// The exit code the reason is about (`None`: no exit code).
    pub exit_code: Option<i32>,
    /// A restart cannot fix it and the crash loop reached its bound: stop restarting.
    pub stop_restarts: bool,
}

impl CrashLoopPolicy {
    /// Judges `failures` at `now`, counting only those after `since` (a converge loop's start; `None`: the
    /// whole window). `None` when no failure counts.
    pub fn assess(
        &self,
        failures: &[WorkerFailure],
        since: Option<Timestamp>,
        now: Timestamp,
    ) -> Option<FailureAssessment> {
        let from = match since {
            // Failures are recorded in whole seconds (`fleet.json`, ECS): one in the loop's first second counts.
            Some(since) => {
                Timestamp::from_epoch_seconds(since.epoch_seconds()).max(now - self.window)
            }
            None => now - self.window,
        };
        let counted: Vec<&WorkerFailure> =
            failures.iter().filter(|f| f.stopped_at >= from).collect();
        let permanent: Vec<&WorkerFailure> = counted
            .iter()
            .copied()
            .filter(|f| f.is_permanent())
            .collect();
        let stop_restarts = permanent.len() >= self.permanent_limit.max(1);
        // The newest permanent failure explains a stop; otherwise the newest failure of any kind.
        let pool = if stop_restarts { &permanent } else { &counted };
        let latest = pool.iter().copied().max_by_key(|f| f.stopped_at)?;
        let same = pool
            .iter()
            .filter(|f| f.exit_code == latest.exit_code)
            .count();
        let ended = match latest.exit_code {
            Some(code) => format!("exited {code}"),
            None => "ended without an exit code".to_string(),
        };
        let mut reason = format!(
            "{} {ended} in the last {}: {}",
            workers_text(same as u64),
            minutes(self.window),
            latest.cause()
        );
        if stop_restarts {
            reason.push_str(
                "; restarts stopped because a restart cannot fix this: fix the cause, then run `backfill apply` again",
            );
        }
        Some(FailureAssessment {
            reason,
            exit_code: latest.exit_code,
            stop_restarts,
        })
    }
}

/// `5 minutes`, `1 minute`, `90 seconds`.
fn minutes(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (1, 0) => "minute".to_string(),
        (m, 0) => format!("{m} minutes"),
        _ => format!("{secs} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Clock, ManualClock};

    fn failure(clock: &ManualClock, code: Option<i32>, message: &str) -> WorkerFailure {
        WorkerFailure {
            worker: "worker-0-1".into(),
            exit_code: code,
            stopped_at: clock.now(),
            message: message.into(),
        }
    }

    #[test]
    fn only_the_exits_of_a_worker_that_did_its_job_are_not_failures() {
        for code in [0, 3, 4] {
            assert!(!WorkerFailure::is_failure(Some(code)), "{code}");
        }
        for code in [Some(1), Some(2), Some(5), Some(7), Some(101), None] {
            assert!(WorkerFailure::is_failure(code), "{code:?}");
        }
    }

    #[test]
    fn permanent_failures_stop_restarts_at_the_limit_and_name_the_cause() {
        let clock = ManualClock::default();
        let why = "the snapshot cannot be read: repository /nope: not a directory";
        let mut failures = vec![failure(&clock, Some(5), why)];
        clock.advance(Duration::from_secs(1));
        failures.push(failure(&clock, Some(5), why));
        let a = CRASH_LOOP
            .assess(&failures, None, clock.now())
            .expect("failing");
        assert_eq!(
            a.reason,
            format!("2 workers exited 5 in the last 5 minutes: {why}")
        );
        assert!(!a.stop_restarts, "two of three");
        clock.advance(Duration::from_secs(2));
        failures.push(failure(&clock, Some(5), why));
        let a = CRASH_LOOP
            .assess(&failures, None, clock.now())
            .expect("failing");
        assert!(a.stop_restarts);
        assert_eq!(a.exit_code, Some(5));
        assert!(
            a.reason.starts_with(&format!(
                "3 workers exited 5 in the last 5 minutes: {why}; restarts stopped"
            )),
            "{}",
            a.reason
        );
    }

    #[test]
    fn transient_failures_make_it_failing_but_never_stop_restarts() {
        let clock = ManualClock::default();
        let failures: Vec<_> = (0..10)
            .map(|i| {
                clock.advance(Duration::from_secs(1));
                failure(&clock, if i % 2 == 0 { Some(1) } else { None }, "")
            })
            .collect();
        let a = CRASH_LOOP
            .assess(&failures, None, clock.now())
            .expect("failing");
        assert!(!a.stop_restarts);
        assert_eq!(
            a.reason,
            "5 workers ended without an exit code in the last 5 minutes: no exit code (killed by a signal, or never started)"
        );
    }

    #[test]
    fn failures_leave_the_window_and_a_loop_counts_only_its_own() {
        let clock = ManualClock::default();
        let failures: Vec<_> = (0..3)
            .map(|_| failure(&clock, Some(7), "target refused the credentials"))
            .collect();
        assert!(
            CRASH_LOOP
                .assess(&failures, None, clock.now())
                .is_some_and(|a| a.stop_restarts)
        );
        // A converge loop started after them (a fresh `apply` after a fix) ignores them.
        clock.advance(Duration::from_secs(10));
        assert_eq!(
            CRASH_LOOP.assess(&failures, Some(clock.now()), clock.now()),
            None
        );
        // And everyone forgets them after the window.
        clock.advance(CRASH_LOOP.window);
        assert_eq!(CRASH_LOOP.assess(&failures, None, clock.now()), None);
    }

    #[test]
    fn an_empty_message_falls_back_to_the_exit_codes_meaning() {
        let clock = ManualClock::default();
        let failures = [failure(&clock, Some(7), " "), failure(&clock, Some(42), "")];
        let a = CRASH_LOOP
            .assess(&failures[..1], None, clock.now())
            .expect("failing");
        assert_eq!(
            a.reason,
            "1 worker exited 7 in the last 5 minutes: the target refused the credentials"
        );
        let a = CRASH_LOOP
            .assess(&failures[1..], None, clock.now())
            .expect("failing");
        assert!(a.reason.ends_with(": exit code 42"), "{}", a.reason);
        assert_eq!(minutes(Duration::from_secs(90)), "90 seconds");
        assert_eq!(minutes(Duration::from_secs(60)), "minute");
    }
}
