//! What the runtime records while tracing is on: the data model that every
//! renderer in [`crate::trace`] reads.
//!
//! A [`Record`] is plain data. The runtime fills it while it runs (one
//! [`TaskRecord`] per spawned task, one [`JobRecord`] per job handed to a pool,
//! one [`Park`] per time the loop thread blocked in the poller); the renderers
//! ([`stats`](crate::trace::stats), and with the `render` feature `chrome`
//! and `svg`) only read it. Nothing here touches the runtime,
//! so a record can also be built by hand, as the tests and the examples below
//! do.
//!
//! Every time is a [`Duration`] measured from the start of the recording
//! (nanosecond precision). With the paused clock these are virtual times; the
//! jumps of the clock are listed in [`Record::clock_jumps`].
//!
//! The renderers never trust a record to be tidy: spans whose end lies before
//! their start count as empty, events may come in any order, and times past
//! [`Record::end`] stretch the picture rather than break it.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use evloop::trace::record::{Record, Span, TaskEnd, TaskRecord, Wake, WakeSource};
//!
//! let ms = Duration::from_millis;
//! let mut task = TaskRecord::new(1, Some("sleeper".into()), "examples/example3.rs:12", ms(0));
//! task.polls.push(Span::new(ms(0), ms(1)));
//! task.wakes.push(Wake::new(ms(1000), WakeSource::Timer));
//! task.polls.push(Span::new(ms(1000), ms(1001)));
//! task.ended = Some((ms(1001), TaskEnd::Output));
//!
//! let mut record = Record::new(Duration::from_millis(100));
//! record.tasks.push(task);
//! record.end = ms(1001);
//! assert_eq!(record.task(1).unwrap().label(), "sleeper");
//! ```

use std::fmt;
use std::time::Duration;

/// Everything recorded during one traced run of a runtime.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Every task spawned while recording, in the order they were spawned.
    pub tasks: Vec<TaskRecord>,
    /// Every job handed to the blocking or the CPU pool, in the order queued.
    pub jobs: Vec<JobRecord>,
    /// Each interval during which the loop thread was blocked in the poller
    /// (`mio::Poll::poll`) waiting for an IO event, a timer or a wake.
    pub parks: Vec<Park>,
    /// Each jump of the paused clock (empty with the real clock).
    pub clock_jumps: Vec<ClockJump>,
    /// When the recording stopped; tasks still alive then are drawn up to here.
    pub end: Duration,
    /// A poll that takes longer than this is a slow poll: it blocked the loop.
    /// [`Duration::ZERO`] switches the check off (no poll is ever slow).
    pub slow_poll_threshold: Duration,
}

impl Record {
    /// An empty record with the given slow-poll threshold and `end` at zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::Record;
    ///
    /// let record = Record::new(Duration::from_millis(100));
    /// assert!(record.tasks.is_empty());
    /// assert_eq!(record.end, Duration::ZERO);
    /// ```
    pub fn new(slow_poll_threshold: Duration) -> Record {
        Record {
            slow_poll_threshold,
            ..Record::default()
        }
    }

    /// The task with this id, if it was recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Record, TaskRecord};
    ///
    /// let mut record = Record::new(Duration::from_millis(100));
    /// record.tasks.push(TaskRecord::new(7, None, "main.rs:3", Duration::ZERO));
    /// assert_eq!(record.task(7).map(|t| t.id), Some(7));
    /// assert!(record.task(8).is_none());
    /// ```
    pub fn task(&self, id: u64) -> Option<&TaskRecord> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Whether `poll` counts as a slow poll: strictly longer than
    /// [`slow_poll_threshold`](Record::slow_poll_threshold), which must not be zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Record, Span};
    ///
    /// let record = Record::new(Duration::from_millis(100));
    /// let ms = Duration::from_millis;
    /// assert!(record.is_slow(&Span::new(ms(0), ms(101))));
    /// assert!(!record.is_slow(&Span::new(ms(0), ms(100))), "exactly the threshold is fine");
    /// ```
    pub fn is_slow(&self, poll: &Span) -> bool {
        !self.slow_poll_threshold.is_zero() && poll.duration() > self.slow_poll_threshold
    }

