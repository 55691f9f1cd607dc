//! Shards written by real writers of the codecs beyond Lucene's defaults: `tests/tools/codec-fixtures` (lucene-gen
//! with Elasticsearch's zstd stored fields, OpenSearch custom-codecs' `zstd`/`zstd_no_dict`, k-NN codec names, on
//! Lucene 9.9; and Lucene 10.5). Each shard comes with the writer's own dump of its live documents.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::synthetic::run;

/// The fixture writer.
pub fn tool() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/codec-fixtures/codec-fixtures")
}

/// One shard: `flavor` `v9`/`v10`, `codec` as the tool names them, lucene-gen `write` options after `--dir`.
pub struct Shard {
    pub dir: PathBuf,
    /// The writer's dump: `{id, routing, source}` per live document, in reading order.
    pub expected: Vec<Value>,
    /// `info` of the commit (segments with their codec and attributes).
    pub info: Value,
}

/// Writes a shard of `docs` documents under `dir` and dumps it with the same classes.
pub fn write(dir: &Path, flavor: &str, codec: &str, docs: usize, options: &[&str]) -> Shard {
    let dir_arg = dir.to_str().expect("utf8 path");
    let n = docs.to_string();
    let mut write = Command::new(tool());
    write
        .args([flavor, codec, "write", "--dir", dir_arg, "--n", &n])
        .args(options);
    run(
        &mut write,
        &format!("codec-fixtures {flavor} {codec} write"),
    );
    let dump = run(
        Command::new(tool()).args([flavor, codec, "dump", "--dir", dir_arg, "--out", "-"]),
        "codec-fixtures dump",
    );
    let expected = String::from_utf8_lossy(&dump)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("dump line");
            serde_json::json!({ "id": v["id"], "routing": v["routing"], "source": v["source"] })
        })
        .collect();
    let info = run(
        Command::new(tool()).args([flavor, codec, "info", "--dir", dir_arg]),
        "codec-fixtures info",
    );
    Shard {
        dir: dir.to_path_buf(),
        expected,
        info: serde_json::from_slice(&info).expect("info is JSON"),
    }
}

/// The codec names the commit's segments carry.
pub fn segment_codecs(info: &Value) -> Vec<String> {
    info["segments"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["codec"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
