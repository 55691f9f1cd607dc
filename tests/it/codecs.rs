//! Stored-fields codecs beyond Lucene's defaults and Lucene 10, written by real writers
//! (`tests/tools/codec-fixtures`) and read exactly: every live document equal to the writer's own dump, first
//! from the Lucene directory, then through a snapshot repository made of it.

use std::collections::BTreeMap;

use crate::codec_fixtures::{self, Shard};
use crate::lucene_fixtures::read_all;

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
