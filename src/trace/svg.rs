//! A [`Record`] drawn as an SVG timeline, by hand, with no dependency.
//!
//! The picture, top to bottom: a title, a legend, then for each recording a
//! time axis and one row per actor:
//!
//! - the **loop** row: green while the loop thread runs, grey while it is
//!   parked in the poller, dashed where the paused clock jumped;
//! - one row per **task**, over its lifetime: grey while idle (waiting on IO,
//!   a timer or another task), orange while scheduled (woken, waiting for the
//!   loop to get to it), blue while busy (inside `poll`); a poll over the
//!   slow-poll threshold is vermillion with a black outline; a task that was
//!   cancelled (aborted, or dropped when the runtime ended) ends in a black
//!   cross, one that panicked in a vermillion diamond;
//! - one row per **pool thread**: purple while it runs a job.
//!
//! The colours come from the Okabe–Ito palette, which stays distinct for the
//! common forms of colour blindness, and the warning colour also differs in
//! shape (an outline). Every segment carries a `<title>`, so hovering shows
//! the exact figures; every row label carries the task's statistics.
//!
//! # Many tasks
//!
//! Up to [`SvgOptions::max_task_rows`] tasks (40 by default) get a row each.
//! Beyond that, rows are grouped by [`crate::trace::group`]'s rules (which
//! the run report's tables share), the first rule that gives few enough
//! rows winning:
//! 1. tasks whose names share a prefix once trailing digits and separators
//!    are cut (`download 3`, `download 17` → `download`), unnamed tasks by
//!    spawn location;
//! 2. all tasks by spawn location;
//! 3. by spawn location, the groups past the limit folded into one
//!    `other tasks` row.
//!
//! A group row draws its tasks' segments on top of each other (idle, then
//! scheduled, then busy, so work shows over waiting) and is labelled with a
//! count, `download × 120`. Pool threads are grouped by pool the same way past
//! [`SvgOptions::max_thread_rows`].
//!
//! # Small segments
//!
//! Segments that fall within a fraction of a pixel of each other in the same
//! row and colour are merged into one shape (its tooltip counts them), which
//! keeps the file small. A shape narrower than
//! [`SvgOptions::min_segment_px`] is drawn that wide from its true start, so
//! a 10 µs poll in a 10 s picture still shows; only its width is stretched,
//! never its position, so the time scale stays true.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::trace::record::{Record, Span, TaskRecord};
//! use evloop::trace::svg::{timeline_svg, SvgOptions};
//!
//! let mut task = TaskRecord::new(1, Some("hello".into()), "main.rs:3", Duration::ZERO);
//! task.polls.push(Span::new(Duration::ZERO, Duration::from_millis(2)));
//! let mut record = Record::new(Duration::from_millis(100));
//! record.tasks.push(task);
//! record.end = Duration::from_millis(10);
//!
//! let svg = timeline_svg(&record, &SvgOptions::default());
//! assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
//! assert_eq!(svg.matches("class=\"row task-row\"").count(), 1);
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use super::record::Record;
use super::stats::{format_duration, format_exact};

mod axis;
mod rows;

use axis::{Axis, nice_step, tick_label};
use rows::{EndMark, Layer, Mark, Row, Seg, build_rows};

/// Busy: inside `poll` (Okabe–Ito blue).
const BUSY: &str = "#0072B2";
/// Scheduled: woken, waiting for the loop (Okabe–Ito orange).
const SCHEDULED: &str = "#E69F00";
/// Idle, and the loop parked: waiting (light grey).
const IDLE: &str = "#D4D4D4";
/// A poll over the slow-poll threshold (Okabe–Ito vermillion).
const SLOW: &str = "#D55E00";
/// The loop thread running (Okabe–Ito bluish green).
const RUNNING: &str = "#009E73";
/// A pool thread running a job (Okabe–Ito reddish purple).
const JOB: &str = "#CC79A7";
/// Text and outlines.
const INK: &str = "#222222";
/// Secondary text.
const MUTED: &str = "#6B6B6B";

const MARGIN: f64 = 16.0;
const RIGHT_COLUMN: f64 = 130.0;
const ROW_GAP: f64 = 3.0;
/// Shapes closer than this many pixels in one row and colour are merged.
const MERGE_PX: f64 = 0.75;
/// Rough advance of one character at 12 px and 10 px in a sans font.
const CHAR_12: f64 = 7.0;
const CHAR_10: f64 = 6.0;
/// Longest name and location shown in the label column (full in the tooltip).
const MAX_NAME_CHARS: usize = 28;
const MAX_LOCATION_CHARS: usize = 26;

