//! Run: `cargo run --example example6`
//!
//! You will see, over about 4 seconds:
//!
//! ```text
//! Do something with 1...
//! Do something with 2...
//! Done with 1
//! Thread 1 fully completed
//! Done with 2
//! Thread 2 fully completed
//! Do something with 1...
//! Do something with 2...
//! Done with 1
//! CPU job 1 fully completed
//! Done with 2
//! CPU job 2 fully completed
//! ["Result of 1", "Result of 2"]
//! Finished in 4.00 seconds
//! ```
//!
//! (Each pair of "Do something" lines may come in either order: the two
//! jobs start at the same moment on two threads.)
//!
//! Lesson 6 (the tutorial's `example6.py`): lesson 5 showed that a blocking
//! call inside a task stalls the whole loop. The cure is to run the blocking
//! call somewhere else and *await* its result, which does not block:
//!
//! * [`evloop::spawn_blocking`] runs it on the blocking pool (asyncio's
//!   `to_thread`). Both calls run at once on two threads: 1 s and 2 s
//!   overlap, about 2 s in all.
//! * [`evloop::spawn_cpu`] runs it on the CPU pool, one thread per CPU. The
//!   Python tutorial needs a `ProcessPoolExecutor` here, because its global
//!   interpreter lock lets only one thread run Python code at a time; Rust
//!   threads run in parallel, so a pool of threads does the job (which is why
//!   this version prints "CPU job" where the Python one prints "Process").
//!   Again about 2 s, on a machine with at least two CPUs; on one CPU the two
//!   jobs take turns, 3 s.
//!
//! The loop stays free the whole time: while the jobs sleep, it could serve
//! sockets and timers (`tests/blocking_pool.rs` proves an interval keeps
//! ticking beside 200 such jobs).
//!
//! `std::thread::sleep` here stands for any blocking work. Sleeping is not
//! CPU work, so the CPU pool is the wrong home for it in real code; the
//! lesson uses it to show that pool's size, exactly as the tutorial does.

use evloop::Runtime;
use evloop::trace::TraceArgs;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The length of "one second" in the lesson. `tests/example6.rs` runs the
/// same code with a shorter unit, since the pools' sleeps are real time.
pub const SECOND: Duration = Duration::from_secs(1);

/// A blocking fetch: sleeps `seconds` units of real time on whatever thread
/// runs it. Fine on a pool thread; on the loop it would stall every task.
pub fn fetch_data(seconds: u32, unit: Duration) -> String {
    say(format!("Do something with {seconds}..."));
    std::thread::sleep(unit * seconds);
    say(format!("Done with {seconds}"));
    format!("Result of {seconds}")
}

/// The lesson: two blocking fetches on the blocking pool, then two on the
/// CPU pool, each pair started together and awaited in turn.
pub async fn main_task(unit: Duration) -> Vec<String> {
    // Both jobs start now, each on its own pool thread.
    let t1 = evloop::spawn_blocking(move || fetch_data(1, unit));
    let t2 = evloop::spawn_blocking(move || fetch_data(2, unit));
    // Awaiting hands the loop back until the job's thread is done.
    let _first = t1.await.expect("fetch 1 neither panics nor is cancelled");
    say("Thread 1 fully completed".to_owned());
    let _second = t2.await.expect("fetch 2 neither panics nor is cancelled");
    say("Thread 2 fully completed".to_owned());

    // The same on the CPU pool: as many threads as CPUs.
    let p1 = evloop::spawn_cpu(move || fetch_data(1, unit));
    let p2 = evloop::spawn_cpu(move || fetch_data(2, unit));
    let first = p1.await.expect("fetch 1 neither panics nor is cancelled");
    say("CPU job 1 fully completed".to_owned());
    let second = p2.await.expect("fetch 2 neither panics nor is cancelled");
    say("CPU job 2 fully completed".to_owned());
    vec![first, second]
}

/// Runs the lesson on a fresh runtime, timing it, and prints its result.
pub fn main() -> ExitCode {
    // `--timeline t.svg` and `--trace t.json` draw what the loop and the pool
    // threads did; without them this is `evloop::run`.
    let trace = match TraceArgs::from_env() {
        Ok(trace) => trace,
        Err(usage) => {
            // A flag without its file name: a usage error, as clap would say.
            eprintln!("error: {usage}");
            return ExitCode::from(2);
        }
    };
    let rt = Runtime::builder()
        .trace_output(trace.titled("example6"))
        .build()
        .expect("the OS gives a new runtime its poller");
    let started = Instant::now();
    let results = rt.block_on(main_task(SECOND));
    println!("{results:?}");
    println!("Finished in {:.2} seconds", started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}

// What the lesson printed, and when, kept so that `tests/example6.rs` can
// check which jobs overlapped. `say` is `println!` with a memory; the rest
// of the example would read the same with `println!` in its place. The
// memory is shared by all threads, since the jobs print from pool threads.
static TRANSCRIPT: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

/// Prints `line` and remembers it with the moment it was said.
pub fn say(line: String) {
    println!("{line}");
    // A poisoned lock only means another printer panicked: keep the lines.
    let mut transcript = TRANSCRIPT.lock().unwrap_or_else(|e| e.into_inner());
    transcript.push((line, Instant::now()));
}

/// The lines `say` printed so far, with their moments, emptying the memory.
#[allow(
    dead_code,
    reason = "used by tests/example6.rs, which includes this file"
)]
pub fn take_transcript() -> Vec<(String, Instant)> {
    std::mem::take(&mut *TRANSCRIPT.lock().unwrap_or_else(|e| e.into_inner()))
}
