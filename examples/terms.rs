//! Run: `cargo run --example terms`
//!
//! You will see, in about 0.1 seconds:
//!
//! ```text
//! A future: Countdown { left: 2, polls: 0 }
//! It was ready on poll 3 (Pending, Pending, Ready)
//! A coroutine: calling coroutine_job("Test") ran none of its body yet
//! JoinHandle { id: Id(1), state: Scheduled+Handle }
//! This is an asynchronous coroutine function.
//! Async Results: Test
//! Empty Future: SettableFuture { value: None }
//! Future Result: Test
//! Future Result: from a thread
//! Finished in 0.10 seconds
//! ```
//!
//! The vocabulary of the tutorial's `terms.py`, in Rust. Four words:
//!
//! 1. A **future** is a value that will produce a result, computed in steps:
//!    each time someone *polls* it, it either finishes (`Ready`) or says
//!    "not yet" (`Pending`) and arranges to be woken when it can go on.
//!    Anything that implements `std::future::Future` is one; `Countdown`
//!    below is written by hand to show that there is no magic.
//! 2. An **`async fn`** (Python's coroutine function) is a function the
//!    compiler turns into a future for you. Calling it runs none of its body;
//!    it returns the future (Python's coroutine object).
//! 3. A **task** is a future handed to the loop with `evloop::spawn`
//!    (`asyncio.create_task`). The loop polls it on its own, concurrently with
//!    everything else; the returned `JoinHandle` is a future of its result.
//! 4. A **settable future** (what asyncio simply calls a `Future`) is one
//!    whose result is put in from outside: one side sets the value, the other
//!    awaits it. This example writes a small one by hand, `settable()`, to
//!    show how it works, then uses evloop's own,
//!    `evloop::sync::oneshot::channel()`, set from another thread.
//!
//! The only wait is the coroutine's 0.1 s sleep, hence the total time.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use evloop::Runtime;
use evloop::time::{Instant, sleep};
use evloop::trace::TraceArgs;

// 1. A future, by hand. ------------------------------------------------------

/// A future that says `Pending` `left` times before it is `Ready`.
///
/// Each time it says `Pending` it wakes itself at once (as `yield_now` does),
/// so the loop polls it again on its next turn. A real future wakes when its
/// event comes (a timer, a socket): `Sleep` hands its waker to the loop's
/// timers, for instance.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Countdown {
    left: u32,
    polls: u32,
}

impl Countdown {
    /// A countdown that is ready on its `pending_polls + 1`-th poll.
    pub fn new(pending_polls: u32) -> Countdown {
        Countdown {
            left: pending_polls,
            polls: 0,
        }
    }
}

impl Future for Countdown {
    /// How many polls it took.
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.polls += 1;
        if self.left == 0 {
            return Poll::Ready(self.polls);
        }
        self.left -= 1;
        // Not done: ask to be polled again. Without this wake, nobody would
        // ever poll it again, and the await below would hang forever.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// 2. An async fn: a future the compiler writes. ------------------------------

/// The tutorial's coroutine function: prints, waits 0.1 s on the loop's
/// timer, returns.
pub async fn coroutine_job(label: &str) -> String {
    say("This is an asynchronous coroutine function.".to_owned());
    sleep(Duration::from_millis(100)).await;
    format!("Async Results: {label}")
}

// 4. A settable future, by hand. ---------------------------------------------

/// The slot a [`Setter`] and its [`SettableFuture`] share.
#[derive(Debug)]
struct Slot<T> {
    /// The value, once set (until the future takes it).
    value: Option<T>,
    /// Who to wake when it is set: the task awaiting the future, if any.
    waker: Option<Waker>,
}

/// The setting side of a [`settable`] future.
#[derive(Debug)]
pub struct Setter<T>(Rc<RefCell<Slot<T>>>);

/// The awaiting side of a [`settable`] future: `Pending` until the value is
/// set, then `Ready` with it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SettableFuture<T>(Rc<RefCell<Slot<T>>>);

impl<T: fmt::Debug> fmt::Debug for SettableFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettableFuture")
            .field("value", &self.0.borrow().value)
            .finish()
    }
}

