//! Per-task statistics from a [`Record`], the way tokio-console shows them,
//! and a plain-text summary table.
//!
//! For each task, its lifetime (spawn to end, or to the end of the recording)
//! is split three ways:
//!
//! | part | meaning | how it is measured |
//! | --- | --- | --- |
//! | busy | running: inside `poll` | the sum of the poll spans |
//! | scheduled | ready but waiting for the loop to get to it | each wake (or the spawn) to the next poll start, see [`TaskRecord::scheduled_spans`] |
//! | idle | waiting on IO, a timer or another task | the rest of the lifetime |
//!
//! A task that is mostly idle is IO-bound: it is what async is for. A task
//! that is mostly busy is CPU-bound: it keeps the loop from everyone else. A
//! task with one very long poll blocked the loop, whatever the rest of it did.
//! See [`Verdict`] for the exact rules.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::trace::record::{Record, Span, TaskRecord};
//! use evloop::trace::stats::{task_stats, Verdict};
//!
//! let ms = Duration::from_millis;
//! let mut task = TaskRecord::new(1, Some("crunch".into()), "main.rs:9", ms(0));
//! task.polls.push(Span::new(ms(0), ms(80)));
//! let mut record = Record::new(ms(100));
//! record.tasks.push(task);
//! record.end = ms(100);
//!
//! let stats = task_stats(&record);
//! assert_eq!(stats[0].busy, ms(80));
//! assert_eq!(stats[0].verdict, Verdict::CpuBound);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use super::record::{PoolKind, Record, Span, TaskEnd, TaskRecord, WakeSource};

/// What a task spent its time on, in one word.
///
/// The rules, applied in this order:
/// 1. [`Blocking`](Verdict::Blocking) if any poll took strictly longer than
///    the record's slow-poll threshold (a poll exactly at the threshold is
///    not slow; a zero threshold switches this rule off);
/// 2. [`CpuBound`](Verdict::CpuBound) if busy time is strictly more than half
///    of the lifetime (exactly half is not);
/// 3. [`IoBound`](Verdict::IoBound) otherwise.
///
/// Boundary cases: a task with a zero lifetime (spawned and ended at the same
/// instant) or never polled has no busy time and so is `IoBound`. Time spent
/// scheduled (ready, waiting for the loop) counts for neither side: a task
/// that is mostly scheduled is `IoBound` by this rule, and the large
/// `scheduled` figure is the sign that *other* tasks hog the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// At least one poll was over the slow-poll threshold: it blocked the loop.
    Blocking,
    /// Busy for more than half of its lifetime.
    CpuBound,
    /// Mostly waiting: the case async is made for.
    IoBound,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Blocking => "blocking",
            Verdict::CpuBound => "CPU-bound",
            Verdict::IoBound => "IO-bound",
        })
    }
}

/// How many wakes of a task came from each kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WakeCounts {
    /// Timers that fired.
    pub timer: usize,
    /// Sockets that became ready.
    pub io: usize,
    /// Other tasks on the loop.
    pub task: usize,
    /// Threads other than the loop's.
    pub thread: usize,
    /// The task itself (`yield_now`).
    pub self_wake: usize,
    /// Spawn events recorded as wakes.
    pub spawn: usize,
}

impl WakeCounts {
    /// All wakes, whatever their source.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::trace::stats::WakeCounts;
    ///
    /// let counts = WakeCounts { timer: 2, io: 3, ..WakeCounts::default() };
    /// assert_eq!(counts.total(), 5);
    /// ```
    pub fn total(&self) -> usize {
        self.timer + self.io + self.task + self.thread + self.self_wake + self.spawn
    }

    fn add(&mut self, source: &WakeSource) {
        match source {
            WakeSource::Timer => self.timer += 1,
            WakeSource::Io { .. } => self.io += 1,
            WakeSource::Task { .. } => self.task += 1,
            WakeSource::Thread { .. } => self.thread += 1,
            WakeSource::SelfWake => self.self_wake += 1,
            WakeSource::Spawn => self.spawn += 1,
        }
    }
}

