//! Saved plans (`plan --out FILE`, `apply FILE`): a JSON document (whatever the file's extension) holding the
//! whole [`Plan`], and the staleness check that refuses to execute it once the world has moved.
//!
//! A saved plan is stale when the config hash differs, when any stack's id, status or last-updated time differs
//! from its baseline (another apply, a console edit, a rollback), or when the worker service appeared or
//! disappeared. The fleet's desired count is not compared: the converge loop owns it and changes it at runtime.

use std::path::{Path, PathBuf};

use super::{FORMAT_VERSION, Plan, StackBaseline};

/// Reading or writing a saved plan failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the saved plan {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a saved plan ({message}); make one with `backfill plan --out {file}`",
        file = path.display()
    )]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{path} was saved in plan format {found}, this backfill reads format {FORMAT_VERSION}; run `backfill plan --out` again"
    )]
    Version { path: PathBuf, found: u32 },
}

/// Why a saved plan may not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stale plan: {reason}. Nothing was changed; run `backfill plan --out FILE` again and review the new plan"
)]
pub(crate) struct StalePlan {
    pub reason: String,
}

impl Plan {
    /// Writes the plan as pretty JSON, atomically (temp file + rename).
    pub(crate) fn save(&self, path: &Path) -> Result<(), SavedPlanError> {
        let write = |source| SavedPlanError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(std::io::Error::other)
            .map_err(write)?;
        bytes.push(b'\n');
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("plan")
        ));
        std::fs::write(&tmp, &bytes).map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
    }

    /// Reads a saved plan, checking its format version.
    pub(crate) fn load(path: &Path) -> Result<Plan, SavedPlanError> {
        let bytes = std::fs::read(path).map_err(|source| SavedPlanError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| SavedPlanError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let found = value.get("format_version").and_then(|v| v.as_u64());
        match found {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(SavedPlanError::Version {
                    path: path.to_path_buf(),
                    found: u32::try_from(v).unwrap_or(u32::MAX),
                });
            }
            None => {
                return Err(SavedPlanError::Invalid {
                    path: path.to_path_buf(),
                    message: "no format_version".into(),
                });
            }
        }
        serde_json::from_value(value).map_err(|e| SavedPlanError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Refuses the plan if the config or any stack changed since it was made.
    /// `current` gives each stack's baseline now (by stack name); `fleet_exists` whether the worker service exists.
    pub(crate) fn check_fresh(
        &self,
        config_hash: &str,
        current: &dyn Fn(&str) -> StackBaseline,
        fleet_exists: bool,
    ) -> Result<(), StalePlan> {
        if self.config_hash != config_hash {
            return Err(StalePlan {
                reason: "migration.yaml changed since the plan was made".into(),
            });
        }
        for stack in &self.stacks {
            let now = current(&stack.stack_name);
            if now != stack.baseline {
                return Err(StalePlan {
                    reason: format!(
                        "stack {} changed since the plan was made ({} -> {})",
                        stack.stack_name,
                        describe(&stack.baseline),
                        describe(&now)
                    ),
                });
            }
        }
        if self.fleet.observed.exists != fleet_exists {
            return Err(StalePlan {
                reason: format!(
                    "the worker service {} since the plan was made",
                    if fleet_exists {
                        "appeared"
                    } else {
                        "disappeared"
                    }
                ),
            });
        }
        Ok(())
    }
}

fn describe(b: &StackBaseline) -> String {
    match (&b.status, &b.last_updated) {
        (None, _) => "absent".into(),
        (Some(status), Some(at)) => format!("{status} at {at}"),
        (Some(status), None) => status.clone(),
    }
}
