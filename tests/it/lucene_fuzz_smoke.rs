//! Deterministic fuzzing of the parsers with mutated real files: bytes flipped, files truncated, garbage
//! inserted — with the footer CRC recomputed half the time so the mutation reaches the parser behind the
//! checksum. Every run must end in documents or an error, never a panic or a hang. (The coverage-guided
//! `cargo fuzz` needs a nightly toolchain, which this project's machines do not have.)

use crate::support;

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use backfill::lucene::{Directory, ShardIndex};

#[derive(Clone)]
struct MemDirectory(BTreeMap<String, Vec<u8>>);

impl Directory for MemDirectory {
    fn file_names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn file_len(&self, name: &str) -> io::Result<u64> {
        self.0
            .get(name)
            .map(|d| d.len() as u64)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let data = self
            .0
            .get(name)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let start =
            usize::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        let end = start
            .checked_add(buf.len())
            .filter(|e| *e <= data.len())
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(&data[start..end]);
        Ok(())
    }
}

/// xorshift: the same mutations on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fix_crc(data: &mut [u8]) {
    if data.len() >= 16 {
        let n = data.len();
        let crc = crc32fast::hash(&data[..n - 8]);
        data[n - 8..].copy_from_slice(&u64::from(crc).to_be_bytes());
    }
}

fn read_everything(dir: MemDirectory) -> Result<usize, String> {
    let index = ShardIndex::open(Arc::new(dir), None).map_err(|e| e.to_string())?;
    let mut n = 0;
    for doc in index.documents(0) {
        doc.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

fn load(name: &str) -> MemDirectory {
    load_dir(
        &support::shared_dir()
            .join("fixtures/lucene")
            .join(name)
            .join("index"),
    )
}

fn load_dir(root: &std::path::Path) -> MemDirectory {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(root).expect("fixture").flatten() {
        files.insert(
            entry.file_name().to_string_lossy().to_string(),
            std::fs::read(entry.path()).expect("file"),
        );
    }
    MemDirectory(files)
}

/// `rounds` mutations of files of `base` chosen by `pick` (bytes flipped, truncated, garbage inserted; the
/// footer CRC recomputed every other round), each read in full: counts of (read, refused).
fn mutate_and_read(
    base: &MemDirectory,
    rng: &mut Rng,
    rounds: usize,
    pick: impl Fn(&str) -> bool,
    outcomes: &mut (usize, usize),
) {
    let names: Vec<String> = base.file_names().into_iter().filter(|n| pick(n)).collect();
    for round in 0..rounds {
        let mut dir = base.clone();
        let name = names[rng.below(names.len())].clone();
        let data = dir.0.get_mut(&name).expect("file");
        match round % 3 {
            0 => {
                for _ in 0..=rng.below(4) {
                    let at = rng.below(data.len());
                    data[at] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let len = rng.below(data.len());
                data.truncate(len);
            }
            _ => {
                let at = rng.below(data.len());
                let garbage: Vec<u8> = (0..=rng.below(16)).map(|_| rng.next() as u8).collect();
                data.splice(at..at, garbage);
            }
        }
        if round % 2 == 0 {
            fix_crc(data);
        }
        match read_everything(dir) {
            Ok(_) => outcomes.0 += 1,
            Err(message) => {
                assert!(!message.is_empty());
                outcomes.1 += 1;
            }
        }
    }
}

#[test]
fn mutated_lucene_files_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut outcomes = (0, 0);
    for fixture in [
        "v8-best_speed-4seg-cfs-del",
        "v9-best_compression-4seg-cfs-del",
        "v8-best_compression-1seg",
        "v9-best_speed-1seg",
    ] {
        mutate_and_read(&load(fixture), &mut rng, 150, |_| true, &mut outcomes);
    }
    assert!(
        outcomes.1 > 300,
        "most mutations must be detected: {outcomes:?}"
    );
}

#[test]
fn random_bytes_into_every_parser_entry_point_never_panic() {
    use backfill::lucene::fuzzing;
    let mut rng = Rng(0xdead_beef_0bad_f00d);
    let entries: [fn(&[u8]); 8] = [
        fuzzing::segments_n,
        fuzzing::segment_info,
        fuzzing::compound_entries,
        fuzzing::field_infos,
        fuzzing::live_docs,
        fuzzing::doc_values_and_disi,
        fuzzing::stored_fields_chunk,
        fuzzing::zstd,
    ];
    for _ in 0..2000 {
        let len = rng.below(600);
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for entry in entries {
            entry(&data);
        }
        let _ = backfill::snapshot::smile::decode(&data);
    }
}

#[test]
fn mutated_zstd_stored_fields_never_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x25d0_0000_0000_5eed);
    let mut outcomes = (0, 0);
    for codec in ["es814", "zstd", "zstd_no_dict"] {
        let dir = tmp.path().join(codec);
        crate::codec_fixtures::write(
            &dir,
            "v9",
            codec,
            200,
            &["--mode", "BEST_SPEED", "--max-buffered-docs", "100"],
        );
        let base = load_dir(&dir);
        mutate_and_read(&base, &mut rng, 150, |n| n.ends_with(".fdt"), &mut outcomes);
    }
    assert!(
        outcomes.1 > 150,
        "most mutations must be detected: {outcomes:?}"
    );
}