    /// The latest time anything in the record reaches: [`end`](Record::end),
    /// or a later poll, wake, job, park or clock jump if the record holds one.
    /// Renderers draw up to here, so untidy data is never cut off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Park, Record};
    ///
    /// let mut record = Record::new(Duration::from_millis(100));
    /// record.end = Duration::from_secs(1);
    /// record.parks.push(Park::new(Duration::from_secs(1), Duration::from_secs(3)));
    /// assert_eq!(record.horizon(), Duration::from_secs(3));
    /// ```
    pub fn horizon(&self) -> Duration {
        let mut h = self.end;
        for t in &self.tasks {
            h = h.max(t.spawned);
            for p in &t.polls {
                h = h.max(p.start).max(p.end);
            }
            for w in &t.wakes {
                h = h.max(w.at);
            }
            if let Some((at, _)) = &t.ended {
                h = h.max(*at);
            }
        }
        for j in &self.jobs {
            h = h.max(j.queued);
            h = h.max(j.started.unwrap_or_default());
            h = h.max(j.finished.unwrap_or_default());
        }
        for p in &self.parks {
            h = h.max(p.start).max(p.end);
        }
        for c in &self.clock_jumps {
            h = h.max(c.at).max(c.to);
        }
        h
    }
}

/// What happened to one task, from spawn to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// The runtime's id of the task (unique within one runtime).
    pub id: u64,
    /// The name given with `task::Builder::name`, if any.
    pub name: Option<String>,
    /// Where the task was spawned, as `file:line` (from `#[track_caller]`).
    pub location: String,
    /// When `spawn` was called.
    pub spawned: Duration,
    /// Every poll of the task's future: when it started and returned.
    pub polls: Vec<Span>,
    /// Every wake of the task, with what woke it.
    pub wakes: Vec<Wake>,
    /// When and how the task ended; `None` if it was still alive when the
    /// recording stopped.
    pub ended: Option<(Duration, TaskEnd)>,
}

impl TaskRecord {
    /// A task spawned at `spawned`, with no polls, wakes or end yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::TaskRecord;
    ///
    /// let task = TaskRecord::new(3, Some("download 3".into()), "src/pipeline/fetch.rs:40", Duration::ZERO);
    /// assert!(task.polls.is_empty() && task.ended.is_none());
    /// ```
    pub fn new(
        id: u64,
        name: Option<String>,
        location: impl Into<String>,
        spawned: Duration,
    ) -> TaskRecord {
        TaskRecord {
            id,
            name,
            location: location.into(),
            spawned,
            polls: Vec::new(),
            wakes: Vec::new(),
            ended: None,
        }
    }

