//! Turning a [`Record`] into the rows of a timeline: one for the loop, one
//! per task (or per group of tasks), one per pool thread (or per pool), each
//! a stack of coloured layers with a tooltip for every segment. The drawing
//! itself is in the parent module.

use std::time::Duration;

use super::{BUSY, IDLE, JOB, RUNNING, SCHEDULED, SLOW, SvgOptions};
use crate::trace::group::{GroupTotals, TaskGroup, group_tasks, group_threads};
use crate::trace::record::{Record, Span, TaskEnd, TaskRecord};
use crate::trace::stats::{TaskStats, format_duration, format_exact, task_stats};

/// One row of the picture, ready to draw.
pub(super) struct Row {
    /// `loop-row`, `task-row` or `thread-row`.
    pub(super) class: &'static str,
    /// Extra attributes (`data-task="3"`), already escaped.
    pub(super) data: String,
    /// The name in the label column.
    pub(super) label: String,
    /// The grey text right of it: the spawn location, or the pool.
    pub(super) sublabel: String,
    /// Statistics shown when hovering over the label.
    pub(super) tooltip: String,
    /// The short text in the right column (verdict, jobs).
    pub(super) right: String,
    /// Drawn in order: later layers over earlier ones.
    pub(super) layers: Vec<Layer>,
    /// How tasks of this row ended, where it was not by returning: drawn
    /// over the layers. Empty for the loop and pool rows.
    pub(super) marks: Vec<Mark>,
}

/// A task that ended other than by returning its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EndMark {
    /// Aborted, or cancelled when the runtime shut down: a cross.
    Cancelled,
    /// Its future panicked: a vermillion diamond.
    Panicked,
}

/// Where a task's row stops, and how it ended.
pub(super) struct Mark {
    /// When the task ended.
    pub(super) at: Duration,
    /// How.
    pub(super) kind: EndMark,
    /// The tooltip: which task, when.
    pub(super) tip: String,
}

/// Segments of one colour in one row.
pub(super) struct Layer {
    /// A noun for the tooltip of merged shapes: `poll`, `job`.
    pub(super) what: &'static str,
    /// The fill colour.
    pub(super) fill: &'static str,
    /// Extra attributes for each shape (an outline), already escaped.
    pub(super) style: &'static str,
    /// The segments, in any order.
    pub(super) segs: Vec<Seg>,
}

/// One interval to draw, with its tooltip.
pub(super) struct Seg {
    /// When, on the time axis.
    pub(super) span: Span,
    /// The exact figures, shown on hover.
    pub(super) tip: String,
}

impl Layer {
    fn new(what: &'static str, fill: &'static str, style: &'static str) -> Layer {
        Layer {
            what,
            fill,
            style,
            segs: Vec::new(),
        }
    }

    fn push(&mut self, span: Span, tip: String) {
        self.segs.push(Seg { span, tip });
    }
}

/// The rows of one recording, top to bottom: the loop, the tasks (grouped
/// past `max_task_rows`, by the rules in the parent module's docs), the pool
/// threads (grouped by pool past `max_thread_rows`).
pub(super) fn build_rows(record: &Record, options: &SvgOptions) -> Vec<Row> {
    let horizon = record.horizon();
    let stats = task_stats(record);
    let mut rows = vec![loop_row(record, horizon)];

    // Tasks: one row each, or grouped (the rule is `trace::group`'s).
    for group in group_tasks(record, options.max_task_rows) {
        rows.push(task_row(record, &stats, &group, horizon));
    }

    // Pool threads: one row each, or one per pool (`trace::group` again).
    for threads in group_threads(record, options.max_thread_rows) {
        let sublabel = if threads.threads == 1 {
            format!("{} pool", threads.pool)
        } else {
            "threads".to_string()
        };
        rows.push(thread_row(
            record,
            &threads.name,
            &sublabel,
            &threads.jobs,
            threads.threads,
            horizon,
        ));
    }
    rows
}

