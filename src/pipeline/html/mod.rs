//! The run report: one self-contained web page per run, where the time
//! went, for a person to open from disk (`output/report.html`).
//!
//! The page is another view of the same model as the terminal table, the
//! `--json` output and the SVG timelines ([`Run`]: the variants'
//! [`Report`](super::Report)s and their trace
//! [`Record`](crate::trace::record::Record)s). Top to bottom it shows:
//!
//! 1. the run's header: date, machine, command line, where the images came
//!    from, how many, the latency;
//! 2. the comparison table (the terminal's [`Comparison`](super::report::Comparison)
//!    rows), with each variant's distance from the bound, and the same as a
//!    bar chart;
//! 3. every variant's timeline on one time axis, drawn by
//!    [`stacked_svg`](crate::trace::svg::stacked_svg);
//! 4. per variant: its own timeline ([`timeline_svg`](crate::trace::svg::timeline_svg)),
//!    its tasks' statistics ([`task_stats`](crate::trace::stats::task_stats),
//!    grouped as the picture groups them, [`crate::trace::group`]) and its
//!    pool threads' jobs, both tables sortable by any column;
//! 5. the failures, one line each (URL, stage, reason);
//! 6. a guide naming the lesson of each picture and the book's chapter on it.
//!
//! Hovering shows the details the pictures carry: each row's name gives the
//! task's name, spawn location, polls, busy, scheduled and idle time, and
//! wakes by source; each bar its exact times.
//!
//! **Self-contained and safe to open**: style, script and pictures are in
//! the file; a content security policy forbids every request and every
//! script but the page's own; every string from outside is escaped
//! (`<script>` in a URL shows as text). The markup is well-formed XML too.
//! With twelve images the page is a few hundred KB; with a thousand, the
//! timelines and tables group tasks, so it stays near the size of the SVGs.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::pipeline::html::{page, Run, RunInfo, VariantRun};
//! use evloop::pipeline::{Report, Timings};
//! use evloop::trace::record::{Record, Span, TaskRecord};
//!
//! let mut record = Record::new(Duration::from_millis(100));
//! let mut task = TaskRecord::new(1, Some("download 1".into()), "src/steps.rs:9", Duration::ZERO);
//! task.polls.push(Span::new(Duration::ZERO, Duration::from_millis(1)));
//! record.tasks.push(task);
//! record.end = Duration::from_millis(300);
//! let report = Report::new("async", Timings::default(), vec![]);
//!
//! let run = Run {
//!     info: RunInfo::of_this_process("embedded image host", 1, Duration::from_millis(300)),
//!     variants: vec![VariantRun { report: &report, record: Some(&record), peak_rss_mib: Some(20.5) }],
//!     bound: Some(Duration::from_millis(340)),
//! };
//! let html = page(&run, None);
//! assert!(html.contains("<tr data-task=\"1\">"));
//! assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
//! ```

mod compare;
mod markup;
mod page;
mod run;
mod variant;

pub use page::{book_path_from, page, write};
pub use run::{Run, RunInfo, VariantRun, command_line, utc};
