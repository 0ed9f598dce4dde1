//! What the floors above the loop may ask of it.
//!
//! `time`, `io`, `offload`, `sync` and `fs` sit above the runtime and need a
//! few things from the loop running on this thread: its clock, its timer
//! heap, its reactor slot, its pools, whether it records a trace. They get
//! them through [`Handle`], a borrowed view of the loop with methods only,
//! found with [`with_current`]. The loop's fields stay private to
//! `src/runtime/`, so the loop can change how it keeps them without the
//! floors above noticing.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::context;
use super::core::Core;
pub(crate) use super::driver::Dispatch;
use super::recorder::Doing;
use super::shared::Shared;
use super::timers::TimerKey;
use crate::trace::record::PoolKind;

pub(crate) use super::core::Extension;

/// The loop running on this thread, as the floors above see it.
#[derive(Clone, Copy)]
pub(crate) struct Handle<'a> {
    core: &'a Core,
}

/// Runs `f` with the loop running on this thread, or returns `None` outside
/// a runtime (and during thread-local teardown).
pub(crate) fn with_current<R>(f: impl FnOnce(Handle<'_>) -> R) -> Option<R> {
    context::with_core(|core| f(Handle { core }))
}

/// Whether a runtime is running on this thread.
pub(crate) fn in_runtime() -> bool {
    with_current(|_| ()).is_some()
}

/// An armed timer: its key in the heap of the loop that holds it (the key
/// names that loop, so another loop's heap refuses it).
#[derive(Debug)]
pub(crate) struct TimerRef {
    key: TimerKey,
}

/// Counts one offloaded job as in flight until dropped (run, skipped, or
/// dropped unrun at shutdown), so the paused clock never jumps while a job
/// may still deliver.
pub(crate) struct JobInFlight(Arc<Shared>);

impl Drop for JobInFlight {
    fn drop(&mut self) {
        self.0.jobs_in_flight.fetch_sub(1, SeqCst);
    }
}

/// What a pool job reports to the trace when it ends: the thread that ran
/// it, and when it started and finished (`None`: skipped).
pub(crate) type JobReport = Box<dyn FnOnce(String, Option<(Instant, Instant)>) + Send>;

impl<'a> Handle<'a> {
    // Time ------------------------------------------------------------------

    /// The loop's clock (virtual under the paused clock).
    pub(crate) fn now(self) -> Instant {
        self.core.clock.now()
    }

    /// The loop's latest clock reading, at most the current time (see
    /// `Clock::recent`): cheaper than [`now`](Handle::now), and enough to
    /// tell that a deadline has passed.
    pub(crate) fn recent(self) -> Instant {
        self.core.clock.recent()
    }

    /// Whether the clock is the paused (virtual) one.
    pub(crate) fn clock_is_paused(self) -> bool {
        self.core.clock.is_paused()
    }

    /// Moves the paused clock forward by `by` (what a blocking call would
    /// have cost in real time). Does nothing on the real clock.
    pub(crate) fn advance_paused_clock(self, by: Duration) {
        if self.core.clock.is_paused() {
            self.core.clock.advance(by);
        }
    }

    /// Arms a timer that wakes `waker` at `deadline`.
    pub(crate) fn arm_timer(self, deadline: Instant, waker: &Waker) -> TimerRef {
        let key = self
            .core
            .timers
            .borrow_mut()
            .insert(deadline, waker.clone());
        TimerRef { key }
    }

    /// Replaces the waker of `timer` if it is still armed on this loop;
    /// `false` if it is not (fired, or armed on another loop).
    pub(crate) fn rearm_timer(self, timer: &TimerRef, waker: &Waker) -> bool {
        self.core.timers.borrow_mut().set_waker(timer.key, waker)
    }

    /// Disarms `timer` if this loop holds it.
    pub(crate) fn disarm_timer(self, timer: &TimerRef) {
        self.core.timers.borrow_mut().remove(timer.key);
    }

    // IO --------------------------------------------------------------------

    /// The loop's reactor, made by `init` from the poller's registry at the
    /// first call.
    ///
    /// # Errors
    ///
    /// If the registry cannot be cloned (out of file descriptors).
    pub(crate) fn reactor<T: Dispatch>(
        self,
        init: impl FnOnce(mio::Registry) -> T,
    ) -> io::Result<Rc<T>> {
        let dispatch = match self.core.reactor.get() {
            Some(r) => r.clone(),
            None => {
                let reactor: Rc<dyn Dispatch> = Rc::new(init(self.core.driver.registry()?));
                let _ = self.core.reactor.set(reactor.clone());
                reactor
            }
        };
        let any: Rc<dyn std::any::Any> = dispatch;
        Ok(any
            .downcast::<T>()
            .expect("a loop has one kind of reactor, the io module's"))
    }

    /// A source was registered with the poller (the loop counts them, to
    /// know when a paused clock may jump).
    pub(crate) fn source_added(self) {
        self.core.driver.source_added();
    }

    /// A source was deregistered.
    pub(crate) fn source_removed(self) {
        self.core.driver.source_removed();
    }

    // Tracing ---------------------------------------------------------------

    /// Whether the loop records a trace.
    pub(crate) fn tracing(self) -> bool {
        self.core.recorder.is_some()
    }

    /// Tells the recorder that the wakes that follow come from an IO event
    /// on the socket `label` (`None`: from nothing in particular).
    pub(crate) fn dispatching_io(self, label: Option<String>) {
        self.core.doing(match label {
            Some(label) => Doing::Io(label),
            None => Doing::Nothing,
        });
    }

    // Pools -----------------------------------------------------------------

    /// The service of type `T` hung on this loop, made by `init` on first
    /// use; told when the runtime shuts down.
    pub(crate) fn extension<T: Extension>(self, init: impl FnOnce(Handle<'_>) -> T) -> Rc<T> {
        self.core.extension(|core| init(Handle { core }))
    }

    /// The most threads the blocking pool may have.
    pub(crate) fn max_blocking_threads(self) -> usize {
        self.core.config.max_blocking_threads
    }

    /// How long an idle blocking-pool thread lingers.
    pub(crate) fn blocking_idle_timeout(self) -> Duration {
        self.core.config.blocking_idle_timeout
    }

    /// How many threads the CPU pool has.
    pub(crate) fn cpu_threads(self) -> usize {
        self.core.config.cpu_threads
    }

    /// Counts a job as in flight until the returned guard drops.
    pub(crate) fn job_in_flight(self) -> JobInFlight {
        self.core.shared.jobs_in_flight.fetch_add(1, SeqCst);
        JobInFlight(self.core.shared.clone())
    }

    /// Records a job queued to `pool` (when tracing); the returned report is
    /// called by the pool thread when the job ends.
    pub(crate) fn job_queued(self, pool: PoolKind, name: &str) -> Option<JobReport> {
        let rec = self.core.recorder.as_ref()?;
        Some(Box::new(rec.job_queued(pool, name, self.core.clock.now())))
    }
}
