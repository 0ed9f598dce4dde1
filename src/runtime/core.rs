//! The loop itself: the run queue, the tick, parking, and shutdown.
//!
//! One tick (DESIGN.md, "The loop"):
//!
//! 1. poll up to [`BUDGET`] tasks from the local run queue;
//! 2. move tasks woken from other threads into the local queue;
//! 3. fire expired timers (the tasks they wake go to the front of the queue);
//! 4. poll the OS for IO: with a zero timeout if anything is ready, otherwise
//!    blocking until the next deadline or a wake (the paused clock jumps to
//!    the next deadline instead, when nothing else can happen);
//! 5. wake the tasks that called `yield_now` during this tick, so they run
//!    again only after timers and IO had their turn.

use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::builder::Config;
use super::clock::Clock;
use super::driver::{Dispatch, Driver};
use super::recorder::{Doing, MAIN_ID, Recorder};
use super::shared::Shared;
use super::timers::Timers;
use super::{SlowPoll, YieldSpin};
use crate::task::{End, JoinHandle, OwnedTasks, Ran, Task};
use crate::trace::record::{Record, WakeSource};

/// How many task polls one tick may make before timers and IO get a turn.
pub(crate) const BUDGET: usize = 128;

/// On the paused clock, how many ticks in a row may have nothing ready but
/// tasks that yielded before the loop treats them as idle and lets virtual
/// time move to the next timer (see [`Builder::paused_clock`]).
///
/// [`Builder::paused_clock`]: super::Builder::paused_clock
pub(crate) const YIELD_SPIN_TICKS: u32 = 20_000;

/// The loop-thread half of a runtime.
pub(crate) struct Core {
    pub(super) shared: Arc<Shared>,
    pub(super) owned: OwnedTasks,
    pub(super) queue: RefCell<VecDeque<Task>>,
    /// Wakers of tasks that yielded this tick.
    pub(super) deferred: RefCell<Vec<Waker>>,
    /// Tasks that woke themselves during their own poll (treated as yields).
    pub(super) self_woken: RefCell<Vec<Task>>,
    /// The task being polled right now.
    pub(super) polling: std::cell::Cell<Option<crate::task::Id>>,
    /// The task that yielded last (`None`: the main future), to name it if
    /// it turns out to spin.
    pub(super) last_yielder: std::cell::Cell<Option<crate::task::Id>>,
    /// Paused clock: ticks in a row where only yielders were ready.
    yield_only_ticks: std::cell::Cell<u32>,
    /// Whether the spinning-yielder warning was given already.
    spin_warned: std::cell::Cell<bool>,
    pub(super) timers: RefCell<Timers>,
    pub(super) clock: Clock,
    pub(super) driver: Driver,
    pub(super) config: Config,
    /// What tracing records, when it is on.
    pub(super) recorder: Option<Recorder>,
    /// The reactor (`crate::io`), installed when the first IO source registers.
    pub(super) reactor: OnceCell<Rc<dyn Dispatch>>,
    /// Services hung on the loop by modules above it (the offload pools).
    extensions: RefCell<Vec<Rc<dyn Extension>>>,
    scratch_tasks: RefCell<Vec<Task>>,
    scratch_wakers: RefCell<Vec<Waker>>,
    scratch_deferred: RefCell<Vec<Waker>>,
}

/// A service a module above the runtime hangs on the loop (the offload
/// pools), told when the runtime shuts down.
pub(crate) trait Extension: Any {
    /// The runtime is shutting down; its tasks are already cancelled.
    fn shutdown(&self);
}

/// The waker of the future passed to `block_on`.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        if let Some(sources) = &self.shared.remote_sources {
            // Tracing: record where the wake came from, like a task's.
            let on_loop = super::context::with_core(|core| {
                if !Arc::ptr_eq(&core.shared, &self.shared) {
                    return false;
                }
                if let Some(rec) = &core.recorder {
                    rec.woken(MAIN_ID, core.clock.now());
                }
                true
            });
            if on_loop != Some(true) {
                let thread = std::thread::current();
                let name = thread.name().unwrap_or("an unnamed thread").to_owned();
                sources
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((MAIN_ID, name));
            }
        }
        self.shared.unpark();
    }
}