    /// The name a person sees: the task's name, or `task <id>` without one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::TaskRecord;
    ///
    /// assert_eq!(TaskRecord::new(4, None, "a.rs:1", Duration::ZERO).label(), "task 4");
    /// assert_eq!(TaskRecord::new(4, Some("fetch".into()), "a.rs:1", Duration::ZERO).label(), "fetch");
    /// ```
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("task {}", self.id),
        }
    }

    /// The spawn location cut down to its last two path parts
    /// (`src/pipeline/fetch.rs:40` becomes `pipeline/fetch.rs:40`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::TaskRecord;
    ///
    /// let task = TaskRecord::new(1, None, "/home/me/evloop/src/pipeline/fetch.rs:40", Duration::ZERO);
    /// assert_eq!(task.short_location(), "pipeline/fetch.rs:40");
    /// ```
    pub fn short_location(&self) -> &str {
        shorten_location(&self.location)
    }

    /// The task's lifetime: from spawn to its end, or to `record_end` if it
    /// had not ended. Never negative: an end before the spawn gives an empty span.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Span, TaskRecord};
    ///
    /// let s = Duration::from_secs;
    /// let task = TaskRecord::new(1, None, "a.rs:1", s(1));
    /// assert_eq!(task.lifetime(s(5)), Span::new(s(1), s(5)));
    /// ```
    pub fn lifetime(&self, record_end: Duration) -> Span {
        let end = match &self.ended {
            Some((at, _)) => *at,
            None => record_end,
        };
        Span::new(self.spawned, end.max(self.spawned))
    }

    /// The intervals during which the task was ready but not running: from
    /// each wake (or the spawn) to the poll that followed.
    ///
    /// The rules, which [`stats`](crate::trace::stats) sums into `scheduled`:
    /// - the spawn makes the task ready, like a wake;
    /// - a wake that lands while the task is being polled makes it ready from
    ///   the end of that poll (the runtime queues it again only then);
    /// - several wakes before one poll count once, from the earliest;
    /// - a wake with no poll after it leaves the task ready until its
    ///   lifetime ends (it was cancelled, or the recording stopped, first);
    /// - a poll with no wake before it (incomplete data) adds nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Span, TaskRecord, Wake, WakeSource};
    ///
    /// let ms = Duration::from_millis;
    /// let mut task = TaskRecord::new(1, None, "a.rs:1", ms(0));
    /// task.polls.push(Span::new(ms(2), ms(3)));   // spawned at 0, first polled at 2
    /// task.wakes.push(Wake::new(ms(10), WakeSource::Timer));
    /// task.polls.push(Span::new(ms(15), ms(16))); // woken at 10, polled at 15
    /// assert_eq!(
    ///     task.scheduled_spans(ms(20)),
    ///     vec![Span::new(ms(0), ms(2)), Span::new(ms(10), ms(15))],
    /// );
    /// ```
    pub fn scheduled_spans(&self, record_end: Duration) -> Vec<Span> {
        let life = self.lifetime(record_end);
        let mut polls: Vec<Span> = self.polls.clone();
        polls.sort_by_key(|p| (p.start, p.end));
        let mut wakes: Vec<Duration> = self.wakes.iter().map(|w| w.at).collect();
        wakes.sort();

        let mut out = Vec::new();
        // The moment the task became ready and has not been polled since.
        let mut ready: Option<Duration> = Some(self.spawned);
        let mut prev_end: Option<Duration> = None;
        let mut next_wake = 0;
        for poll in &polls {
            // Wakes that arrived before this poll started make it ready; a wake
            // during the previous poll counts from that poll's end.
            while next_wake < wakes.len() && wakes[next_wake] <= poll.start {
                let at = match prev_end {
                    Some(end) => wakes[next_wake].max(end),
                    None => wakes[next_wake],
                };
                ready = Some(ready.map_or(at, |r| r.min(at)));
                next_wake += 1;
            }
            if let Some(r) = ready.take()
                && poll.start > r
            {
                out.push(Span::new(r, poll.start));
            }
            prev_end = Some(prev_end.map_or(poll.end, |e| e.max(poll.end)));
        }
        // A wake after the last poll: ready until the lifetime ends.
        if let Some(&at) = wakes.get(next_wake) {
            let at = prev_end.map_or(at, |e| at.max(e));
            ready = Some(ready.map_or(at, |r| r.min(at)));
        }
        if let Some(r) = ready
            && life.end > r
        {
            out.push(Span::new(r, life.end));
        }
        out
    }
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEnd {
    /// Its future returned a value.
    Output,
    /// Its future panicked; the panic went to its `JoinHandle`.
    Panic,
    /// It was aborted, or cancelled when the runtime shut down.
    Cancelled,
}

impl fmt::Display for TaskEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskEnd::Output => "output",
            TaskEnd::Panic => "panic",
            TaskEnd::Cancelled => "cancelled",
        })
    }
}

/// An interval of time, `start` to `end`, both from the start of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// When it began.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
}

impl Span {
    /// The span from `start` to `end`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::Span;
    ///
    /// let span = Span::new(Duration::from_millis(5), Duration::from_millis(8));
    /// assert_eq!(span.duration(), Duration::from_millis(3));
    /// ```
    pub fn new(start: Duration, end: Duration) -> Span {
        Span { start, end }
    }

