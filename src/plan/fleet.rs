//! The fleet layer of a plan: the worker count the converge loop will drive, next to what runs now.
//!
//! CloudFormation never sets the worker count (the service has no `DesiredCount`, so a stack update cannot
//! reset a scaled fleet); the plan still shows it so a reviewer sees both layers in one place.

use serde::{Deserialize, Serialize};

use crate::config::DesiredState;
use crate::converge::ports::FleetObservation;

/// Observed fleet → declared lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FleetPlan {
    /// The fleet when the plan was made.
    pub observed: FleetObservation,
    /// Declared `backfill.state` (`destroy` plans declare `stopped`).
    pub declared_state: DesiredState,
    /// Declared `backfill.workers`.
    pub declared_workers: u32,
    /// Workers added per ramp step, when a ramp is declared.
    #[serde(default)]
    pub ramp_step: Option<u32>,
    /// The plan removes everything (`destroy`).
    #[serde(default)]
    pub destroy: bool,
}

impl FleetPlan {
    /// The desired count the converge loop will settle on (before completion scales it to 0).
    pub(crate) fn target(&self) -> u32 {
        match (self.destroy, self.declared_state) {
            (true, _) => 0,
            (false, DesiredState::Running) => self.declared_workers,
            (false, DesiredState::Paused | DesiredState::Stopped) => 0,
        }
    }

    /// The desired count changes.
    pub(crate) fn changes(&self) -> bool {
        self.observed.desired != self.target()
    }

    /// Why the count changes, in the words of the lifecycle.
    pub(crate) fn reason(&self) -> String {
        let from = self.observed.desired;
        let to = self.target();
        if self.destroy {
            return "destroy: workers stop before the stacks are deleted".into();
        }
        let mut reason = match self.declared_state {
            DesiredState::Running if from == 0 => "start backfill".to_string(),
            DesiredState::Running if to > from => "scale up".to_string(),
            DesiredState::Running if to < from => "scale down".to_string(),
            DesiredState::Running => "running".to_string(),
            DesiredState::Paused => "pause: working state kept".to_string(),
            DesiredState::Stopped => "stop: working state archived, then deleted".to_string(),
        };
        if let (Some(step), DesiredState::Running) = (self.ramp_step, self.declared_state)
            && to > from
            && to - from > step
        {
            reason.push_str(&format!(
                ", ramped {step} at a time while the target is healthy"
            ));
        }
        reason
    }

    /// `~ workers 0 -> 4 (start backfill)` or `  workers 4 (running, no change)`.
    pub(crate) fn line(&self) -> String {
        let from = self.observed.desired;
        let to = self.target();
        if from == to {
            format!(
                "  workers {to} (no change; {} running)",
                self.observed.running
            )
        } else {
            format!("~ workers {from} -> {to} ({})", self.reason())
        }
    }

    /// `fleet 0 -> 4` or `fleet 4 (no change)` for the summary line.
    pub(crate) fn summary(&self) -> String {
        let from = self.observed.desired;
        let to = self.target();
        if from == to {
            format!("fleet {to} (no change)")
        } else {
            format!("fleet {from} -> {to}")
        }
    }
}
