//! `backfill worker` on a corrupted snapshot: one byte of one file of the `ES_7_10_Single` repository is flipped
//! (every file in turn — `index.latest`, `index-N`, the metadata `.dat` blobs, each shard's file list and
//! Lucene blobs — at its first byte (a header), its middle, the middle of the bytes the reader reads from it
//! (recorded by reading the untouched fixture through a recording `BlobSource`) and its last byte (a CRC
//! footer)), and the real worker runs against a real osmem-server. Every run must either exit 5 naming the file (and the shard, for a shard's
//! file) or exit 0 with every expected document migrated exactly: a byte the reader never reads may change
//! nothing, and a byte it reads may never turn into a crash (exit 1) or a silently wrong migration.

use crate::support;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use backfill::snapshot::{BlobSource, FsBlobSource, Repository};
use serde_json::Value;

const FIXTURE: &str = "ES_7_10_Single";

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Copies the fixture into `to` (files writable, so bytes can be flipped).
fn copy_fixture(from: &Path, to: &Path) {
    for rel in files_under(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::write(&dest, std::fs::read(from.join(&rel)).expect("read")).expect("write");
    }
}

/// Inverts every bit of the byte at `at` (doing it twice restores the file).
fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[at] ^= 0xFF;
    std::fs::write(path, bytes).expect("write");
}

/// A filesystem repository that records which byte ranges of which blob are read.
struct Recording {
    inner: FsBlobSource,
    reads: Mutex<BTreeMap<String, Vec<(u64, u64)>>>,
}

impl BlobSource for Recording {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn len(&self, name: &str) -> io::Result<u64> {
        self.inner.len(name)
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if let Ok(mut reads) = self.reads.lock() {
            reads
                .entry(name.to_string())
                .or_default()
                .push((offset, offset + buf.len() as u64));
        }
        self.inner.read_at(name, offset, buf)
    }
    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        self.inner.list(prefix)
    }
}

