//! Many tasks (and pool threads) shown as few rows: the grouping rules that
//! the SVG timeline and the run report's statistics tables share, so a
//! picture's row and a table's row hold the same tasks.
//!
//! Tasks ([`group_tasks`]): up to `max_rows` tasks get a row each. Beyond that, the first rule that
//! gives few enough rows wins:
//! 1. tasks whose names share a prefix once trailing digits and separators
//!    are cut (`download 3`, `download 17` → `download`), unnamed tasks by
//!    spawn location;
//! 2. all tasks by spawn location;
//! 3. by spawn location, the groups past the limit folded into one
//!    `other tasks` group.
//!
//! Groups come in order of their first task (spawn order), and every task
//! is in exactly one group. Pool threads ([`group_threads`]) get a row each
//! unless their pool has more than its share of the rows; then the pool
//! gets one.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::trace::group::group_tasks;
//! use evloop::trace::record::{Record, TaskRecord};
//!
//! let mut record = Record::new(Duration::from_millis(100));
//! record.tasks.push(TaskRecord::new(0, Some("main".into()), "src/main.rs:9", Duration::ZERO));
//! for id in 1..=50 {
//!     let name = format!("download {id}");
//!     record.tasks.push(TaskRecord::new(id, Some(name), "src/fetch.rs:40", Duration::ZERO));
//! }
//! let groups = group_tasks(&record, 40);
//! let labels: Vec<String> = groups.iter().map(|g| g.label()).collect();
//! assert_eq!(labels, ["main", "download × 50"]);
//! assert_eq!(groups[1].location.as_deref(), Some("src/fetch.rs:40"));
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use super::record::{PoolKind, Record, TaskRecord};
use super::stats::{TaskStats, Verdict, WakeCounts};

/// The characters cut from the end of a name to find its group
/// (`download 12` → `download`, `worker-3` → `worker`).
fn is_numbering(c: char) -> bool {
    c.is_ascii_digit() || c.is_whitespace() || "#-_:./".contains(c)
}

/// One row's worth of tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskGroup {
    /// Indices into the record's `tasks` (and into
    /// [`task_stats`](super::stats::task_stats) of it), in spawn order.
    pub members: Vec<usize>,
    /// For one task, its label (its name, or `task <id>`). For several,
    /// the name they share with the numbering cut (`download`), `tasks`
    /// when they share only a spawn location, `other tasks` otherwise.
    pub name: String,
    /// The spawn location (its last two path parts) every member shares,
    /// if they share one.
    pub location: Option<String>,
}

impl TaskGroup {
    /// The row's label: the task's own for one task, `name × count` for a
    /// group (`download × 120`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::trace::group::TaskGroup;
    ///
    /// let group = TaskGroup { members: vec![3, 4], name: "download".into(), location: None };
    /// assert_eq!(group.label(), "download × 2");
    /// ```
    pub fn label(&self) -> String {
        if self.members.len() == 1 {
            self.name.clone()
        } else {
            format!("{} × {}", self.name, self.members.len())
        }
    }
}

/// The tasks of `record` in at most `max_rows` groups (at least one row is
/// allowed), by the rules in the module's docs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::group::group_tasks;
/// use evloop::trace::record::{Record, TaskRecord};
///
/// let mut record = Record::new(Duration::from_millis(100));
/// for id in 1..=3 {
///     record.tasks.push(TaskRecord::new(id, None, "a.rs:1", Duration::ZERO));
/// }
/// // Few enough: a row each, under each task's own label.
/// assert_eq!(group_tasks(&record, 40)[2].label(), "task 3");
/// // Too many: unnamed tasks spawned in one place share a row.
/// assert_eq!(group_tasks(&record, 2)[0].label(), "tasks × 3");
/// ```
pub fn group_tasks(record: &Record, max_rows: usize) -> Vec<TaskGroup> {
    let tasks = &record.tasks;
    let max = max_rows.max(1);
    let groups: Vec<Vec<usize>> = if tasks.len() <= max {
        (0..tasks.len()).map(|i| vec![i]).collect()
    } else {
        let by_name = group_by(tasks, name_prefix);
        if by_name.len() <= max {
            by_name
        } else {
            let mut by_place = group_by(tasks, |t| t.location.clone());
            if by_place.len() > max {
                let rest: Vec<usize> = by_place.drain(max - 1..).flatten().collect();
                by_place.push(rest);
            }
            by_place
        }
    };
    groups
        .into_iter()
        .map(|members| named(tasks, members))
        .collect()
}

