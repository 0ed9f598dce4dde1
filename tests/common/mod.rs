//! Helpers shared by the behaviour tests of the event loop.
//!
//! * [`watchdog`] runs a test body on its own thread and fails the test if it
//!   does not finish within a real-time limit, so a lost wake shows up as a
//!   failure naming the cause instead of a hung `cargo test`.
//! * [`Counters`] and [`Probe`] instrument a future: how often it was polled,
//!   woken and dropped, on which thread it was dropped, and whether two polls
//!   ever overlapped.
//! * [`DropCount`] and [`Token`] count drops of values (task outputs).
//! * [`Gate`] is a future that waits until another party (any thread) opens it.
//! * [`paused`] and [`real`] build runtimes the way the tests want them.
//!
//! Each test file includes this module with `mod common;`; not every file
//! uses every helper, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use evloop::Runtime;

/// The real-time limit for an ordinary test body.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Put this text in the message of a panic the test provokes on purpose: the
/// panic hook then stays quiet about it, so the output shows only real failures.
pub const EXPECTED: &str = "(a panic the test expects)";

/// Runs `body` on a fresh thread and returns its result.
///
/// Panics if the body panics (with the body's message, so
/// `#[should_panic(expected = ...)]` still matches), or if it has not
/// finished after `limit` of real time. The second case is how a lost wake
/// fails a test: the loop parks forever, and the watchdog reports it. The
/// stuck thread is left behind; it dies with the test process.
pub fn watchdog<T, F>(limit: Duration, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    quiet_expected_panics();
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("evloop-test-loop".into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(body));
            // The receiver is gone only if the watchdog already gave up.
            let _ = tx.send(result);
        })
        .expect("the test can start a thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => match panic_text(&*payload) {
            Some(message) => panic!("{message}"),
            None => std::panic::resume_unwind(payload),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: the test body did not finish within {limit:?} of real time \
             (a lost wake, or a loop that never reaches its timers)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("watchdog: the test thread ended without a result")
        }
    }
}

/// The text of a panic payload made by `panic!`, if it is text.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        Some((*s).to_owned())
    } else {
        payload.downcast_ref::<String>().cloned()
    }
}

/// Installs (once per test binary) a panic hook that says nothing about
/// panics whose message contains [`EXPECTED`], and defers to the default hook
/// for every other panic.
pub fn quiet_expected_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if panic_text(info.payload()).is_some_and(|m| m.contains(EXPECTED)) {
                return;
            }
            default(info);
        }));
    });
}

/// A runtime on the paused clock, with the slow-poll warning off (tests that
/// hold the loop with `sleep_blocking` would otherwise print it).
pub fn paused() -> Runtime {
    Runtime::builder()
        .paused_clock(true)
        .slow_poll_threshold(None)
        .build()
        .expect("the OS poller can be created")
}

/// A runtime on the real clock, with the slow-poll warning off (a loaded test
/// machine may hold the loop past the threshold, which is not what is tested).
pub fn real() -> Runtime {
    Runtime::builder()
        .slow_poll_threshold(None)
        .build()
        .expect("the OS poller can be created")
}

/// Polls `future` once with a waker that does nothing (for join handles
/// whose runtime is already gone, and for futures polled outside a loop).
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(future).poll(&mut cx)
}

/// Yields to the loop until `done()` is true.
pub async fn yield_until(done: impl Fn() -> bool) {
    while !done() {
        evloop::yield_now().await;
    }
}

/// What a [`Probe`] saw, shared between the probe and the test.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    polls: AtomicUsize,
    wakes: AtomicUsize,
    drops: AtomicUsize,
    in_poll: AtomicBool,
    overlaps: AtomicUsize,
    drop_threads: Mutex<Vec<ThreadId>>,
}

impl Counters {
    /// Fresh counters, all zero.
    pub fn new() -> Counters {
        Counters::default()
    }

    /// Wraps `future` in a probe that reports to these counters.
    pub fn probe<F: Future>(&self, future: F) -> Probe<F> {
        Probe {
            inner: Box::pin(future),
            counters: self.clone(),
        }
    }

    /// How many times the probed future was polled.
    pub fn polls(&self) -> usize {
        self.inner.polls.load(SeqCst)
    }

