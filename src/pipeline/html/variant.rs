//! One variant's part of the page: its timeline (the SVG renderer's own
//! picture, inlined), its tasks' statistics and its pool threads' jobs, as
//! sortable tables whose rows group tasks exactly as the picture's rows do.

use std::fmt::Write as _;
use std::time::Duration;

use super::markup::{
    Column, duration_cell, esc, num_cell, plural, secs, slug, sortable_head, text_cell,
    wrapping_num_cell,
};
use super::run::VariantRun;
use crate::trace::group::{GroupTotals, ThreadGroup, group_tasks, group_threads};
use crate::trace::record::Record;
use crate::trace::stats::{format_duration, loop_stats, pool_summary, task_stats};
use crate::trace::svg::{SvgOptions, timeline_svg};

/// The options every timeline on the page is drawn with: the demo's own
/// (so the page shows the pictures `output/` holds), under `title`.
pub(super) fn svg_options(title: String) -> SvgOptions {
    SvgOptions {
        title: Some(title),
        ..SvgOptions::default()
    }
}

/// Writes one variant's section.
pub(super) fn section(out: &mut String, v: &VariantRun) {
    let name = &v.report.variant;
    let t = v.report.timings;
    let ok = v.report.succeeded();
    let failed = v.report.outcomes.len() - ok;
    let _ = writeln!(
        out,
        "<section class=\"variant\" id=\"variant-{}\" data-variant=\"{}\">\n<h2>{}</h2>\n\
         <p>{} in all: downloads {}, processing {}; {} done, {failed} failed.</p>",
        slug(name),
        esc(name),
        esc(name),
        secs(t.total),
        secs(t.download),
        secs(t.process),
        plural(ok, "image"),
    );
    match v.record {
        Some(record) => traced(out, name, record),
        None => out.push_str(
            "<p class=\"note\">No trace was recorded for this variant (<code>--no-trace</code>): \
             no timeline, no task statistics.</p>\n",
        ),
    }
    out.push_str("</section>\n");
}

fn traced(out: &mut String, name: &str, record: &Record) {
    let options = svg_options(format!("pipeline: {name}"));
    out.push_str("<figure class=\"timeline\">\n");
    out.push_str(&timeline_svg(record, &options));
    out.push_str("</figure>\n");

    let l = loop_stats(record);
    let pct = if l.total.is_zero() {
        0.0
    } else {
        l.parked.as_secs_f64() / l.total.as_secs_f64() * 100.0
    };
    let _ = writeln!(
        out,
        "<p class=\"loop\">The loop thread was parked in the poller {} of {} ({pct:.0}%) in {}, \
         and ran for {}.</p>",
        format_duration(l.parked),
        format_duration(l.total),
        plural(l.parks, "park"),
        format_duration(l.total.saturating_sub(l.parked))
    );

    out.push_str("<h3>Tasks</h3>\n");
    tasks(out, record, &options);
    out.push_str("<h3>Pool threads</h3>\n");
    threads(out, record, &options);
}