/// Names a group of tasks (see [`TaskGroup::name`]).
fn named(tasks: &[TaskRecord], members: Vec<usize>) -> TaskGroup {
    if let [i] = members[..] {
        return TaskGroup {
            name: tasks[i].label(),
            location: Some(tasks[i].short_location().to_string()),
            members,
        };
    }
    let same = |f: &dyn Fn(&TaskRecord) -> String| {
        let v: Vec<String> = members.iter().map(|&i| f(&tasks[i])).collect();
        v.windows(2).all(|w| w[0] == w[1]).then(|| v[0].clone())
    };
    let prefix = same(&name_prefix);
    let location = same(&|t| t.short_location().to_string());
    let first = members.first().map(|&i| &tasks[i]);
    let name = match (&prefix, first) {
        (Some(_), Some(t)) if t.name.is_some() => {
            let name = t.label();
            let cut = name.trim_end_matches(is_numbering);
            if cut.is_empty() {
                name.clone()
            } else {
                cut.to_string()
            }
        }
        _ if location.is_some() => "tasks".to_string(),
        _ => "other tasks".to_string(),
    };
    TaskGroup {
        members,
        name,
        location,
    }
}

/// Indices of tasks grouped by `key`, groups in order of first appearance.
fn group_by(tasks: &[TaskRecord], key: impl Fn(&TaskRecord) -> String) -> Vec<Vec<usize>> {
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, task) in tasks.iter().enumerate() {
        let k = key(task);
        match index.get(&k) {
            Some(&g) => order[g].push(i),
            None => {
                index.insert(k, order.len());
                order.push(vec![i]);
            }
        }
    }
    order
}

/// The grouping key from a name: trailing digits and separators cut
/// (`download 12` → `download`); unnamed tasks by spawn location.
fn name_prefix(task: &TaskRecord) -> String {
    match &task.name {
        Some(name) => {
            let cut = name.trim_end_matches(is_numbering);
            if cut.is_empty() {
                format!("name {name}")
            } else {
                format!("name {cut}")
            }
        }
        None => format!("at {}", task.location),
    }
}

/// The statistics of a group's tasks, summed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupTotals {
    /// How many tasks.
    pub tasks: usize,
    /// Their polls.
    pub polls: usize,
    /// Their time inside `poll`.
    pub busy: Duration,
    /// Their time ready but not yet polled.
    pub scheduled: Duration,
    /// Their time waiting on something else.
    pub idle: Duration,
    /// Their longest single poll.
    pub longest_poll: Duration,
    /// Their wakes, by source.
    pub wakes: WakeCounts,
    /// How many tasks got each verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
}

impl GroupTotals {
    /// The sums over `group`'s members, whose statistics are `stats`
    /// ([`task_stats`](super::stats::task_stats) of the grouped record).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::group::{group_tasks, GroupTotals};
    /// use evloop::trace::record::{Record, Span, TaskRecord};
    /// use evloop::trace::stats::task_stats;
    ///
    /// let ms = Duration::from_millis;
    /// let mut record = Record::new(ms(100));
    /// for id in 1..=3 {
    ///     let mut task = TaskRecord::new(id, Some(format!("fetch {id}")), "a.rs:1", ms(0));
    ///     task.polls.push(Span::new(ms(0), ms(2)));
    ///     record.tasks.push(task);
    /// }
    /// record.end = ms(10);
    /// let group = &group_tasks(&record, 1)[0];
    /// let totals = GroupTotals::of(group, &task_stats(&record));
    /// assert_eq!((totals.tasks, totals.polls, totals.busy), (3, 3, ms(6)));
    /// assert_eq!(totals.verdict_summary(), "IO-bound ×3");
    /// ```
    pub fn of(group: &TaskGroup, stats: &[TaskStats]) -> GroupTotals {
        let mut totals = GroupTotals::default();
        for st in group.members.iter().filter_map(|&i| stats.get(i)) {
            totals.tasks += 1;
            totals.polls += st.polls;
            totals.busy += st.busy;
            totals.scheduled += st.scheduled;
            totals.idle += st.idle;
            totals.longest_poll = totals.longest_poll.max(st.longest_poll);
            let w = &mut totals.wakes;
            w.timer += st.wakes.timer;
            w.io += st.wakes.io;
            w.task += st.wakes.task;
            w.thread += st.wakes.thread;
            w.self_wake += st.wakes.self_wake;
            w.spawn += st.wakes.spawn;
            *totals.verdicts.entry(st.verdict).or_default() += 1;
        }
        totals
    }

    /// The verdicts in a few words: `IO-bound ×12` when all agree, else the
    /// count of the most worrying one (`2 blocking of 12`).
    pub fn verdict_summary(&self) -> String {
        match self.verdicts.iter().next() {
            Some((v, n)) if self.verdicts.len() == 1 => format!("{v} ×{n}"),
            Some((v, n)) => format!("{n} {v} of {}", self.tasks),
            None => String::new(),
        }
    }