/// A settable future and its setter (asyncio's `loop.create_future()`).
///
/// This is a teaching version: one thread only (`Rc`), and no error if the
/// setter is dropped without setting (the future would then wait forever).
/// `evloop::sync::oneshot` is the real one: it works across threads and
/// reports a dropped sender.
pub fn settable<T>() -> (Setter<T>, SettableFuture<T>) {
    let slot = Rc::new(RefCell::new(Slot {
        value: None,
        waker: None,
    }));
    (Setter(slot.clone()), SettableFuture(slot))
}

impl<T> Setter<T> {
    /// Sets the value (`fut.set_result(...)`) and wakes whoever awaits it.
    pub fn set(self, value: T) {
        let waker = {
            let mut slot = self.0.borrow_mut();
            slot.value = Some(value);
            slot.waker.take()
        };
        // Woken after the borrow ends, in case the waker polls at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for SettableFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.borrow_mut();
        match slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                // Not set yet: leave our waker where `set` will find it.
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

// The lesson. ------------------------------------------------------------------

/// Shows the four terms in turn and returns what each one produced.
pub async fn main_task() -> Vec<String> {
    // 1. A future: a plain value until it is polled.
    let countdown = Countdown::new(2);
    say(format!("A future: {countdown:?}"));
    let polls = countdown.await;
    say(format!(
        "It was ready on poll {polls} (Pending, Pending, Ready)"
    ));

    // 2. An async fn: calling it only builds a future. Nothing is printed.
    let coro = coroutine_job("Test");
    say("A coroutine: calling coroutine_job(\"Test\") ran none of its body yet".to_owned());

    // 3. A task: the loop runs it. Printing the handle shows the task's id
    //    and state, as `print(task)` shows `<Task pending ...>`.
    let task = evloop::spawn(coro);
    say(format!("{task:?}"));
    // The task prints its line when the loop first polls it, which happens
    // once we give the loop back here; 0.1 s later it returns.
    let task_result = task
        .await
        .expect("the task neither panics nor is cancelled");
    say(task_result.clone());

    // 4. A settable future: empty until someone sets it.
    let (setter, fut) = settable();
    say(format!("Empty Future: {fut:?}"));
    setter.set("Future Result: Test".to_owned());
    let future_result = fut.await;
    say(future_result.clone());

    // The same with evloop's own settable future, `oneshot`, set this time
    // from another thread: the send wakes the loop, wherever it comes from.
    let (sender, receiver) = evloop::sync::oneshot::channel();
    let setter = std::thread::spawn(move || sender.send("Future Result: from a thread".to_owned()));
    let oneshot_result = receiver
        .await
        .expect("the sender sends before it is dropped");
    setter
        .join()
        .expect("the setting thread does not panic")
        .expect("the receiver is still there");
    say(oneshot_result.clone());

    vec![
        format!("ready on poll {polls}"),
        task_result,
        future_result,
        oneshot_result,
    ]
}

/// Runs the lesson on a fresh runtime, timing it.
pub fn main() -> ExitCode {
    // `--timeline t.svg` and `--trace t.json` draw what the loop did (the
    // book's chapter "Seeing the loop"); without them this is `evloop::run`.
    let trace = match TraceArgs::from_env() {
        Ok(trace) => trace,
        Err(usage) => {
            // A flag without its file name: a usage error, as clap would say.
            eprintln!("error: {usage}");
            return ExitCode::from(2);
        }
    };
    let rt = Runtime::builder()
        .trace_output(trace.titled("terms"))
        .build()
        .expect("the OS gives a new runtime its poller");
    let started = Instant::now();
    rt.block_on(main_task());
    println!("Finished in {:.2} seconds", started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}

// What the lesson printed, kept so that `tests/lessons.rs` can check the
// lines and their order. `say` is `println!` with a memory; the rest of the
// example would read the same with `println!` in its place.
thread_local! {
    static TRANSCRIPT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Prints `line` and remembers it in this thread's transcript.
pub fn say(line: String) {
    println!("{line}");
    TRANSCRIPT.with_borrow_mut(|t| t.push(line));
}

/// The lines `say` printed on this thread so far, emptying the transcript.
#[allow(dead_code, reason = "called by tests/lessons.rs")]
pub fn take_transcript() -> Vec<String> {
    TRANSCRIPT.take()
}
