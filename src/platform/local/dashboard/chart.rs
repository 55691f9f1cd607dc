//! One chart as inline SVG: lines over a UTC time axis (first, middle and last time), a y axis from 0 to the
//! series' maximum, a legend with each line's latest value. A series of one point is drawn as a dot.

use std::collections::BTreeMap;

use crate::time::Timestamp;

/// One line of a chart: label, colour, points (bucket start → value).
pub struct Line<'a> {
    pub label: &'a str,
    pub color: &'a str,
    pub points: BTreeMap<u64, f64>,
    /// The legend shows the latest value (for levels and cumulative counts; a rate's newest bucket is still
    /// filling, so its legend names the line only).
    pub show_latest: bool,
}

const W: f64 = 500.0;
const H: f64 = 200.0;
/// Plot area: left of it the y labels, below it the time labels, above it the legend.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 22.0;

/// The chart `title` of `lines`, as a grid cell.
pub fn chart(title: &str, lines: &[Line<'_>]) -> String {
    let xs = lines.iter().flat_map(|l| l.points.keys().copied());
    let (min_x, max_x) = xs.fold((u64::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let max_y = lines
        .iter()
        .flat_map(|l| l.points.values().copied())
        .fold(0.0f64, f64::max);
    let (plot_w, plot_h) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let base = H - BOTTOM;
    let mut svg = format!(
        "<div class=\"c\"><h2>{}</h2><svg viewBox=\"0 0 {W} {H}\" width=\"100%\" \
         preserveAspectRatio=\"xMidYMid meet\"><rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" \
         height=\"{plot_h}\" fill=\"#fafafa\"/>",
        html_escape(title)
    );
    if min_x > max_x {
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\" font-size=\"13\">no data yet</text></svg></div>",
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        ));
        return svg;
    }
    // The y axis: 0, half and the maximum, with faint grid lines.
    let ticks: &[(f64, f64)] = if max_y > 0.0 {
        &[(0.0, 0.0), (0.5, max_y / 2.0), (1.0, max_y)]
    } else {
        &[(0.0, 0.0)]
    };
    for &(fraction, value) in ticks {
        let y = base - fraction * plot_h;
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">{}</text>",
            W - RIGHT,
            if fraction == 0.0 { "#999" } else { "#e4e4e4" },
            LEFT - 4.0,
            y + 4.0,
            number(value)
        ));
    }
    let span = max_x.saturating_sub(min_x).max(1) as f64;
    let at = |x: u64, y: f64| {
        let px = if max_x == min_x {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (x - min_x) as f64 / span * plot_w
        };
        let py = base - if max_y > 0.0 { y / max_y * plot_h } else { 0.0 };
        (px, py)
    };
    let mut legend_x = LEFT;
    for line in lines {
        let points: Vec<(f64, f64)> = line.points.iter().map(|(x, y)| at(*x, *y)).collect();
        match points.as_slice() {
            [] => {}
            [(x, y)] => svg.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{}\"/>",
                line.color
            )),
            _ => {
                let joined: Vec<String> = points
                    .iter()
                    .map(|(x, y)| format!("{x:.1},{y:.1}"))
                    .collect();
                svg.push_str(&format!(
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"{}\"/>",
                    line.color,
                    joined.join(" ")
                ));
            }
        }
        let latest = line.points.values().last().copied().unwrap_or(0.0);
        let text = if line.show_latest {
            format!("{}: {}", line.label, number(latest))
        } else {
            line.label.to_string()
        };
        svg.push_str(&format!(
            "<rect x=\"{legend_x}\" y=\"10\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"19\" font-size=\"12\" fill=\"#333\">{}</text>",
            line.color,
            legend_x + 14.0,
            html_escape(&text)
        ));
        legend_x += 24.0 + 7.0 * text.len() as f64;
    }
    // The time axis: the first, middle and last bucket's time (one label for a single bucket).
    let mid = min_x + (max_x - min_x) / 2;
    let labels: &[(f64, u64, &str)] = if max_x == min_x {
        &[(LEFT + plot_w / 2.0, min_x, "middle")]
    } else {
        &[
            (LEFT, min_x, "start"),
            (LEFT + plot_w / 2.0, mid, "middle"),
            (W - RIGHT, max_x, "end"),
        ]
    };
    for (x, t, anchor) in labels {
        svg.push_str(&format!(
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"11\" fill=\"#555\" \
             class=\"time\">{}</text>",
            H - 6.0,
            clock_time(*t)
        ));
    }
    svg.push_str("</svg></div>");
    svg
}

/// `HH:MM:SS` (UTC) of epoch milliseconds.
pub fn clock_time(ms: u64) -> String {
    let text = Timestamp::from_epoch_millis(ms as i64).rfc3339();
    text.get(11..19).unwrap_or(&text).to_string()
}

/// A value with the precision it needs (0.004 MB/s is not 0.0).
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(points: &[(u64, f64)]) -> Line<'static> {
        Line {
            label: "docs/s",
            color: "#1f77b4",
            points: points.iter().copied().collect(),
            show_latest: true,
        }
    }

    #[test]
    fn a_chart_has_a_time_axis_a_y_axis_and_a_polyline() {
        let svg = chart(
            "Documents <per> second",
            &[line(&[
                (1_800_000_000_000, 10.0),
                (1_800_000_030_000, 40.0),
                (1_800_000_060_000, 20.0),
            ])],
        );
        assert!(svg.contains("Documents &lt;per&gt; second"));
        for time in [">08:00:00</text>", ">08:00:30</text>", ">08:01:00</text>"] {
            assert!(svg.contains(time), "{time}: {svg}");
        }
        assert!(
            svg.contains(">40</text>") && svg.contains(">20</text>"),
            "y axis: {svg}"
        );
        assert!(svg.contains("<polyline") && svg.contains("docs/s: 20<"));
    }

    #[test]
    fn one_point_is_a_dot_and_no_point_says_so() {
        let svg = chart("x", &[line(&[(1_800_000_000_000, 5.0)])]);
        assert!(
            svg.contains("<circle") && !svg.contains("<polyline"),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"time\"").count(), 1);
        assert!(chart("x", &[line(&[])]).contains("no data yet"));
    }

    #[test]
    fn numbers_keep_the_precision_they_need() {
        assert_eq!(
            [
                number(0.0),
                number(3.0),
                number(0.004),
                number(2.31),
                number(1234.4)
            ],
            ["0", "3", "0.004", "2.3", "1234"]
        );
    }
}