impl fmt::Display for WakeCounts {
    /// `5 (timer 2, io 3)`, or `0` without wakes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())?;
        let parts: Vec<String> = [
            ("timer", self.timer),
            ("io", self.io),
            ("task", self.task),
            ("thread", self.thread),
            ("self", self.self_wake),
            ("spawn", self.spawn),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// The statistics of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStats {
    /// The task's id.
    pub id: u64,
    /// Its name, or `task <id>`.
    pub label: String,
    /// Where it was spawned, shortened to the last two path parts.
    pub location: String,
    /// How many times it was polled.
    pub polls: usize,
    /// Spawn to end (or to the end of the recording).
    pub lifetime: Duration,
    /// Time inside `poll`.
    pub busy: Duration,
    /// Time ready but not yet polled.
    pub scheduled: Duration,
    /// The rest: waiting on something else.
    pub idle: Duration,
    /// Wakes by source.
    pub wakes: WakeCounts,
    /// The longest single poll.
    pub longest_poll: Duration,
    /// How many polls were over the slow-poll threshold.
    pub slow_polls: usize,
    /// How it ended; `None` if alive at the end of the recording.
    pub ended: Option<TaskEnd>,
    /// The one-word summary; see [`Verdict`] for the rules.
    pub verdict: Verdict,
}

/// The statistics of every task in the record, in the record's order.
///
/// `busy + scheduled + idle == lifetime` holds whenever the record is
/// consistent (polls inside the lifetime and not overlapping). With untidy
/// data `idle` bottoms out at zero instead of going negative.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::{Record, Span, TaskEnd, TaskRecord, Wake, WakeSource};
/// use evloop::trace::stats::{task_stats, Verdict};
///
/// let ms = Duration::from_millis;
/// let mut task = TaskRecord::new(1, None, "main.rs:9", ms(0));
/// task.polls.push(Span::new(ms(1), ms(2)));
/// task.wakes.push(Wake::new(ms(900), WakeSource::Timer));
/// task.polls.push(Span::new(ms(901), ms(902)));
/// task.ended = Some((ms(902), TaskEnd::Output));
/// let mut record = Record::new(ms(100));
/// record.tasks.push(task);
///
/// let s = &task_stats(&record)[0];
/// assert_eq!((s.polls, s.busy, s.scheduled), (2, ms(2), ms(2)));
/// assert_eq!(s.idle, ms(898));
/// assert_eq!(s.verdict, Verdict::IoBound);
/// ```
pub fn task_stats(record: &Record) -> Vec<TaskStats> {
    let end = record.horizon();
    record
        .tasks
        .iter()
        .map(|t| one_task(record, t, end))
        .collect()
}

fn one_task(record: &Record, task: &TaskRecord, end: Duration) -> TaskStats {
    let lifetime = task.lifetime(end).duration();
    let busy: Duration = task.polls.iter().map(Span::duration).sum();
    let scheduled: Duration = task.scheduled_spans(end).iter().map(Span::duration).sum();
    let idle = lifetime.saturating_sub(busy).saturating_sub(scheduled);
    let mut wakes = WakeCounts::default();
    for w in &task.wakes {
        wakes.add(&w.source);
    }
    let longest_poll = task
        .polls
        .iter()
        .map(Span::duration)
        .max()
        .unwrap_or_default();
    let slow_polls = task.polls.iter().filter(|p| record.is_slow(p)).count();
    let verdict = if slow_polls > 0 {
        Verdict::Blocking
    } else if busy.as_nanos() * 2 > lifetime.as_nanos() {
        Verdict::CpuBound
    } else {
        Verdict::IoBound
    };
    TaskStats {
        id: task.id,
        label: task.label(),
        location: task.short_location().to_string(),
        polls: task.polls.len(),
        lifetime,
        busy,
        scheduled,
        idle,
        wakes,
        longest_poll,
        slow_polls,
        ended: task.ended.as_ref().map(|(_, how)| *how),
        verdict,
    }
}

/// The work of one pool, as the summary shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSummary {
    /// Which pool.
    pub pool: PoolKind,
    /// How many jobs were queued to it.
    pub jobs: usize,
    /// Jobs that never started before the end.
    pub never_started: usize,
    /// Total time jobs waited in the queue before a thread took them.
    pub queue_wait: Duration,
    /// Per thread, by name: jobs run and time spent running them.
    pub threads: Vec<ThreadStats>,
}

/// The work of one pool thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadStats {
    /// The thread's name.
    pub name: String,
    /// Jobs it ran (or was running at the end).
    pub jobs: usize,
    /// Time spent running them.
    pub busy: Duration,
}

