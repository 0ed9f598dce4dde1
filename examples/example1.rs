//! Run: `cargo run --example example1`
//!
//! You will see, over about 3 seconds:
//!
//! ```text
//! Do something with 1...
//! Done with 1
//! Fetch 1 fully completed
//! Do something with 2...
//! Done with 2
//! Fetch 2 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 3.00 seconds
//! ```
//!
//! Lesson 1 (the tutorial's `example1.py`): plain synchronous code, the
//! baseline every later lesson is measured against. There is no runtime here
//! at all, no `async`, no `.await`: `fetch_data(1)` blocks the thread for 1 s,
//! then `fetch_data(2)` blocks it for 2 s, so the total is 1 s + 2 s = 3 s.
//! Nothing overlaps, because a blocked thread can do nothing else.

use std::cell::RefCell;
use std::process::ExitCode;
use std::time::Duration;

use evloop::time::{Instant, sleep_blocking};

/// Pretends to fetch something that takes `seconds` to arrive, by blocking
/// the thread that long.
///
/// `sleep_blocking` is `std::thread::sleep`: in real code this line would be
/// `std::thread::sleep(...)` (or a blocking read from a socket). evloop's
/// version only differs under a runtime with the paused clock, where it moves
/// the virtual clock instead of sleeping; that is what lets
/// `tests/lessons.rs` prove "3 s" without waiting 3 s. Here, outside any
/// runtime, it simply sleeps.
pub fn fetch_data(seconds: u64) -> String {
    say(format!("Do something with {seconds}..."));
    sleep_blocking(Duration::from_secs(seconds));
    say(format!("Done with {seconds}"));
    format!("Result of {seconds}")
}

/// The lesson: two fetches, one after the other.
///
/// Each call returns only when its fetch is done, so the second one cannot
/// start before the first has finished: 1 s, then 2 s.
pub fn main_task() -> Vec<String> {
    let first = fetch_data(1);
    say("Fetch 1 fully completed".to_owned());
    let second = fetch_data(2);
    say("Fetch 2 fully completed".to_owned());
    vec![first, second]
}

/// Times the lesson and prints its result, as the Python script does.
pub fn main() -> ExitCode {
    if std::env::args().any(|a| a.starts_with("--timeline") || a.starts_with("--trace")) {
        // The other lessons draw their loop; this one has none to draw.
        eprintln!("example1 runs without an event loop: there is no timeline to draw");
    }
    // Outside a runtime, `evloop::time::Instant` is the real clock.
    let started = Instant::now();
    let results = main_task();
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
