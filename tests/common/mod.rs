//! Helpers shared by the behaviour tests of the event loop.
//!
//! * [`watchdog`] runs a test body on its own thread and fails the test if it
//!   does not finish within a real-time limit, so a lost wake shows up as a
//!   failure naming the cause instead of a hung `cargo test`.
//!   [`abort_after`] is the same guard for a body that cannot move to another
//!   thread (a `!Send` future): it ends the process instead.
//! * [`Counters`] and [`Probe`] instrument a future: how often it was polled,
//!   woken and dropped, on which thread it was dropped, and whether two polls
//!   ever overlapped.
//! * [`DropCount`] and [`Token`] count drops of values (task outputs).
//! * [`Gate`] is a latch that a task (or a blocking pool job) waits at until
//!   another party (any thread) opens it.
//! * [`counting_waker`] makes a waker that counts its wakes, for polling
//!   futures by hand with [`poll_with`].
//! * [`report_exit`] lets a test see a (pool) thread end.
//! * [`connected_to_std_peer`] makes a loopback connection whose far end is a
//!   blocking std socket that the test drives; [`loopback_pair`] makes one
//!   whose both ends are evloop streams.
//! * [`paused`], [`real`] and [`paused_collecting`] build runtimes the way
//!   the tests want them.
//!
//! Each test file includes this module with `mod common;`; not every file
//! uses every helper, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, Once, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

use evloop::Runtime;
use evloop::runtime::{Builder, SlowPoll};

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

/// Ends the whole test process (naming `name`) unless the returned guard is
/// dropped within `limit` of real time.
///
/// For a body that must stay on the test's thread (a `!Send` future run with
/// `evloop::run`), where [`watchdog`] cannot move it: a stuck thread cannot be
/// made to panic, so the guard's watcher thread exits the process instead.
#[must_use = "the guard disarms the watchdog when dropped; bind it to a variable"]
pub fn abort_after(name: &'static str, limit: Duration) -> AbortGuard {
    let (tx, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("watchdog: test `{name}` hung for {limit:?}; aborting");
            std::process::exit(101);
        }
    });
    AbortGuard { _disarm: tx }
}

/// The guard of [`abort_after`]: dropping it (which drops the sender the
/// watcher waits on) disarms the watchdog.
#[derive(Debug)]
pub struct AbortGuard {
    _disarm: mpsc::Sender<()>,
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

/// The slow-poll reports of a runtime made by [`paused_collecting`].
pub type SlowPolls = Rc<RefCell<Vec<SlowPoll>>>;

/// Builds `builder` on the paused clock, with its slow-poll reports collected
/// in the returned list instead of printed.
pub fn paused_collecting(builder: Builder) -> (Runtime, SlowPolls) {
    let reports = SlowPolls::default();
    let sink = reports.clone();
    let rt = builder
        .paused_clock(true)
        .on_slow_poll(move |report| sink.borrow_mut().push(report.clone()))
        .build()
        .expect("the OS poller can be created");
    (rt, reports)
}

/// Polls `future` once with a waker that does nothing (for join handles
/// whose runtime is already gone, and for futures polled outside a loop).
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(future).poll(&mut cx)
}

/// Polls `future` once with `waker` (for futures polled by hand).
pub fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// A waker's wake count; see [`counting_waker`].
#[derive(Debug, Default)]
pub struct WakeCounter(AtomicUsize);

impl WakeCounter {
    /// How many times the waker (or a clone of it) was woken.
    pub fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A waker that does nothing but count its wakes, and the count.
pub fn counting_waker() -> (Arc<WakeCounter>, Waker) {
    let counter = Arc::new(WakeCounter::default());
    (counter.clone(), Waker::from(counter))
}

/// Sends its thread's id when the thread exits (a thread-local's destructor
/// runs as the thread ends).
struct ExitSignal {
    id: ThreadId,
    to: mpsc::Sender<ThreadId>,
}

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.to.send(self.id);
    }
}

thread_local! {
    static ON_EXIT: Cell<Option<ExitSignal>> = const { Cell::new(None) };
}

/// Arranges for the current thread (a pool thread, say) to send its id on
/// `to` when it exits, so a test can see the thread go away.
pub fn report_exit(to: &mpsc::Sender<ThreadId>) {
    ON_EXIT.set(Some(ExitSignal {
        id: thread::current().id(),
        to: to.clone(),
    }));
}

/// An evloop stream connected to a std stream that the test controls.
pub async fn connected_to_std_peer() -> (evloop::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = evloop::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    // The connection is already in the backlog: this accept does not wait.
    let (peer, _) = listener.accept().unwrap();
    (stream, peer)
}

/// A connected loopback pair, both ends evloop streams: (client, server).
pub async fn loopback_pair() -> (evloop::net::TcpStream, evloop::net::TcpStream) {
    let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connecting = evloop::spawn(async move { evloop::net::TcpStream::connect(addr).await });
    let (server, _) = listener.accept().await.unwrap();
    (connecting.await.unwrap().unwrap(), server)
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
    last_pending: AtomicBool,
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

    /// Whether the last poll of the probed future returned `Pending` (it
    /// is waiting for a wake, not finished or never polled).
    pub fn waiting(&self) -> bool {
        self.inner.last_pending.load(SeqCst)
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

/// A future wrapper that counts polls, wakes and drops of the future inside,
/// and remembers whether its last poll returned `Pending`.
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
        let result = self.inner.as_mut().poll(&mut cx);
        inner.last_pending.store(result.is_pending(), SeqCst);
        result
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

/// A one-shot latch: [`wait`](Gate::wait) is pending (and
/// [`wait_blocking`](Gate::wait_blocking) blocks its thread) until
/// [`open`](Gate::open) is called, from any thread.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Debug, Default)]
struct GateInner {
    open: AtomicBool,
    waker: Mutex<Option<Waker>>,
    /// Signalled (with `waker` locked) when the gate opens, for
    /// [`Gate::wait_blocking`].
    opened: Condvar,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Opens the gate and wakes the waiters, if any.
    pub fn open(&self) {
        self.inner.open.store(true, SeqCst);
        let waker = {
            let mut slot = self.inner.waker.lock().unwrap_or_else(|e| e.into_inner());
            // Under the lock: a blocking waiter either saw the gate open or
            // is already waiting on the condvar.
            self.inner.opened.notify_all();
            slot.take()
        };
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

    /// Blocks the calling thread until the gate is open (for a job on a
    /// blocking or CPU pool thread, which cannot await).
    pub fn wait_blocking(&self) {
        let mut slot = self.inner.waker.lock().unwrap_or_else(|e| e.into_inner());
        while !self.inner.open.load(SeqCst) {
            slot = self
                .inner
                .opened
                .wait(slot)
                .unwrap_or_else(|e| e.into_inner());
        }
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