/// The statistics of each pool that got at least one job, blocking first.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::{JobRecord, PoolKind, Record};
/// use evloop::trace::stats::pool_summary;
///
/// let ms = Duration::from_millis;
/// let mut record = Record::new(ms(100));
/// record.jobs.push(JobRecord {
///     pool: PoolKind::Cpu, thread: "cpu-0".into(), name: None,
///     queued: ms(0), started: Some(ms(1)), finished: Some(ms(5)),
/// });
/// let pools = pool_summary(&record);
/// assert_eq!(pools[0].threads[0].busy, ms(4));
/// assert_eq!(pools[0].queue_wait, ms(1));
/// ```
pub fn pool_summary(record: &Record) -> Vec<PoolSummary> {
    let end = record.horizon();
    let mut pools: BTreeMap<PoolKind, (PoolSummary, BTreeMap<String, ThreadStats>)> =
        BTreeMap::new();
    for job in &record.jobs {
        let (pool, threads) = pools.entry(job.pool).or_insert_with(|| {
            (
                PoolSummary {
                    pool: job.pool,
                    jobs: 0,
                    never_started: 0,
                    queue_wait: Duration::ZERO,
                    threads: Vec::new(),
                },
                BTreeMap::new(),
            )
        });
        pool.jobs += 1;
        match job.run(end) {
            None => pool.never_started += 1,
            Some(run) => {
                pool.queue_wait += run.start.saturating_sub(job.queued);
                let t = threads
                    .entry(job.thread.clone())
                    .or_insert_with(|| ThreadStats {
                        name: job.thread.clone(),
                        jobs: 0,
                        busy: Duration::ZERO,
                    });
                t.jobs += 1;
                t.busy += run.duration();
            }
        }
    }
    pools
        .into_values()
        .map(|(mut pool, threads)| {
            pool.threads = threads.into_values().collect();
            pool
        })
        .collect()
}

/// What the loop thread did: how long it was parked in the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopStats {
    /// The length of the recording.
    pub total: Duration,
    /// Time blocked in the poller.
    pub parked: Duration,
    /// How many times it parked.
    pub parks: usize,
    /// How many times the paused clock jumped.
    pub clock_jumps: usize,
    /// Virtual time skipped by those jumps.
    pub jumped: Duration,
}

/// The loop thread's statistics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::{Park, Record};
/// use evloop::trace::stats::loop_stats;
///
/// let ms = Duration::from_millis;
/// let mut record = Record::new(ms(100));
/// record.parks.push(Park::new(ms(2), ms(9)));
/// record.end = ms(10);
/// let s = loop_stats(&record);
/// assert_eq!((s.parked, s.parks, s.total), (ms(7), 1, ms(10)));
/// ```
pub fn loop_stats(record: &Record) -> LoopStats {
    LoopStats {
        total: record.horizon(),
        parked: record.parks.iter().map(|p| p.duration()).sum(),
        parks: record.parks.len(),
        clock_jumps: record.clock_jumps.len(),
        jumped: record
            .clock_jumps
            .iter()
            .map(|c| c.to.saturating_sub(c.at))
            .sum(),
    }
}

/// An aligned plain-text table of every task, then a line per pool (with a
/// line per thread) and one for the loop.
///
/// Columns: task (name or `task <id>`), polls, busy, scheduled, idle, longest
/// poll, wakes (total and by source), verdict.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::record::{Record, Span, TaskRecord};
/// use evloop::trace::stats::summary_table;
///
/// let ms = Duration::from_millis;
/// let mut task = TaskRecord::new(1, Some("crunch".into()), "main.rs:9", ms(0));
/// task.polls.push(Span::new(ms(0), ms(1000)));
/// let mut record = Record::new(ms(100));
/// record.tasks.push(task);
///
/// let table = summary_table(&record);
/// assert!(table.lines().any(|l| l.starts_with("crunch") && l.ends_with("blocking")));
/// assert!(table.contains("1 s"));
/// ```
pub fn summary_table(record: &Record) -> String {
    let stats = task_stats(record);
    let header = [
        "task",
        "polls",
        "busy",
        "scheduled",
        "idle",
        "longest",
        "wakes",
        "verdict",
    ];
    let mut rows: Vec<[String; 8]> = Vec::with_capacity(stats.len());
    for s in &stats {
        rows.push([
            s.label.clone(),
            s.polls.to_string(),
            format_duration(s.busy),
            format_duration(s.scheduled),
            format_duration(s.idle),
            format_duration(s.longest_poll),
            s.wakes.to_string(),
            s.verdict.to_string(),
        ]);
    }
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: [String; 8] = header.map(String::from);
    push_row(&mut out, &header, &widths);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(rule.join("  ").as_str());
    out.push('\n');
    for row in &rows {
        push_row(&mut out, row, &widths);
    }
    if rows.is_empty() {
        out.push_str("(no tasks)\n");
    }

    for pool in pool_summary(record) {
        let _ = write!(
            out,
            "\n{} pool: {} jobs on {} threads, waited in queue {}",
            pool.pool,
            pool.jobs,
            pool.threads.len(),
            format_duration(pool.queue_wait)
        );
        if pool.never_started > 0 {
            let _ = write!(out, ", {} never started", pool.never_started);
        }
        out.push('\n');
        let name_w = pool
            .threads
            .iter()
            .map(|t| t.name.chars().count())
            .max()
            .unwrap_or(0);
        for t in &pool.threads {
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:>4} jobs  busy {}",
                t.name,
                t.jobs,
                format_duration(t.busy)
            );
        }
    }

    let l = loop_stats(record);
    let pct = if l.total.is_zero() {
        0.0
    } else {
        l.parked.as_secs_f64() / l.total.as_secs_f64() * 100.0
    };
    let _ = write!(
        out,
        "\nloop: parked {} of {} ({:.0}%) in {} parks, running {}",
        format_duration(l.parked),
        format_duration(l.total),
        pct,
        l.parks,
        format_duration(l.total.saturating_sub(l.parked)),
    );
    if l.clock_jumps > 0 {
        let _ = write!(
            out,
            "; paused clock jumped {} times, {} in all",
            l.clock_jumps,
            format_duration(l.jumped)
        );
    }
    out.push('\n');
    out
}