    /// Every verdict with its count, most worrying first
    /// (`blocking: 2, IO-bound: 10`).
    pub fn verdict_counts(&self) -> String {
        self.verdicts
            .iter()
            .map(|(v, n)| format!("{v}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One row's worth of pool threads: a thread of its own, or a whole pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadGroup {
    /// The pool.
    pub pool: PoolKind,
    /// The thread's name, or `<pool> pool × <threads>` for a whole pool.
    pub name: String,
    /// How many threads the row stands for.
    pub threads: usize,
    /// Indices into the record's `jobs`: every job these threads started.
    pub jobs: Vec<usize>,
}

/// The pool threads of `record` that started a job, in at most about
/// `max_rows` groups: a row per thread in natural order (`blocking-2`
/// before `blocking-10`), pool by pool (blocking first); a pool with more
/// threads than its share of `max_rows` becomes one row, so a busy blocking
/// pool does not also hide the CPU pool's two threads.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::trace::group::group_threads;
/// use evloop::trace::record::{JobRecord, PoolKind, Record};
///
/// let ms = Duration::from_millis;
/// let mut record = Record::new(ms(100));
/// for i in 0..30 {
///     record.jobs.push(JobRecord {
///         pool: PoolKind::Blocking, thread: format!("blocking-{i}"), name: None,
///         queued: ms(0), started: Some(ms(1)), finished: Some(ms(2)),
///     });
/// }
/// for i in 0..2 {
///     record.jobs.push(JobRecord {
///         pool: PoolKind::Cpu, thread: format!("cpu-{i}"), name: None,
///         queued: ms(0), started: Some(ms(1)), finished: Some(ms(2)),
///     });
/// }
/// let names: Vec<String> = group_threads(&record, 16).into_iter().map(|g| g.name).collect();
/// assert_eq!(names, ["blocking pool × 30", "cpu-0", "cpu-1"]);
/// ```
pub fn group_threads(record: &Record, max_rows: usize) -> Vec<ThreadGroup> {
    // Keyed for natural order: pool, name without its number, the number.
    let mut threads: BTreeMap<(PoolKind, &str, u64, &str), Vec<usize>> = BTreeMap::new();
    for (i, job) in record.jobs.iter().enumerate() {
        if job.started.is_some() {
            let name = job.thread.as_str();
            let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let (stem, number) = name.split_at(name.len() - digits);
            let number = number.parse::<u64>().unwrap_or(0);
            threads
                .entry((job.pool, stem, number, name))
                .or_default()
                .push(i);
        }
    }
    let mut pools: BTreeMap<PoolKind, Vec<(&str, Vec<usize>)>> = BTreeMap::new();
    for ((pool, _, _, name), jobs) in threads {
        pools.entry(pool).or_default().push((name, jobs));
    }
    let share = (max_rows.max(1) / pools.len().max(1)).max(1);
    let mut out = Vec::new();
    for (pool, members) in pools {
        if members.len() <= share {
            out.extend(members.into_iter().map(|(name, jobs)| ThreadGroup {
                pool,
                name: name.to_string(),
                threads: 1,
                jobs,
            }));
        } else {
            let count = members.len();
            out.push(ThreadGroup {
                pool,
                name: format!("{pool} pool × {count}"),
                threads: count,
                jobs: members.into_iter().flat_map(|(_, jobs)| jobs).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prefix_cuts_numbers() {
        let t = |n: &str| TaskRecord::new(1, Some(n.into()), "x.rs:1", Duration::ZERO);
        assert_eq!(name_prefix(&t("download 12")), "name download");
        assert_eq!(name_prefix(&t("worker-3")), "name worker");
        assert_eq!(name_prefix(&t("42")), "name 42");
        let unnamed = TaskRecord::new(1, None, "x.rs:1", Duration::ZERO);
        assert_eq!(name_prefix(&unnamed), "at x.rs:1");
    }

    #[test]
    fn groups_past_the_limit_fold_into_other_tasks() {
        let mut record = Record::new(Duration::from_millis(100));
        for id in 0..10u64 {
            let place = format!("src/f{id}.rs:1");
            record.tasks.push(TaskRecord::new(
                id,
                Some(format!("t{id}x")),
                place,
                Duration::ZERO,
            ));
        }
        let groups = group_tasks(&record, 4);
        assert_eq!(groups.len(), 4);
        assert_eq!(groups[3].label(), "other tasks × 7");
        assert_eq!(groups[3].location, None);
        let covered: usize = groups.iter().map(|g| g.members.len()).sum();
        assert_eq!(covered, 10);
    }
}
