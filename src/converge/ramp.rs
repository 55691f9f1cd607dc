//! Gradual scale-up while the target stays healthy.
//!
//! Rules (every decision carries its reason, which the runner logs):
//! - never above the declared `workers`; a fleet above it is brought down at once;
//! - step up by `step` when the last change is at least `every` ago and the target is healthy: cluster health
//!   not `red`, write rejections not increasing, CPU and JVM memory pressure under the configured limits;
//! - hold when unhealthy or when health is unknown;
//! - step down by one `step` (never below one step) when rejections rose in two consecutive passes.
//!
//! The decision is pure: health comes in as a [`HealthSample`] (from a
//! [`HealthSource`](super::ports::HealthSource)) and the only memory,
//! [`RampMemory`], is passed in and returned.

use super::lifecycle::{RampMemory, RampPolicy, workers_text};
use super::ports::HealthSample;
use crate::time::Timestamp;

/// The ramp's choice for this pass.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RampDecision {
    /// Desired worker count.
    pub target: u32,
    pub reason: String,
    /// Memory to keep for the next pass.
    pub memory: RampMemory,
}

/// Passes with rising rejections before stepping down.
pub(crate) const RISING_PASSES_BEFORE_STEP_DOWN: u32 = 2;

fn unhealthy_reason(policy: &RampPolicy, health: &HealthSample, rising: bool) -> Option<String> {
    if health.cluster_status.eq_ignore_ascii_case("red") {
        return Some("target cluster health is red".into());
    }
    if rising {
        return Some("write rejections are increasing".into());
    }
    if let (Some(limit), Some(cpu)) = (policy.max_cpu_percent, health.max_cpu_percent)
        && cpu >= limit
    {
        return Some(format!(
            "target CPU {cpu:.0}% is at or above the {limit:.0}% limit"
        ));
    }
    if let (Some(limit), Some(jvm)) = (
        policy.max_jvm_memory_pressure_percent,
        health.max_jvm_memory_pressure_percent,
    ) && jvm >= limit
    {
        return Some(format!(
            "target JVM memory pressure {jvm:.0}% is at or above the {limit:.0}% limit"
        ));
    }
    None
}