/// How to draw a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct SvgOptions {
    /// Width of the whole picture in pixels (at least 400 is used).
    pub width: u32,
    /// The title on top; `None` gives `evloop timeline`.
    pub title: Option<String>,
    /// Height of one row in pixels (at least 6 is used).
    pub row_height: u32,
    /// Most task rows per recording before tasks are grouped.
    pub max_task_rows: usize,
    /// Most pool-thread rows per recording before threads are grouped by pool.
    pub max_thread_rows: usize,
    /// The narrowest a segment is drawn, in pixels, so short polls stay visible.
    pub min_segment_px: f64,
}

impl Default for SvgOptions {
    /// 1200 px wide, 16 px rows, 40 task rows, 16 thread rows, 1.5 px minimum.
    fn default() -> SvgOptions {
        SvgOptions {
            width: 1200,
            title: None,
            row_height: 16,
            max_task_rows: 40,
            max_thread_rows: 16,
            min_segment_px: 1.5,
        }
    }
}

/// One recording as an SVG document (`<svg xmlns="http://www.w3.org/2000/svg" ...>`).
///
/// Rows are `<g>` elements with `class="row loop-row"`, `class="row task-row"`
/// or `class="row thread-row"`; a task row carries `data-task="<id>"`, a
/// grouped row `data-tasks="<count>"` instead.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::{Record, TaskRecord};
/// use evloop::trace::svg::{timeline_svg, SvgOptions};
///
/// let mut record = Record::new(Duration::from_millis(100));
/// record.tasks.push(TaskRecord::new(1, Some("a < b".into()), "main.rs:3", Duration::ZERO));
/// let options = SvgOptions { title: Some("demo".into()), ..SvgOptions::default() };
/// let svg = timeline_svg(&record, &options);
/// assert!(svg.contains("a &lt; b"));
/// assert!(svg.contains("data-task=\"1\""));
/// ```
pub fn timeline_svg(record: &Record, options: &SvgOptions) -> String {
    stacked_svg(&[("", record)], options)
}