/// The statistics table: a row per task, or per group of tasks as in the
/// picture above it.
fn tasks(out: &mut String, record: &Record, options: &SvgOptions) {
    let stats = task_stats(record);
    if stats.is_empty() {
        out.push_str("<p class=\"note\">No task was spawned.</p>\n");
        return;
    }
    let groups = group_tasks(record, options.max_task_rows);
    if groups.len() < stats.len() {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} tasks in {} rows: tasks that share a name (numbers cut) or a \
             spawn location share a row, as in the picture; their figures are summed.</p>",
            stats.len(),
            groups.len()
        );
    }
    out.push_str("<div class=\"scroll\"><table class=\"sortable tasks\">\n");
    sortable_head(
        out,
        &[
            ("task", Column::Text, "the task's name, or task <id>"),
            ("spawned at", Column::Text, "where spawn was called"),
            ("polls", Column::Number, "how many times it was polled"),
            ("busy", Column::Number, "time inside poll"),
            (
                "scheduled",
                Column::Number,
                "time woken, waiting for the loop",
            ),
            (
                "idle",
                Column::Number,
                "time waiting on IO, a timer or another task",
            ),
            ("longest poll", Column::Number, "the longest single poll"),
            ("wakes", Column::Number, "wakes, by source"),
            (
                "verdict",
                Column::Text,
                "blocking: a poll over the slow-poll threshold; CPU-bound: busy over half its life; IO-bound: otherwise",
            ),
        ],
    );
    out.push_str("<tbody>\n");
    for group in &groups {
        if let [i] = group.members[..] {
            let (task, st) = (&record.tasks[i], &stats[i]);
            let _ = write!(
                out,
                "<tr data-task=\"{}\"><td class=\"text\" title=\"task {} spawned at {}\">{}</td>",
                task.id,
                task.id,
                esc(&task.location),
                esc(&st.label)
            );
            text_cell(out, &st.location);
            num_cell(out, &st.polls.to_string(), st.polls);
            for d in [st.busy, st.scheduled, st.idle, st.longest_poll] {
                duration_cell(out, d);
            }
            wrapping_num_cell(out, &st.wakes.to_string(), st.wakes.total());
            text_cell(out, &st.verdict.to_string());
        } else {
            let g = GroupTotals::of(group, &stats);
            let _ = write!(
                out,
                "<tr data-tasks=\"{}\"><td class=\"text\" title=\"{} tasks, figures summed; {}\">{}</td>",
                g.tasks,
                g.tasks,
                esc(&g.verdict_counts()),
                esc(&group.label())
            );
            text_cell(out, group.location.as_deref().unwrap_or("several places"));
            num_cell(out, &g.polls.to_string(), g.polls);
            for d in [g.busy, g.scheduled, g.idle, g.longest_poll] {
                duration_cell(out, d);
            }
            wrapping_num_cell(out, &g.wakes.to_string(), g.wakes.total());
            text_cell(out, &g.verdict_summary());
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The pools' totals, then a row per pool thread (or per pool, as in the
/// picture) with its jobs.
fn threads(out: &mut String, record: &Record, options: &SvgOptions) {
    let pools = pool_summary(record);
    if pools.is_empty() {
        out.push_str(
            "<p class=\"note\">No job went to a pool: all the work ran on the loop thread.</p>\n",
        );
        return;
    }
    out.push_str("<ul class=\"pools\">\n");
    for pool in &pools {
        let _ = write!(
            out,
            "<li>{} pool: {} on {}, waited in its queue {} in all",
            pool.pool,
            plural(pool.jobs, "job"),
            plural(pool.threads.len(), "thread"),
            format_duration(pool.queue_wait)
        );
        if pool.never_started > 0 {
            let _ = write!(out, ", {} never started", pool.never_started);
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");

    let horizon = record.horizon();
    out.push_str("<div class=\"scroll\"><table class=\"sortable threads\">\n");
    sortable_head(
        out,
        &[
            ("thread", Column::Text, "the pool thread, or a whole pool"),
            (
                "pool",
                Column::Text,
                "blocking (spawn_blocking) or cpu (spawn_cpu)",
            ),
            ("threads", Column::Number, "threads in the row"),
            ("jobs", Column::Number, "jobs they ran"),
            ("busy", Column::Number, "time running jobs"),
            (
                "busy %",
                Column::Number,
                "busy time over the run's length (per thread)",
            ),
            (
                "queue wait",
                Column::Number,
                "time their jobs waited for a thread, summed",
            ),
        ],
    );
    out.push_str("<tbody>\n");
    for row in group_threads(record, options.max_thread_rows) {
        thread_row(out, record, &row, horizon);
    }
    out.push_str("</tbody></table></div>\n");
}

fn thread_row(out: &mut String, record: &Record, row: &ThreadGroup, horizon: Duration) {
    let (mut busy, mut waited) = (Duration::ZERO, Duration::ZERO);
    for job in row.jobs.iter().filter_map(|&i| record.jobs.get(i)) {
        if let Some(run) = job.run(horizon) {
            busy += run.duration();
            waited += run.start.saturating_sub(job.queued);
        }
    }
    let capacity = horizon.as_secs_f64() * row.threads as f64;
    let share = if capacity > 0.0 {
        busy.as_secs_f64() / capacity * 100.0
    } else {
        0.0
    };
    let _ = write!(out, "<tr data-threads=\"{}\">", row.threads);
    text_cell(out, &row.name);
    text_cell(out, &row.pool.to_string());
    num_cell(out, &row.threads.to_string(), row.threads);
    num_cell(out, &row.jobs.len().to_string(), row.jobs.len());
    duration_cell(out, busy);
    num_cell(out, &format!("{share:.0}%"), format!("{share:.3}"));
    duration_cell(out, waited);
    out.push_str("</tr>\n");
}
