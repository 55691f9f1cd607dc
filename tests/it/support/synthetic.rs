//! Synthetic snapshot repositories for end-to-end tests: shards written by real Lucene (`lucene-gen`, Lucene
//! 8.8) and wrapped into an Elasticsearch 7.10 repository by `make-snapshot`, both from `../shared/tools`.
//! Each shard gets its own seed so ids never repeat across shards; the expected documents come from
//! `lucene-gen dump` of each shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One expected document.
#[derive(Debug, Clone)]
pub struct ExpectedDoc {
    pub id: String,
    pub source: String,
}

/// A repository and what it must yield, per index.
pub struct SyntheticSnapshot {
    pub repository: PathBuf,
    pub snapshot: String,
    pub expected: BTreeMap<String, Vec<ExpectedDoc>>,
}

impl SyntheticSnapshot {
    pub fn total(&self) -> usize {
        self.expected.values().map(Vec::len).sum()
    }
}

fn tool(name: &str) -> PathBuf {
    crate::support::shared_dir()
        .join("tools")
        .join(name)
        .join(name)
}

pub fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Writes one shard of `docs` documents with real Lucene; returns lucene-gen's report of it (`source_bytes`,
/// `index_bytes`, …). `extra` are more `lucene-gen write` options (`--doc-bytes B`).
fn write_shard(shard_dir: &Path, docs: usize, seed: u32, extra: &[&str]) -> Value {
    let report = run(
        Command::new(tool("lucene-gen"))
            .args([
                "v8",
                "write",
                "--dir",
                shard_dir.to_str().expect("utf8"),
                "--n",
                &docs.to_string(),
                "--mode",
                "BEST_SPEED",
                "--seed",
                &seed.to_string(),
                "--force-merge",
            ])
            .args(extra),
        "lucene-gen write",
    );
    serde_json::from_slice(&report).expect("lucene-gen write reports one JSON line")
}

/// A repository under `dir` with one index of one shard of `docs` documents of about `doc_bytes` bytes each,
/// for shards too large to compare document by document (no expected documents are dumped). Returns the
/// repository and lucene-gen's report of the shard.
pub fn build_one_shard(dir: &Path, index: &str, docs: usize, doc_bytes: usize) -> (PathBuf, Value) {
    let repository = dir.join("repo");
    let shard_dir = dir.join(format!("lucene-{index}-0"));
    let report = write_shard(
        &shard_dir,
        docs,
        1,
        &["--doc-bytes", &doc_bytes.to_string()],
    );
    make_snapshot(&repository, "snap", &[(index, vec![shard_dir])], &[]);
    (repository, report)
}

/// Builds a repository under `dir` with `indices` = (name, shards, docs per shard).
pub fn build(dir: &Path, indices: &[(&str, usize, usize)]) -> SyntheticSnapshot {
    build_named(dir, "snap", 0, indices)
}

/// [`build`] with the snapshot named `snapshot` and its uuid generated from `uuid_seed`.
pub fn build_named(
    dir: &Path,
    snapshot: &str,
    uuid_seed: u32,
    indices: &[(&str, usize, usize)],
) -> SyntheticSnapshot {
    let repository = dir.join("repo");
    let mut shards_of = Vec::new();
    let mut expected = BTreeMap::new();
    let mut seed = 1;
    for (name, shards, docs) in indices {
        let mut dirs = Vec::new();
        let mut docs_of_index = Vec::new();
        for shard in 0..*shards {
            let shard_dir = dir.join(format!("lucene-{name}-{shard}"));
            write_shard(&shard_dir, *docs, seed, &[]);
            seed += 1;
            let dump = run(
                Command::new(tool("lucene-gen")).args([
                    "v8",
                    "dump",
                    "--dir",
                    shard_dir.to_str().expect("utf8"),
                    "--out",
                    "-",
                ]),
                "lucene-gen dump",
            );
            for line in String::from_utf8_lossy(&dump).lines() {
                let v: Value = serde_json::from_str(line).expect("dump line");
                docs_of_index.push(ExpectedDoc {
                    id: v["id"].as_str().expect("id").to_string(),
                    source: v["source"].as_str().expect("source").to_string(),
                });
            }
            dirs.push(shard_dir);
        }
        let distinct: std::collections::HashSet<&str> =
            docs_of_index.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(distinct.len(), docs_of_index.len(), "ids repeat in {name}");
        shards_of.push((*name, dirs));
        expected.insert(name.to_string(), docs_of_index);
    }
    let seed = uuid_seed.to_string();
    make_snapshot(&repository, snapshot, &shards_of, &["--seed", &seed]);
    SyntheticSnapshot {
        repository,
        snapshot: snapshot.into(),
        expected,
    }
}

/// Wraps Lucene directories (one per shard, per index) into an Elasticsearch 7.10 repository at `out` holding
/// the one snapshot `snapshot`, with `make-snapshot` and its `extra` arguments (e.g. `--mappings FILE`).
pub fn make_snapshot(out: &Path, snapshot: &str, indices: &[(&str, Vec<PathBuf>)], extra: &[&str]) {
    make_snapshot_as(out, snapshot, "es7", indices, extra);
}