    /// How long it lasted; zero if `end` is before `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::Span;
    ///
    /// let backwards = Span::new(Duration::from_millis(8), Duration::from_millis(5));
    /// assert_eq!(backwards.duration(), Duration::ZERO);
    /// ```
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// One wake of a task: when it happened and what did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wake {
    /// When the waker was called.
    pub at: Duration,
    /// Who called it.
    pub source: WakeSource,
}

impl Wake {
    /// A wake at `at` from `source`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{Wake, WakeSource};
    ///
    /// let wake = Wake::new(Duration::from_secs(1), WakeSource::Timer);
    /// assert_eq!(wake.source.to_string(), "timer");
    /// ```
    pub fn new(at: Duration, source: WakeSource) -> Wake {
        Wake { at, source }
    }
}

/// What woke a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WakeSource {
    /// A timer fired (`sleep`, `timeout`, `interval`).
    Timer,
    /// A socket became readable or writable.
    Io {
        /// The socket, as its addresses (e.g. `127.0.0.1:8080`).
        socket: String,
    },
    /// Another task on the loop woke it (a channel send, a semaphore release,
    /// a finished task its `JoinHandle` was waiting for).
    Task {
        /// The id of the task that called the waker.
        id: u64,
    },
    /// A thread other than the loop's woke it (a pool job finishing, a
    /// cross-thread channel).
    Thread {
        /// The name of that thread.
        name: String,
    },
    /// The task woke itself during its own poll (`yield_now`).
    SelfWake,
    /// The spawn itself, which makes a new task ready.
    Spawn,
}

impl WakeSource {
    /// A one-word kind for the source: `timer`, `io`, `task`, `thread`,
    /// `self` or `spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::trace::record::WakeSource;
    ///
    /// assert_eq!(WakeSource::Io { socket: "127.0.0.1:80".into() }.kind(), "io");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            WakeSource::Timer => "timer",
            WakeSource::Io { .. } => "io",
            WakeSource::Task { .. } => "task",
            WakeSource::Thread { .. } => "thread",
            WakeSource::SelfWake => "self",
            WakeSource::Spawn => "spawn",
        }
    }
}

impl fmt::Display for WakeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WakeSource::Io { socket } => write!(f, "io {socket}"),
            WakeSource::Task { id } => write!(f, "task {id}"),
            WakeSource::Thread { name } => write!(f, "thread {name}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Which pool ran a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolKind {
    /// The blocking pool of `spawn_blocking` (grows as needed).
    Blocking,
    /// The CPU pool of `spawn_cpu` (one thread per core).
    Cpu,
}

impl fmt::Display for PoolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolKind::Blocking => "blocking",
            PoolKind::Cpu => "cpu",
        })
    }
}

/// One job handed to a pool: when it was queued, started and finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The pool it was handed to.
    pub pool: PoolKind,
    /// The name of the pool thread that ran it (empty if it never started).
    pub thread: String,
    /// A name for the job, if the caller gave one.
    pub name: Option<String>,
    /// When it was queued (`spawn_blocking` / `spawn_cpu` was called).
    pub queued: Duration,
    /// When a pool thread took it; `None` if it never started.
    pub started: Option<Duration>,
    /// When it returned; `None` if it was still running at the end.
    pub finished: Option<Duration>,
}

impl JobRecord {
    /// The time it ran on its thread, from start to finish (or to
    /// `record_end` if still running); `None` if it never started.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{JobRecord, PoolKind, Span};
    ///
    /// let ms = Duration::from_millis;
    /// let job = JobRecord {
    ///     pool: PoolKind::Cpu, thread: "evloop-cpu-0".into(), name: None,
    ///     queued: ms(1), started: Some(ms(2)), finished: None,
    /// };
    /// assert_eq!(job.run(ms(10)), Some(Span::new(ms(2), ms(10))));
    /// ```
    pub fn run(&self, record_end: Duration) -> Option<Span> {
        let start = self.started?;
        let end = self.finished.unwrap_or(record_end).max(start);
        Some(Span::new(start, end))
    }