/// Several recordings one under the other on one time axis, each under its
/// own title (an empty title draws none): the five pipeline variants side by
/// side in time, say.
///
/// Each section is a `<g class="section">` with its own axis (same scale
/// for all) and rows.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::Record;
/// use evloop::trace::svg::{stacked_svg, SvgOptions};
///
/// let mut fast = Record::new(Duration::from_millis(100));
/// fast.end = Duration::from_secs(1);
/// let mut slow = Record::new(Duration::from_millis(100));
/// slow.end = Duration::from_secs(3);
/// let svg = stacked_svg(&[("async", &fast), ("sync", &slow)], &SvgOptions::default());
/// assert_eq!(svg.matches("<g class=\"section\"").count(), 2);
/// assert!(svg.contains(">3 s<"), "one axis for both, up to the longer run");
/// ```
pub fn stacked_svg(sections: &[(&str, &Record)], options: &SvgOptions) -> String {
    let width = f64::from(options.width.max(400));
    let row_h = f64::from(options.row_height.max(6));
    let span_ns = sections
        .iter()
        .map(|(_, r)| r.horizon().as_nanos())
        .max()
        .unwrap_or(0)
        .max(1_000);

    // Every section's rows first: the label column must fit them all.
    let built: Vec<(&str, Vec<Row>)> = sections
        .iter()
        .map(|(title, record)| (*title, build_rows(record, options)))
        .collect();
    let name_chars = built
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.label.chars().count()))
        .max()
        .unwrap_or(0)
        .min(MAX_NAME_CHARS);
    let loc_chars = built
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.sublabel.chars().count()))
        .max()
        .unwrap_or(0)
        .min(MAX_LOCATION_CHARS);
    let mut label_w = 8.0 + name_chars as f64 * CHAR_12 + 12.0 + loc_chars as f64 * CHAR_10;
    let show_locations = label_w <= width * 0.42;
    if !show_locations {
        label_w = 8.0 + name_chars as f64 * CHAR_12;
    }
    let label_w = label_w.clamp(90.0, width * 0.42);
    let x0 = MARGIN + label_w;
    let x1 = width - MARGIN - RIGHT_COLUMN;
    let axis = Axis {
        x0,
        x1,
        span_ns,
        min_px: options.min_segment_px.max(0.0),
    };

    let title = options.title.as_deref().unwrap_or("evloop timeline");
    let mut body = String::new();
    let mut y = MARGIN;
    let _ = writeln!(
        body,
        "<text class=\"title\" x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
        num(MARGIN),
        num(y + 16.0),
        xml_escape(title)
    );
    y += 28.0;
    let threshold = sections
        .iter()
        .map(|(_, r)| r.slow_poll_threshold)
        .find(|t| !t.is_zero());
    let jumps = sections.iter().any(|(_, r)| !r.clock_jumps.is_empty());
    let ended = |kind: EndMark| {
        built
            .iter()
            .flat_map(|(_, rows)| rows)
            .any(|row| row.marks.iter().any(|m| m.kind == kind))
    };
    let ends = [EndMark::Cancelled, EndMark::Panicked]
        .into_iter()
        .filter(|&kind| ended(kind))
        .collect::<Vec<_>>();
    let jobs = sections
        .iter()
        .any(|(_, r)| r.jobs.iter().any(|j| j.started.is_some()));
    y = legend(&mut body, y, width, threshold, jobs, jumps, &ends);

    for (title, rows) in &built {
        y = section(
            &mut body,
            y,
            title,
            rows,
            &axis,
            row_h,
            label_w,
            show_locations,
        );
    }
    let height = y + MARGIN - 10.0;

    let mut out = String::with_capacity(body.len() + 512);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"12\">",
        w = num(width),
        h = num(height.ceil()),
    );
    let _ = writeln!(out, "<title>{}</title>", xml_escape(title));
    let _ = writeln!(
        out,
        "<rect class=\"background\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#FFFFFF\"/>"
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// The small picture beside a legend entry.
enum Swatch {
    /// A square with this fill and these extra attributes.
    Square(&'static str, &'static str),
    /// The mark drawn where a task's row stops.
    End(EndMark),
}

/// Draws the legend from `y`, wrapping at the width; returns the next free y.
/// The entries for pool jobs, clock jumps and task ends appear only when the
/// picture has some.
fn legend(
    out: &mut String,
    y: f64,
    width: f64,
    threshold: Option<Duration>,
    jobs: bool,
    jumps: bool,
    ends: &[EndMark],
) -> f64 {
    let slow = match threshold {
        Some(t) => format!("slow poll (over {})", format_duration(t)),
        None => "slow poll".to_string(),
    };
    let mut items: Vec<(Swatch, String)> = vec![
        (Swatch::Square(BUSY, ""), "busy: inside poll".into()),
        (
            Swatch::Square(SCHEDULED, ""),
            "scheduled: woken, waiting for the loop".into(),
        ),
        (
            Swatch::Square(IDLE, ""),
            "idle: waiting on IO, timer, task (loop: parked)".into(),
        ),
        (
            Swatch::Square(SLOW, " stroke=\"#000000\" stroke-width=\"1.2\""),
            slow,
        ),
        (Swatch::Square(RUNNING, ""), "loop running".into()),
    ];
    if jobs {
        items.push((Swatch::Square(JOB, ""), "pool thread running a job".into()));
    }
    if jumps {
        items.push((
            Swatch::Square(
                "#FFFFFF",
                " stroke=\"#888888\" stroke-width=\"1\" stroke-dasharray=\"3 2\"",
            ),
            "paused clock jumped".into(),
        ));
    }
    for &kind in ends {
        let text = match kind {
            EndMark::Cancelled => "task cancelled",
            EndMark::Panicked => "task panicked",
        };
        items.push((Swatch::End(kind), text.into()));
    }
    out.push_str("<g class=\"legend\">\n");
    let (mut x, mut y) = (MARGIN, y);
    for (swatch, text) in items {
        let w = 17.0 + text.chars().count() as f64 * 5.8 + 20.0;
        if x + w > width - MARGIN && x > MARGIN {
            x = MARGIN;
            y += 18.0;
        }
        match swatch {
            Swatch::Square(fill, style) => {
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{fill}\"{style}/>",
                    num(x),
                    num(y)
                );
            }
            Swatch::End(kind) => out.push_str(&end_mark(kind, x + 6.0, y + 6.0, 5.0, "")),
        }
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            num(x + 17.0),
            num(y + 10.0),
            xml_escape(&text)
        );
        x += w;
    }
    out.push_str("</g>\n");
    y + 26.0
}