fn loop_row(record: &Record, horizon: Duration) -> Row {
    let parked: Duration = record.parks.iter().map(|p| p.duration()).sum();
    let total = horizon;
    let running = total.saturating_sub(parked);
    // Parked is the background; the running stretches between parks go on
    // top, so a short burst of work keeps its minimum width and stays visible.
    let mut park = Layer::new("park", IDLE, "");
    park.push(
        Span::new(Duration::ZERO, horizon),
        format!(
            "loop thread parked in the poller: {} in {} parks, of {}",
            format_exact(parked),
            record.parks.len(),
            format_exact(total)
        ),
    );
    let mut parks: Vec<Span> = record
        .parks
        .iter()
        .map(|p| Span::new(p.start, p.end.max(p.start)))
        .collect();
    parks.sort();
    let mut run = Layer::new("run", RUNNING, "");
    let mut from = Duration::ZERO;
    for p in parks.iter().chain([&Span::new(horizon, horizon)]) {
        if p.start > from {
            run.push(
                Span::new(from, p.start),
                format!(
                    "loop running at {} for {}",
                    format_exact(from),
                    format_exact(p.start - from)
                ),
            );
        }
        from = from.max(p.end);
    }
    let mut jump = Layer::new(
        "clock jump",
        "#FFFFFF",
        " stroke=\"#888888\" stroke-width=\"1\" stroke-dasharray=\"3 2\"",
    );
    for c in &record.clock_jumps {
        jump.push(
            Span::new(c.at, c.to.max(c.at)),
            format!(
                "paused clock jumped from {} to {}: {}",
                format_exact(c.at),
                format_exact(c.to),
                c.reason
            ),
        );
    }
    let pct = if total.is_zero() {
        0
    } else {
        (parked.as_nanos() * 100 / total.as_nanos()) as u64
    };
    Row {
        class: "loop-row",
        data: String::new(),
        label: "loop thread".into(),
        sublabel: String::new(),
        tooltip: format!(
            "loop thread: parked {} in {} parks, running {}, of {}",
            format_duration(parked),
            record.parks.len(),
            format_duration(running),
            format_duration(total)
        ),
        right: format!("parked {pct}%"),
        layers: vec![park, run, jump],
        marks: Vec::new(),
    }
}

