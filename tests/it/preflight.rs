//! The preflight end to end: `backfill plan` and `backfill apply` on the local platform, driven as a user runs
//! them, against a real `osmem-server` target and real snapshot repositories — the shared fixtures, and
//! repositories `make-snapshot` builds from the shared Lucene fixtures (a `_source`-disabled mapping; a segment
//! info codec renamed in a copy, its checksum made right again, so the reader reaches its codec check).
//! A plan with problems exits 1; an apply with problems refuses and leaves no state directory behind.

use crate::support;
use crate::synthetic;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

const SINGLE: &str = "ES_7_10_Single";
const SINGLE_SNAPSHOT: &str = "global_state_snapshot";

/// A migration directory whose `migration.yaml` names `repository`, `snapshot` and `target` (plus `extra` source
/// lines such as an index selection).
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new(repository: &Path, snapshot: &str, target: &str, extra: &str) -> Self {
        let dir = Dir {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        dir.write(repository, snapshot, target, extra);
        dir
    }

    fn write(&self, repository: &Path, snapshot: &str, target: &str, extra: &str) {
        let yaml = format!(
            "version: 1\nname: preflight\nsource:\n  repository: {}\n  snapshot: {snapshot}\n{extra}\
             target:\n  endpoint: {target}\nbackfill:\n  workers: 1\n",
            repository.display()
        );
        std::fs::write(self.dir.path().join("migration.yaml"), yaml).expect("config");
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(support::backfill_bin())
            .current_dir(self.dir.path())
            .args(["-c", "migration.yaml"])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run backfill")
    }

    /// `backfill plan` with `args`: its exit code and its stderr.
    fn plan(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.run(&[&["plan"], args].concat());
        (out.status.code(), stderr(&out))
    }

    /// `apply --auto-approve` refuses with the preflight's problems and creates nothing.
    fn assert_apply_refuses(&self) -> String {
        let out = self.run(&["apply", "--auto-approve"]);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains("apply refused: the preflight found"),
            "{text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(
            !self.dir.path().join(".backfill").exists(),
            "no state directory, no stacks: {text}"
        );
        text
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    support::shared_dir().join("fixtures/snapshots").join(name)
}

/// A port nothing listens on.
fn dead_target() -> String {
    format!("http://127.0.0.1:{}", support::free_port())
}

/// Live documents per index of a fixture snapshot, from its expected file.
fn expected_live_docs(name: &str) -> Vec<(String, u64)> {
    let path = support::shared_dir().join(format!("fixtures/expected/{name}.json"));
    let doc: Value = serde_json::from_slice(&std::fs::read(path).expect("expected")).expect("json");
    doc["snapshots"][0]["indices"]
        .as_array()
        .expect("indices")
        .iter()
        .map(|index| {
            let live = index["shards"]
                .as_array()
                .expect("shards")
                .iter()
                .map(|s| s["live_docs"].as_u64().expect("live_docs"))
                .sum();
            (index["name"].as_str().expect("name").to_string(), live)
        })
        .collect()
}