impl Core {
    pub(crate) fn new(config: Config) -> std::io::Result<Core> {
        let (driver, waker) = Driver::new()?;
        let clock = Clock::new(config.paused_clock);
        let recorder = config
            .trace
            .then(|| Recorder::new(clock.now(), config.slow_poll_threshold));
        Ok(Core {
            shared: Arc::new(Shared::new(waker, config.trace)),
            owned: OwnedTasks::new(),
            queue: RefCell::new(VecDeque::new()),
            deferred: RefCell::new(Vec::new()),
            self_woken: RefCell::new(Vec::new()),
            polling: std::cell::Cell::new(None),
            last_yielder: std::cell::Cell::new(None),
            yield_only_ticks: std::cell::Cell::new(0),
            spin_warned: std::cell::Cell::new(false),
            timers: RefCell::new(Timers::new(clock.base())),
            clock,
            driver,
            config,
            recorder,
            reactor: OnceCell::new(),
            extensions: RefCell::new(Vec::new()),
            scratch_tasks: RefCell::new(Vec::new()),
            scratch_wakers: RefCell::new(Vec::new()),
            scratch_deferred: RefCell::new(Vec::new()),
        })
    }

    /// The loop's extension of type `T`, created by `init` on first use.
    pub(crate) fn extension<T: Extension>(&self, init: impl FnOnce(&Core) -> T) -> Rc<T> {
        let found = self
            .extensions
            .borrow()
            .iter()
            .find_map(|e| (e.clone() as Rc<dyn Any>).downcast::<T>().ok());
        if let Some(found) = found {
            return found;
        }
        let created = Rc::new(init(self));
        self.extensions.borrow_mut().push(created.clone());
        created
    }

