//! The local dashboard end to end: the sample migration of `examples/local` (7,000 documents in 3 indices and
//! 7 shards) into a real `osmem-server`, watched mid-run through `backfill dashboard` and headless Chromium.
//! The workers send batches of 20 documents over one connection each (the worker's own variables, inherited
//! from `apply` through the supervisor), so the run lasts several seconds and the page is caught while
//! documents still move; nothing here depends on how long it takes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::local_e2e::{Migration, wait_until};
use crate::support;
use crate::synthetic::SyntheticSnapshot;

/// The sample's indices with their live documents and shards (examples/local/migration.yaml).
const SAMPLE: [(&str, u64, u32); 3] = [
    ("orders", 3000, 3),
    ("customers", 1500, 2),
    ("events", 2500, 2),
];

fn sample_snapshot() -> SyntheticSnapshot {
    SyntheticSnapshot {
        repository: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/local/sample-snapshot"),
        snapshot: "sample".into(),
        expected: Default::default(),
    }
}

/// Refreshes the page and returns its path and HTML.
fn refreshed_page(m: &Migration) -> (PathBuf, String) {
    let text = m.ok(&["dashboard"]);
    let page = PathBuf::from(text.lines().next().expect("path").trim());
    let html = std::fs::read_to_string(&page).expect("page");
    (page, html)
}

#[test]
fn mid_run_the_dashboard_shows_totals_a_time_axis_and_progress_per_index() {
    let osmem = support::Osmem::start();
    let snap = sample_snapshot();
    let m = Migration::new("e2e-dash", &snap, &osmem.url);
    let out = Command::new(support::backfill_bin())
        .current_dir(m.dir.path())
        .args([
            "-c",
            &m.config().display().to_string(),
            "apply",
            "--auto-approve",
        ])
        .env("BACKFILL_BATCH_MAX_DOCS", "20")
        .env("BACKFILL_MAX_CONNECTIONS", "1")
        .output()
        .expect("apply");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Mid-run: an index is in progress (documents of it migrated, a shard of it still going) and the run
    // has not completed.
    let mut mid = None;
    wait_until("the page mid-run", Duration::from_secs(120), || {
        let (page, html) = refreshed_page(&m);
        let moving = html.contains("<td>in progress</td>") && !html.contains("<b>completed</b>");
        if moving {
            mid = Some((page, html));
        }
        moving
    });
    let (page, html) = mid.expect("mid-run page");
    for total in [
        " of 7000</b><span>documents migrated",
        "</b><span>failed documents",
        "</b><span>complete (shards)",
        "</b><span>ETA",
        "</b><span>current docs/s",
    ] {
        assert!(html.contains(total), "{total}: {html}");
    }
    assert!(html.contains("Progress per index"), "{html}");
    for (index, documents, shards) in SAMPLE {
        let row = format!("<tr class=\"index\"><td>{index}</td><td class=\"n\">");
        let at = html
            .find(&row)
            .unwrap_or_else(|| panic!("a row for {index}: {html}"));
        let rest = &html[at..];
        let row = &rest[..rest.find("</tr>").expect("row end")];
        assert!(row.contains(&format!(" / {documents}</td>")), "{row}");
        assert!(row.contains(&format!(" / {shards}</td>")), "{row}");
    }
    assert!(
        html.matches("class=\"time\"").count() >= 5 * 2,
        "a time axis with several times on each chart: {html}"
    );
    assert!(!html.contains("no data yet"), "{html}");
    let shot = m.dir.path().join("dashboard.png");
    screenshot(&page, &shot);
    let pixels = Pixels::read(&shot);
    for (what, rgb) in [
        ("documents/s series", [0x1f, 0x77, 0xb4]),
        ("running-workers series", [0x8c, 0x56, 0x4b]),
        ("per-index progress bars", [0x2c, 0xa0, 0x2c]),
    ] {
        let n = pixels.count(rgb);
        assert!(n > 30, "{what} drawn ({n} pixels)");
    }

    // Completed: every index done, no current rate, no ETA left.
    let text = m.ok(&["apply", "--auto-approve", "--wait"]);
    assert!(text.contains("Backfill Completed"), "{text}");
    assert_completed_page(&m);
}

/// After completion: all documents of every index, each row done, ETA "completed", current docs/s 0.
pub(crate) fn assert_completed_page(m: &Migration) {
    let (_, html) = refreshed_page(m);
    for total in [
        "<b>100.0%</b><span>complete (shards)",
        "<b>completed</b><span>ETA",
        "<b>0</b><span>current docs/s",
    ] {
        assert!(html.contains(total), "{total}: {html}");
    }
    assert!(!html.contains("<td>in progress</td>"), "{html}");
    assert!(html.contains("<td>done</td>"), "{html}");
}

/// Headless Chromium's screenshot of `page` into `shot`.
fn screenshot(page: &Path, shot: &Path) {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok())
        .expect("chromium is installed by scripts/test (Debian package `chromium`)");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,1150",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        shot.exists(),
        "screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A decoded PNG.
struct Pixels {
    bytes: Vec<u8>,
    channels: usize,
}

impl Pixels {
    fn read(path: &Path) -> Pixels {
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(path).expect("png"),
        ));
        let mut reader = decoder.read_info().expect("png header");
        let mut bytes = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut bytes).expect("png frame");
        bytes.truncate(info.buffer_size());
        Pixels {
            bytes,
            channels: info.color_type.samples(),
        }
    }

    /// Pixels within a small distance of `rgb`.
    fn count(&self, rgb: [u8; 3]) -> usize {
        self.bytes
            .chunks(self.channels)
            .filter(|p| {
                p.len() >= 3
                    && p[..3]
                        .iter()
                        .zip(rgb)
                        .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 6)
            })
            .count()
    }
}
