//! Approval on a terminal: `apply` and `destroy` without `--auto-approve` ask for the literal `yes` when stdin is
//! a terminal (a pseudo-terminal from util-linux `script` here); any other answer changes nothing.

use crate::support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn write_config(dir: &Path, target: &str) {
    let fixture = support::shared_dir().join("fixtures/snapshots/ES_7_10_Single");
    std::fs::write(
        dir.join("migration.yaml"),
        format!(
            "version: 1\nname: approval\nsource:\n  repository: {}\n  snapshot: global_state_snapshot\n\
             target:\n  endpoint: {target}\nbackfill:\n  workers: 1\n",
            fixture.display()
        ),
    )
    .expect("config");
}

/// Runs `backfill ARGS` on a pseudo-terminal, typing `answer` and a newline.
fn on_terminal(dir: &Path, args: &str, answer: &str) -> Output {
    let command = format!(
        "{} -c migration.yaml {args}",
        support::backfill_bin().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    // Give the prompt time to appear, then answer.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = writeln!(stdin, "{answer}");
    drop(stdin);
    child.wait_with_output().expect("wait")
}

#[test]
fn apply_asks_for_yes_on_a_terminal_and_anything_else_changes_nothing() {
    let osmem = support::Osmem::start();
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(dir.path(), &osmem.url);
    let state = dir.path().join(".backfill/approval");

    let out = on_terminal(dir.path(), "apply", "no");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Do you want to perform these actions?"),
        "{text}"
    );
    assert!(text.contains("Only 'yes' will be accepted"), "{text}");
    assert!(
        text.contains("apply cancelled; nothing was changed"),
        "{text}"
    );
    assert!(!out.status.success());
    assert!(
        !state.join("resources.json").exists(),
        "nothing applied after 'no'"
    );

    let out = on_terminal(dir.path(), "apply --wait", "yes");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Backfill Completed"), "{text}");

    let out = on_terminal(dir.path(), "destroy", "yes");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("There is no undo."), "{text}");
    assert!(out.status.success(), "{text}");
    assert!(!state.exists(), "destroyed");
}
