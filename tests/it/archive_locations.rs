//! `backfill.archive` and `restore-state FILE` through the binary, against osmem-server and moto S3: a value
//! ending in `.json` is the archive written, any other value a directory or key prefix for
//! `working_state_backup_<UTC timestamp>.json`, locally and in S3. S3 archives are read and written with the
//! `aws.profile` of migration.yaml: the child processes get no AWS variable but `AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE`, whose named profile alone holds moto's region, endpoint and credentials.
//! Locations given on the command line are parsed like those in migration.yaml.

use crate::status_support::{item_id, setup_doc, unclaimed};
use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const PROFILE: &str = "backfill-archive-test";

/// A migration directory: migration.yaml (`state: stopped`) and the AWS configuration files of [`PROFILE`].
struct Dir {
    tmp: tempfile::TempDir,
    target: String,
}

impl Dir {
    fn new(target: &str, moto: Option<&support::Moto>) -> Dir {
        let tmp = tempfile::tempdir().expect("tempdir");
        if let Some(moto) = moto {
            std::fs::write(
                tmp.path().join("aws-config"),
                format!(
                    "[profile {PROFILE}]\nregion = us-east-1\nendpoint_url = {}\n",
                    moto.url
                ),
            )
            .expect("aws config");
            std::fs::write(
                tmp.path().join("aws-credentials"),
                format!(
                    "[{PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
                ),
            )
            .expect("aws credentials");
        }
        Dir {
            tmp,
            target: target.to_string(),
        }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes migration.yaml with `archive`, naming the test profile when `profile`. The seed archive is in the
    /// console's layout and records no migration, so the file opts in to adopting it.
    fn configure(&self, archive: &str, profile: bool) {
        let aws = if profile {
            format!("aws:\n  profile: {PROFILE}\n")
        } else {
            String::new()
        };
        let yaml = format!(
            "version: 1\nname: archive-forms\nsource:\n  repository: {}\n  snapshot: s\ntarget:\n  endpoint: {}\nbackfill:\n  state: stopped\n  archive: {archive}\n  adopt_unrecorded_working_state: true\n{aws}",
            self.path().display(),
            self.target
        );
        std::fs::write(self.path().join("migration.yaml"), yaml).expect("migration.yaml");
    }

    /// Runs `backfill -c migration.yaml ARGS` with an environment holding nothing but HOME and the
    /// locations of the AWS configuration files.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(support::backfill_bin())
            .current_dir(self.path())
            .env_clear()
            .env("HOME", self.path())
            .env("AWS_CONFIG_FILE", self.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("-c")
            .arg(self.path().join("migration.yaml"))
            .args(args)
            .output()
            .expect("run backfill")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "backfill {args:?}: {stderr}");
        stderr
    }

    /// `restore-state FILE`, then `apply --wait` (state: stopped) archives and deletes the working state again.
    fn restore_then_stop(&self, from: &str) -> String {
        let text = self.ok(&["restore-state", from]);
        assert!(
            text.contains(&format!(
                "restored 2 documents into .migrations_working_state from {from}"
            )),
            "{text}"
        );
        let text = self.ok(&["apply", "--auto-approve", "--wait"]);
        assert!(text.contains("working state archived to"), "{text}");
        assert!(
            support::get_json(&format!("{}/.migrations_working_state/_count", self.target))["count"]
                .is_null(),
            "the index is deleted after the archive"
        );
        text
    }
}

impl Drop for Dir {
    /// The local platform's supervisor goes with the stacks.
    fn drop(&mut self) {
        let _ = self.run(&["destroy", "--auto-approve", "--keep-working-state"]);
    }
}

/// A working-state archive of two documents, in the console's layout.
fn seed_archive() -> Vec<u8> {
    serde_json::to_vec_pretty(
        &json!([{"shard_setup": setup_doc(), (item_id("a", 0, 0)): unclaimed("a")}]),
    )
    .expect("json")
}

fn assert_archive(bytes: &[u8]) {
    let value: Value = serde_json::from_slice(bytes).expect("archive json");
    let docs: usize = value
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(docs, 2, "{value}");
}

