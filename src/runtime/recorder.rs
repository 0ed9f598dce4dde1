//! What the loop records when tracing is on (`Builder::trace(true)` or the
//! `EVLOOP_TRACE` environment variable): every task's spawn, polls, wakes and
//! end, every pool job, every park and every jump of the paused clock.
//!
//! Off, the loop holds `None` here and pays one branch per poll and per wake.
//! On, each poll costs two reads of the precise clock and a push onto the
//! task's record. The record is the data model of [`crate::trace::record`];
//! the renderers in `crate::trace` turn it into a table, a Chrome trace and an
//! SVG timeline.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::task::{End, Id};
use crate::trace::record::{
    ClockJump, JobRecord, Park, PoolKind, Record, Span, TaskEnd, TaskRecord, Wake, WakeSource,
};

/// The id under which the main future of `block_on` is recorded.
pub(crate) const MAIN_ID: u64 = 0;

/// What the loop is doing right now: decides the source of a wake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Doing {
    /// Between the steps of a tick (or spawning).
    Nothing,
    /// Inside the poll of this task (0: the main future).
    Polling(u64),
    /// Firing timers.
    Timers,
    /// Dispatching an IO event for this socket.
    Io(String),
    /// Waking tasks that yielded.
    Yields,
}

/// The recorder of one loop.
#[derive(Debug)]
pub(crate) struct Recorder {
    start: Instant,
    start_real: Instant,
    threshold: Duration,
    tasks: RefCell<Vec<TaskRecord>>,
    index: RefCell<HashMap<u64, usize, BuildHasherDefault<IdHasher>>>,
    parks: RefCell<Vec<Park>>,
    jumps: RefCell<Vec<ClockJump>>,
    /// Pool jobs report here from their threads.
    pub(crate) jobs: Arc<Mutex<Vec<JobRecord>>>,
    doing: RefCell<Doing>,
    poll_start: Cell<Duration>,
}

impl Recorder {
    pub(crate) fn new(now: Instant, threshold: Option<Duration>) -> Recorder {
        let rec = Recorder {
            start: now,
            start_real: Instant::now(),
            threshold: threshold.unwrap_or(Duration::ZERO),
            tasks: RefCell::new(Vec::new()),
            index: RefCell::new(HashMap::default()),
            parks: RefCell::new(Vec::new()),
            jumps: RefCell::new(Vec::new()),
            jobs: Arc::new(Mutex::new(Vec::new())),
            doing: RefCell::new(Doing::Nothing),
            poll_start: Cell::new(Duration::ZERO),
        };
        rec.spawned(MAIN_ID, Some("main (block_on)"), "block_on", now);
        rec
    }

    fn at(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.start)
    }

    fn with_task(&self, id: u64, f: impl FnOnce(&mut TaskRecord)) {
        let index = self.index.borrow().get(&id).copied();
        if let Some(i) = index {
            f(&mut self.tasks.borrow_mut()[i]);
        }
    }

    pub(crate) fn spawned(&self, id: u64, name: Option<&str>, location: &str, now: Instant) {
        let at = self.at(now);
        let mut record = TaskRecord::new(id, name.map(str::to_owned), location, at);
        record.wakes.push(Wake::new(at, WakeSource::Spawn));
        let mut tasks = self.tasks.borrow_mut();
        self.index.borrow_mut().insert(id, tasks.len());
        tasks.push(record);
    }

    pub(crate) fn spawned_task(
        &self,
        id: Id,
        name: Option<&str>,
        location: &'static Location<'static>,
        now: Instant,
    ) {
        self.spawned(id.as_u64(), name, &location.to_string(), now);
    }

    pub(crate) fn poll_start(&self, id: u64, now: Instant) {
        self.poll_start.set(self.at(now));
        *self.doing.borrow_mut() = Doing::Polling(id);
    }

    pub(crate) fn poll_end(&self, id: u64, now: Instant, end: Option<End>) {
        let span = Span::new(self.poll_start.get(), self.at(now));
        *self.doing.borrow_mut() = Doing::Nothing;
        self.with_task(id, |t| {
            t.polls.push(span);
            if let Some(end) = end {
                let kind = match end {
                    End::Output => TaskEnd::Output,
                    End::Panic => TaskEnd::Panic,
                    End::Cancelled => TaskEnd::Cancelled,
                };
                t.ended = Some((span.end, kind));
            }
        });
    }

    pub(crate) fn set_doing(&self, doing: Doing) {
        *self.doing.borrow_mut() = doing;
    }

    /// A task was queued; the source is whatever the loop is doing now.
    pub(crate) fn woken(&self, id: u64, now: Instant) {
        let source = match &*self.doing.borrow() {
            Doing::Polling(by) if *by == id => WakeSource::SelfWake,
            Doing::Polling(by) => WakeSource::Task { id: *by },
            Doing::Timers => WakeSource::Timer,
            Doing::Io(socket) => WakeSource::Io {
                socket: socket.clone(),
            },
            Doing::Yields => WakeSource::SelfWake,
            Doing::Nothing => return,
        };
        self.woken_by(id, now, source);
    }

    pub(crate) fn woken_by(&self, id: u64, now: Instant, source: WakeSource) {
        let at = self.at(now);
        self.with_task(id, |t| t.wakes.push(Wake::new(at, source)));
    }

    pub(crate) fn parked(&self, from: Instant, to: Instant) {
        self.parks
            .borrow_mut()
            .push(Park::new(self.at(from), self.at(to)));
    }

    pub(crate) fn jumped(&self, from: Instant, to: Instant, reason: &str) {
        self.jumps.borrow_mut().push(ClockJump {
            at: self.at(from),
            to: self.at(to),
            reason: reason.to_owned(),
        });
    }

    /// Records a pool job; called on the loop thread at submission, the
    /// returned closure is called on the pool thread with real instants.
    pub(crate) fn job_queued(
        &self,
        pool: PoolKind,
        name: &str,
        now: Instant,
    ) -> impl FnOnce(String, Option<(Instant, Instant)>) + Send + use<> {
        let queued = self.at(now);
        let origin = self.start_real;
        let jobs = self.jobs.clone();
        let name = name.to_owned();
        move |thread, ran| {
            let rel = |i: Instant| i.saturating_duration_since(origin);
            let record = JobRecord {
                pool,
                thread,
                name: Some(name),
                queued,
                started: ran.map(|(s, _)| rel(s)),
                finished: ran.map(|(_, f)| rel(f)),
            };
            jobs.lock().unwrap_or_else(|e| e.into_inner()).push(record);
        }
    }

    /// The record so far, ending at `now`.
    pub(crate) fn snapshot(&self, now: Instant) -> Record {
        let mut record = Record::new(self.threshold);
        record.tasks = self.tasks.borrow().clone();
        record.jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        record.parks = self.parks.borrow().clone();
        record.clock_jumps = self.jumps.borrow().clone();
        record.end = self.at(now);
        record
    }
}

/// Task ids are unique counters: they need mixing, not a keyed hash. One
/// multiplication spreads them over the table (SipHash costs more than the
/// rest of a recorded poll).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
