//! Run: `cargo run --example example3`
//!
//! You will see, over about 2 seconds:
//!
//! ```text
//! Do something with 1...
//! Do something with 2...
//! Done with 1
//! Task 1 fully completed
//! Done with 2
//! Task 2 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 2.00 seconds
//! ```
//!
//! Lesson 3 (the tutorial's `example3.py`): `evloop::spawn` (asyncio's
//! `create_task`) hands each future to the loop as a *task*. The loop polls
//! tasks on its own, whether or not anyone is awaiting them yet, so both
//! fetches start at once and their waits overlap: the 1 s wait ends inside
//! the 2 s one, and the whole thing takes 2 s instead of 3.
//!
//! What runs when:
//!
//! - t = 0: `main_task` spawns two tasks (nothing runs yet: spawning only
//!   queues them), then awaits task 1 and so gives the loop back. The loop
//!   polls task 1 ("Do something with 1...", timer at 1 s) and task 2 ("Do
//!   something with 2...", timer at 2 s). Everyone waits; the loop sleeps.
//! - t = 1 s: task 1's timer fires; it prints "Done with 1" and finishes,
//!   which wakes `main_task`: "Task 1 fully completed". It awaits task 2.
//! - t = 2 s: task 2 finishes, and `main_task` returns both results.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use evloop::Runtime;
use evloop::time::{Instant, sleep};
use evloop::trace::TraceArgs;

/// Pretends to fetch something that takes `seconds` to arrive, by waiting
/// on the loop's timer (asyncio's `await asyncio.sleep(seconds)`).
pub async fn fetch_data(seconds: u64) -> String {
    say(format!("Do something with {seconds}..."));
    sleep(Duration::from_secs(seconds)).await;
    say(format!("Done with {seconds}"));
    format!("Result of {seconds}")
}

/// The lesson: spawn both fetches, then await their handles in turn.
pub async fn main_task() -> Vec<String> {
    // Both tasks are scheduled now and will run concurrently with this one.
    let t1 = evloop::spawn(fetch_data(1));
    let t2 = evloop::spawn(fetch_data(2));
    // A JoinHandle is a future of the task's result. It gives `Err` only if
    // the task panicked or was cancelled, which neither of these can; so
    // `expect` states that instead of handling a case that cannot happen.
    let first = t1.await.expect("fetch 1 neither panics nor is cancelled");
    say("Task 1 fully completed".to_owned());
    // Task 2 has been running all along: 1 s of its 2 s is already done.
    let second = t2.await.expect("fetch 2 neither panics nor is cancelled");
    say("Task 2 fully completed".to_owned());
    vec![first, second]
}

/// Runs the lesson on a fresh runtime, timing it, and prints its result.
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
        .trace_output(trace.titled("example3"))
        .build()
        .expect("the OS gives a new runtime its poller");
    let started = Instant::now();
    let results = rt.block_on(main_task());
    println!("{results:?}");
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