/// [`make_snapshot`] claiming `version` (`es7`, `os2`: Lucene 9 shards, `os3`: Lucene 10 shards).
pub fn make_snapshot_as(
    out: &Path,
    snapshot: &str,
    version: &str,
    indices: &[(&str, Vec<PathBuf>)],
    extra: &[&str],
) {
    let mut args: Vec<String> = vec![
        "--out".into(),
        out.display().to_string(),
        "--snapshot".into(),
        snapshot.into(),
        "--version".into(),
        version.into(),
    ];
    for (name, dirs) in indices {
        let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        args.push("--index".into());
        args.push(format!("{name}:{}", dirs.join(",")));
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    run(
        Command::new(tool("make-snapshot")).args(&args),
        "make-snapshot",
    );
}

/// Where Debian's liblucene8-java puts Lucene 8.8.1 (the jar is named 8.7.0; see lucene-gen's README).
const DEBIAN_LUCENE8_JAR: &str = "/usr/share/java/lucene-core-8.7.0.jar";

/// Writes one Lucene 8 shard at `shard_dir` whose documents are not all sendable (`support/java/
/// SourcelessShard.java`, real Lucene): ids `doc:<i>` for `i` in `0..docs` with `_source` `{"n":i}`, except
/// every `sourceless_every`-th (`i % K == 0`), stored without `_source`; every `nested_every`-th
/// (`i % N == 1`) has a nested document (no stored id, no source) before it. Returns the program's report
/// (`docs`, `without_source`, `nested`, `max_doc`).
pub fn write_sourceless_shard(
    shard_dir: &Path,
    docs: usize,
    sourceless_every: usize,
    nested_every: usize,
) -> Value {
    let args = [docs, sourceless_every, nested_every].map(|n| n.to_string());
    run_lucene8_program("SourcelessShard.java", shard_dir, &args)
}

/// Writes one Lucene 8 shard shaped like an Elasticsearch 5.x multi-type index (`support/java/
/// MultiTypeShard.java`, real Lucene; documents carry `_uid` `type#id`): `order#i` for `i` in `0..docs`,
/// `refund#i` for even `i` (the same ids), `note#i` for `i % 5 == 0`. Returns the count per type.
pub fn write_multi_type_shard(shard_dir: &Path, docs: usize) -> Value {
    run_lucene8_program("MultiTypeShard.java", shard_dir, &[docs.to_string()])
}

/// A shard whose `_id` is marked as Elasticsearch marks a synthetic `_id` (`support/java/SyntheticIdShard.java`,
/// real Lucene: the attribute `SyntheticIdField.enabled` in `.fnm`, the id not stored), `docs` documents with
/// `_source`. Returns the program's report.
pub fn write_synthetic_id_shard(shard_dir: &Path, docs: usize) -> Value {
    run_lucene8_program("SyntheticIdShard.java", shard_dir, &[docs.to_string()])
}

/// Runs `support/java/<program>` on Debian's Lucene 8 with the shard directory and `args`; its one JSON line.
fn run_lucene8_program(program: &str, shard_dir: &Path, args: &[String]) -> Value {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/support/java")
        .join(program);
    assert!(
        Path::new(DEBIAN_LUCENE8_JAR).is_file(),
        "{DEBIAN_LUCENE8_JAR} is missing: install liblucene8-java (scripts/test does)"
    );
    let report = run(
        Command::new("java")
            .args(["-cp", DEBIAN_LUCENE8_JAR])
            .arg(source)
            .arg(shard_dir)
            .args(args),
        program,
    );
    serde_json::from_slice(&report).expect("the program reports one JSON line")
}

/// [`make_snapshot`] for indices whose mapping holds several types (Elasticsearch 5.x style, `mappings`: a
/// JSON object of type → body). `make-snapshot` accepts one type only, so this runs it with that one check
/// lifted (everything else, the metadata blobs included, is the tool's own writing) and fails loudly if the
/// check is no longer where it was.
pub fn make_multi_type_snapshot(
    out: &Path,
    snapshot: &str,
    indices: &[(&str, Vec<PathBuf>)],
    mappings: &Path,
) {
    const LIFT: &str = "import sys\npath = sys.argv[1]\nsrc = open(path, encoding='utf-8').read()\n\
        check = 'len(mappings) == 1'\nassert src.count(check) == 1, 'make-snapshot changed: ' + check\n\
        sys.argv = ['make-snapshot'] + sys.argv[2:]\n\
        exec(compile(src.replace(check, 'len(mappings) >= 1'), path, 'exec'), {'__name__': '__main__'})\n";
    let mut command = Command::new("python3");
    command
        .args(["-c", LIFT])
        .arg(tool("make-snapshot"))
        .args([
            "--out",
            &out.display().to_string(),
            "--snapshot",
            snapshot,
            "--version",
            "es7",
        ])
        .args(["--mappings", &mappings.display().to_string()]);
    for (name, dirs) in indices {
        let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        command.args(["--index", &format!("{name}:{}", dirs.join(","))]);
    }
    run(&mut command, "make-snapshot (several mapping types)");
}
