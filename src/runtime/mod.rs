//! The event loop: [`Runtime`], [`run`], [`spawn`], and the tick that drives
//! every task.
//!
//! A runtime is single-threaded, like asyncio's loop: every task's future is
//! polled, and dropped, on the thread that runs the loop, so futures need not
//! be `Send`. Other threads take part only through wakers (which push to a
//! remote queue and wake the parked loop) and the offload pools.
//!
//! The pieces, one file each in `src/runtime/`: `core.rs` (the tick,
//! parking, shutdown), `shared.rs` (what other threads can reach: the
//! remote queue and the waker of the poller), `context.rs` (the
//! thread-local current loop), `driver.rs` (the `mio::Poll` the loop blocks
//! in), `timers.rs` and `clock.rs` (time), `recorder.rs` (the trace), and
//! `builder.rs` and `spawn.rs` (the public entry points: [`Builder`],
//! [`spawn`](spawn()), [`yield_now`]). The floors above (time, io, the pools)
//! ask the loop for what they need through `handle.rs`, never through its
//! fields.

mod builder;
mod clock;
mod context;
mod core;
mod driver;
pub(crate) mod handle;
mod recorder;
mod shared;
pub(crate) mod spawn;
mod timers;

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

pub(crate) use builder::Interrupter;
pub use builder::{
    Builder, DEFAULT_BLOCKING_IDLE_TIMEOUT, DEFAULT_MAX_BLOCKING_THREADS,
    DEFAULT_SLOW_POLL_THRESHOLD,
};
pub use spawn::{YieldNow, spawn, yield_now};

use crate::task::{Id, JoinHandle};

/// A single-threaded event loop.
///
/// Most programs only need [`run`]. Build a `Runtime` yourself to choose the
/// paused clock or the slow-poll threshold, or to run several futures on the
/// same loop one after another (tasks spawned by one `block_on` keep running
/// during the next). Dropping the runtime cancels every task that is left,
/// dropping their futures on this thread.
///
/// A `Runtime` is neither `Send` nor `Sync`: it belongs to the thread that
/// made it.
///
/// # Examples
///
/// ```
/// let rt = evloop::Runtime::new().unwrap();
/// let handle = rt.spawn(async { 6 * 7 });
/// assert_eq!(rt.block_on(handle).unwrap(), 42);
/// ```
pub struct Runtime {
    core: Rc<core::Core>,
}

impl Runtime {
    /// A runtime with the default settings (see [`Builder::new`]).
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created.
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder for a configured runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn from_config(config: builder::Config) -> std::io::Result<Runtime> {
        Ok(Runtime {
            core: Rc::new(core::Core::new(config)?),
        })
    }

    /// Runs `future` to completion on this thread, running the loop's tasks
    /// meanwhile, and returns its output.
    ///
    /// # Panics
    ///
    /// If called from inside a running runtime (await the future there
    /// instead), or if `future` panics. On a runtime built with
    /// `Builder::cancel_on_ctrl_c(true)` (Unix), also when Ctrl-C arrives:
    /// the main future and every task are cancelled first (their drops
    /// run), then `block_on` panics with "interrupted by Ctrl-C (SIGINT)",
    /// as `asyncio.run` raises `KeyboardInterrupt`. To get that as a value,
    /// use `block_on_interruptible` (in `evloop::signal`'s docs).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _guard = context::enter(self.core.clone());
        match self.core.config.interrupt.clone() {
            None => self.core.block_on(future),
            Some(make) => match self.core.block_on_or_stop(future, make()) {
                Ok(out) => out,
                Err(message) => panic!("{message}"),
            },
        }
    }

    /// Runs `future` as [`block_on`](Runtime::block_on) does, unless `stop`
    /// completes first: then `stop`, the main future and every task are
    /// dropped, in that order, the runtime is shut down (as when it is
    /// dropped), and `stop`'s output is returned. `stop` is polled before
    /// `future` each time. The loop does not know what `stop` waits for
    /// (`crate::signal` passes a Ctrl-C listener).
    #[track_caller]
    pub(crate) fn block_on_or_stop<F: Future, S: Future>(
        &self,
        future: F,
        stop: S,
    ) -> Result<F::Output, S::Output> {
        let _guard = context::enter(self.core.clone());
        self.core.block_on_or_stop(future, stop)
    }

    /// Spawns a task on this runtime; it starts at the next `block_on`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, None, Location::caller())
    }

    /// The trace recorded so far, if tracing is on
    /// ([`Builder::trace`]); render it with `evloop::trace`.
    pub fn trace_record(&self) -> Option<crate::trace::record::Record> {
        self.core.trace_record()
    }

    /// Tasks that are waiting with no waker anywhere: each returned
    /// `Pending` without storing its waker, so nothing can ever wake it (a
    /// lost wake-up). Meaningful between `block_on` calls, when no task runs.
    ///
    /// A task parked on a sleep that never ends (`sleep(Duration::MAX)`) is
    /// listed too, and rightly: nothing will ever wake it either.
    pub fn lost_wakeups(&self) -> Vec<LostWakeup> {
        self.core
            .owned
            .lost_wakeups()
            .into_iter()
            .map(|(id, name, location)| LostWakeup { id, name, location })
            .collect()
    }

    /// How many tasks are alive (spawned and not finished).
    pub fn task_count(&self) -> usize {
        self.core.owned.len()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if self.core.recorder.is_some() {
            for lost in self.lost_wakeups() {
                eprintln!("{lost}");
            }
            if let (Some(outputs), Some(record)) =
                (&self.core.config.trace_output, self.trace_record())
            {
                outputs.report(&record);
            }
        }
        // Cancel what is left with this loop as the current one, so that
        // dropped futures can still reach their timers and sockets. If this
        // thread is inside another runtime's block_on, cancel without it.
        let guard = context::try_enter(self.core.clone());
        self.core.shutdown();
        drop(guard);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("core", &self.core).finish()
    }
}