/// Chooses the desired count for this pass. `current` is the fleet's desired count.
pub(crate) fn decide(
    policy: &RampPolicy,
    workers: u32,
    current: u32,
    health: Option<&HealthSample>,
    memory: RampMemory,
    now: Timestamp,
) -> RampDecision {
    let step = policy.step.max(1);
    let mut next = memory;
    let rejections = health.and_then(|h| h.write_rejections);
    let rising = matches!((memory.previous_rejections, rejections), (Some(p), Some(r)) if r > p);
    next.rising_passes = if rising {
        memory.rising_passes.saturating_add(1)
    } else {
        0
    };
    if rejections.is_some() {
        next.previous_rejections = rejections;
    }
    let changed = |target: u32, reason: String, mut m: RampMemory| {
        m.last_change_at = Some(now);
        RampDecision {
            target,
            reason,
            memory: m,
        }
    };
    if current > workers {
        return changed(
            workers,
            format!(
                "above the declared {}: scaling down to it",
                workers_text(workers)
            ),
            next,
        );
    }
    if next.rising_passes >= RISING_PASSES_BEFORE_STEP_DOWN && current > step {
        let mut m = next;
        m.rising_passes = 0;
        let target = current.saturating_sub(step).max(step.min(workers));
        return changed(
            target,
            format!(
                "write rejections rose in {} consecutive passes: stepping down {current} → {target}",
                next.rising_passes
            ),
            m,
        );
    }
    if current >= workers {
        return RampDecision {
            target: current,
            reason: format!("at the declared {}", workers_text(workers)),
            memory: next,
        };
    }
    let Some(health) = health else {
        return RampDecision {
            target: current,
            reason: "holding: target health unknown".into(),
            memory: next,
        };
    };
    if let Some(why) = unhealthy_reason(policy, health, rising) {
        return RampDecision {
            target: current,
            reason: format!("holding at {current}: {why}"),
            memory: next,
        };
    }
    let every = policy.every.as_secs();
    if let Some(last) = memory.last_change_at {
        let since = now.saturating_duration_since(last).as_secs();
        if since < every && current > 0 {
            return RampDecision {
                target: current,
                reason: format!("holding at {current}: next step in {}s", every - since),
                memory: next,
            };
        }
    }
    let target = current.saturating_add(step).min(workers);
    changed(
        target,
        format!("target healthy: stepping up {current} → {target} (of {workers})"),
        next,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn policy() -> RampPolicy {
        RampPolicy {
            step: 2,
            every: Duration::from_secs(300),
            max_cpu_percent: Some(80.0),
            max_jvm_memory_pressure_percent: Some(75.0),
        }
    }

    fn healthy(rejections: u64) -> HealthSample {
        HealthSample {
            cluster_status: "green".into(),
            write_rejections: Some(rejections),
            max_cpu_percent: Some(40.0),
            max_jvm_memory_pressure_percent: Some(50.0),
        }
    }

    /// A scripted health source over passes 300 s apart: the fleet follows each decision.
    fn run_script(samples: &[Option<HealthSample>], workers: u32) -> Vec<(u32, String)> {
        let mut memory = RampMemory::default();
        let mut current = 0;
        let mut out = Vec::new();
        for (i, sample) in samples.iter().enumerate() {
            let d = decide(
                &policy(),
                workers,
                current,
                sample.as_ref(),
                memory,
                Timestamp::from_epoch_seconds(1000 + 300 * i as i64),
            );
            memory = d.memory;
            current = d.target;
            out.push((current, d.reason));
        }
        out
    }

    #[test]
    fn steps_up_while_healthy_and_stops_at_workers() {
        let s: Vec<_> = (0..5).map(|_| Some(healthy(0))).collect();
        let got: Vec<u32> = run_script(&s, 5).into_iter().map(|(n, _)| n).collect();
        assert_eq!(got, vec![2, 4, 5, 5, 5]);
    }

    #[test]
    fn holds_when_red_cpu_jvm_or_unknown() {
        let mut red = healthy(0);
        red.cluster_status = "red".into();
        let mut hot = healthy(0);
        hot.max_cpu_percent = Some(95.0);
        let mut jvm = healthy(0);
        jvm.max_jvm_memory_pressure_percent = Some(80.0);
        let s = vec![
            Some(healthy(0)),
            Some(red),
            Some(hot),
            Some(jvm),
            None,
            Some(healthy(0)),
        ];
        let got = run_script(&s, 10);
        let counts: Vec<u32> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(counts, vec![2, 2, 2, 2, 2, 4]);
        assert!(got[1].1.contains("red"), "{}", got[1].1);
        assert!(got[2].1.contains("CPU 95%"), "{}", got[2].1);
        assert!(got[3].1.contains("JVM memory pressure 80%"), "{}", got[3].1);
        assert!(got[4].1.contains("unknown"), "{}", got[4].1);
    }

    #[test]
    fn rising_rejections_hold_then_step_down() {
        let s = vec![
            Some(healthy(0)),
            Some(healthy(0)),
            Some(healthy(0)),
            Some(healthy(10)),
            Some(healthy(20)),
            Some(healthy(20)),
        ];
        let got = run_script(&s, 10);
        let counts: Vec<u32> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(counts, vec![2, 4, 6, 6, 4, 6]);
        assert!(
            got[3].1.contains("write rejections are increasing"),
            "{}",
            got[3].1
        );
        assert!(got[4].1.contains("stepping down 6 → 4"), "{}", got[4].1);
    }

    #[test]
    fn waits_every_between_steps_and_scales_down_above_workers() {
        let d = decide(
            &policy(),
            10,
            2,
            Some(&healthy(0)),
            RampMemory {
                last_change_at: Some(Timestamp::from_epoch_seconds(1000)),
                ..Default::default()
            },
            Timestamp::from_epoch_seconds(1100),
        );
        assert_eq!(d.target, 2);
        assert!(d.reason.contains("next step in 200s"), "{}", d.reason);
        let d = decide(
            &policy(),
            3,
            8,
            Some(&healthy(0)),
            RampMemory::default(),
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(d.target, 3);
    }
}
