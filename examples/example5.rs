//! Run: `cargo run --example example5`
//!
//! You will see, over about 3 seconds (the two warnings go to stderr):
//!
//! ```text
//! Do something with 1...
//! Done with 1
//! evloop: warning: task 'fetch_data(1)' (task 1) (spawned at examples/example5.rs:64:10) held the loop for 1.000 s in one poll (threshold 100 ms). Nothing else ran meanwhile. …
//! Do something with 2...
//! Done with 2
//! evloop: warning: task 'fetch_data(2)' (task 2) (spawned at examples/example5.rs:67:10) held the loop for 2.000 s in one poll (threshold 100 ms). Nothing else ran meanwhile. …
//! Task 1 fully completed
//! Task 2 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 3.00 seconds
//! ```
//!
//! Lesson 5 (the tutorial's `example5.py`): the tasks are spawned exactly as
//! in lesson 3, but each one waits with a *blocking* sleep instead of the
//! async one. Back to 3 s, and the runtime tells you why.
//!
//! The loop is one thread, and it can switch tasks only when a task returns
//! from its poll (at an `.await` that is `Pending`). A blocking call never
//! returns to the loop until it is done: while task 1 sleeps, the thread
//! sleeps, and task 2 cannot even start. So the 1 s and the 2 s happen one
//! after the other. In a real program it would be worse than lesson 1:
//! every other task, timer and socket of the loop is frozen meanwhile.
//!
//! evloop watches every poll: one that holds the loop longer than 100 ms (as
//! asyncio's debug mode does) prints a warning naming the task and where it
//! was spawned, which is why the tasks here have names.
//!
//! The fix is in lesson 6: use the async `evloop::time::sleep`, or move the
//! blocking work off the loop with `evloop::spawn_blocking`.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use evloop::Runtime;
use evloop::time::{Instant, sleep_blocking};
use evloop::trace::TraceArgs;

/// A fetch written with a blocking wait: the mistake of this lesson.
///
/// In real code the blocking line would be `std::thread::sleep(...)`, or a
/// blocking read, or a long computation. `sleep_blocking` is
/// `std::thread::sleep`, except under a runtime with the paused clock, where
/// it moves the virtual clock instead: that is how `tests/lessons.rs` proves
/// the 3 s, and the warnings, without waiting.
///
/// It is an `async fn` with no `.await` inside: it runs from start to end in
/// one single poll, holding the loop the whole time.
pub async fn fetch_data(seconds: u64) -> String {
    say(format!("Do something with {seconds}..."));
    sleep_blocking(Duration::from_secs(seconds)); // blocks the whole loop
    say(format!("Done with {seconds}"));
    format!("Result of {seconds}")
}

/// The lesson: spawn both (named) fetches, then await them in turn.
pub async fn main_task() -> Vec<String> {
    // A name makes the slow-poll warning (and any error) say which task it
    // was; plain `evloop::spawn` would do the same work, unnamed.
    let t1 = evloop::task::Builder::new()
        .name("fetch_data(1)")
        .spawn(fetch_data(1));
    let t2 = evloop::task::Builder::new()
        .name("fetch_data(2)")
        .spawn(fetch_data(2));
    // We give the loop back here. It runs task 1 (1 s, blocking), then task 2
    // (2 s, blocking), and only then comes back to us.
    let first = t1.await.expect("fetch 1 neither panics nor is cancelled");
    say("Task 1 fully completed".to_owned());
    // Already done: task 2 ran right after task 1, in the same turn.
    let second = t2.await.expect("fetch 2 neither panics nor is cancelled");
    say("Task 2 fully completed".to_owned());
    vec![first, second]
}

/// Runs the lesson on a fresh runtime, timing it, and prints its result.
///
/// `evloop::run` uses the default settings, so slow polls are reported on
/// stderr.
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
        .trace_output(trace.titled("example5"))
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