/// Bytes of every shard file, as `backfill snapshot verify` reads them one by one.
fn verified_bytes(repository: &Path, snapshot: &str) -> u64 {
    let out = Command::new(support::backfill_bin())
        .args(["--json", "snapshot", "verify", snapshot, "--repository"])
        .arg(repository)
        .output()
        .expect("verify");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("verify json");
    doc["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| s["bytes"].as_u64().expect("bytes"))
        .sum()
}

#[test]
fn plan_summarises_a_fixture_snapshot_exactly_and_detects_the_target() {
    let osmem = support::Osmem::start();
    let repository = fixture(SINGLE);
    let dir = Dir::new(&repository, SINGLE_SNAPSHOT, &osmem.url, "");
    let expected = expected_live_docs(SINGLE);
    let live: u64 = expected.iter().map(|(_, n)| n).sum();
    let bytes = verified_bytes(&repository, SINGLE_SNAPSHOT);

    let (code, text) = dir.plan(&["--detailed-exitcode"]);
    assert_eq!(code, Some(2), "changes, no problem: {text}");
    assert!(text.contains("preflight: ok"), "{text}");
    assert!(
        text.contains(&format!(
            "{} indices, {} shards, {live} live documents, {bytes} bytes of shard data",
            expected.len(),
            expected.len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("target: {} is OpenSearch ", osmem.url)),
        "{text}"
    );

    let out = dir.run(&["--json", "plan"]);
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    let preflight = &plan["preflight"];
    assert_eq!(preflight["checked"]["source"], true, "{preflight}");
    assert_eq!(preflight["checked"]["target"], true, "{preflight}");
    assert_eq!(preflight["problems"], serde_json::json!([]), "{preflight}");
    assert_eq!(preflight["source"]["live_documents"], live, "{preflight}");
    assert_eq!(preflight["source"]["bytes"], bytes, "{preflight}");
    let per_index: Vec<(String, u64)> = preflight["source"]["per_index"]
        .as_array()
        .expect("per_index")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().expect("name").to_string(),
                i["live_documents"].as_u64().expect("live"),
            )
        })
        .collect();
    assert_eq!(per_index, expected);
    assert_eq!(preflight["target"]["distribution"], "opensearch");

    // A target index that already holds documents is a warning, not a problem.
    let (index, _) = &expected[0];
    let put = Command::new("curl")
        .args(["-s", "-XPUT", "-H", "content-type: application/json"])
        .arg(format!(
            "{}/{index}/_doc/already-there?refresh=true",
            osmem.url
        ))
        .args(["-d", r#"{"title":"before the migration"}"#])
        .output()
        .expect("curl");
    assert!(put.status.success());
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "warning: target index {index}: it already holds 1 document(s)"
        )),
        "{text}"
    );
}

#[test]
fn a_missing_repository_is_named_and_apply_changes_nothing() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("no-such-repo");
    let dir = Dir::new(&missing, "snap", &osmem.url, "");
    let (code, text) = dir.plan(&["--detailed-exitcode"]);
    assert_eq!(code, Some(1), "a problem is an error, never 2: {text}");
    assert!(
        text.contains(&format!(
            "problem: repository {}: the source repository cannot be read: no such directory",
            missing.display()
        )),
        "{text}"
    );
    assert!(text.contains("way out: check source.repository"), "{text}");
    assert!(
        text.contains("the preflight found 1 problem (listed above)"),
        "{text}"
    );
    dir.assert_apply_refuses();
}

#[test]
fn a_missing_snapshot_is_named_with_the_snapshots_that_exist() {
    let osmem = support::Osmem::start();
    let dir = Dir::new(&fixture(SINGLE), "nightly", &osmem.url, "");
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "has no snapshot `nightly`; it has: {SINGLE_SNAPSHOT}"
        )),
        "{text}"
    );
    dir.assert_apply_refuses();
}

#[test]
fn a_selection_that_matches_nothing_lists_the_indices_there_are() {
    let osmem = support::Osmem::start();
    let dir = Dir::new(
        &fixture(SINGLE),
        SINGLE_SNAPSHOT,
        &osmem.url,
        "  indices:\n    include: [\"orders-*\"]\n",
    );
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("selects no index of snapshot global_state_snapshot; the snapshot holds: posts_2023_02_25, posts_2024_01_01"),
        "{text}"
    );
    dir.assert_apply_refuses();
}

#[test]
fn an_index_with_source_disabled_is_refused_with_the_way_out() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mappings = tmp.path().join("mappings.json");
    std::fs::write(
        &mappings,
        r#"{"_doc": {"_source": {"enabled": false}, "properties": {"title": {"type": "text"}}}}"#,
    )
    .expect("mappings");
    let repository = tmp.path().join("repo");
    let shard = support::shared_dir().join("fixtures/lucene/v8-best_speed-1seg/index");
    synthetic::make_snapshot(
        &repository,
        "snap",
        &[("logs", vec![shard])],
        &["--mappings", mappings.to_str().expect("utf8")],
    );
    let dir = Dir::new(&repository, "snap", &osmem.url, "");
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("problem: index logs: `_source` is disabled in its mapping"),
        "{text}"
    );
    assert!(
        text.contains("way out: exclude it: add \"logs\" to source.indices.exclude"),
        "{text}"
    );
    // The summary still says what is there (300 documents in the fixture shard).
    assert!(
        text.contains("1 index, 1 shard, 300 live documents"),
        "{text}"
    );
    dir.assert_apply_refuses();
}

