//! The local log group: `<state_dir>/logs/`, one file per worker process (like an ECS log stream) plus the
//! supervisor's own, with the configured retention applied by deleting files last written before the cutoff;
//! and a failed worker's last error, read from the end of its file.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Deletes `*.log` files in `dir` last modified more than `retention_days` ago. Errors are ignored: retention
/// is housekeeping and must never stop the fleet.
pub(crate) fn apply_retention(dir: &Path, retention_days: u32, now: SystemTime) {
    let Some(cutoff) = now.checked_sub(Duration::from_secs(u64::from(retention_days) * 86_400))
    else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < cutoff);
        if old {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// How much of a log's end is read for its last error.
const TAIL_BYTES: u64 = 16 * 1024;
/// The last error of the worker log at `path` ([`crate::platform::worker_log::last_error`] of its end); empty when it cannot be read.
pub(crate) fn last_error_of(path: &Path) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read()
        .map(|tail| crate::platform::worker_log::last_error(&tail))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_of_a_file_reads_only_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker-0-1.log");
        let filler = "info line\n".repeat(10_000);
        std::fs::write(&path, format!("error: early\n{filler}error: late\n")).unwrap();
        assert_eq!(last_error_of(&path), "late");
        assert_eq!(last_error_of(&dir.path().join("missing.log")), "");
    }

    #[test]
    fn deletes_only_log_files_older_than_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("worker-0-1.log");
        let new = dir.path().join("worker-0-2.log");
        let other = dir.path().join("notes.txt");
        for p in [&old, &new, &other] {
            std::fs::write(p, "x").unwrap();
        }
        let ten_days_ago = SystemTime::now() - Duration::from_secs(10 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(ten_days_ago)
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(ten_days_ago)
            .unwrap();
        apply_retention(dir.path(), 7, SystemTime::now());
        assert!(!old.exists());
        assert!(new.exists());
        assert!(other.exists(), "only .log files are managed");
    }
}
