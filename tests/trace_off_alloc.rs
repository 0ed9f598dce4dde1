//! With tracing off, polling a task allocates nothing: the recorder's hooks
//! cost a branch, never a heap block. With tracing on, the record grows by
//! amortized `Vec` pushes: a bounded number of allocations per poll.
//!
//! Allocations are counted by a global allocator that wraps the system one
//! and counts only on threads that asked to be counted. This binary holds a
//! single test, so nothing else runs on the counted thread meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use evloop::Runtime;

/// The system allocator, counting the allocations made by counted threads.
struct Counting;

/// Heap blocks allocated (or reallocated) while counting was on.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted. `const` and without a
    /// destructor, so reading it never allocates.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    // `try_with`: during thread exit the thread-local may be gone.
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System` upholds the `GlobalAlloc` contract; counting touches only an
// atomic and a const thread-local, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread by `f`.
fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(true));
    let out = f();
    COUNTED.with(|c| c.set(false));
    (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

/// A future that returns `Pending` `n` times, waking itself each time
/// (`wake_by_ref` during its own poll), then `Ready`: `n + 1` polls.
fn self_waking(n: u64) -> impl std::future::Future<Output = u64> {
    let mut left = n;
    let mut polls = 0;
    std::future::poll_fn(move |cx| {
        polls += 1;
        if left == 0 {
            return std::task::Poll::Ready(polls);
        }
        left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

/// How many times the tasks of one measurement are polled.
const POLLS: u64 = 10_000;
/// A short run, measured the same way, for the baseline.
const FEW: u64 = 10;

/// Allocations of `block_on` running one task that wakes itself `n` times
/// (`n + 1` polls), after a warm-up run.
fn self_wake_run(rt: &Runtime, n: u64) -> u64 {
    let (polls, allocations) = count(|| {
        rt.block_on(async move { evloop::spawn(self_waking(n)).await })
            .expect("the task neither panics nor is cancelled")
    });
    assert_eq!(polls, n + 1);
    allocations
}

/// Allocations of `block_on` running one task that calls `yield_now` `n`
/// times (`n + 1` polls, one loop tick each).
fn yield_run(rt: &Runtime, n: u64) -> u64 {
    let (yielded, allocations) = count(|| {
        rt.block_on(async move {
            evloop::spawn(async move {
                for _ in 0..n {
                    evloop::yield_now().await;
                }
                n
            })
            .await
        })
        .expect("the task neither panics nor is cancelled")
    });
    assert_eq!(yielded, n);
    allocations
}

fn runtime(trace: bool) -> Runtime {
    Runtime::builder()
        .paused_clock(true)
        .trace(trace)
        .build()
        .expect("a runtime can be built")
}

/// One line per measurement, and the problems found.
#[derive(Default)]
struct Findings {
    lines: Vec<String>,
    problems: Vec<String>,
}

impl Findings {
    /// Tracing off: `POLLS` polls must allocate what `FEW` polls do.
    fn constant(&mut self, what: &str, few: u64, many: u64) {
        self.lines.push(format!(
            "{what}: {few} allocations for {FEW} polls, {many} for {POLLS}"
        ));
        if many > few {
            self.problems.push(format!(
                "{what}: {} more allocations for {} more polls: about one per poll",
                many - few,
                POLLS - FEW
            ));
        }
    }

    /// Tracing on: the record's vectors grow by doubling, so going from
    /// `FEW` to `POLLS` polls may add a few dozen allocations, not thousands.
    fn bounded(&mut self, what: &str, few: u64, many: u64) {
        const AMORTIZED: u64 = 64;
        self.lines.push(format!(
            "{what}: {few} allocations for {FEW} polls, {many} for {POLLS}"
        ));
        if many > few + AMORTIZED {
            self.problems.push(format!(
                "{what}: {} more allocations for {} more polls (more than {AMORTIZED} of amortized growth)",
                many - few,
                POLLS - FEW
            ));
        }
    }
}

#[test]
fn polls_allocate_nothing_with_tracing_off_and_amortized_growth_with_it_on() {
    let mut findings = Findings::default();

    let off = runtime(false);
    // Warm-up: the run queue, the timer heap and the scratch buffers reach
    // their working sizes.
    self_wake_run(&off, 100);
    yield_run(&off, 100);
    let (few, many) = (self_wake_run(&off, FEW), self_wake_run(&off, POLLS));
    findings.constant("tracing off, a task waking itself", few, many);
    let (few, many) = (yield_run(&off, FEW), yield_run(&off, POLLS));
    findings.constant("tracing off, a task calling yield_now", few, many);

    // On, every poll pushes a span and every wake a `Wake` onto the task's
    // record: `Vec` pushes, whose reallocations are amortized (doubling).
    // Each run spawns a new task with a new record, so the growth is there
    // to see.
    let on = runtime(true);
    self_wake_run(&on, 100);
    yield_run(&on, 100);
    let (few, many) = (self_wake_run(&on, FEW), self_wake_run(&on, POLLS));
    findings.bounded("tracing on, a task waking itself", few, many);
    let (few, many) = (yield_run(&on, FEW), yield_run(&on, POLLS));
    findings.bounded("tracing on, a task calling yield_now", few, many);

    eprintln!("{}", findings.lines.join("\n"));
    assert!(
        findings.problems.is_empty(),
        "allocations per poll:\n{}\n(measured: {})",
        findings.problems.join("\n"),
        findings.lines.join("; ")
    );
}
