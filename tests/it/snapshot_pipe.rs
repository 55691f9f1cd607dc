//! `backfill snapshot docs … | head -1`: a closed stdout ends the command at once and quietly (exit 0, nothing
//! on stderr) instead of decoding the whole shard into a pipe nobody reads.
//!
//! "At once" is checked without a clock: Linux counts the bytes a process reads and writes (`/proc/<pid>/io`,
//! `rchar`/`wchar`), and the counts stay readable after it exits until its parent reaps it. A reader that went
//! on to the end would have read every byte of the shard's stored fields and written every document.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support;
use crate::synthetic;

/// Documents in the shard, as in issue #14's example.
const DOCS: usize = 100_000;
/// About this many bytes of `_source` per document: a 25 MB stored-fields file, written in about 15 s.
const DOC_BYTES: usize = 600;

/// Waits until the child has exited without reaping it, so its `/proc` entry (and its I/O counts) remain.
fn wait_without_reaping(pid: u32) {
    // SAFETY: waitid writes one siginfo_t into memory we own; WNOWAIT leaves the child to `Child::wait`.
    let status = unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(status, 0, "waitid: {}", std::io::Error::last_os_error());
}

/// `rchar` and `wchar` of `/proc/<pid>/io`: bytes read and written through read/write system calls.
fn io_counts(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io"))
        .expect("/proc/<pid>/io (Linux task I/O accounting) is needed for this test");
    let count = |key: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} missing in {text}"))
    };
    (count("rchar:"), count("wchar:"))
}

#[test]
fn snapshot_docs_into_a_pipe_closed_after_the_first_line_stops_reading_the_shard() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (repository, shard) = synthetic::build_one_shard(tmp.path(), "big", DOCS, DOC_BYTES);
    let source_bytes = shard["source_bytes"].as_u64().expect("source_bytes");
    let stored_fields: u64 = std::fs::read_dir(tmp.path().join("lucene-big-0"))
        .expect("shard dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".fdt"))
        .map(|e| e.metadata().expect("metadata").len())
        .sum();

    let mut child = Command::new(support::backfill_bin())
        .args(["snapshot", "docs", "snap", "big", "--repository"])
        .arg(&repository)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn backfill snapshot docs");
    let pid = child.id();
    let mut first = String::new();
    {
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("first line");
        // Dropping the reader closes the pipe: `head -1` has what it wanted.
    }
    let doc: Value = serde_json::from_str(&first).expect("the first line is one JSON document");
    assert_eq!(doc["_index"], "big");
    assert_eq!(doc["doc"], 0);

    wait_without_reaping(pid);
    let (read, written) = io_counts(pid);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "read {read} bytes of a {stored_fields}-byte stored-fields file; wrote {written} of at least {source_bytes}"
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "", "a closed pipe is not an error to report");
    // The whole shard is at least its stored fields: a reader that went on would have read all of them (it
    // reads ahead at most a few 1 MiB blocks), and written every document, each at least its `_source`.
    assert!(
        read < stored_fields / 4,
        "read {read} bytes of a {stored_fields}-byte stored-fields file: the shard was read on"
    );
    assert!(
        written < source_bytes / 20,
        "wrote {written} bytes of at least {source_bytes}: documents were written on"
    );
}
