//! Run: `cargo run --example example4`
//!
//! You will see, over about 2 seconds:
//!
//! ```text
//! Do something with 1...
//! Do something with 2...
//! Done with 1
//! Done with 2
//! Task 2 fully completed
//! Task 1 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 2.00 seconds
//! ```
//!
//! Lesson 4 (the tutorial's `example4.py`): the same two tasks as lesson 3,
//! but we await the 2 s one first. It changes nothing about *when the work
//! happens*: both tasks were handed to the loop by `spawn`, and the loop runs
//! them no matter which handle we are waiting on. Still 2 s.
//!
//! What the order of the awaits does change is when *we* hear about it:
//! fetch 1 is done at t = 1 s ("Done with 1"), but nobody is looking at its
//! handle yet; its result waits inside the task until t = 2 s, when we have
//! finished waiting for task 2 and turn to task 1, whose handle is ready at
//! once. So "Task 2 fully completed" comes before "Task 1 fully completed",
//! both at t = 2 s.

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

/// The lesson: spawn both fetches, then await the slow one first.
pub async fn main_task() -> Vec<String> {
    let t1 = evloop::spawn(fetch_data(1));
    let t2 = evloop::spawn(fetch_data(2));
    // Waits 2 s. Task 1 runs (and finishes, at 1 s) during this wait.
    let second = t2.await.expect("fetch 2 neither panics nor is cancelled");
    say("Task 2 fully completed".to_owned());
    // Task 1 finished a second ago: this await is ready at once.
    let first = t1.await.expect("fetch 1 neither panics nor is cancelled");
    say("Task 1 fully completed".to_owned());
    // Returned in the tutorial's order, whatever order we awaited in.
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
        .trace_output(trace.titled("example4"))
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
