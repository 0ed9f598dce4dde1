//! [`Builder`]: how a runtime is configured.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use super::{Runtime, SlowPoll, YieldSpin};
use crate::trace::TraceArgs;

/// The default slow-poll threshold, as asyncio's debug mode uses.
pub const DEFAULT_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(100);

/// The default cap on blocking-pool threads (as tokio's).
pub const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// How long an idle blocking-pool thread lingers by default.
pub const DEFAULT_BLOCKING_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

type SlowPollHook = Rc<dyn Fn(&SlowPoll)>;
type YieldSpinHook = Rc<dyn Fn(&YieldSpin)>;

/// Makes the future that, if it completes first, interrupts a `block_on`:
/// the main future and every task are cancelled, and `block_on` panics with
/// the future's output as the message. The signal module installs one for
/// `cancel_on_ctrl_c`; the loop knows nothing of signals.
pub(crate) type Interrupter = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = String>>>>;

/// The settings a runtime is built with.
#[derive(Clone)]
pub(crate) struct Config {
    pub(super) paused_clock: bool,
    pub(super) slow_poll_threshold: Option<Duration>,
    pub(super) on_slow_poll: Option<SlowPollHook>,
    pub(super) on_yield_spin: Option<YieldSpinHook>,
    pub(super) max_blocking_threads: usize,
    pub(super) blocking_idle_timeout: Duration,
    pub(super) cpu_threads: usize,
    pub(super) trace: bool,
    /// What to print and write when the runtime is dropped (from
    /// `EVLOOP_TRACE`, or [`Builder::trace_output`]).
    pub(super) trace_output: Option<TraceArgs>,
    /// What interrupts every `block_on` (Ctrl-C, when asked for).
    pub(super) interrupt: Option<Interrupter>,
}

/// Configures and builds a [`Runtime`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::{Runtime, time::{sleep, Instant}};
///
/// let rt = Runtime::builder().paused_clock(true).build().unwrap();
/// let took = rt.block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await; // instant, and exact
///     start.elapsed()
/// });
/// assert_eq!(took, Duration::from_secs(3600));
/// ```
pub struct Builder {
    config: Config,
}

impl Builder {
    /// The defaults: the real clock, and a slow-poll warning at 100 ms.
    ///
    /// If the environment variable `EVLOOP_TRACE` is set, tracing is on (see
    /// [`trace`](Builder::trace)) and, when the runtime is dropped, the
    /// summary table is printed on stderr; if its value names files ending
    /// in `.svg` or `.json` (comma-separated), the timeline and the Chrome
    /// trace are written there too.
    pub fn new() -> Builder {
        let env = std::env::var("EVLOOP_TRACE").ok().filter(|v| !v.is_empty());
        let builder = Builder::defaults();
        match env {
            Some(value) => builder.trace_output(TraceArgs::from_trace_env(&value)),
            None => builder,
        }
    }

    fn defaults() -> Builder {
        Builder {
            config: Config {
                paused_clock: false,
                slow_poll_threshold: Some(DEFAULT_SLOW_POLL_THRESHOLD),
                on_slow_poll: None,
                on_yield_spin: None,
                max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
                blocking_idle_timeout: DEFAULT_BLOCKING_IDLE_TIMEOUT,
                cpu_threads: num_cpus::get().max(1),
                trace: false,
                trace_output: None,
                interrupt: None,
            },
        }
    }

    /// Uses a virtual clock that stands still while tasks run and jumps to
    /// the next timer deadline whenever no task is ready, no IO event is
    /// waiting and no offloaded job is running. Tests of timing become exact
    /// and instant.
    ///
    /// The clock moves only when the loop would otherwise sleep. A task that
    /// yielded ([`yield_now`](crate::yield_now), or a wake during its own
    /// poll) is ready, so a yield costs no virtual time: a few thousand
    /// yields leave a pending one-hour timer pending. One exception keeps a
    /// test from hanging: a task that spins on `yield_now` while it waits
    /// for a timer. After 20,000 ticks in a row in which nothing but
    /// yielders was ready, the loop treats them as idle and lets time move
    /// to the next timer, and warns once, naming the spinning task (see
    /// [`on_yield_spin`](Builder::on_yield_spin)). Nothing a test or a
    /// lesson does on purpose comes near that many.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::time::{Instant, sleep};
    ///
    /// let rt = evloop::Runtime::builder().paused_clock(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let timer = evloop::spawn(sleep(Duration::from_secs(3600)));
    ///     for _ in 0..1000 {
    ///         evloop::yield_now().await; // costs no virtual time
    ///     }
    ///     assert_eq!(start.elapsed(), Duration::ZERO);
    ///     assert!(!timer.is_finished());
    /// });
    /// ```
    pub fn paused_clock(mut self, paused: bool) -> Builder {
        self.config.paused_clock = paused;
        self
    }

