//! Cost of `transforms` in the worker, the transform step alone on one core: documents become bulk action
//! lines (`worker::bulk::Batch::push`, what the worker does for every document) without a transform — the
//! byte-exact path — and through a jq program first (`worker::transform::transformed`: parse the source,
//! run the program, write the output). Prints a table: docs/s on one thread, MB/s of source read, and the ratio
//! to no transform.
//!
//! `cargo bench --bench transform -- [--docs N] [--iters N]`; `scripts/bench-transform` drives it.
//!
//! Documents are log-like JSON (timestamp, level, message, host, service, nested HTTP fields, tags, numbers),
//! about 0.6 KB small and about 2.4 KB large (lucene-gen's default size), generated deterministically.

use std::hint::black_box;
use std::time::Instant;

use backfill::config::TransformRule;
use backfill::snapshot::SnapshotDocument;
use backfill::worker::bulk::Batch;
use backfill::worker::transform::{Transforms, transformed};

const PROGRAMS: &[(&str, &str)] = &[
    ("identity", "."),
    ("del-field", "del(.source.tmp)"),
    (
        "issue-example",
        r#"select(.source.level != "debug") | .index = "app-" + .index | del(.source.tmp)"#,
    ),
    (
        "rename+add",
        r#".index = "app-" + .index | .source.migrated_by = "backfill""#,
    ),
];

fn document(n: usize, padding: usize) -> SnapshotDocument {
    let levels = ["info", "warn", "error", "debug"];
    let message: String = (0..padding)
        .map(|i| char::from(b'a' + ((n * 7 + i * 13) % 26) as u8))
        .collect();
    let source = format!(
        r#"{{"@timestamp":"2024-03-{:02}T12:{:02}:{:02}.{:03}Z","level":"{}","message":"request {n} handled: {message}","host":{{"name":"web-{}","ip":"10.0.{}.{}"}},"service":"checkout","http":{{"method":"GET","status":{},"path":"/api/v1/orders/{n}","bytes":{},"duration_ms":{}.{}}},"tags":["prod","eu-west-1","v{}"],"tmp":{{"trace":"{:016x}"}},"user_id":{}}}"#,
        n % 28 + 1,
        n % 60,
        (n * 7) % 60,
        n % 1000,
        levels[n % 4],
        n % 16,
        n % 256,
        (n * 3) % 256,
        [200, 201, 404, 500][n % 4],
        (n * 131) % 100_000,
        n % 900,
        n % 10,
        n % 5,
        (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        n * 31,
    );
    SnapshotDocument {
        index: "logs-2024.03".into(),
        shard: 0,
        global_doc: n as u64,
        id: format!("doc-{n:08}"),
        doc_type: None,
        routing: None,
        source: source.into(),
    }
}

/// Best-of-`iters` seconds to turn every document into action lines (through `program`, if any); the number
/// of documents sent.
fn measure(docs: &[SnapshotDocument], program: Option<&str>, iters: usize) -> (f64, usize) {
    let transforms = Transforms::compile(&[TransformRule {
        index_pattern: "*".into(),
        jq: program.unwrap_or(".").into(),
        timeout: backfill::config::DEFAULT_TRANSFORM_TIMEOUT,
    }])
    .expect("the program compiles");
    let chain = transforms.chain_for("logs-2024.03");
    let mut best = f64::MAX;
    let mut sent = 0;
    for _ in 0..iters {
        let start = Instant::now();
        let mut batch = Batch::default();
        sent = 0;
        for doc in docs {
            if batch.docs >= 1000 {
                black_box(&batch.body);
                batch = Batch::default();
            }
            match program {
                None => {
                    batch.push(doc, false);
                    sent += 1;
                }
                Some(_) => match transformed(&chain, doc) {
                    Ok(outputs) => {
                        for out in &outputs {
                            batch.push(out, false);
                            sent += 1;
                        }
                    }
                    Err(e) => panic!("{}", e.reason),
                },
            }
        }
        black_box(&batch.body);
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, sent)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this file too, as a smoke run only.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let n = arg(&args, "--docs", 100_000);
    let iters = arg(&args, "--iters", 3);
    println!(
        "{:<8} {:<15} {:>12} {:>10} {:>9} {:>8}",
        "docs", "program", "docs/s/core", "MB/s", "ratio", "sent"
    );
    for (label, padding) in [("0.6 KB", 200), ("2.4 KB", 2_000)] {
        let docs: Vec<SnapshotDocument> = (0..n).map(|i| document(i, padding)).collect();
        let bytes: usize = docs.iter().map(|d| d.source.len()).sum();
        let (base, base_sent) = measure(&docs, None, iters);
        let row = |name: &str, seconds: f64, sent: usize| {
            println!(
                "{:<8} {:<15} {:>12.0} {:>10.1} {:>8.3}x {:>8}",
                label,
                name,
                n as f64 / seconds,
                bytes as f64 / seconds / 1e6,
                base / seconds,
                sent
            );
        };
        row("(none)", base, base_sent);
        for (name, program) in PROGRAMS {
            let (seconds, sent) = measure(&docs, Some(program), iters);
            row(name, seconds, sent);
        }
    }
}
