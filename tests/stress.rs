//! Many threads at once against the task cell: wakes, waker clones and drops,
//! aborts, join handles polled and dropped from std threads, while the loop
//! runs tasks whose futures panic when dropped, and runtimes dropped with
//! all of that still going on.
//!
//! The test repeats rounds for a bounded wall-clock time: 2 s by default, or
//! `EVLOOP_STRESS_SECS` (a decimal number of seconds) for longer runs, e.g.
//! `EVLOOP_STRESS_SECS=60 cargo test --release --test stress -- --nocapture`.
//! `.ci/valgrind` runs it under memcheck as well.
//!
//! One round:
//!
//! 1. a runtime (real or paused clock, alternately) gets [`TASKS`] tasks.
//!    Each task's future is a [`Subject`]: it stores its waker where the
//!    threads can reach it, completes after a few polls (or never, or panics
//!    in its last poll), and, for about half of them, panics in its `drop`;
//! 2. [`THREADS`] std threads hammer the tasks at random: wake (by reference
//!    or by value), clone and drop wakers without waking, abort, poll a join
//!    handle with their own waker, drop a join handle (polled or not);
//! 3. the loop runs a short `block_on` (a collector task awaits some handles
//!    on the loop meanwhile), then the runtime is dropped while the threads
//!    are still at work; they go on for a while against the dead runtime;
//! 4. the threads stop, the waker slots and handles left are released, and
//!    the round's counters are checked:
//!    - every future was dropped exactly once, on the loop thread, and no
//!      future was polled after its drop or off the loop thread;
//!    - every task was finished once its runtime was gone;
//!    - every join handle was either resolved (once) or dropped unresolved:
//!      resolved + dropped = spawned; a handle resolved to `Ok` only for a
//!      future that returned, to a panic only for one that panicked (in poll
//!      or in drop), and carried the panic's own message;
//!    - every output that was produced was dropped exactly once;
//!    - the only panics were the provoked ones (a panic hook counts the rest),
//!      and no thread panicked.
//!
//! The watchdog fails the test if a round hangs (a lost wake, a deadlock).

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use common::{EXPECTED, watchdog};
use evloop::task::{AbortHandle, JoinError, JoinHandle};

/// Tasks per round.
const TASKS: usize = 24;

/// Hammering threads per round.
const THREADS: usize = 3;

/// Actions each thread performs after the runtime was dropped, at least.
const AFTER_DROP_ACTIONS: usize = 40;

/// Rounds run however short the time (so that every kind of event happens).
const MIN_ROUNDS: usize = 6;

/// How long the test runs by default.
const DEFAULT_SECS: f64 = 2.0;

/// The message of a panic in a future's `poll`.
const POLL_PANIC: &str = "stress: panic in poll (a panic the test expects)";

/// The message of a panic in a future's `drop`.
const DROP_PANIC: &str = "stress: panic in drop (a panic the test expects)";

/// Panics whose message does not contain [`EXPECTED`], counted by the hook.
static UNEXPECTED_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Installs, below the quiet hook of `common`, a hook that counts the
/// panics nobody provoked (and still prints them).
fn count_unexpected_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            UNEXPECTED_PANICS.fetch_add(1, SeqCst);
            default(info);
        }));
    });
    // The quiet hook goes on top: provoked panics never reach the counter.
    common::quiet_expected_panics();
}

/// The test's run time: `EVLOOP_STRESS_SECS` or [`DEFAULT_SECS`].
fn run_time() -> Duration {
    let secs = match std::env::var("EVLOOP_STRESS_SECS") {
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or_else(|| panic!("EVLOOP_STRESS_SECS={text:?} is not a number of seconds")),
        Err(_) => DEFAULT_SECS,
    };
    Duration::from_secs_f64(secs)
}

/// A small deterministic generator (xorshift64*): each thread and round has
/// its own, so the actions are varied without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How a subject ends, decided when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Returns its output at this poll.
    ReturnsAt(u32),
    /// Panics in this poll.
    PanicsAt(u32),
    /// Stays pending for ever: only an abort or the runtime's end stops it.
    Never,
}

/// Counters of one task.
#[derive(Debug, Default)]
struct TaskCounters {
    polls: AtomicUsize,
    drops: AtomicUsize,
    /// Polls that came after the drop, or off the loop thread.
    misplaced_polls: AtomicUsize,
    /// Drops off the loop thread.
    misplaced_drops: AtomicUsize,
    /// The future returned its output.
    returned: AtomicBool,
    /// The future panicked in `poll`.
    panicked_in_poll: AtomicBool,
}