    /// Creates a task and queues it.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let traced_name = self
            .recorder
            .as_ref()
            .map(|_| name.as_deref().map(str::to_owned));
        let (queued, handle) = self.owned.bind(future, self.shared.clone(), name, location);
        if let (Some(rec), Some(name)) = (&self.recorder, traced_name) {
            rec.spawned_task(handle.id(), name.as_deref(), location, self.clock.now());
        }
        if let Some(task) = queued {
            self.queue.borrow_mut().push_back(task);
        }
        handle
    }

    /// Runs `future` to completion on this thread, running tasks meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Rc<Self>, future: F) -> F::Output {
        let mut future = pin!(future);
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if main.woken.swap(false, SeqCst) {
                let start = self.config.slow_poll_threshold.map(|_| self.clock.stamp());
                if let Some(rec) = &self.recorder {
                    rec.poll_start(MAIN_ID, self.clock.now());
                }
                let polled = future.as_mut().poll(&mut cx);
                if let Some(rec) = &self.recorder {
                    let end = polled.is_ready().then_some(End::Output);
                    rec.poll_end(MAIN_ID, self.clock.now(), end);
                }
                if let Some(start) = start {
                    let took = self.clock.stamp().saturating_sub(start);
                    self.check_slow(Duration::from_nanos(took), None);
                }
                if let Poll::Ready(out) = polled {
                    return out;
                }
            }
            self.tick(&main.woken);
        }
    }

    /// Runs `future` as [`block_on`](Core::block_on) does, unless `stop`
    /// completes first: then `stop` is dropped, then `future`, then every
    /// task is cancelled as at shutdown (their drops run here, in the
    /// loop's context), and `stop`'s output is returned.
    ///
    /// `stop` is polled before `future` each time, so it is listening
    /// before the main future first runs, and it wins a tie.
    pub(crate) fn block_on_or_stop<F: Future, S: Future>(
        self: &Rc<Self>,
        future: F,
        stop: S,
    ) -> Result<F::Output, S::Output> {
        let outcome = {
            // Locals drop in reverse order: `stop` first, then `future`.
            let mut future = pin!(future);
            let mut stop = pin!(stop);
            self.block_on(std::future::poll_fn(|cx| {
                if let Poll::Ready(stopped) = stop.as_mut().poll(cx) {
                    return Poll::Ready(Err(stopped));
                }
                future.as_mut().poll(cx).map(Ok)
            }))
        };
        if outcome.is_err() {
            self.shutdown();
        }
        outcome
    }

    #[inline(never)]
    fn check_slow(&self, took: Duration, task: Option<&Task>) {
        let Some(threshold) = self.config.slow_poll_threshold else {
            return;
        };
        if took <= threshold {
            return;
        }
        let report = SlowPoll {
            task: task.map(|t| t.id()),
            name: match task {
                Some(t) => t.name().map(str::to_owned),
                None => Some("the main future (block_on)".to_owned()),
            },
            location: task.map(|t| t.location()),
            duration: took,
            threshold,
        };
        match &self.config.on_slow_poll {
            Some(hook) => hook(&report),
            None => eprintln!("{report}"),
        }
    }

    /// One turn of the loop.
    fn tick(&self, main_woken: &AtomicBool) {
        // 1. Run ready tasks, within the budget.
        let timed = self.config.slow_poll_threshold.is_some();
        let mut last = if timed {
            Some(self.clock.stamp())
        } else {
            None
        };
        for _ in 0..BUDGET {
            let task = self.queue.borrow_mut().pop_front();
            let Some(task) = task else { break };
            self.polling.set(Some(task.id()));
            match &self.recorder {
                // What the run did matters only to the recorder.
                None => {
                    let _ = self.owned.run(&task);
                }
                Some(rec) => {
                    let id = task.id().as_u64();
                    rec.poll_start(id, self.clock.now());
                    let end = match self.owned.run(&task) {
                        Ran::Complete(end) => Some(end),
                        Ran::Pending | Ran::Stale => None,
                    };
                    rec.poll_end(id, self.clock.now(), end);
                }
            }
            self.polling.set(None);
            if let Some(start) = last {
                // The coarse clock moves every few milliseconds: most polls
                // see the same reading, took nothing measurable, and skip
                // the check.
                let now = self.clock.stamp();
                if now != start {
                    self.check_slow(Duration::from_nanos(now.saturating_sub(start)), Some(&task));
                    last = Some(now);
                }
            }
            drop(task);
        }

        // 2. Tasks woken from other threads.
        self.drain_remote();

        // 3. Timers.
        self.fire_timers();

        // 4. IO, or park.
        self.poll_io(main_woken);

        // 5. Tasks that yielded run again next tick.
        // Drained in place (not taken), so the vector keeps its capacity.
        self.queue
            .borrow_mut()
            .extend(self.self_woken.borrow_mut().drain(..));
        // Swap in the spare vector rather than taking: both keep their
        // capacity, so a task that yields every tick allocates nothing.
        let mut deferred = std::mem::take(&mut *self.scratch_deferred.borrow_mut());
        std::mem::swap(&mut deferred, &mut *self.deferred.borrow_mut());
        if !deferred.is_empty() {
            self.doing(Doing::Yields);
            for waker in deferred.drain(..) {
                waker.wake();
            }
            self.doing(Doing::Nothing);
        }
        *self.scratch_deferred.borrow_mut() = deferred;
    }

    /// Tells the recorder (if any) what the loop is doing, for wake sources.
    pub(crate) fn doing(&self, doing: Doing) {
        if let Some(rec) = &self.recorder {
            rec.set_doing(doing);
        }
    }

    fn drain_remote(&self) {
        if let (Some(rec), Some(sources)) = (&self.recorder, &self.shared.remote_sources) {
            let now = self.clock.now();
            let sources = std::mem::take(&mut *sources.lock().unwrap_or_else(|e| e.into_inner()));
            for (id, thread) in sources {
                rec.woken_by(id, now, WakeSource::Thread { name: thread });
            }
        }
        if !self.shared.has_remote() {
            return;
        }
        let mut scratch = self.scratch_tasks.borrow_mut();
        self.shared.take_remote(&mut scratch);
        self.queue.borrow_mut().extend(scratch.drain(..));
    }

    fn fire_timers(&self) {
        let mut wakers = std::mem::take(&mut *self.scratch_wakers.borrow_mut());
        self.timers.borrow_mut().fire(self.clock.now(), &mut wakers);
        if !wakers.is_empty() {
            self.doing(Doing::Timers);
            let before = self.queue.borrow().len();
            for waker in wakers.drain(..) {
                waker.wake();
            }
            // Tasks whose deadline passed go ahead of the queue, in deadline
            // order: they have waited already, and behind a long queue (say,
            // 100,000 fresh tasks) they would be late by its whole length.
            let mut queue = self.queue.borrow_mut();
            let woken = queue.len().saturating_sub(before);
            queue.rotate_right(woken);
            drop(queue);
            self.doing(Doing::Nothing);
        }
        *self.scratch_wakers.borrow_mut() = wakers;
    }

    fn has_ready(&self, main_woken: &AtomicBool) -> bool {
        !self.queue.borrow().is_empty()
            || !self.deferred.borrow().is_empty()
            || !self.self_woken.borrow().is_empty()
            || main_woken.load(SeqCst)
            || self.shared.has_remote()
    }

    /// Whether this tick, on the paused clock, has nothing ready but tasks
    /// that yielded, and has had so for so long that they must be spinning
    /// on `yield_now` while they wait for a timer. A yield costs no virtual
    /// time, so a few yields never move the clock; only an unbroken run of
    /// [`YIELD_SPIN_TICKS`] such ticks counts as idle, with a warning.
    fn spinning_yielders(&self, main_woken: &AtomicBool) -> bool {
        let yielders_only = self.clock.is_paused()
            && self.queue.borrow().is_empty()
            && !main_woken.load(SeqCst)
            && !self.shared.has_remote()
            && (!self.deferred.borrow().is_empty() || !self.self_woken.borrow().is_empty());
        if !yielders_only {
            self.yield_only_ticks.set(0);
            return false;
        }
        let ticks = self.yield_only_ticks.get().saturating_add(1);
        self.yield_only_ticks.set(ticks);
        if ticks < YIELD_SPIN_TICKS {
            return false;
        }
        if !self.spin_warned.replace(true) {
            self.warn_yield_spin(ticks);
        }
        true
    }

    fn warn_yield_spin(&self, ticks: u32) {
        let task = self.last_yielder.get();
        let (name, location) = match task {
            Some(id) => match self.owned.describe(id) {
                Some((name, location)) => (name, Some(location)),
                None => (None, None),
            },
            None => (Some("the main future (block_on)".to_owned()), None),
        };
        let report = YieldSpin {
            task,
            name,
            location,
            ticks,
        };
        match &self.config.on_yield_spin {
            Some(hook) => hook(&report),
            None => eprintln!("{report}"),
        }
    }

    fn poll_io(&self, main_woken: &AtomicBool) {
        // Only yielders (yield_now, or a wake during the task's own poll)
        // are ready, for a long time: on the paused clock that counts as
        // idle, so a task spinning on yield_now while it waits for a timer
        // cannot hang a test.
        let yielders_only = self.spinning_yielders(main_woken);
        if self.has_ready(main_woken) && !yielders_only {
            if self.driver.has_sources() {
                self.driver
                    .poll(Some(Duration::ZERO), None, self.reactor.get().map(|r| &**r));
            }
            return;
        }
        if self.clock.is_paused() {
            let events = if self.driver.has_sources() {
                self.driver
                    .poll(Some(Duration::ZERO), None, self.reactor.get().map(|r| &**r))
            } else {
                0
            };
            if events > 0 || (self.has_ready(main_woken) && !yielders_only) {
                return;
            }
            if self.shared.jobs_in_flight.load(SeqCst) == 0 {
                let next = self.timers.borrow_mut().next_deadline();
                if let Some(deadline) = next {
                    if let Some(rec) = &self.recorder {
                        rec.jumped(
                            self.clock.now(),
                            deadline,
                            "no task ready: jump to the next timer",
                        );
                    }
                    self.clock.advance_to(deadline);
                    self.fire_timers();
                    return;
                }
            }
            if self.has_ready(main_woken) {
                return;
            }
            // Nothing here can move virtual time: wait for another thread.
            self.park(None, None, main_woken);
        } else {
            let next = self.timers.borrow_mut().next_deadline();
            let timeout = next.map(|d| d.saturating_duration_since(self.clock.now()));
            self.park(timeout, next, main_woken);
            self.fire_timers();
        }
    }

    fn park(&self, timeout: Option<Duration>, deadline: Option<Instant>, main_woken: &AtomicBool) {
        if self.shared.begin_park() && !main_woken.load(SeqCst) {
            let from = self.recorder.as_ref().map(|_| self.clock.now());
            self.driver
                .poll(timeout, deadline, self.reactor.get().map(|r| &**r));
            if let (Some(rec), Some(from)) = (&self.recorder, from) {
                rec.parked(from, self.clock.now());
            }
        }
        self.shared.end_park();
    }

    /// The trace so far, if tracing is on.
    pub(crate) fn trace_record(&self) -> Option<Record> {
        self.recorder.as_ref().map(|r| r.snapshot(self.clock.now()))
    }

    /// Cancels every task and drops every queued reference, on this thread.
    pub(crate) fn shutdown(&self) {
        // Cancelling the tasks first marks their queued pool jobs as unwanted.
        self.owned.shutdown();
        let extensions = self.extensions.borrow().clone();
        for extension in extensions {
            extension.shutdown();
        }
        loop {
            self.owned.shutdown();
            let queued = std::mem::take(&mut *self.queue.borrow_mut());
            drop(queued);
            let remote = self.shared.close();
            drop(remote);
            let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
            drop(deferred);
            let again = std::mem::take(&mut *self.self_woken.borrow_mut());
            drop(again);
            let timers = self.timers.borrow_mut().clear();
            drop(timers);
            if self.owned.len() == 0 && self.queue.borrow().is_empty() {
                break;
            }
        }
    }
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("tasks", &self.owned.len())
            .field("queued", &self.queue.borrow().len())
            .field("timers", &self.timers.borrow().len())
            .finish()
    }
}
