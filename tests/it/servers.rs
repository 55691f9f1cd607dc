//! The test harness itself: both servers start on free ports and answer.
use crate::support;

#[test]
fn osmem_starts_and_answers() {
    let osmem = support::Osmem::start();
    let body = std::process::Command::new("curl")
        .args(["-sf", &osmem.url])
        .output()
        .expect("curl");
    assert!(
        body.status.success(),
        "osmem at {} did not answer",
        osmem.url
    );
}

#[test]
fn moto_starts_and_answers() {
    let moto = support::Moto::start();
    let out = std::process::Command::new("curl")
        .args(["-sf", &format!("{}/moto-api/", moto.url)])
        .output()
        .expect("curl");
    assert!(out.status.success(), "moto at {} did not answer", moto.url);
}