/// Left-aligns the first column, right-aligns the numbers, left-aligns the
/// last two (wakes, verdict), and trims trailing spaces.
fn push_row(out: &mut String, row: &[String; 8], widths: &[usize; 8]) {
    let mut line = String::new();
    for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let pad = w.saturating_sub(cell.chars().count());
        if i == 0 || i >= 6 {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        } else {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(cell);
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

const UNITS: [(u128, &str); 4] = [
    (1_000_000_000, "s"),
    (1_000_000, "ms"),
    (1_000, "µs"),
    (1, "ns"),
];

/// A duration for people: three significant digits in the largest unit that
/// fits (`ns`, `µs`, `ms`, `s`), trailing zeros dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::stats::format_duration;
///
/// assert_eq!(format_duration(Duration::ZERO), "0 s");
/// assert_eq!(format_duration(Duration::from_nanos(850)), "850 ns");
/// assert_eq!(format_duration(Duration::from_micros(12_345)), "12.3 ms");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1.5 s");
/// assert_eq!(format_duration(Duration::from_micros(999_999)), "1 s");
/// ```
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0 s".to_string();
    }
    let mut i = UNITS
        .iter()
        .position(|(unit, _)| ns >= *unit)
        .unwrap_or(UNITS.len() - 1);
    loop {
        let (unit, name) = UNITS[i];
        let whole = ns / unit;
        let decimals: u32 = match whole {
            0..=9 => 2,
            10..=99 => 1,
            _ => 0,
        };
        let scale = 10u128.pow(decimals);
        // Rounded to `decimals` places, half up.
        let scaled = (ns * scale * 2 + unit) / (unit * 2);
        // 999.7 µs rounds to 1000 µs: say 1 ms instead.
        if scaled / scale >= 1000 && i > 0 {
            i -= 1;
            continue;
        }
        return format!("{} {name}", fixed(scaled, decimals));
    }
}

/// A duration exactly, to the nanosecond, in the largest unit that fits:
/// for tooltips, where people want the real figure.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::stats::format_exact;
///
/// assert_eq!(format_exact(Duration::from_nanos(1_000_012_345)), "1.000012345 s");
/// assert_eq!(format_exact(Duration::from_micros(1500)), "1.5 ms");
/// assert_eq!(format_exact(Duration::ZERO), "0 s");
/// ```
pub fn format_exact(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0 s".to_string();
    }
    let (unit, name) = UNITS
        .iter()
        .copied()
        .find(|(unit, _)| ns >= *unit)
        .unwrap_or((1, "ns"));
    let decimals = unit.ilog10();
    format!("{} {name}", fixed(ns, decimals))
}

/// `value / 10^decimals` written out with trailing zeros (and a bare dot) dropped.
pub(crate) fn fixed(value: u128, decimals: u32) -> String {
    let scale = 10u128.pow(decimals);
    let whole = value / scale;
    let frac = value % scale;
    if decimals == 0 || frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_duration_units() {
        let f = |ns| format_duration(Duration::from_nanos(ns));
        assert_eq!(f(1), "1 ns");
        assert_eq!(f(999), "999 ns");
        assert_eq!(f(1_000), "1 µs");
        assert_eq!(f(1_234), "1.23 µs");
        assert_eq!(f(999_600), "1 ms");
        assert_eq!(f(500_000_000), "500 ms");
        assert_eq!(f(61_000_000_000), "61 s");
        assert_eq!(f(u64::MAX), "18446744074 s");
    }

    #[test]
    fn fixed_trims() {
        assert_eq!(fixed(1500, 3), "1.5");
        assert_eq!(fixed(1000, 3), "1");
        assert_eq!(fixed(1, 3), "0.001");
    }
}
