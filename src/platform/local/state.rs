//! The state directory: the local platform's "stacks".
//!
//! Layout of `<state_dir>/`:
//! - `resources.json` — the [`LocalResources`] `apply` realised (absent = nothing applied);
//! - `desired` — the desired worker count `Fleet::scale` writes and the supervisor watches;
//! - `fleet.json` — the supervisor's report (desired / running / pending); `logs/` — the log group;
//! - `dashboard.html` — the dashboard page; `index-totals.json` — the selected indices' sizes `apply` recorded for it;
//! - `apply.lock` — held (flock, exclusive) by `apply`/`destroy`; `supervisor.lock` — held by the one supervisor.
//!
//! Invariants: every file is written to a temporary sibling and renamed into place, so a reader sees the old or
//! the new content, never a torn one. Locks are `flock` on a file descriptor: the kernel drops them when the
//! holder dies, so a crashed apply or supervisor never leaves a stale lock behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::spec::LocalResources;

/// Errors of the state directory, with the file they concern.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not valid state ({source})")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: held by another backfill process (apply, destroy or supervisor)")]
    Locked { path: PathBuf },
    #[error("{path}: not a worker count: {text:?}")]
    BadCount { path: PathBuf, text: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One migration's state directory.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    root: PathBuf,
}

/// An exclusive `flock` on a lock file; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}

impl StateDir {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn resources_path(&self) -> PathBuf {
        self.root.join("resources.json")
    }

    /// The supervisor's report (`FleetReport`), rewritten every few seconds while it runs.
    pub(crate) fn fleet_path(&self) -> PathBuf {
        self.root.join("fleet.json")
    }

    /// The local log group: one file per worker process.
    pub(crate) fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The dashboard page.
    pub(crate) fn dashboard_path(&self) -> PathBuf {
        self.root.join(super::spec::DASHBOARD_FILE)
    }

    pub(crate) fn desired_path(&self) -> PathBuf {
        self.root.join("desired")
    }

    /// Creates the directory if missing.
    pub(crate) fn ensure(&self) -> Result<(), StateError> {
        fs::create_dir_all(&self.root).map_err(io_at(&self.root))
    }

    /// Takes the exclusive lock named `name` (`apply` or `supervisor`) without waiting.
    pub(crate) fn try_lock(&self, name: &str) -> Result<StateLock, StateError> {
        self.ensure()?;
        let path = self.root.join(format!("{name}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_at(&path))?;
        // SAFETY: flock on a descriptor we own; no memory is shared with the kernel.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                StateError::Locked { path }
            } else {
                StateError::Io { path, source: err }
            });
        }
        Ok(StateLock { _file: file })
    }

    /// The applied resources; empty (nothing applied) when the directory or file is absent.
    pub(crate) fn applied(&self) -> Result<LocalResources, StateError> {
        let path = self.resources_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| StateError::Corrupt { path, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LocalResources::default()),
            Err(source) => Err(StateError::Io { path, source }),
        }
    }

    /// Records what `apply` realised (atomically).
    pub(crate) fn record_applied(&self, resources: &LocalResources) -> Result<(), StateError> {
        let path = self.resources_path();
        let bytes = serde_json::to_vec_pretty(resources).map_err(|source| StateError::Corrupt {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes)
    }

    /// The desired worker count; 0 when never scaled.
    pub(crate) fn desired(&self) -> Result<u32, StateError> {
        let path = self.desired_path();
        match fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| StateError::BadCount { path, text }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(StateError::Io { path, source }),
        }
    }

    /// Sets the desired worker count (atomically; idempotent).
    pub(crate) fn set_desired(&self, desired: u32) -> Result<(), StateError> {
        write_atomic(&self.desired_path(), format!("{desired}\n").as_bytes())
    }

    /// Removes the whole directory (destroy). Absent is success.
    pub(crate) fn remove(&self) -> Result<(), StateError> {
        match fs::remove_dir_all(&self.root) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(StateError::Io {
                path: self.root.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it and renames it over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_at(parent))?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|source| {
        let _ = fs::remove_file(&tmp);
        StateError::Io {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::spec::{LocalResources, LocalSpec};
    use super::*;

    fn dir() -> (tempfile::TempDir, StateDir) {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::new(tmp.path().join(".backfill/demo"));
        (tmp, state)
    }

    #[test]
    fn nothing_applied_reads_as_empty() {
        let (_tmp, state) = dir();
        assert_eq!(state.applied().unwrap(), LocalResources::default());
        assert_eq!(state.desired().unwrap(), 0);
    }

    #[test]
    fn applied_resources_round_trip() {
        let (_tmp, state) = dir();
        let r = LocalResources::desired(&LocalSpec {
            name: "demo".into(),
            state_dir: state.root().to_owned(),
            config_path: "m.yaml".into(),
            retention_days: 7,
        });
        state.record_applied(&r).unwrap();
        assert_eq!(state.applied().unwrap(), r);
        state.set_desired(3).unwrap();
        assert_eq!(state.desired().unwrap(), 3);
        let leftovers: Vec<_> = fs::read_dir(state.root())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn corrupt_state_is_an_error_naming_the_file() {
        let (_tmp, state) = dir();
        state.ensure().unwrap();
        fs::write(state.resources_path(), b"{not json").unwrap();
        let err = state.applied().unwrap_err().to_string();
        assert!(err.contains("resources.json"), "{err}");
        fs::write(state.desired_path(), b"many").unwrap();
        assert!(matches!(state.desired(), Err(StateError::BadCount { .. })));
    }

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let (_tmp, state) = dir();
        let first = state.try_lock("supervisor").unwrap();
        assert!(matches!(
            state.try_lock("supervisor"),
            Err(StateError::Locked { .. })
        ));
        assert!(state.try_lock("apply").is_ok());
        drop(first);
        assert!(state.try_lock("supervisor").is_ok());
    }

    #[test]
    fn remove_leaves_nothing_and_is_idempotent() {
        let (_tmp, state) = dir();
        state.set_desired(1).unwrap();
        state.remove().unwrap();
        assert!(!state.root().exists());
        state.remove().unwrap();
    }
}