#[test]
fn an_index_with_two_mapping_types_is_refused_until_types_can_be_mapped() {
    let osmem = support::Osmem::start();
    let dir = Dir::new(
        &fixture("ES_5_6_Updates_Deletes"),
        "rfs_snapshot",
        &osmem.url,
        "",
    );
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("problem: index test_updates_deletes: it has 2 mapping types (type2, type1)"),
        "{text}"
    );
}

/// A copy of a shard written by Lucene 8.8 whose `.si` names a segment info codec the reader does not implement,
/// with its CRC recomputed, so every check before the codec passes.
fn shard_with_an_unknown_segment_info_codec(dir: &Path) -> PathBuf {
    shard_with_a_renamed_codec(dir, "_0.si", b"Lucene86SegmentInfo", b"Lucene99SegmentInfo")
}

/// A copy of a shard written by Lucene 8.8 whose `file` header names the codec `to` instead of `from` (of the
/// same length), with its CRC recomputed.
fn shard_with_a_renamed_codec(dir: &Path, file: &str, from: &[u8], to: &[u8]) -> PathBuf {
    let shard = dir.join("shard");
    support::copy_dir(
        &support::shared_dir().join("fixtures/lucene/v8-best_speed-1seg/index"),
        &shard,
    );
    let path = shard.join(file);
    let mut bytes = std::fs::read(&path).expect("file");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("codec name in the header");
    bytes[at..at + to.len()].copy_from_slice(to);
    let body = bytes.len() - 8;
    let crc = u64::from(crc32fast::hash(&bytes[..body]));
    bytes[body..].copy_from_slice(&crc.to_be_bytes());
    // The copy keeps the fixture's read-only mode: replace the file rather than write into it.
    std::fs::remove_file(&path).expect("remove");
    std::fs::write(&path, &bytes).expect("write");
    shard
}

/// `backfill plan` of a snapshot (in `tmp`) whose one index `logs` is the Lucene directory `shard`: the
/// migration's directory, the exit code and stderr.
fn plan_of_one_shard(tmp: &Path, shard: PathBuf, target: &str) -> (Dir, Option<i32>, String) {
    let repository = tmp.join("repo");
    synthetic::make_snapshot(&repository, "snap", &[("logs", vec![shard])], &[]);
    let dir = Dir::new(&repository, "snap", target, "");
    let (code, text) = dir.plan(&[]);
    (dir, code, text)
}

#[test]
fn a_segment_info_codec_the_reader_lacks_is_refused_naming_the_codec_and_the_file() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let shard = shard_with_an_unknown_segment_info_codec(tmp.path());
    let (dir, code, text) = plan_of_one_shard(tmp.path(), shard, &osmem.url);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("problem: index logs, shard 0, file _0.si: unsupported segment info codec `Lucene99SegmentInfo`"),
        "{text}"
    );
    let out = dir.run(&["--json", "plan"]);
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    assert_eq!(
        plan["preflight"]["problems"][0]["kind"],
        "unsupported_format"
    );
    dir.assert_apply_refuses();
}

#[test]
fn a_stored_fields_codec_the_reader_lacks_is_refused_at_plan_time_naming_it_and_the_file() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    // The same length as the real name: a stored-fields format from a plugin this reader does not know.
    let shard = shard_with_a_renamed_codec(
        tmp.path(),
        "_0.fdt",
        b"Lucene87StoredFieldsFastData",
        b"QatZstdStoredFieldsFastData9",
    );
    let (dir, code, text) = plan_of_one_shard(tmp.path(), shard, &osmem.url);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "problem: index logs, shard 0, file _0.fdt: unsupported stored fields format \
             `QatZstdStoredFieldsFastData9` of segment codec `Lucene87`"
        ),
        "{text}"
    );
    dir.assert_apply_refuses();
}

