//! Run: `cargo run --example example2`
//!
//! You will see, over about 3 seconds:
//!
//! ```text
//! Do something with 1...
//! Done with 1
//! Task 1 fully completed
//! Do something with 2...
//! Done with 2
//! Task 2 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 3.00 seconds
//! ```
//!
//! Lesson 2 (the tutorial's `example2.py`): the classic mistake. `fetch_data`
//! is now an `async fn` and waits with the async `sleep`, yet the program
//! still takes 1 s + 2 s = 3 s, exactly like the synchronous lesson 1.
//!
//! Why: calling an `async fn` runs *none* of its body. It only builds a
//! future, a paused computation that does nothing until it is polled. Rust
//! futures are lazy (in Python, a coroutine object is lazy in the same way).
//! `.await` is what polls one, and an `.await` does not finish until its
//! future does. So `first.await` runs fetch 1 to its end, and fetch 2 has not
//! even printed "Do something with 2..." yet: it starts only when we get to
//! `second.await`. Nothing ever ran at the same time.
//!
//! Lesson 3 (`example3.rs`) fixes this with `evloop::spawn`.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use evloop::Runtime;
use evloop::time::{Instant, sleep};
use evloop::trace::TraceArgs;

/// Pretends to fetch something that takes `seconds` to arrive, by waiting
/// on the loop's timer (asyncio's `await asyncio.sleep(seconds)`).
///
/// While it waits, this future returns `Pending` and the loop is free to run
/// anything else that is ready. In this lesson nothing else is.
pub async fn fetch_data(seconds: u64) -> String {
    say(format!("Do something with {seconds}..."));
    sleep(Duration::from_secs(seconds)).await;
    say(format!("Done with {seconds}"));
    format!("Result of {seconds}")
}

/// The lesson: make two futures, then await them one by one.
pub async fn main_task() -> Vec<String> {
    // Two futures are built here, and nothing at all happens: no line is
    // printed, no timer is set. They are just values.
    let coro1 = fetch_data(1);
    let coro2 = fetch_data(2);
    // Polls fetch 1 until it is done: 1 s. `coro2` sits untouched meanwhile.
    let first = coro1.await;
    say("Task 1 fully completed".to_owned());
    // Only now does fetch 2 start: another 2 s.
    let second = coro2.await;
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
        .trace_output(trace.titled("example2"))
        .build()
        .expect("the OS gives a new runtime its poller");
    let started = Instant::now();
    // `evloop::run` is `asyncio.run`: a new loop that runs `main_task()` to
    // its end.
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