    /// How many times a waker handed to the probed future was woken.
    pub fn wakes(&self) -> usize {
        self.inner.wakes.load(SeqCst)
    }

    /// How many probes reporting here were dropped.
    pub fn drops(&self) -> usize {
        self.inner.drops.load(SeqCst)
    }

    /// How many polls started while another poll was still running.
    pub fn overlaps(&self) -> usize {
        self.inner.overlaps.load(SeqCst)
    }

    /// The threads the probes were dropped on, in order.
    pub fn drop_threads(&self) -> Vec<ThreadId> {
        self.inner
            .drop_threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Asserts polls, wakes and drops at once, naming the step on failure.
    #[track_caller]
    pub fn assert(&self, step: &str, polls: usize, wakes: usize, drops: usize) {
        assert_eq!(
            (self.polls(), self.wakes(), self.drops()),
            (polls, wakes, drops),
            "after {step}: (polls, wakes, drops)"
        );
    }
}

/// A future wrapper that counts polls, wakes and drops of the future inside.
///
/// The inner future sees a waker of the probe's own that counts each wake and
/// passes it on to the task's waker; the probe records the thread it was
/// dropped on.
#[derive(Debug)]
pub struct Probe<F> {
    inner: Pin<Box<F>>,
    counters: Counters,
}

struct CountingWaker {
    inner: Waker,
    counters: Counters,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.counters.inner.wakes.fetch_add(1, SeqCst);
        self.inner.wake_by_ref();
    }
}

/// Clears the "inside a poll" flag when the poll ends, even by panic.
struct PollGuard<'a>(&'a Inner);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.in_poll.store(false, SeqCst);
    }
}

impl<F: Future> Future for Probe<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let counters = self.counters.clone();
        let inner = &counters.inner;
        inner.polls.fetch_add(1, SeqCst);
        if inner.in_poll.swap(true, SeqCst) {
            inner.overlaps.fetch_add(1, SeqCst);
        }
        let _guard = PollGuard(inner);
        let waker = Waker::from(Arc::new(CountingWaker {
            inner: cx.waker().clone(),
            counters: counters.clone(),
        }));
        let mut cx = Context::from_waker(&waker);
        self.inner.as_mut().poll(&mut cx)
    }
}

impl<F> Drop for Probe<F> {
    fn drop(&mut self) {
        let inner = &self.counters.inner;
        inner
            .drop_threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(thread::current().id());
        inner.drops.fetch_add(1, SeqCst);
    }
}

/// Counts drops of the [`Token`]s it hands out.
#[derive(Clone, Debug, Default)]
pub struct DropCount(Arc<AtomicUsize>);

impl DropCount {
    /// A fresh count at zero.
    pub fn new() -> DropCount {
        DropCount::default()
    }

    /// A value that adds one to this count when dropped.
    pub fn token(&self, value: u64) -> Token {
        Token {
            value,
            count: self.clone(),
        }
    }

    /// How many tokens were dropped.
    pub fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A value with a drop counter (a task output whose drop the test checks).
#[derive(Debug)]
pub struct Token {
    /// The value carried.
    pub value: u64,
    count: DropCount,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.count.0.fetch_add(1, SeqCst);
    }
}

/// A one-shot latch: [`wait`](Gate::wait) is pending until
/// [`open`](Gate::open) is called, from any thread.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Debug, Default)]
struct GateInner {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Opens the gate and wakes the waiter, if any.
    pub fn open(&self) {
        self.inner.open.store(true, SeqCst);
        let waker = self
            .inner
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the gate is open.
    pub fn is_open(&self) -> bool {
        self.inner.open.load(SeqCst)
    }

    /// Whether a waiter has registered its waker (it was polled and is pending).
    pub fn has_waiter(&self) -> bool {
        self.inner
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Waits until the gate is open.
    pub fn wait(&self) -> GateWait {
        GateWait { gate: self.clone() }
    }
}

/// The future of [`Gate::wait`]: `Pending` until the gate opens; the opener
/// wakes it. Dropping it midway is harmless.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct GateWait {
    gate: Gate,
}

impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = &self.gate.inner;
        if inner.open.load(SeqCst) {
            return Poll::Ready(());
        }
        *inner.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        // Checked again: an `open` between the first check and storing the
        // waker found no waker to wake.
        if inner.open.load(SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