/// Draws one section (title, axis, rows) from `y`; returns the next free y.
#[allow(clippy::too_many_arguments)]
fn section(
    out: &mut String,
    mut y: f64,
    title: &str,
    rows: &[Row],
    axis: &Axis,
    row_h: f64,
    label_w: f64,
    show_locations: bool,
) -> f64 {
    let _ = writeln!(
        out,
        "<g class=\"section\" data-title=\"{}\">",
        xml_escape(title)
    );
    if !title.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"section-title\" x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
            num(MARGIN),
            num(y + 13.0),
            xml_escape(title)
        );
        y += 22.0;
    }
    let pitch = row_h + ROW_GAP;
    let rows_top = y + 20.0;
    let rows_bottom = rows_top + rows.len() as f64 * pitch;

    // Zebra stripes, behind everything.
    for i in (1..rows.len()).step_by(2) {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#F4F4F4\"/>",
            num(MARGIN),
            num(rows_top + i as f64 * pitch - ROW_GAP / 2.0),
            num(axis.x1 + RIGHT_COLUMN - MARGIN),
            num(pitch)
        );
    }

    // The axis: labels above, grid lines down through the rows.
    let plot_w = axis.x1 - axis.x0;
    let max_ticks = ((plot_w / 70.0).floor() as u128).max(1);
    let step = nice_step(axis.span_ns, max_ticks);
    out.push_str("<g class=\"axis\">\n");
    let mut t = 0u128;
    while t <= axis.span_ns {
        let x = axis.x(Duration::from_nanos(u64::try_from(t).unwrap_or(u64::MAX)));
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#CCCCCC\" stroke-width=\"1\"/>\
             <text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
            num(rows_top - 5.0),
            num(rows_bottom),
            num(rows_top - 8.0),
            tick_label(t, step),
            x = num(x),
        );
        t += step;
    }
    let _ = writeln!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>",
        num(axis.x0),
        num(rows_top - 4.0),
        num(axis.x1),
        num(rows_top - 4.0)
    );
    out.push_str("</g>\n");

    for (i, row) in rows.iter().enumerate() {
        let top = rows_top + i as f64 * pitch;
        draw_row(out, row, top, row_h, axis, label_w, show_locations);
    }
    out.push_str("</g>\n");
    rows_bottom + 20.0
}

fn draw_row(
    out: &mut String,
    row: &Row,
    top: f64,
    row_h: f64,
    axis: &Axis,
    label_w: f64,
    show_locations: bool,
) {
    let _ = writeln!(out, "<g class=\"row {}\"{}>", row.class, row.data);
    let text_y = num(top + row_h / 2.0 + 4.0);
    let font = if row_h >= 12.0 { 12.0 } else { row_h };
    let _ = write!(
        out,
        "<g class=\"label\"><title>{}</title><text x=\"{}\" y=\"{text_y}\" font-size=\"{}\" fill=\"{INK}\">{}</text>",
        xml_escape(&row.tooltip),
        num(MARGIN + 4.0),
        num(font),
        xml_escape(&truncate(&row.label, MAX_NAME_CHARS))
    );
    if show_locations && !row.sublabel.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{text_y}\" font-size=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            num(MARGIN + label_w - 8.0),
            num(font - 2.0),
            xml_escape(&truncate_start(&row.sublabel, MAX_LOCATION_CHARS))
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{text_y}\" font-size=\"{}\" fill=\"{INK}\">{}</text></g>",
        num(axis.x1 + 8.0),
        num(font - 1.0),
        xml_escape(&row.right)
    );
    for layer in &row.layers {
        draw_layer(out, &row.label, layer, top, row_h, axis);
    }
    draw_marks(out, &row.marks, top, row_h, axis);
    out.push_str("</g>\n");
}

