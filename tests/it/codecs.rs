//! Stored-fields codecs beyond Lucene's defaults and Lucene 10, written by real writers
//! (`tests/tools/codec-fixtures`) and read exactly: every live document equal to the writer's own dump, from the
//! Lucene directory, and end to end: snapshot repositories made of them (OpenSearch 2 and 3) migrated into osmem
//! by `backfill worker`.

use std::collections::BTreeMap;
use std::process::Command;

use crate::codec_fixtures::{self, Shard};
use crate::lucene_fixtures::read_all;
use crate::{support, synthetic};

/// One fixture: flavor (`v9` Lucene 9.9, `v10` Lucene 10.5), codec as the writer names it, stored-fields mode,
/// and the codec name its segments must carry.
type Case = (&'static str, &'static str, &'static str, &'static str);

/// Lucene 10 with Lucene's own stored fields, and k-NN codec names over Lucene's stored fields.
const LUCENE_AND_KNN: &[Case] = &[
    ("v10", "lucene104", "BEST_SPEED", "Lucene104"),
    ("v10", "lucene104", "BEST_COMPRESSION", "Lucene104"),
    ("v9", "knn990", "BEST_SPEED", "KNN990Codec"),
    ("v9", "knn9120", "BEST_COMPRESSION", "KNN9120Codec"),
    ("v10", "knn10010", "BEST_SPEED", "KNN10010Codec"),
];

/// zstd stored fields: Elasticsearch's (no dictionary) and custom-codecs' (with and without one), also under
/// k-NN codec names and on Lucene 10.
const ZSTD: &[Case] = &[
    ("v9", "es814", "BEST_SPEED", "Elasticsearch814"),
    ("v9", "es814", "BEST_COMPRESSION", "Elasticsearch814"),
    ("v9", "zstd", "BEST_SPEED", "ZSTD99"),
    ("v9", "zstd_no_dict", "BEST_SPEED", "ZSTDNODICT99"),
    ("v9", "knn990+zstd", "BEST_SPEED", "KNN990Codec"),
    ("v9", "knn990+zstd_no_dict", "BEST_SPEED", "KNN990Codec"),
    (
        "v10",
        "es900",
        "BEST_COMPRESSION",
        "Elasticsearch900Lucene101",
    ),
    ("v10", "knn10010+zstd", "BEST_SPEED", "KNN10010Codec"),
];

/// Every live document of the shard equal to the writer's dump, in order.
fn check(shard: &Shard) -> Result<(), String> {
    let got = read_all(&shard.dir)?;
    if got.len() != shard.expected.len() {
        return Err(format!(
            "{} live documents, the writer dumped {}",
            got.len(),
            shard.expected.len()
        ));
    }
    match got.iter().zip(&shard.expected).position(|(g, e)| g != e) {
        Some(i) => Err(format!(
            "document {i} differs: {} != {}",
            got[i], shard.expected[i]
        )),
        None => Ok(()),
    }
}

/// Writes each case as several segments (compound and not, with deletes: every path of the segment reader)
/// and reads it; fails listing every case that did not read exactly.
fn read_cases(cases: &[Case]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut failures = BTreeMap::new();
    for (flavor, codec, mode, segment_codec) in cases {
        let what = format!("{flavor} {codec} {mode}");
        let dir = tmp.path().join(what.replace([' ', '+'], "-"));
        let shard = codec_fixtures::write(
            &dir,
            flavor,
            codec,
            700,
            &[
                "--mode",
                mode,
                "--max-buffered-docs",
                "300",
                "--delete-every",
                "7",
                "--cfs",
            ],
        );
        let codecs = codec_fixtures::segment_codecs(&shard.info);
        assert!(
            codecs.len() == 3 && codecs.iter().all(|c| c == segment_codec),
            "{what}: segments name {codecs:?}"
        );
        if let Err(e) = check(&shard) {
            failures.insert(what, e.chars().take(400).collect::<String>());
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn lucene_10_and_knn_segments_read_exactly_as_their_writer_dumps() {
    read_cases(LUCENE_AND_KNN);
}

#[test]
fn zstd_stored_fields_read_exactly_as_their_writer_dumps() {
    read_cases(ZSTD);
}

/// Shards of these codecs wrapped into a snapshot repository claiming `version`, migrated by one
/// `backfill worker` into osmem: every live document lands with its exact source, and nothing else.
fn migrate_into_osmem(version: &str, shards: &[(&str, &str, &str, &str)]) {
    let osmem = support::Osmem::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut written = Vec::new();
    let mut indices = Vec::new();
    for (index, flavor, codec, mode) in shards {
        let shard = codec_fixtures::write(
            &tmp.path().join(index),
            flavor,
            codec,
            400,
            &[
                "--mode",
                mode,
                "--max-buffered-docs",
                "150",
                "--delete-every",
                "9",
            ],
        );
        indices.push((*index, vec![shard.dir.clone()]));
        written.push((*index, shard));
    }
    let repository = tmp.path().join("repo");
    synthetic::make_snapshot_as(&repository, "snap", version, &indices, &[]);
    let config = tmp.path().join("migration.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 1\nname: codecs\nsource:\n  repository: {}\n  snapshot: snap\ntarget:\n  endpoint: {}\n",
            repository.display(),
            osmem.url
        ),
    )
    .expect("config");
    let out = Command::new(support::backfill_bin())
        .args(["-c", config.to_str().expect("utf8"), "worker", "--id", "w1"])
        .output()
        .expect("run worker");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (index, shard) in &written {
        for doc in &shard.expected {
            support::assert_document_landed(&osmem.url, index, doc, &format!("{version}: "));
        }
        assert_eq!(
            support::doc_count(&osmem.url, index),
            shard.expected.len() as u64,
            "{version}: {index} count"
        );
    }
}

#[test]
fn zstd_and_knn_shards_of_an_opensearch_2_snapshot_migrate_exactly_into_osmem() {
    migrate_into_osmem(
        "os2",
        &[
            ("es-zstd", "v9", "es814", "BEST_COMPRESSION"),
            ("os-zstd", "v9", "zstd", "BEST_SPEED"),
            (
                "knn-zstd-no-dict",
                "v9",
                "knn990+zstd_no_dict",
                "BEST_SPEED",
            ),
        ],
    );
}

#[test]
fn lucene_10_shards_of_an_opensearch_3_snapshot_migrate_exactly_into_osmem() {
    migrate_into_osmem(
        "os3",
        &[
            ("lucene10", "v10", "lucene104", "BEST_SPEED"),
            ("es9-zstd", "v10", "es900", "BEST_COMPRESSION"),
            ("knn10-zstd", "v10", "knn10010+zstd", "BEST_SPEED"),
        ],
    );
}