/// The trace recorded so far by the runtime running on this thread, if
/// tracing is on ([`Builder::trace`]); `None` outside a runtime.
///
/// # Examples
///
/// ```
/// let rt = evloop::Runtime::builder().trace(true).build().unwrap();
/// let labels = rt.block_on(async {
///     evloop::task::Builder::new().name("napper").spawn(async {}).await.unwrap();
///     let record = evloop::runtime::current_trace().unwrap();
///     record.tasks.iter().map(|t| t.label()).collect::<Vec<_>>()
/// });
/// assert!(labels.contains(&"napper".to_string())); // beside the main future
/// assert!(evloop::runtime::current_trace().is_none()); // outside a runtime
/// ```
pub fn current_trace() -> Option<crate::trace::record::Record> {
    context::with_core(|core| core.trace_record()).flatten()
}

/// Runs a future on a new runtime and returns its output (`asyncio.run`).
///
/// When the future finishes, every task it left running is cancelled and
/// dropped, as asyncio does.
///
/// # Panics
///
/// If the runtime cannot be created, if called inside a runtime, or if the
/// future panics.
///
/// # Examples
///
/// ```
/// let greeting = evloop::run(async { "hello" });
/// assert_eq!(greeting, "hello");
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt = Runtime::new().unwrap_or_else(|e| panic!("evloop: cannot create a runtime: {e}"));
    rt.block_on(future)
}

/// One poll that held the loop longer than the threshold.
///
/// Printed on stderr by default; see [`Builder::on_slow_poll`].
#[derive(Debug, Clone)]
pub struct SlowPoll {
    /// The task, or `None` for the main future of `block_on`.
    pub task: Option<Id>,
    /// The task's name, if it has one.
    pub name: Option<String>,
    /// Where the task was spawned.
    pub location: Option<&'static Location<'static>>,
    /// How long the poll held the loop.
    pub duration: Duration,
    /// The threshold it exceeded.
    pub threshold: Duration,
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match (&self.name, self.task) {
            (Some(name), Some(id)) => format!("task '{name}' ({id})"),
            (Some(name), None) => name.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "a task".to_owned(),
        };
        write!(f, "evloop: warning: {who}")?;
        if let Some(loc) = self.location {
            write!(f, " (spawned at {loc})")?;
        }
        write!(
            f,
            " held the loop for {:.3} s in one poll (threshold {} ms). Nothing else ran meanwhile. \
             Blocking calls (std::thread::sleep, sync IO) belong in evloop::spawn_blocking, \
             CPU-heavy work in evloop::spawn_cpu; or use the async version (evloop::time::sleep).",
            self.duration.as_secs_f64(),
            self.threshold.as_millis()
        )
    }
}

/// A task that kept yielding on the paused clock while nothing else could
/// happen, until the loop let virtual time move (see
/// [`Builder::paused_clock`]).
///
/// Printed on stderr by default; see [`Builder::on_yield_spin`].
#[derive(Debug, Clone)]
pub struct YieldSpin {
    /// The task that yielded last, or `None` for the main future.
    pub task: Option<Id>,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Where it was spawned.
    pub location: Option<&'static Location<'static>>,
    /// How many ticks in a row had only yielders ready.
    pub ticks: u32,
}

impl fmt::Display for YieldSpin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match (&self.name, self.task) {
            (Some(name), Some(id)) => format!("task '{name}' ({id})"),
            (Some(name), None) => name.clone(),
            (None, Some(id)) => id.to_string(),
            (None, None) => "a task".to_owned(),
        };
        write!(f, "evloop: warning: on the paused clock, {who}")?;
        if let Some(loc) = self.location {
            write!(f, " (spawned at {loc})")?;
        }
        write!(
            f,
            " kept yielding for {} ticks while nothing else could happen; virtual time now \
             moves to the next timer. A task that waits for time to pass should await \
             evloop::time::sleep instead of spinning on yield_now.",
            self.ticks
        )
    }
}

/// A task that can never be woken: it returned `Pending` without keeping its
/// waker anywhere. Reported at shutdown when tracing is on.
#[derive(Debug, Clone)]
pub struct LostWakeup {
    /// The task.
    pub id: Id,
    /// Its name, if any.
    pub name: Option<String>,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
}

impl fmt::Display for LostWakeup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match &self.name {
            Some(name) => format!("task '{name}' ({})", self.id),
            None => self.id.to_string(),
        };
        write!(
            f,
            "evloop: lost wake-up: {who} (spawned at {}) returned Pending without keeping its \
             waker anywhere, and was never woken. A future that returns Pending must first \
             store cx.waker() where the event it waits for will find it.",
            self.location
        )
    }
}
