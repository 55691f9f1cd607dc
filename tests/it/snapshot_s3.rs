//! The S3 blob source against a real S3 API (moto_server): a fixture repository uploaded to a bucket reads
//! exactly like the same repository on disk, through `backfill snapshot` with the standard endpoint override,
//! and through the library (a source over a given SDK configuration, not the process environment) with stored
//! fields read ahead on a background thread.

use crate::support;

use std::process::Command;
use std::sync::Arc;

use backfill::config::{Location, S3Location};
use backfill::lucene::StoredDocument;
use backfill::snapshot::{BlobSource, FsBlobSource, Repository, S3BlobSource};

/// Every stored document of every shard of `index`, reading stored fields `block` bytes at a time.
fn stored_documents(source: Arc<dyn BlobSource>, index: &str, block: usize) -> Vec<StoredDocument> {
    let repo = Repository::open(source).expect("repository");
    let snapshot = repo.snapshot("snap-es7").expect("snapshot");
    let index = repo.index(&snapshot, index).expect("index");
    (0..index.shards)
        .flat_map(|shard| {
            let open = repo.open_shard(&snapshot, &index, shard).expect("shard");
            let docs: Vec<StoredDocument> = open
                .lucene
                .documents(0)
                .with_read_block(block)
                .map(|d| d.expect("document"))
                .collect();
            docs
        })
        .collect()
}

#[test]
fn a_repository_in_s3_reads_like_the_same_repository_on_disk() {
    let moto = support::Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&moto.url)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load(),
    );
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    rt.block_on(client.create_bucket().bucket("snapshots").send())
        .expect("bucket");
    let fixture = support::shared_dir().join("fixtures/lucene/snapshots/es7-v8-multipart");
    support::upload_dir(&client, &rt, &fixture, "snapshots", "repos/es7");

    let run = |repo: &str| {
        let out = Command::new(support::backfill_bin())
            .args([
                "snapshot",
                "docs",
                "snap-es7",
                "events",
                "--repository",
                repo,
            ])
            .envs(moto.env())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{repo}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf8")
    };
    let from_s3 = run("s3://snapshots/repos/es7");
    let from_disk = run(fixture.to_str().expect("utf8"));
    assert_eq!(from_s3.lines().count(), from_disk.lines().count());
    assert!(from_s3.lines().count() > 500, "both shards read");
    assert!(
        from_s3 == from_disk,
        "S3 and filesystem yield the same documents"
    );

    let out = Command::new(support::backfill_bin())
        .args([
            "snapshot",
            "verify",
            "snap-es7",
            "--repository",
            "s3://snapshots/repos/es7",
        ])
        .envs(moto.env())
        .output()
        .expect("verify");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // In 4 KiB blocks each `.fdt` (multi-part blobs of 32 KiB here) is read ahead by a background thread
    // making its own ranged GETs, while the reading thread fetches the segments' other files.
    let Ok(Location::S3(repository)) = Location::parse("s3://snapshots/repos/es7/") else {
        panic!("an S3 location")
    };
    assert_eq!(
        repository,
        S3Location {
            bucket: "snapshots".into(),
            key: "repos/es7".into()
        }
    );
    let s3 = S3BlobSource::with_config(repository, &config).expect("s3");
    let read_ahead = stored_documents(Arc::new(s3), "events", 4096);
    let on_disk = stored_documents(Arc::new(FsBlobSource::new(&fixture)), "events", 1 << 20);
    assert!(read_ahead.len() > 500, "both shards read");
    assert!(
        read_ahead == on_disk,
        "S3 read ahead yields the same documents"
    );
}