fn task_row(record: &Record, stats: &[TaskStats], group: &TaskGroup, horizon: Duration) -> Row {
    let mut idle = Layer::new("lifetime", IDLE, "");
    let mut scheduled = Layer::new("wait for the loop", SCHEDULED, "");
    let mut busy = Layer::new("poll", BUSY, "");
    let mut slow = Layer::new(
        "slow poll",
        SLOW,
        " stroke=\"#000000\" stroke-width=\"1.2\"",
    );
    let mut marks = Vec::new();
    for &i in &group.members {
        let (task, st) = (&record.tasks[i], &stats[i]);
        let name = task.label();
        let life = task.lifetime(horizon);
        let end = match &task.ended {
            Some((_, TaskEnd::Output)) => "returned".to_string(),
            Some((_, how)) => format!("ended: {how}"),
            None => "still alive at the end".to_string(),
        };
        let mark = match task.ended {
            Some((at, TaskEnd::Cancelled)) => Some((at, EndMark::Cancelled, "cancelled")),
            Some((at, TaskEnd::Panic)) => Some((at, EndMark::Panicked, "panicked")),
            Some((_, TaskEnd::Output)) | None => None,
        };
        if let Some((at, kind, how)) = mark {
            marks.push(Mark {
                at: at.min(horizon),
                kind,
                tip: format!("{name}: {how} at {}", format_exact(at)),
            });
        }
        idle.push(
            life,
            format!(
                "{name}: alive from {} for {}, idle {} ({end})",
                format_exact(life.start),
                format_exact(life.duration()),
                format_exact(st.idle)
            ),
        );
        for s in task.scheduled_spans(horizon) {
            scheduled.push(
                s,
                format!(
                    "{name}: woken at {}, waited {} for the loop",
                    format_exact(s.start),
                    format_exact(s.duration())
                ),
            );
        }
        let n = task.polls.len();
        for (k, p) in task.polls.iter().enumerate() {
            let p = Span::new(p.start, p.end.max(p.start));
            if record.is_slow(&p) {
                slow.push(
                    p,
                    format!(
                        "{name}: SLOW poll {} of {n} at {}, took {} (threshold {})",
                        k + 1,
                        format_exact(p.start),
                        format_exact(p.duration()),
                        format_duration(record.slow_poll_threshold)
                    ),
                );
            } else {
                busy.push(
                    p,
                    format!(
                        "{name}: poll {} of {n} at {}, took {}",
                        k + 1,
                        format_exact(p.start),
                        format_exact(p.duration())
                    ),
                );
            }
        }
    }
    let layers = vec![idle, scheduled, busy, slow];

    if let [i] = group.members[..] {
        let (task, st) = (&record.tasks[i], &stats[i]);
        return Row {
            class: "task-row",
            data: format!(" data-task=\"{}\"", task.id),
            label: task.label(),
            sublabel: task.short_location().to_string(),
            tooltip: task_tooltip(task, st),
            right: st.verdict.to_string(),
            layers,
            marks,
        };
    }

    // A group: count, shared name and place, verdicts.
    let count = group.members.len();
    let totals = GroupTotals::of(group, stats);
    Row {
        class: "task-row",
        data: format!(" data-tasks=\"{count}\""),
        label: group.label(),
        sublabel: group
            .location
            .clone()
            .unwrap_or_else(|| "several places".into()),
        tooltip: format!(
            "{count} tasks drawn over each other ({})\npolls {}, busy {}, scheduled {}, idle {} (summed)\n\
             wakes {}\n{}",
            group
                .location
                .clone()
                .unwrap_or_else(|| "spawned in several places".into()),
            totals.polls,
            format_exact(totals.busy),
            format_exact(totals.scheduled),
            format_exact(totals.idle),
            totals.wakes,
            totals.verdict_counts()
        ),
        right: totals.verdict_summary(),
        layers,
        marks,
    }
}

/// What hovering over one task's row shows: its name, id and spawn
/// location, its polls, busy, scheduled and idle time, its longest poll,
/// its wakes by source and its verdict.
fn task_tooltip(task: &TaskRecord, st: &TaskStats) -> String {
    format!(
        "{} (task {}) spawned at {}\npolls {}, busy {}, scheduled {}, idle {}\n\
         longest poll {}, wakes {}\nverdict: {}",
        task.label(),
        task.id,
        task.location,
        st.polls,
        format_exact(st.busy),
        format_exact(st.scheduled),
        format_exact(st.idle),
        format_exact(st.longest_poll),
        st.wakes,
        st.verdict
    )
}

fn thread_row(
    record: &Record,
    label: &str,
    sublabel: &str,
    jobs: &[usize],
    threads: usize,
    horizon: Duration,
) -> Row {
    let mut layer = Layer::new("job", JOB, "");
    let mut busy = Duration::ZERO;
    for &i in jobs {
        let job = &record.jobs[i];
        let Some(run) = job.run(horizon) else {
            continue;
        };
        busy += run.duration();
        let state = if job.finished.is_some() {
            "ran"
        } else {
            "still running at the end after"
        };
        layer.push(
            run,
            format!(
                "{} on {}: queued at {}, started at {} (waited {}), {state} {}",
                job.label(),
                job.thread,
                format_exact(job.queued),
                format_exact(run.start),
                format_exact(run.start.saturating_sub(job.queued)),
                format_exact(run.duration())
            ),
        );
    }
    let data = if threads > 1 {
        format!(" data-threads=\"{threads}\"")
    } else {
        String::new()
    };
    Row {
        class: "thread-row",
        data,
        label: label.to_string(),
        sublabel: sublabel.to_string(),
        tooltip: format!("{label}: {} jobs, busy {}", jobs.len(), format_exact(busy)),
        right: format!("{} jobs, {}", jobs.len(), format_duration(busy)),
        layers: vec![layer],
        marks: Vec::new(),
    }
}