    /// The name a person sees: the job's name, or `<pool> job`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::{JobRecord, PoolKind};
    ///
    /// let job = JobRecord {
    ///     pool: PoolKind::Blocking, thread: String::new(), name: None,
    ///     queued: Duration::ZERO, started: None, finished: None,
    /// };
    /// assert_eq!(job.label(), "blocking job");
    /// ```
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("{} job", self.pool),
        }
    }
}

/// An interval during which the loop thread was parked: blocked in the
/// poller, waiting for IO, a timer deadline or a wake from another thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Park {
    /// When the loop entered the poller.
    pub start: Duration,
    /// When it came back out.
    pub end: Duration,
}

impl Park {
    /// A park from `start` to `end`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::Park;
    ///
    /// let park = Park::new(Duration::from_millis(1), Duration::from_millis(4));
    /// assert_eq!(park.duration(), Duration::from_millis(3));
    /// ```
    pub fn new(start: Duration, end: Duration) -> Park {
        Park { start, end }
    }

    /// How long the loop was parked; zero if `end` is before `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::trace::record::Park;
    ///
    /// assert_eq!(Park::new(Duration::from_secs(2), Duration::from_secs(1)).duration(), Duration::ZERO);
    /// ```
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// A jump of the paused clock: with nothing to do, the loop moved its virtual
/// time forward to the next deadline instead of sleeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockJump {
    /// The virtual time before the jump.
    pub at: Duration,
    /// The virtual time after it.
    pub to: Duration,
    /// Why it jumped (e.g. `next timer: sleep in task 2`).
    pub reason: String,
}

/// Cuts a `file:line` location down to its last two path parts.
pub(crate) fn shorten_location(location: &str) -> &str {
    let bytes = location.as_bytes();
    let mut seps = 0;
    for (i, &b) in bytes.iter().enumerate().rev() {
        if b == b'/' || b == b'\\' {
            seps += 1;
            if seps == 2 {
                return &location[i + 1..];
            }
        }
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_location_keeps_two_parts() {
        assert_eq!(shorten_location("a/b/c.rs:1"), "b/c.rs:1");
        assert_eq!(shorten_location("c.rs:1"), "c.rs:1");
        assert_eq!(shorten_location("b\\c.rs:1"), "b\\c.rs:1");
        assert_eq!(shorten_location(""), "");
    }

    #[test]
    fn wake_during_poll_counts_from_poll_end() {
        let ms = Duration::from_millis;
        let mut t = TaskRecord::new(1, None, "x", ms(0));
        t.polls.push(Span::new(ms(0), ms(5)));
        t.wakes.push(Wake::new(ms(3), WakeSource::SelfWake));
        t.polls.push(Span::new(ms(7), ms(8)));
        t.ended = Some((ms(8), TaskEnd::Output));
        assert_eq!(t.scheduled_spans(ms(100)), vec![Span::new(ms(5), ms(7))]);
    }

    #[test]
    fn trailing_wake_is_scheduled_until_end() {
        let ms = Duration::from_millis;
        let mut t = TaskRecord::new(1, None, "x", ms(0));
        t.polls.push(Span::new(ms(0), ms(1)));
        t.wakes.push(Wake::new(ms(4), WakeSource::Timer));
        t.wakes.push(Wake::new(ms(6), WakeSource::Timer));
        assert_eq!(t.scheduled_spans(ms(10)), vec![Span::new(ms(4), ms(10))]);
    }

    #[test]
    fn poll_without_wake_adds_nothing() {
        let ms = Duration::from_millis;
        let mut t = TaskRecord::new(1, None, "x", ms(0));
        t.polls.push(Span::new(ms(0), ms(1)));
        t.polls.push(Span::new(ms(5), ms(6)));
        assert!(t.scheduled_spans(ms(6)).is_empty());
    }
}
