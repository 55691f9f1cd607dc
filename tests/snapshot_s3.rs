//! The S3 blob source against a real S3 API (moto_server): a fixture repository uploaded to a bucket reads
//! exactly like the same repository on disk, through `backfill snapshot` with the standard endpoint override.

mod support;

use std::path::Path;
use std::process::Command;

fn upload(
    dir: &Path,
    root: &Path,
    client: &aws_sdk_s3::Client,
    rt: &tokio::runtime::Runtime,
    bucket: &str,
    prefix: &str,
) {
    for entry in std::fs::read_dir(dir).expect("read").flatten() {
        let path = entry.path();
        if path.is_dir() {
            upload(&path, root, client, rt, bucket, prefix);
            continue;
        }
        let key = format!(
            "{prefix}/{}",
            path.strip_prefix(root).expect("relative").display()
        );
        let body = std::fs::read(&path).expect("file");
        rt.block_on(
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body.into())
                .send(),
        )
        .expect("put");
    }
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
    upload(&fixture, &fixture, &client, &rt, "snapshots", "repos/es7");

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
}
