//! The variants side by side: the terminal's table (the same
//! [`Comparison`] rows), with how far each total is from the bound, and the
//! same as a bar chart in inline SVG.

use std::fmt::Write as _;
use std::time::Duration;

use super::markup::{Column, esc, num_cell, secs, slug, sortable_head, text_cell};
use super::run::Run;
use crate::pipeline::report::{Comparison, comparison};

/// Download: waiting on the network (Okabe–Ito sky blue).
const DOWNLOAD: &str = "#56B4E9";
/// Processing: CPU work (Okabe–Ito reddish purple, the timelines' pool-job
/// colour: in most variants the CPU pool does it).
const PROCESS: &str = "#CC79A7";
const INK: &str = "#222222";
const MUTED: &str = "#6B6B6B";

/// The bar chart's geometry, in pixels.
const WIDTH: f64 = 960.0;
const LABEL_W: f64 = 110.0;
const RIGHT_W: f64 = 300.0;
const ROW: f64 = 26.0;
const BAR: f64 = 16.0;
const TOP: f64 = 44.0;

/// Writes the comparison section: the table, a line on the bound, the bars.
pub(super) fn section(out: &mut String, run: &Run) {
    let rows = comparison(run.variants.iter().map(|v| v.report));
    out.push_str("<section id=\"comparison\">\n<h2>The variants side by side</h2>\n");
    table(out, run, &rows);
    match run.bound {
        Some(b) => {
            let _ = write!(
                out,
                "<p class=\"bound\">The bound for this workload is <strong>{}</strong>: one \
                 network latency ({}) plus the CPU work spread over the {} cores. No variant \
                 can beat it; the distance from it is what a variant's concurrency left on \
                 the table.",
                secs(b),
                secs(run.info.latency),
                run.info.cores
            );
            if rows.iter().any(|r| r.timings.total < b) {
                out.push_str(
                    " (Here some variant did: the image host answers faster than the latency \
                     the bound assumes, <code>--latency-ms</code>.)",
                );
            }
            out.push_str("</p>\n");
        }
        None => out.push_str(
            "<p class=\"bound\">No bound: no variant measured any CPU work (did every image \
             fail?).</p>\n",
        ),
    }
    bars(out, &rows, run.bound);
    out.push_str("</section>\n");
}

/// `total` against `bound`: `×7.8 (+3.67 s)`.
fn distance(total: Duration, bound: Duration) -> String {
    let ratio = total.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON);
    let over = total.as_secs_f64() - bound.as_secs_f64();
    format!("×{ratio:.1} ({over:+.2} s)")
}

