//! Gzip of real bulk bodies: the worker's compressor (`backfill::cluster::gzip_bytes`: ISA-L's igzip at
//! level 1, whatever `--levels` says) against ISA-L at each of `--levels` it has (0, 1, 3), `zlib-rs` (through
//! `flate2`, the worker's compressor before) and `libdeflate` (through `libdeflater`), side by side in one run.
//! The bodies are built by the worker's own batch code from the first shard of a snapshot index (batches
//! closed as the worker's defaults close them: 1000 documents or 10 MiB); each library compresses every body
//! on one thread, its passes one after another, and the best pass of each is reported: MB/s of input (10^6
//! bytes), compressed/input ratio, and the MB/s at which ISA-L (the null sink's inflate: what the receiving
//! side pays) and libdeflate inflate that output. Every output is inflated once and compared with its input.
//!
//! `cargo run --release --example gzip -- REPO SNAPSHOT INDEX [--docs N] [--iters N] [--levels 1,6]`

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::Instant;

use backfill::snapshot::{FsBlobSource, Repository};
use backfill::worker::bulk::{Batch, BodyPool};

/// The bodies of the first `docs` documents of shard 0, batched like the worker's defaults.
fn bodies(root: &str, snapshot: &str, index: &str, docs: usize) -> Vec<Vec<u8>> {
    let repo = Repository::open(Arc::new(FsBlobSource::new(root))).expect("repository");
    let info = repo.snapshot(snapshot).expect("snapshot");
    let index = repo.index(&info, index).expect("index");
    let shard = repo.open_shard(&info, &index, 0).expect("shard");
    let mut out = Vec::new();
    let mut batch = Batch::default();
    for doc in shard.documents(0).take(docs) {
        batch.push(&doc.expect("document"), false);
        if batch.is_full(1000, 10 << 20) {
            out.push(batch.take(&BodyPool::default()).body);
        }
    }
    if batch.docs > 0 {
        out.push(batch.body);
    }
    out
}

/// One library at one level: a body in, its gzip out.
type Compressor<'a> = Box<dyn FnMut(&[u8]) -> Vec<u8> + 'a>;

fn zlib_rs(level: u32, raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::new(level),
    );
    encoder.write_all(raw).expect("gzip");
    encoder.finish().expect("gzip")
}

fn isal_gzip(level: isal::CompressionLevel, raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0; raw.len() + raw.len() / 4096 + 1024];
    let n = isal::compress_into(raw, &mut out, level, isal::Codec::Gzip).expect("gzip");
    out.truncate(n);
    out
}

/// An inflater: a gzip member in, its bytes into the buffer sized from its trailer.
type Inflate<'a> = &'a mut dyn FnMut(&[u8], &mut [u8]);

/// `inflate` over every output, best of `iters` passes: MB/s of inflated bytes.
fn inflate_speed(outputs: &[Vec<u8>], input: usize, iters: usize, inflate: Inflate) -> f64 {
    let mut back = Vec::new();
    let mut best = f64::MAX;
    for _ in 0..iters {
        let t = Instant::now();
        for gz in outputs {
            let size = u32::from_le_bytes(gz[gz.len() - 4..].try_into().expect("trailer")) as usize;
            back.resize(size, 0);
            inflate(gz, &mut back);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    input as f64 / 1e6 / best
}

fn libdeflate(compressor: &mut libdeflater::Compressor, raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0; compressor.gzip_compress_bound(raw.len())];
    let n = compressor.gzip_compress(raw, &mut out).expect("gzip");
    out.truncate(n);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    // The three positional arguments come first (flag values follow their flags).
    let [root, snapshot, index, ..] = positional[..] else {
        eprintln!(
            "usage: cargo run --release --example gzip -- REPO SNAPSHOT INDEX [--docs N] [--iters N] [--levels 1,6]"
        );
        return;
    };
    let docs = flag("--docs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let iters = flag("--iters").and_then(|v| v.parse().ok()).unwrap_or(5);
    let levels: Vec<u32> = flag("--levels")
        .map_or("1", |v| v.as_str())
        .split(',')
        .filter_map(|l| l.parse().ok())
        .collect();
    let bodies = bodies(root, snapshot, index, docs);
    let input: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "{} bodies, {:.1} MB, {:.2} MB each on average; best of {iters} passes, one thread",
        bodies.len(),
        input as f64 / 1e6,
        input as f64 / 1e6 / bodies.len() as f64
    );
    println!(
        "{:<12} {:>5} {:>9} {:>7} {:>12} {:>12}",
        "library", "level", "MB/s", "ratio", "ISA-L inflate", "libdeflate inflate"
    );
    for &level in &levels {
        let mut compressor = libdeflater::Compressor::new(
            libdeflater::CompressionLvl::new(level as i32).expect("libdeflate level"),
        );
        let isal_level = match level {
            0 => Some(isal::CompressionLevel::Zero),
            1 => Some(isal::CompressionLevel::One),
            3 => Some(isal::CompressionLevel::Three),
            _ => None,
        };
        let mut compressors: [(&str, Compressor); 4] = [
            (
                "worker",
                Box::new(|b| backfill::cluster::gzip_bytes(b).expect("gzip")),
            ),
            (
                "isal",
                Box::new(move |b| isal_gzip(isal_level.unwrap_or(isal::CompressionLevel::One), b)),
            ),
            ("zlib-rs", Box::new(|b| zlib_rs(level, b))),
            ("libdeflate", Box::new(|b| libdeflate(&mut compressor, b))),
        ];
        for (name, compress) in &mut compressors {
            if *name == "worker" && level != levels[0] {
                continue; // its level is fixed: measured once
            }
            if *name == "isal" && isal_level.is_none() {
                continue; // ISA-L has levels 0, 1 and 3
            }
            let (mut best, mut outputs) = (f64::MAX, Vec::new());
            for _ in 0..iters {
                let t = Instant::now();
                outputs = bodies.iter().map(|b| compress(b)).collect::<Vec<_>>();
                best = best.min(t.elapsed().as_secs_f64());
            }
            let out: usize = outputs.iter().map(Vec::len).sum();
            // ISA-L's inflate is the null sink's.
            let inflate = inflate_speed(&outputs, input, iters, &mut |gz, back| {
                isal::decompress_into(gz, back, isal::Codec::Gzip).expect("gunzip");
            });
            let mut decompressor = libdeflater::Decompressor::new();
            let inflate_libdeflate = inflate_speed(&outputs, input, iters, &mut |gz, back| {
                decompressor.gzip_decompress(gz, back).expect("gunzip");
            });
            for body in &bodies {
                let mut back = Vec::new();
                flate2::read::GzDecoder::new(compress(body).as_slice())
                    .read_to_end(&mut back)
                    .expect("gunzip");
                assert!(back == *body, "a gzip output does not inflate to its input");
            }
            let level = if *name == "worker" { 1 } else { level };
            println!(
                "{name:<12} {level:>5} {:>9.1} {:>7.3} {inflate:>12.1} {inflate_libdeflate:>12.1}",
                input as f64 / 1e6 / best,
                out as f64 / input as f64
            );
        }
    }
}
