//! The configuration commands as a user runs them: `init`, `validate`, `render`, and the commands that are
//! not built yet, with their output streams and exit codes.

use crate::support;

use std::process::Command;

fn backfill(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(support::backfill_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("BACKFILL_CONFIG")
        .output()
        .expect("run backfill")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn init_writes_a_valid_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = backfill(dir.path(), &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("migration.yaml")).expect("written");
    assert!(written.starts_with("# migration.yaml"));

    let out = backfill(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\n");

    std::fs::write(dir.path().join("migration.yaml"), "version: 1\n").expect("edit");
    let out = backfill(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already exists; not overwriting it"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("migration.yaml")).expect("kept"),
        "version: 1\n"
    );
}

#[test]
fn validate_reports_every_error_with_location_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("m.yaml"),
        "version: 1\nname: demo\nsource: {repository: /s, snapshot: x}\ntarget:\n  endpont: http://t:9200\n",
    )
    .expect("write");
    let out = backfill(dir.path(), &["-c", "m.yaml", "validate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("m.yaml:5:3: target.endpont: unknown key `endpont`"),
        "{err}"
    );
    assert!(err.contains("did you mean `endpoint`?"), "{err}");
    assert!(
        err.contains("target.endpoint: missing required key `endpoint`"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "human errors go to stderr");

    let out = backfill(dir.path(), &["-c", "m.yaml", "validate", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
    assert_eq!(doc["ok"], false);
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2);
    let typo = errors
        .iter()
        .find(|e| e["key_path"] == "target.endpont")
        .expect("the typo is reported");
    assert_eq!(
        (typo["line"].as_u64(), typo["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(typo["hint"], "did you mean `endpoint`?");
}

#[test]
fn render_writes_templates_configurations_and_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws/migration.yaml");
    let out = backfill(
        dir.path(),
        &[
            "-c",
            example.to_str().expect("utf8"),
            "render",
            "--out",
            "out",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in [
        "orders-2024-logs",
        "orders-2024-workers",
        "orders-2024-dashboard",
    ] {
        assert!(
            dir.path()
                .join(format!("out/{name}.template.json"))
                .is_file()
        );
        assert!(dir.path().join(format!("out/{name}.config.json")).is_file());
    }
    assert!(dir.path().join("out/manifest.json").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .expect("out")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}

#[test]
fn a_bad_config_changes_nothing_on_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("migration.yaml"), "version: 1\nname: x\n").expect("write");
    let out = backfill(dir.path(), &["render", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.path().join("out").exists(),
        "nothing written for an invalid file"
    );
}

#[test]
fn control_plane_commands_without_a_migration_file_say_how_to_make_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["converge"],
        &["dashboard"],
    ] {
        let out = backfill(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("backfill init"), "{args:?}: {err}");
    }
}