    /// A poll that holds the loop longer than this prints a warning naming
    /// the task (asyncio's debug-mode "Executing … took 1.000 seconds").
    /// `None` turns the check off. Default: 100 ms.
    pub fn slow_poll_threshold(mut self, threshold: Option<Duration>) -> Builder {
        self.config.slow_poll_threshold = threshold;
        self
    }

    /// Calls `hook` for each slow poll instead of printing the warning on
    /// stderr (tests use it to collect the warnings).
    pub fn on_slow_poll(mut self, hook: impl Fn(&SlowPoll) + 'static) -> Builder {
        self.config.on_slow_poll = Some(Rc::new(hook));
        self
    }

    /// Calls `hook` instead of printing a warning on stderr when, on the
    /// paused clock, a task spins on `yield_now` for so long that the loop
    /// lets virtual time move (see [`paused_clock`](Builder::paused_clock)).
    /// Given at most once per runtime.
    pub fn on_yield_spin(mut self, hook: impl Fn(&YieldSpin) + 'static) -> Builder {
        self.config.on_yield_spin = Some(Rc::new(hook));
        self
    }

    /// The most threads the blocking pool may grow to (default 512). Jobs
    /// beyond that wait in its queue.
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "evloop: max_blocking_threads must be at least 1");
        self.config.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits
    /// (default 10 s).
    pub fn blocking_idle_timeout(mut self, timeout: Duration) -> Builder {
        self.config.blocking_idle_timeout = timeout;
        self
    }

    /// How many threads the CPU pool has (default: the number of CPUs).
    ///
    /// # Panics
    ///
    /// If `n` is zero.
    #[track_caller]
    pub fn cpu_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "evloop: cpu_threads must be at least 1");
        self.config.cpu_threads = n;
        self
    }

    /// Records every task's polls, wakes and end, every pool job and every
    /// park of the loop, for `evloop::trace`'s table, Chrome trace and SVG
    /// timeline ([`Runtime::trace_record`]). Off by default; costs nothing
    /// measurable when off.
    pub fn trace(mut self, on: bool) -> Builder {
        self.config.trace = on;
        self
    }

    /// Records a trace (as [`trace`](Builder::trace) does) when `outputs`
    /// asks for anything, and when the runtime is dropped prints the
    /// summary table and writes the timeline and Chrome trace that
    /// `outputs` names, saying on stderr where each went. This is what the
    /// lessons' `--timeline FILE.svg` and `--trace FILE.json` flags do.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::trace::TraceArgs;
    ///
    /// let (outputs, _) = TraceArgs::parse(Vec::<String>::new()).unwrap();
    /// let rt = evloop::Runtime::builder().trace_output(outputs).build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// assert!(rt.trace_record().is_none()); // nothing was asked for: no tracing
    /// ```
    pub fn trace_output(mut self, outputs: TraceArgs) -> Builder {
        if outputs.wanted() {
            self.config.trace = true;
            self.config.trace_output = Some(outputs);
        } else {
            self.config.trace_output = None;
        }
        self
    }

    /// Makes every `block_on` of the runtime end early when the future
    /// `interrupter` makes completes first (see [`Interrupter`]); `None`
    /// turns it off. The public face is `cancel_on_ctrl_c`, in
    /// `crate::signal`.
    pub(crate) fn interrupter(mut self, interrupter: Option<Interrupter>) -> Builder {
        self.config.interrupt = interrupter;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created (out of file descriptors, say).
    pub fn build(self) -> std::io::Result<Runtime> {
        Runtime::from_config(self.config)
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("paused_clock", &self.config.paused_clock)
            .field("slow_poll_threshold", &self.config.slow_poll_threshold)
            .field("on_slow_poll", &self.config.on_slow_poll.is_some())
            .field("trace", &self.config.trace)
            .field("interruptible", &self.config.interrupt.is_some())
            .finish()
    }
}