/// What the round's parties share.
struct Round {
    loop_thread: ThreadId,
    tasks: Vec<TaskCounters>,
    /// The latest waker each task handed out.
    wakers: Vec<Mutex<Option<Waker>>>,
    /// The join handles not yet taken by anyone.
    handles: Vec<Mutex<Option<JoinHandle<Output>>>>,
    /// An abort handle per task, set once every task is spawned.
    aborts: OnceLock<Vec<AbortHandle>>,
    panics_in_drop: Vec<bool>,
    /// Handles resolved: to `Ok`, to cancelled, to a panic.
    resolved_ok: AtomicUsize,
    resolved_cancelled: AtomicUsize,
    resolved_panic: AtomicUsize,
    /// Handles dropped before they resolved.
    dropped_unresolved: AtomicUsize,
    /// Results that contradict what the future did.
    wrong_results: Mutex<Vec<String>>,
    /// Outputs made and outputs dropped.
    outputs_made: AtomicUsize,
    outputs_dropped: AtomicUsize,
    /// Wakes, clones, aborts done by the threads.
    wakes: AtomicUsize,
    clones: AtomicUsize,
    aborts_sent: AtomicUsize,
    handle_polls: AtomicUsize,
    /// Set once the runtime is gone; the threads then count their actions.
    runtime_dropped: AtomicBool,
    stop: AtomicBool,
}

/// A task's output, whose drop is counted.
struct Output {
    round: Arc<Round>,
}

impl Drop for Output {
    fn drop(&mut self) {
        self.round.outputs_dropped.fetch_add(1, SeqCst);
    }
}

/// The future of every task.
struct Subject {
    id: usize,
    round: Arc<Round>,
    ending: Ending,
    panic_in_drop: bool,
    polls: u32,
    dropped: Cell<bool>,
}

impl Future for Subject {
    type Output = Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let round = self.round.clone();
        let counters = &round.tasks[self.id];
        counters.polls.fetch_add(1, SeqCst);
        if self.dropped.get() || thread::current().id() != self.round.loop_thread {
            counters.misplaced_polls.fetch_add(1, SeqCst);
        }
        self.polls += 1;
        // Hand out the waker; the one it replaces is dropped here, on the
        // loop thread (a thread may still hold a clone of it).
        let old = self.round.wakers[self.id]
            .lock()
            .unwrap()
            .replace(cx.waker().clone());
        drop(old);
        match self.ending {
            Ending::ReturnsAt(n) if self.polls >= n => {
                counters.returned.store(true, SeqCst);
                self.round.outputs_made.fetch_add(1, SeqCst);
                Poll::Ready(Output {
                    round: self.round.clone(),
                })
            }
            Ending::PanicsAt(n) if self.polls >= n => {
                counters.panicked_in_poll.store(true, SeqCst);
                panic!("{POLL_PANIC}");
            }
            _ => Poll::Pending,
        }
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        let counters = &self.round.tasks[self.id];
        counters.drops.fetch_add(1, SeqCst);
        if thread::current().id() != self.round.loop_thread {
            counters.misplaced_drops.fetch_add(1, SeqCst);
        }
        self.dropped.set(true);
        if self.panic_in_drop {
            panic!("{DROP_PANIC}");
        }
    }
}

/// A join handle awaited by the collector task on the loop; counts itself
/// as dropped unresolved if the runtime ends first.
struct Collected {
    id: usize,
    handle: Option<JoinHandle<Output>>,
    round: Arc<Round>,
}

