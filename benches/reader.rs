//! Snapshot reader throughput: reads every live `_source` of every shard of one index straight from a
//! snapshot repository, like `lucene-gen read --access merge` does on the Lucene directories, and prints one
//! JSON line: documents, source bytes, best-of-N seconds, MB/s (10^6 bytes), docs/s, CRC-32 of all source
//! bytes (compare with `lucene-gen read --checksum`), the best pass's CPU seconds (all threads: the decoding
//! thread and its read-ahead), and peak RSS. As in `lucene-gen`, the timed passes hand every document's
//! fields to the caller and count the `_source` bytes; the CRC is an extra, untimed pass.
//!
//! `cargo bench --bench reader -- REPO SNAPSHOT INDEX [--threads N] [--iters N] [--pin]`; with `--threads 2`
//! the shards are read in parallel, one thread per shard (scaling); `--pin` keeps shard `i`'s thread on core
//! `i` (its read-ahead thread inherits the core). `scripts/bench-reader` drives it.

use std::sync::Arc;
use std::time::Instant;

use backfill::lucene::StoredValue;
use backfill::snapshot::{FsBlobSource, Repository};

#[path = "support/cpu.rs"]
mod cpu;

/// Reads one shard: documents, `_source` bytes and, when `checksum`, the CRC-32 of the sources.
fn read_shard(
    repo: &Repository,
    snapshot: &str,
    index: &str,
    shard: u32,
    checksum: bool,
) -> (u64, u64, u32) {
    let info = repo.snapshot(snapshot).expect("snapshot");
    let index = repo.index(&info, index).expect("index");
    let open = repo.open_shard(&info, &index, shard).expect("shard");
    let (mut docs, mut bytes) = (0u64, 0u64);
    let mut crc = crc32fast::Hasher::new();
    for doc in open.lucene.documents(0) {
        let doc = doc.expect("document");
        for field in &doc.fields {
            if &*field.name == "_source"
                && let StoredValue::Binary(b) = &field.value
            {
                bytes += b.len() as u64;
                if checksum {
                    crc.update(b);
                }
            }
        }
        docs += 1;
    }
    (docs, bytes, crc.finalize())
}

/// Keeps the calling thread (and the threads it starts) on `core`.
fn pin_to(core: usize) {
    // SAFETY: a zeroed `cpu_set_t` is the empty set; the calls only read and write the set given.
    unsafe {
        let mut set = std::mem::zeroed::<libc::cpu_set_t>();
        libc::CPU_SET(core, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("could not pin to core {core}");
        }
    }
}

/// Peak resident set of this process image (`VmHWM`; unlike `getrusage`, not inherited across `exec` from a
/// parent such as cargo).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    if positional.len() < 3 {
        eprintln!(
            "usage: cargo bench --bench reader -- REPO SNAPSHOT INDEX [--threads N] [--iters N] [--pin]"
        );
        return;
    }
    let (root, snapshot, index) = (
        positional[0].clone(),
        positional[1].clone(),
        positional[2].clone(),
    );
    let threads = flag("--threads").unwrap_or(1);
    let pin = args.iter().any(|a| a == "--pin");
    let iters = flag("--iters").unwrap_or(3);
    let repo = Arc::new(Repository::open(Arc::new(FsBlobSource::new(&root))).expect("repository"));
    let info = repo.snapshot(&snapshot).expect("snapshot");
    let shards = repo.index(&info, &index).expect("index").shards;
    let shards: Vec<u32> = if threads == 1 {
        vec![0]
    } else {
        (0..shards.min(threads as u32)).collect()
    };
    let mut best = f64::MAX;
    let mut best_cpu = 0.0;
    let mut result = (0, 0);
    for i in 0..=iters {
        let start = Instant::now();
        let cpu_start = cpu::process_seconds();
        let handles: Vec<_> = shards
            .iter()
            .map(|&s| {
                let (repo, snapshot, index) = (repo.clone(), snapshot.clone(), index.clone());
                std::thread::spawn(move || {
                    if pin {
                        pin_to(s as usize);
                    }
                    read_shard(&repo, &snapshot, &index, s, false)
                })
            })
            .collect();
        let parts: Vec<(u64, u64, u32)> = handles
            .into_iter()
            .map(|h| h.join().expect("reader thread"))
            .collect();
        let seconds = start.elapsed().as_secs_f64();
        let cpu = cpu::process_seconds() - cpu_start;
        result = (
            parts.iter().map(|p| p.0).sum(),
            parts.iter().map(|p| p.1).sum(),
        );
        if i > 0 && seconds < best {
            best = seconds;
            best_cpu = cpu;
        }
    }
    let (docs, bytes) = result;
    // Untimed, like `lucene-gen read --checksum`: the first shard's sources (every shard holds the same).
    let crc = read_shard(&repo, &snapshot, &index, shards[0], true).2;
    println!(
        "{{\"reader\":\"backfill\",\"threads\":{},\"docs\":{docs},\"source_bytes\":{bytes},\"seconds\":{best:.3},\"mb_per_s\":{:.1},\"docs_per_s\":{:.0},\"crc32\":\"{crc:08x}\",\"cpu_seconds\":{best_cpu:.3},\"peak_rss_mb\":{:.1}}}",
        shards.len(),
        bytes as f64 / 1e6 / best,
        docs as f64 / best,
        peak_rss_mb()
    );
}