/// Draws where and how a row's tasks ended other than by returning, one mark
/// per place: marks of one kind closer than a fraction of a pixel are drawn
/// once, their tooltip counting them.
fn draw_marks(out: &mut String, marks: &[Mark], top: f64, row_h: f64, axis: &Axis) {
    let half = (row_h / 2.0 - 2.0).clamp(2.0, 5.0);
    let cy = top + row_h / 2.0;
    // (kind, x, how many, the first mark's tooltip)
    let mut places: Vec<(EndMark, f64, usize, &str)> = Vec::new();
    for mark in marks {
        let x = axis.x(mark.at).clamp(axis.x0, axis.x1);
        match places
            .iter_mut()
            .find(|(kind, px, _, _)| *kind == mark.kind && (*px - x).abs() < MERGE_PX)
        {
            Some(place) => place.2 += 1,
            None => places.push((mark.kind, x, 1, &mark.tip)),
        }
    }
    for (kind, x, n, tip) in places {
        let tip = if n == 1 {
            tip.to_string()
        } else {
            let how = match kind {
                EndMark::Cancelled => "cancelled",
                EndMark::Panicked => "panicked",
            };
            format!("{n} tasks {how} here; the first: {tip}")
        };
        out.push_str(&end_mark(kind, x, cy, half, &tip));
        out.push('\n');
    }
}

/// One end mark centred on (`x`, `y`), `half` pixels from the centre to each
/// side: a black cross for a cancelled task, a vermillion diamond outlined in
/// black for a panicked one. The shapes differ, not only the colours.
fn end_mark(kind: EndMark, x: f64, y: f64, half: f64, tip: &str) -> String {
    let title = if tip.is_empty() {
        String::new()
    } else {
        format!("<title>{}</title>", xml_escape(tip))
    };
    let (l, r, t, b) = (num(x - half), num(x + half), num(y - half), num(y + half));
    match kind {
        EndMark::Cancelled => format!(
            "<path class=\"end-mark cancelled\" d=\"M{l} {t}L{r} {b}M{r} {t}L{l} {b}\" \
             stroke=\"{INK}\" stroke-width=\"2\" stroke-linecap=\"round\" fill=\"none\">{title}</path>"
        ),
        EndMark::Panicked => {
            let (cx, cy) = (num(x), num(y));
            format!(
                "<path class=\"end-mark panicked\" d=\"M{cx} {t}L{r} {cy}L{cx} {b}L{l} {cy}Z\" \
                 fill=\"{SLOW}\" stroke=\"#000000\" stroke-width=\"1.2\">{title}</path>"
            )
        }
    }
}

/// Draws a layer's segments, merging those that touch at this scale.
fn draw_layer(out: &mut String, row_label: &str, layer: &Layer, top: f64, row_h: f64, axis: &Axis) {
    let mut segs: Vec<&Seg> = layer.segs.iter().collect();
    segs.sort_by_key(|s| s.span);
    let mut i = 0;
    while i < segs.len() {
        let first = segs[i];
        let mut end = first.span.end;
        let mut sum = first.span.duration();
        let mut j = i + 1;
        while j < segs.len() && axis.x(segs[j].span.start) - axis.x(end) < MERGE_PX {
            end = end.max(segs[j].span.end);
            sum += segs[j].span.duration();
            j += 1;
        }
        let n = j - i;
        let tip = if n == 1 {
            first.tip.clone()
        } else {
            format!(
                "{row_label}: {n}× {} between {} and {} (total {})",
                layer.what,
                format_exact(first.span.start),
                format_exact(end),
                format_exact(sum)
            )
        };
        let x = axis.x(first.span.start).clamp(axis.x0, axis.x1);
        let w = (axis.x(end) - x).max(axis.min_px);
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}><title>{}</title></rect>",
            num(x),
            num(top),
            num(w),
            num(row_h),
            layer.fill,
            layer.style,
            xml_escape(&tip)
        );
        i = j;
    }
}

/// A pixel value with at most two decimals.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// `s` cut to `max` characters, the end replaced by `…`.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` cut to `max` characters, the start replaced by `…` (for paths).
fn truncate_start(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - max.saturating_sub(1)));
    out
}

/// `s` safe inside XML text and attribute values: `& < > " '` become
/// entities; characters XML 1.0 forbids (control characters other than tab,
/// newline and carriage return) become `U+FFFD`.
///
/// # Examples
///
/// ```
/// use evloop::trace::svg::xml_escape;
///
/// assert_eq!(xml_escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
/// assert_eq!(xml_escape("bell\u{7}"), "bell\u{FFFD}");
/// ```
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_trims() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate_start("abcdef", 4), "…def");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