fn is_backup_name(name: &str) -> bool {
    name.strip_prefix("working_state_backup_")
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|stamp| stamp.len() == 14 && stamp.chars().all(|c| c.is_ascii_digit()))
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn local_archive_values_name_the_file_or_a_directory_of_timestamped_files() {
    let osmem = support::Osmem::start();
    let dir = Dir::new(&osmem.url, None);
    std::fs::write(dir.path().join("seed.json"), seed_archive()).expect("seed");

    // `.json`: that file (relative to migration.yaml), nothing under it.
    dir.configure("state/working-state.json", false);
    dir.restore_then_stop("seed.json");
    let file = dir.path().join("state/working-state.json");
    assert!(file.is_file(), "{}", file.display());
    assert_archive(&std::fs::read(&file).expect("archive"));

    // Anything else: a directory with one `working_state_backup_<timestamp>.json` per stop.
    dir.configure("state/by-stop", false);
    dir.restore_then_stop(file.to_str().expect("utf8"));
    // The archive, and the owner record beside it (the second stop restored a recorded archive).
    let (written, records): (Vec<_>, Vec<_>) = files_in(&dir.path().join("state/by-stop"))
        .into_iter()
        .partition(|p| !p.to_string_lossy().ends_with(".identity.json"));
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(
        records,
        vec![PathBuf::from(format!(
            "{}.identity.json",
            written[0].display()
        ))]
    );
    let name = written[0]
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name");
    assert!(is_backup_name(name), "{name}");
    assert_archive(&std::fs::read(&written[0]).expect("archive"));
}

/// The S3 side of the test, through its own client of moto.
struct Bucket {
    rt: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
}

impl Bucket {
    fn create(moto: &support::Moto) -> Bucket {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let s3 = moto.s3_client();
        rt.block_on(s3.create_bucket().bucket("archives").send())
            .expect("bucket");
        Bucket { rt, s3 }
    }

    fn put(&self, key: &str, body: Vec<u8>) {
        self.rt
            .block_on(
                self.s3
                    .put_object()
                    .bucket("archives")
                    .key(key)
                    .body(body.into())
                    .send(),
            )
            .expect("put");
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        let listed = self
            .rt
            .block_on(
                self.s3
                    .list_objects_v2()
                    .bucket("archives")
                    .prefix(prefix)
                    .send(),
            )
            .expect("list");
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(String::from))
            .collect()
    }

    fn get(&self, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let object = self
                .s3
                .get_object()
                .bucket("archives")
                .key(key)
                .send()
                .await
                .expect("get");
            object.body.collect().await.expect("body").to_vec()
        })
    }
}

#[test]
fn s3_archives_are_read_and_written_with_the_configured_profile_in_both_forms() {
    let osmem = support::Osmem::start();
    let moto = support::Moto::start();
    let bucket = Bucket::create(&moto);
    bucket.put("seed/working-state.json", seed_archive());
    let dir = Dir::new(&osmem.url, Some(&moto));

    // `.json`: exactly that object (the AWS example's own form).
    dir.configure("s3://archives/out/working-state.json", true);
    dir.restore_then_stop("s3://archives/seed/working-state.json");
    // The archive, and its owner record (apply adopted the unrecorded state, so it records this migration).
    assert_eq!(
        bucket.keys("out/"),
        vec![
            "out/working-state.json",
            "out/working-state.json.identity.json"
        ]
    );
    assert_archive(&bucket.get("out/working-state.json"));

    // Anything else: a prefix with one `working_state_backup_<timestamp>.json` per stop.
    dir.configure("s3://archives/out/by-stop", true);
    dir.restore_then_stop("s3://archives/out/working-state.json");
    let (written, records): (Vec<String>, Vec<String>) = bucket
        .keys("out/by-stop/")
        .into_iter()
        .partition(|k| !k.ends_with(".identity.json"));
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(records, vec![format!("{}.identity.json", written[0])]);
    let name = written[0].trim_start_matches("out/by-stop/");
    assert!(is_backup_name(name), "{name}");
    assert_archive(&bucket.get(&written[0]));

    // Without `aws.profile` nothing in the child's environment reaches moto: the profile did the work.
    dir.configure("s3://archives/out/working-state.json", false);
    let from = format!("s3://archives/{}", written[0]);
    let out = dir.run(&["restore-state", &from]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("archive {from}: ")),
        "fails reading the archive: {stderr}"
    );
}

#[test]
fn locations_on_the_command_line_go_through_the_same_parser() {
    for (args, message) in [
        (
            vec!["restore-state", "s3://Bad_Bucket/x.json"],
            "`Bad_Bucket` is not a valid S3 bucket name",
        ),
        (
            vec!["snapshot", "list", "--repository", "gs://bucket/x"],
            "unsupported URL `gs://bucket/x`",
        ),
    ] {
        let out = Command::new(support::backfill_bin())
            .args(&args)
            .output()
            .expect("run backfill");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