#[test]
fn a_segment_with_synthetic_ids_is_refused_at_plan_time_and_by_the_worker_never_read_as_empty() {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let shard = tmp.path().join("lucene-metrics-0");
    let report = synthetic::write_synthetic_id_shard(&shard, 12);
    assert_eq!(report["docs"], 12, "{report}");
    let (dir, code, text) = plan_of_one_shard(tmp.path(), shard, &osmem.url);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "problem: index logs, shard 0, file _0.fnm: unsupported `_id` storage `synthetic `_id` \
             (SyntheticIdField.enabled: an Elasticsearch time_series index with synthetic ids stores no `_id`"
        ),
        "{text}"
    );
    dir.assert_apply_refuses();
    // A worker run by hand never takes the documents for Lucene-internal ones (no stored id): it stops on the
    // shard with the same cause, and nothing lands.
    let out = dir.run(&["worker", "--id", "w1"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("SyntheticIdField.enabled"), "{text}");
    assert_eq!(support::doc_count(&osmem.url, "logs"), 0);
}

#[test]
fn a_dead_target_is_refused_and_a_silent_one_within_the_preflight_timeout() {
    let dir = Dir::new(&fixture(SINGLE), SINGLE_SNAPSHOT, &dead_target(), "");
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("the target cannot be reached"), "{text}");
    // The source was still checked: every problem is listed at once, next to the summary.
    assert!(
        text.contains("2 indices, 2 shards, 4 live documents"),
        "{text}"
    );
    dir.assert_apply_refuses();

    // A target that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    dir.write(&fixture(SINGLE), SINGLE_SNAPSHOT, &url, "");
    let started = Instant::now();
    let (code, text) = dir.plan(&[]);
    eprintln!("plan against a silent target took {:?}", started.elapsed());
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("the target did not answer within 10 s"),
        "{text}"
    );
}

#[test]
fn plan_offline_checks_no_network_and_says_what_it_did_not_check() {
    let target = dead_target();
    let dir = Dir::new(&fixture(SINGLE), SINGLE_SNAPSHOT, &target, "");
    let (code, text) = dir.plan(&["--offline"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("preflight: ok, not everything was checked"),
        "{text}"
    );
    assert!(
        text.contains(&format!("not checked: the target {target}")),
        "{text}"
    );
    // A repository on a filesystem is no network: it is still read.
    assert!(
        text.contains("2 indices, 2 shards, 4 live documents"),
        "{text}"
    );

    // A repository in S3 is: with --offline nothing at all is checked, and the plan says so.
    dir.write(Path::new("s3://no-such-bucket/repo"), "snap", &target, "");
    let (code, text) = dir.plan(&["--offline"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("preflight: nothing was checked"), "{text}");
    assert!(
        text.contains("not checked: the source repository s3://no-such-bucket/repo"),
        "{text}"
    );
}

#[test]
fn a_saved_plan_is_checked_again_before_apply() {
    let osmem = support::Osmem::start();
    let dir = Dir::new(&fixture(SINGLE), SINGLE_SNAPSHOT, &osmem.url, "");
    let (code, text) = dir.plan(&["--out", "plan.json"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(dir.dir.path().join("plan.json").exists());
    // The target goes away between plan and apply.
    drop(osmem);
    let out = dir.run(&["apply", "plan.json"]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("the target cannot be reached"), "{text}");
    assert!(text.contains("apply refused"), "{text}");
    assert!(!dir.dir.path().join(".backfill").exists(), "{text}");

    // A plan with problems is not saved.
    let (code, text) = dir.plan(&["--out", "broken.json"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("The plan was not saved to broken.json"),
        "{text}"
    );
    assert!(!dir.dir.path().join("broken.json").exists());
}

#[test]
fn a_paused_migration_starts_no_worker_and_is_not_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = Dir::new(&tmp.path().join("gone"), "snap", &dead_target(), "");
    let config = dir.dir.path().join("migration.yaml");
    let yaml = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{yaml}  state: paused\n")).expect("paused");
    let (code, text) = dir.plan(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("preflight: nothing was checked"), "{text}");
    assert!(
        text.contains("not checked: the source and the target: backfill.state is paused"),
        "{text}"
    );
}