impl Future for Collected {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let handle = self.handle.as_mut().expect("not polled after it resolved");
        match Pin::new(handle).poll(cx) {
            Poll::Ready(result) => {
                self.handle = None;
                self.round.resolved(self.id, result);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Collected {
    fn drop(&mut self) {
        if self.handle.take().is_some() {
            self.round.dropped_unresolved.fetch_add(1, SeqCst);
        }
    }
}

/// A waker for polling join handles from the hammering threads; it only
/// counts.
struct NoteWake(AtomicUsize);

impl Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl Round {
    fn aborts(&self) -> &[AbortHandle] {
        self.aborts.get().expect("set before the threads start")
    }

    /// Checks a handle's result against what the future did, and counts it.
    fn resolved(&self, id: usize, result: Result<Output, JoinError>) {
        let task = &self.tasks[id];
        let returned = task.returned.load(SeqCst);
        let panicked = task.panicked_in_poll.load(SeqCst) || self.panics_in_drop[id];
        let wrong = match result {
            Ok(_) => {
                self.resolved_ok.fetch_add(1, SeqCst);
                (!returned || self.panics_in_drop[id]).then(|| {
                    "Ok for a future that did not return, or whose drop panicked".to_owned()
                })
            }
            Err(ref e) if e.is_cancelled() => {
                self.resolved_cancelled.fetch_add(1, SeqCst);
                // A cancelled task's future was dropped without panicking
                // and never finished by itself.
                (returned || panicked)
                    .then(|| format!("cancelled, but returned={returned} panicked={panicked}"))
            }
            Err(e) => {
                self.resolved_panic.fetch_add(1, SeqCst);
                let payload = e.into_panic();
                let text = common::panic_text(&*payload).unwrap_or_default();
                let expected = if task.panicked_in_poll.load(SeqCst) {
                    POLL_PANIC
                } else {
                    DROP_PANIC
                };
                (!panicked || text != expected)
                    .then(|| format!("panic {text:?} (expected {expected:?}, panicked={panicked})"))
            }
        };
        if let Some(wrong) = wrong {
            self.wrong_results
                .lock()
                .unwrap()
                .push(format!("task {id}: {wrong}"));
        }
    }
}

/// One hammering thread's actions until the round stops.
fn hammer(round: &Round, seed: u64) {
    let mut rng = Rng::new(seed);
    let note = Arc::new(NoteWake(AtomicUsize::new(0)));
    let note_waker = Waker::from(note.clone());
    let mut after_drop = 0;
    let mut spare: Vec<Waker> = Vec::new();
    loop {
        if round.runtime_dropped.load(SeqCst) {
            after_drop += 1;
            if after_drop > AFTER_DROP_ACTIONS && round.stop.load(SeqCst) {
                break;
            }
        }
        let id = rng.below(TASKS);
        match rng.below(10) {
            // Wake by reference, from a clone.
            0..=2 => {
                let waker = round.wakers[id].lock().unwrap().clone();
                if let Some(waker) = waker {
                    waker.wake_by_ref();
                    round.wakes.fetch_add(1, SeqCst);
                }
            }
            // Take a clone, keep it for a while, then wake it by value (or
            // just drop it).
            3..=4 => {
                if let Some(waker) = round.wakers[id].lock().unwrap().clone() {
                    round.clones.fetch_add(1, SeqCst);
                    spare.push(waker);
                }
                if !spare.is_empty() && (spare.len() > 4 || rng.chance(30)) {
                    let waker = spare.swap_remove(rng.below(spare.len()));
                    if rng.chance(50) {
                        waker.wake();
                        round.wakes.fetch_add(1, SeqCst);
                    } else {
                        drop(waker);
                    }
                }
            }
            // Abort.
            5 => {
                round.aborts()[id].abort();
                round.aborts_sent.fetch_add(1, SeqCst);
            }
            // Poll the handle from here; keep it if pending, most times.
            6..=7 => {
                let taken = round.handles[id].lock().unwrap().take();
                if let Some(mut handle) = taken {
                    round.handle_polls.fetch_add(1, SeqCst);
                    match Pin::new(&mut handle).poll(&mut Context::from_waker(&note_waker)) {
                        Poll::Ready(result) => round.resolved(id, result),
                        Poll::Pending if rng.chance(80) => {
                            *round.handles[id].lock().unwrap() = Some(handle);
                        }
                        Poll::Pending => {
                            round.dropped_unresolved.fetch_add(1, SeqCst);
                            drop(handle);
                        }
                    }
                }
            }
            // Drop the handle unpolled (detach), rarely.
            8 => {
                if rng.chance(25) {
                    let taken = round.handles[id].lock().unwrap().take();
                    if let Some(handle) = taken {
                        round.dropped_unresolved.fetch_add(1, SeqCst);
                        drop(handle);
                    }
                }
            }
            // Let the others run.
            _ => thread::yield_now(),
        }
    }
    // The clones still held die here, on this thread.
    drop(spare);
}

/// Figures over all rounds, for the closing report.
#[derive(Debug, Default)]
struct Totals {
    rounds: usize,
    paused_rounds: usize,
    tasks: usize,
    polls: usize,
    future_drops: usize,
    drop_panics: usize,
    poll_panics: usize,
    resolved_ok: usize,
    resolved_cancelled: usize,
    resolved_panic: usize,
    dropped_unresolved: usize,
    outputs: usize,
    wakes: usize,
    clones: usize,
    aborts: usize,
    handle_polls: usize,
}

/// Runs one round and checks its counters; adds them to `totals`.
fn round(number: usize, totals: &mut Totals) {
    let mut rng = Rng::new(number as u64 + 1);
    let paused = number % 2 == 1;
    let rt = if paused {
        common::paused()
    } else {
        common::real()
    };

    // 1. The tasks. Their handles go into the shared slots once all exist.
    let endings: Vec<Ending> = (0..TASKS)
        .map(|_| match rng.below(10) {
            0..=4 => Ending::ReturnsAt(1 + rng.below(4) as u32),
            5..=6 => Ending::PanicsAt(1 + rng.below(4) as u32),
            _ => Ending::Never,
        })
        .collect();
    let panics_in_drop: Vec<bool> = (0..TASKS).map(|_| rng.chance(50)).collect();
    let round = Arc::new(Round {
        loop_thread: thread::current().id(),
        tasks: (0..TASKS).map(|_| TaskCounters::default()).collect(),
        wakers: (0..TASKS).map(|_| Mutex::new(None)).collect(),
        handles: (0..TASKS).map(|_| Mutex::new(None)).collect(),
        aborts: OnceLock::new(),
        panics_in_drop: panics_in_drop.clone(),
        resolved_ok: AtomicUsize::new(0),
        resolved_cancelled: AtomicUsize::new(0),
        resolved_panic: AtomicUsize::new(0),
        dropped_unresolved: AtomicUsize::new(0),
        wrong_results: Mutex::new(Vec::new()),
        outputs_made: AtomicUsize::new(0),
        outputs_dropped: AtomicUsize::new(0),
        wakes: AtomicUsize::new(0),
        clones: AtomicUsize::new(0),
        aborts_sent: AtomicUsize::new(0),
        handle_polls: AtomicUsize::new(0),
        runtime_dropped: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let mut aborts = Vec::with_capacity(TASKS);
    for id in 0..TASKS {
        let handle = rt.spawn(Subject {
            id,
            round: round.clone(),
            ending: endings[id],
            panic_in_drop: panics_in_drop[id],
            polls: 0,
            dropped: Cell::new(false),
        });
        aborts.push(handle.abort_handle());
        *round.handles[id].lock().unwrap() = Some(handle);
    }
    round
        .aborts
        .set(aborts)
        .unwrap_or_else(|_| unreachable!("set once"));

    // 2. The threads.
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let shared = round.clone();
            let seed = (number * THREADS + t) as u64;
            thread::spawn(move || hammer(&shared, seed))
        })
        .collect();

    // 3. The loop: a collector awaits a few handles on the loop, and the
    // main future lets the tasks run for a short, random while.
    let collector = {
        let shared = round.clone();
        let picks: Vec<usize> = (0..4).map(|_| rng.below(TASKS)).collect();
        rt.spawn(async move {
            for id in picks {
                let taken = shared.handles[id].lock().unwrap().take();
                if let Some(handle) = taken {
                    // If the runtime ends first, this future (and the handle
                    // in it) is dropped: counted by `Collected`'s drop.
                    let collected = Collected {
                        id,
                        handle: Some(handle),
                        round: shared.clone(),
                    };
                    collected.await;
                }
            }
        })
    };
    let turns = rng.below(200);
    let sleep_us = rng.below(300) as u64;
    rt.block_on(async move {
        for turn in 0..turns {
            if turn % 7 == 0 {
                evloop::time::sleep(Duration::from_micros(sleep_us)).await;
            } else {
                evloop::yield_now().await;
            }
        }
    });
    drop(collector);
    // Mid-flight: the threads are still waking, aborting, polling handles.
    drop(rt);
    round.runtime_dropped.store(true, SeqCst);

    // Every task is finished once its runtime is gone.
    for (id, abort) in round.aborts().iter().enumerate() {
        assert!(
            abort.is_finished(),
            "round {number}: task {id} outlived its runtime"
        );
    }

    // 4. Stop the threads, release what is left, check the counters.
    round.stop.store(true, SeqCst);
    for t in threads {
        t.join().expect("a hammering thread panicked");
    }
    let shared = &*round;
    for (id, slot) in shared.handles.iter().enumerate() {
        let handle = slot.lock().unwrap().take();
        if let Some(mut handle) = handle {
            // Finished, so the first poll resolves it.
            match common::poll_once(&mut handle) {
                Poll::Ready(result) => shared.resolved(id, result),
                Poll::Pending => {
                    panic!("round {number}: the handle of finished task {id} is pending")
                }
            }
        }
    }
    for slot in &shared.wakers {
        drop(slot.lock().unwrap().take());
    }

    let wrong = shared.wrong_results.lock().unwrap().clone();
    assert!(
        wrong.is_empty(),
        "round {number}: wrong results:\n{}",
        wrong.join("\n")
    );
    let mut drop_panics = 0;
    let mut poll_panics = 0;
    for (id, task) in shared.tasks.iter().enumerate() {
        assert_eq!(
            task.drops.load(SeqCst),
            1,
            "round {number}: drops of task {id}"
        );
        assert_eq!(
            task.misplaced_polls.load(SeqCst),
            0,
            "round {number}: task {id} polled off the loop or after its drop"
        );
        assert_eq!(
            task.misplaced_drops.load(SeqCst),
            0,
            "round {number}: task {id} dropped off the loop thread"
        );
        drop_panics += usize::from(shared.panics_in_drop[id]);
        poll_panics += usize::from(task.panicked_in_poll.load(SeqCst));
        totals.polls += task.polls.load(SeqCst);
    }
    let ok = shared.resolved_ok.load(SeqCst);
    let cancelled = shared.resolved_cancelled.load(SeqCst);
    let panicked = shared.resolved_panic.load(SeqCst);
    let dropped = shared.dropped_unresolved.load(SeqCst);
    assert_eq!(
        ok + cancelled + panicked + dropped,
        TASKS,
        "round {number}: every handle resolved once or dropped \
         (ok {ok}, cancelled {cancelled}, panic {panicked}, dropped {dropped})"
    );
    // The outputs that reached a handle were dropped with the result just
    // now; those of detached tasks by the loop.
    assert_eq!(
        shared.outputs_dropped.load(SeqCst),
        shared.outputs_made.load(SeqCst),
        "round {number}: outputs dropped"
    );
    assert_eq!(
        UNEXPECTED_PANICS.load(SeqCst),
        0,
        "round {number}: a panic nobody provoked"
    );

    totals.rounds += 1;
    totals.paused_rounds += usize::from(paused);
    totals.tasks += TASKS;
    totals.future_drops += TASKS;
    totals.drop_panics += drop_panics;
    totals.poll_panics += poll_panics;
    totals.resolved_ok += ok;
    totals.resolved_cancelled += cancelled;
    totals.resolved_panic += panicked;
    totals.dropped_unresolved += dropped;
    totals.outputs += shared.outputs_made.load(SeqCst);
    totals.wakes += shared.wakes.load(SeqCst);
    totals.clones += shared.clones.load(SeqCst);
    totals.aborts += shared.aborts_sent.load(SeqCst);
    totals.handle_polls += shared.handle_polls.load(SeqCst);
}

#[test]
fn threads_hammering_tasks_and_runtimes_dropped_mid_flight_lose_nothing() {
    // The provoked panics stay quiet; any other one is counted.
    assert!(POLL_PANIC.contains(EXPECTED) && DROP_PANIC.contains(EXPECTED));
    count_unexpected_panics();
    let run_time = run_time();
    // Generous: valgrind runs the rounds some thirty times slower, and the
    // last round may start just before the time is up.
    let limit = run_time * 2 + Duration::from_secs(120);
    let totals = watchdog(limit, move || {
        let start = Instant::now();
        let mut totals = Totals::default();
        let mut number = 0;
        while number < MIN_ROUNDS || start.elapsed() < run_time {
            round(number, &mut totals);
            number += 1;
        }
        totals
    });
    println!("stress: {totals:#?}");
    // The scenario did what it is for: every kind of event happened.
    assert!(totals.rounds >= MIN_ROUNDS && totals.paused_rounds >= MIN_ROUNDS / 2);
    assert_eq!(totals.future_drops, totals.tasks);
    for (what, count) in [
        ("handles resolved to Ok", totals.resolved_ok),
        ("handles resolved to cancelled", totals.resolved_cancelled),
        ("handles resolved to a panic", totals.resolved_panic),
        ("handles dropped unresolved", totals.dropped_unresolved),
        ("futures that panicked in drop", totals.drop_panics),
        ("futures that panicked in poll", totals.poll_panics),
        ("wakes from threads", totals.wakes),
        ("waker clones on threads", totals.clones),
        ("aborts from threads", totals.aborts),
        ("handle polls from threads", totals.handle_polls),
        ("outputs", totals.outputs),
    ] {
        assert!(
            count > 0,
            "no {what} in {} rounds: {totals:?}",
            totals.rounds
        );
    }
}