fn table(out: &mut String, run: &Run, rows: &[Comparison]) {
    out.push_str("<div class=\"scroll\"><table class=\"sortable compare\">\n");
    sortable_head(
        out,
        &[
            (
                "variant",
                Column::Text,
                "how the images were fetched and processed",
            ),
            (
                "download",
                Column::Number,
                "until every original was on disk",
            ),
            (
                "process",
                Column::Number,
                "from then until every edge map was saved",
            ),
            ("total", Column::Number, "both"),
            ("dl %", Column::Number, "download's share of the total"),
            ("proc %", Column::Number, "processing's share of the total"),
            (
                "speed-up",
                Column::Number,
                "sync's total divided by this one",
            ),
            ("ok", Column::Number, "images done"),
            (
                "failed",
                Column::Number,
                "images that failed (listed below)",
            ),
            (
                "vs bound",
                Column::Number,
                "the total as a multiple of the bound, and the seconds over it",
            ),
            (
                "peak memory",
                Column::Number,
                "peak resident memory while this variant ran",
            ),
        ],
    );
    out.push_str("<tbody>\n");
    for (row, v) in rows.iter().zip(&run.variants) {
        let t = row.timings;
        let _ = write!(
            out,
            "<tr data-variant=\"{}\"><td class=\"text\"><a href=\"#variant-{}\">{}</a>{}</td>",
            esc(&row.variant),
            slug(&row.variant),
            esc(&row.variant),
            // Ctrl-C stopped it: its figures are those of what it finished.
            match row.interrupted {
                Some(i) => format!(
                    " <span class=\"interrupted\">interrupted ({} of {} downloaded)</span>",
                    i.downloaded, i.images
                ),
                None => String::new(),
            }
        );
        for d in [t.download, t.process, t.total] {
            num_cell(out, &secs(d), d.as_nanos());
        }
        num_cell(
            out,
            &format!("{:.1}%", row.download_pct),
            format!("{:.3}", row.download_pct),
        );
        num_cell(
            out,
            &format!("{:.1}%", row.process_pct),
            format!("{:.3}", row.process_pct),
        );
        match row.speedup {
            Some(x) => num_cell(out, &format!("{x:.1}x"), format!("{x:.4}")),
            None => text_cell(out, "-"),
        }
        num_cell(out, &row.ok.to_string(), row.ok);
        num_cell(out, &row.failed.to_string(), row.failed);
        match run.bound {
            Some(b) => num_cell(out, &distance(t.total, b), t.total.as_nanos()),
            None => text_cell(out, "-"),
        }
        match v.peak_rss_mib {
            Some(m) => num_cell(out, &format!("{m:.1} MiB"), format!("{m:.1}")),
            None => text_cell(out, "-"),
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A pixel value with at most two decimals.
fn px(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The bars: per variant its download and processing time end to end, on
/// one scale, with the bound as a dashed line across them all.
fn bars(out: &mut String, rows: &[Comparison], bound: Option<Duration>) {
    let longest = rows
        .iter()
        .map(|r| r.timings.total)
        .chain(bound)
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1e-6);
    let x0 = LABEL_W;
    let x1 = WIDTH - RIGHT_W;
    let x = |d: Duration| x0 + d.as_secs_f64() / longest * (x1 - x0);
    let height = TOP + rows.len() as f64 * ROW + 8.0;
    let _ = writeln!(
        out,
        "<figure class=\"bars\"><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bars\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"12\">\n\
         <title>Each variant's total time, download then processing, against the bound</title>",
        w = px(WIDTH),
        h = px(height)
    );
    // The legend.
    let _ = writeln!(
        out,
        "<g class=\"legend\"><rect x=\"{x0}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{DOWNLOAD}\"/>\
         <text x=\"{}\" y=\"16\" fill=\"{INK}\">download</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{PROCESS}\"/>\
         <text x=\"{}\" y=\"16\" fill=\"{INK}\">process</text>{}</g>",
        px(x0 + 17.0),
        px(x0 + 100.0),
        px(x0 + 117.0),
        if bound.is_some() {
            format!(
                "<line x1=\"{a}\" y1=\"12\" x2=\"{b}\" y2=\"12\" stroke=\"{INK}\" stroke-width=\"1.5\" \
                 stroke-dasharray=\"4 3\"/><text x=\"{c}\" y=\"16\" fill=\"{INK}\">bound</text>",
                a = px(x0 + 190.0),
                b = px(x0 + 214.0),
                c = px(x0 + 220.0)
            )
        } else {
            String::new()
        }
    );
    for (i, row) in rows.iter().enumerate() {
        let t = row.timings;
        let top = TOP + i as f64 * ROW;
        let mid = px(top + BAR / 2.0 + 4.0);
        let name = esc(&row.variant);
        let _ = write!(
            out,
            "<g class=\"bar\" data-variant=\"{name}\"><text x=\"{}\" y=\"{mid}\" text-anchor=\"end\" \
             fill=\"{INK}\">{name}</text>",
            px(x0 - 8.0)
        );
        let split = x(t.download);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" fill=\"{DOWNLOAD}\">\
             <title>{name}: download {} ({:.1}% of the total)</title></rect>",
            px(x0),
            px(top),
            px(split - x0),
            secs(t.download),
            row.download_pct
        );
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" fill=\"{PROCESS}\">\
             <title>{name}: process {} ({:.1}% of the total)</title></rect>",
            px(split),
            px(top),
            px((x(t.total) - split).max(0.0)),
            secs(t.process),
            row.process_pct
        );
        let note = match bound {
            Some(b) => format!("{}, {} the bound", secs(t.total), distance(t.total, b)),
            None => secs(t.total),
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{mid}\" fill=\"{MUTED}\">{}</text></g>",
            px(x(t.total) + 6.0),
            esc(&note)
        );
    }
    if let Some(b) = bound {
        let bx = px(x(b));
        let _ = writeln!(
            out,
            "<g class=\"bound\"><line x1=\"{bx}\" y1=\"{}\" x2=\"{bx}\" y2=\"{}\" stroke=\"{INK}\" \
             stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/><text x=\"{bx}\" y=\"{}\" \
             text-anchor=\"middle\" font-size=\"11\" fill=\"{INK}\">bound {}</text>\
             <title>the bound: {}</title></g>",
            px(TOP - 6.0),
            px(height - 4.0),
            px(TOP - 10.0),
            secs(b),
            secs(b)
        );
    }
    out.push_str("</svg></figure>\n");
}