/// For each blob the worker reads, the middle byte of what is read of it: every document of every shard of
/// `snapshot` is read through a [`Recording`] source, and the read ranges are merged.
fn middle_of_reads(repo: &Path, snapshot: &str) -> BTreeMap<String, u64> {
    let source = Arc::new(Recording {
        inner: FsBlobSource::new(repo),
        reads: Mutex::default(),
    });
    let repository = Repository::open(source.clone()).expect("open");
    let info = repository.snapshot(snapshot).expect("snapshot");
    for index in repository.indices(&info).expect("indices") {
        for shard in 0..index.shards {
            let open = repository.open_shard(&info, &index, shard).expect("shard");
            for doc in open.documents(0) {
                doc.expect("document");
            }
        }
    }
    let reads = source.reads.lock().expect("reads").clone();
    reads
        .into_iter()
        .map(|(blob, mut ranges)| {
            ranges.sort_unstable();
            let mut merged: Vec<(u64, u64)> = Vec::new();
            for (start, end) in ranges {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            let mut half = merged.iter().map(|(s, e)| e - s).sum::<u64>() / 2;
            let mut at = 0;
            for (start, end) in merged {
                if half < end - start {
                    at = start + half;
                    break;
                }
                half -= end - start;
            }
            (blob, at)
        })
        .collect()
}

/// The positions flipped in a file of `len` bytes: the header, the middle, the middle of what is read (when
/// the reader reads the file), the last byte of the footer.
fn positions(len: usize, read_middle: Option<u64>) -> Vec<usize> {
    let mut at = vec![0, len / 2, len.saturating_sub(1)];
    at.extend(read_middle.map(|m| m as usize));
    at.sort_unstable();
    at.dedup();
    at
}

/// How one run ended.
enum Run {
    Unreadable,
    Exact,
}

#[test]
fn a_flipped_byte_anywhere_in_the_snapshot_exits_5_or_migrates_exactly() {
    let fixture = support::shared_dir()
        .join("fixtures/snapshots")
        .join(FIXTURE);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::shared_dir().join(format!("fixtures/expected/{FIXTURE}.json")),
        )
        .expect("expected"),
    )
    .expect("json");
    let snapshot = expected["snapshots"][0]["name"].as_str().expect("name");
    let indices = expected["snapshots"][0]["indices"]
        .as_array()
        .expect("indices");
    // Index directory id → index name, from the repository data of the untouched fixture.
    let generation = std::fs::read(fixture.join("index.latest")).expect("index.latest");
    let generation = i64::from_be_bytes(generation.try_into().expect("8 bytes"));
    let data: Value = serde_json::from_slice(
        &std::fs::read(fixture.join(format!("index-{generation}"))).expect("index-N"),
    )
    .expect("repository data");
    let index_of_id = |id: &str| -> String {
        data["indices"]
            .as_object()
            .expect("indices")
            .iter()
            .find(|(_, v)| v["id"].as_str() == Some(id))
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| panic!("no index with id {id}"))
    };

    let read_middles = middle_of_reads(&fixture, snapshot);

    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    copy_fixture(&fixture, &repo);
    let osmem = support::Osmem::start();
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: corrupt-snapshot\nsource:\n  repository: {}\n  snapshot: {snapshot}\ntarget:\n  endpoint: {}\n",
            repo.display(),
            osmem.url
        ),
    )
    .expect("config");

    let mut outcomes = Vec::new();
    for rel in files_under(&repo) {
        let path = repo.join(&rel);
        let len = std::fs::metadata(&path).expect("metadata").len() as usize;
        let name = rel.to_str().expect("utf8").to_string();
        // `indices/<id>/<shard>/…` is a shard's file; `indices/<id>/meta-….dat` an index's.
        let parts: Vec<&str> = name.split('/').collect();
        let shard = (parts.len() == 4).then(|| (index_of_id(parts[1]), parts[2].to_string()));
        for at in positions(len, read_middles.get(&name).copied()) {
            for index in indices {
                let index = index["name"].as_str().expect("index");
                support::delete(&format!("{}/{index}", osmem.url));
            }
            support::delete(&format!("{}/.migrations_working_state", osmem.url));
            flip(&path, at);
            let out = Command::new(support::backfill_bin())
                .args(["-c", config.to_str().expect("utf8"), "worker", "--id"])
                .arg(format!("w-{}-{at}", outcomes.len()))
                .output()
                .expect("run worker");
            flip(&path, at);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let run = format!("{name} byte {at}/{len}");
            let outcome = match out.status.code() {
                Some(5) => {
                    assert!(
                        stderr.contains("the snapshot cannot be read"),
                        "{run}: {stderr}"
                    );
                    assert!(stderr.contains(&name), "{run}: the file is named: {stderr}");
                    if let Some((index, shard)) = &shard {
                        assert!(
                            stderr.contains(&format!("index {index}, shard {shard}")),
                            "{run}: the shard is named: {stderr}"
                        );
                    }
                    Run::Unreadable
                }
                Some(0) => {
                    for index in indices {
                        let index_name = index["name"].as_str().expect("index");
                        let live = index["shards"][0]["live_docs"].as_u64().expect("live");
                        assert_eq!(
                            support::doc_count(&osmem.url, index_name),
                            live,
                            "{run}: {index_name} count"
                        );
                        for doc in index["shards"][0]["docs"].as_array().expect("docs") {
                            support::assert_document_landed(
                                &osmem.url,
                                index_name,
                                doc,
                                &format!("{run}: "),
                            );
                        }
                    }
                    Run::Exact
                }
                code => panic!("{run}: exit {code:?}, expected 5 or 0: {stderr}"),
            };
            outcomes.push((run, outcome));
        }
    }
    let unreadable = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Run::Unreadable))
        .count();
    let exact = outcomes.len() - unreadable;
    eprintln!(
        "{} runs over {} files: {unreadable} exit 5, {exact} exact",
        outcomes.len(),
        files_under(&repo).len()
    );
    for (run, outcome) in &outcomes {
        let what = match outcome {
            Run::Unreadable => "exit 5",
            Run::Exact => "exact",
        };
        eprintln!("  {run}: {what}");
    }
    assert!(
        unreadable > 0 && exact > 0,
        "both kinds of blob are covered"
    );
}
