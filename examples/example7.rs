//! Run: `cargo run --example example7`
//!
//! You will see, over about 8 seconds:
//!
//! ```text
//! Task 1 and 2 awaited results: ["Result of 1", "Result of 2"]
//! Coroutine Results: ["Result of 1", "Result of 2"]
//! Task Results: [Ok("Result of 1"), Ok("Result of 2")]
//! Task Group Results: ["Result of 1", "Result of 2"]
//! Main Coroutine Done
//! Finished in 8.00 seconds
//! ```
//!
//! then, over about 4 more seconds, what each way does when a fetch fails:
//!
//! ```text
//! When fetches fail (1 fails after 1 s, 2 succeeds after 2 s, 3 fails after 1 s):
//! join_all:
//! Fetch 1 failed
//! Fetch 3 failed
//! Done with 2
//! join_all results: [Err(fetch 1 failed: …), Ok("Result of 2"), Err(fetch 3 failed: …)] after 2.00 s
//! try_join_all:
//! Fetch 1 failed
//! Fetch 2 cancelled before it finished
//! Fetch 3 cancelled before it finished
//! try_join_all result: Err(fetch 1 failed: …) after 1.00 s
//! TaskGroup:
//! Fetch 1 failed                         (these two fail at the same instant,
//! Fetch 3 failed                          as two tasks: in either order)
//! Fetch 2 cancelled before it finished
//! TaskGroup result: Err(2 of 3 tasks in the group failed; task #0: fetch 1 failed: …; task #2: fetch 3 failed: …) after 1.00 s
//! Failure drills finished in 4.00 seconds
//! ```
//!
//! Lesson 7 (the tutorial's `example7.py`): four ways to run the 1 s and 2 s
//! fetches concurrently. Each block takes 2 s (the longer fetch), so the four
//! take 8 s. They differ in *what runs the futures* and in *what happens when
//! one fails*, which the second part shows (the tutorial discusses it in its
//! text; its script only runs the happy path).
//!
//! | way | who polls the fetches | on failure |
//! | --- | --- | --- |
//! | spawn, await in turn | the loop (tasks) | you see each result as you await it |
//! | `join_all(futures)` | the caller's own task | every result comes back, errors included |
//! | `join_all(handles)` | the loop (tasks) | the same, plus panics as `JoinError` |
//! | `try_join_all` | the caller's own task | the first error; the rest are dropped |
//! | `TaskGroup` | the loop (tasks it owns) | the first failure cancels the rest; the error lists every failure |

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use evloop::time::{Instant, sleep};
use evloop::trace::TraceArgs;
use evloop::{GroupError, Runtime, TaskGroup, join_all, try_join_all};

/// Pretends to fetch something that takes `seconds` to arrive (the
/// tutorial's `fetch_data`, which prints nothing in this lesson).
pub async fn fetch_data(seconds: u64) -> String {
    sleep(Duration::from_secs(seconds)).await;
    format!("Result of {seconds}")
}

/// The tutorial's lesson: the four ways, one after the other, 2 s each.
pub async fn main_task() -> String {
    let pair = awaited_in_turn().await;
    say(format!("Task 1 and 2 awaited results: {pair:?}"));

    let coroutine_results = join_all_futures().await;
    say(format!("Coroutine Results: {coroutine_results:?}"));

    let task_results = join_all_handles().await;
    say(format!("Task Results: {task_results:?}"));

    // Every task of this group returns Ok; the group reports a failure only
    // if one of them panics, which `fetch_data` cannot.
    let grouped = task_group()
        .await
        .expect("no fetch in this group can fail or panic");
    say(format!("Task Group Results: {grouped:?}"));

    "Main Coroutine Done".to_owned()
}

/// Way 1: spawn two tasks, then await each handle in turn (lesson 3).
pub async fn awaited_in_turn() -> Vec<String> {
    let t1 = evloop::spawn(fetch_data(1));
    let t2 = evloop::spawn(fetch_data(2));
    // A handle's `Err` means the task panicked or was cancelled: neither can
    // happen to these two.
    vec![
        t1.await.expect("fetch 1 neither panics nor is cancelled"),
        t2.await.expect("fetch 2 neither panics nor is cancelled"),
    ]
}

/// Way 2: `join_all` over plain futures (`gather(*coros)`).
///
/// No task is spawned. `join_all` polls both futures itself, from inside the
/// calling task, each time either of them is woken: concurrency within one
/// task. The results come back in the order the futures were given.
pub async fn join_all_futures() -> Vec<String> {
    let coros = [1, 2].map(fetch_data);
    join_all(coros).await
}

/// Way 3: `join_all` over join handles (`gather(*tasks)`).
///
/// The loop runs the two tasks; `join_all` only waits for their handles.
/// Each handle yields `Result<String, JoinError>`, so a panicking task would
/// show up as an `Err` in its slot while the others still report, much like
/// `return_exceptions=True`.
pub async fn join_all_handles() -> Vec<Result<String, evloop::JoinError>> {
    let tasks: Vec<_> = [1, 2]
        .into_iter()
        .map(|n| evloop::spawn(fetch_data(n)))
        .collect();
    join_all(tasks).await
}

/// Way 4: a [`TaskGroup`] (`async with asyncio.TaskGroup()`).
///
/// The group spawns and owns its tasks; `join` waits for them all and gives
/// the results in spawn order. Group tasks return a `Result`: these cannot
/// fail, hence `Infallible`.
///
/// # Errors
///
/// If a task of the group panicked (none does here).
pub async fn task_group() -> Result<Vec<String>, GroupError<Infallible>> {
    let mut group = TaskGroup::new();
    for n in [1, 2] {
        group.spawn(async move { Ok(fetch_data(n).await) });
    }
    group.join().await
}

// ---------------------------------------------------------------------------
// Part two: when a fetch fails.

/// One fetch of the failure drills: which one, how long it takes, and
/// whether it ends in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Its number, used in every line it prints.
    pub id: u32,
    /// How long it takes to succeed or fail.
    pub seconds: u64,
    /// Whether it ends in an error.
    pub fails: bool,
}

/// The jobs of every drill: two quick failures around one slower success.
pub const JOBS: [Job; 3] = [
    Job {
        id: 1,
        seconds: 1,
        fails: true,
    },
    Job {
        id: 2,
        seconds: 2,
        fails: false,
    },
    Job {
        id: 3,
        seconds: 1,
        fails: true,
    },
];

/// Why a fetch failed: which job, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// The failed job's number.
    pub id: u32,
    /// What went wrong.
    pub reason: &'static str,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fetch {} failed: {}", self.id, self.reason)
    }
}

impl std::error::Error for FetchError {}

/// Runs one job: waits its time, then succeeds or fails.
///
/// It reports how it ended: "Done with N", "Fetch N failed", or, if it is
/// dropped before it ends, "Fetch N cancelled before it finished". In Rust,
/// cancelling a future *is* dropping it: it is simply never polled again, and
/// its destructors run (here, [`CancelNotice`]'s).
pub async fn fetch_or_fail(job: Job) -> Result<String, FetchError> {
    let mut notice = CancelNotice {
        id: job.id,
        finished: false,
    };
    sleep(Duration::from_secs(job.seconds)).await;
    notice.finished = true;
    if job.fails {
        say(format!("Fetch {} failed", job.id));
        // The error a real fetch would give; this one is staged.
        return Err(FetchError {
            id: job.id,
            reason: "the server closed the connection",
        });
    }
    say(format!("Done with {}", job.id));
    Ok(format!("Result of {}", job.id))
}

/// Says so when the fetch that owns it is dropped before it finished.
#[derive(Debug)]
pub struct CancelNotice {
    id: u32,
    finished: bool,
}

impl Drop for CancelNotice {
    fn drop(&mut self) {
        if !self.finished {
            say(format!("Fetch {} cancelled before it finished", self.id));
        }
    }
}

/// `join_all` when some fetches fail (`gather(..., return_exceptions=True)`).
///
/// An `Err` is just a value to `join_all`: it keeps polling the rest and
/// returns every result, errors included, once the slowest is done (2 s).
pub async fn join_all_with_failures() -> Vec<Result<String, FetchError>> {
    join_all(JOBS.map(fetch_or_fail)).await
}

/// `try_join_all` when some fetches fail (`gather(...)` without
/// `return_exceptions`).
///
/// It returns the first `Err` it sees (fetch 1's, at 1 s) and drops the
/// futures it still holds. Fetch 2 is cancelled midway; so is fetch 3, even
/// though its own failure was due at the same instant: `try_join_all` polls
/// in order, and stopped at fetch 1.
///
/// Unlike asyncio's `gather`, whose other awaitables keep running after the
/// first exception, these futures live inside `try_join_all`, so when it
/// returns they are gone.
///
/// # Errors
///
/// The first failure, fetch 1's.
pub async fn try_join_all_with_failures() -> Result<Vec<String>, FetchError> {
    try_join_all(JOBS.map(fetch_or_fail)).await
}

/// A [`TaskGroup`] when some of its tasks fail (`asyncio.TaskGroup`).
///
/// At 1 s, fetches 1 and 3 both fail. The group cancels the task still
/// running (fetch 2, which never finishes), waits until it is gone, and
/// returns one error listing *every* failure, like asyncio's
/// `ExceptionGroup`.
///
/// # Errors
///
/// Always here: a [`GroupError`] with the failures of fetches 1 and 3.
pub async fn task_group_with_failures() -> Result<Vec<String>, GroupError<FetchError>> {
    let mut group = TaskGroup::new();
    for job in JOBS {
        group.spawn_named(format!("fetch {}", job.id), fetch_or_fail(job));
    }
    group.join().await
}

/// The three drills, one after the other, each printed with its time on the
/// runtime's clock: 2 s + 1 s + 1 s.
pub async fn failure_drills() {
    say(
        "When fetches fail (1 fails after 1 s, 2 succeeds after 2 s, 3 fails after 1 s):"
            .to_owned(),
    );

    say("join_all:".to_owned());
    let start = Instant::now();
    let results = join_all_with_failures().await;
    let shown: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(value) => format!("Ok({value:?})"),
            Err(e) => format!("Err({e})"),
        })
        .collect();
    say(format!(
        "join_all results: [{}] after {:.2} s",
        shown.join(", "),
        start.elapsed().as_secs_f64()
    ));

    say("try_join_all:".to_owned());
    let start = Instant::now();
    let result = try_join_all_with_failures().await;
    let shown = match &result {
        Ok(values) => format!("Ok({values:?})"),
        // The expected arm: fetch 1 failed, and everything else was dropped.
        Err(e) => format!("Err({e})"),
    };
    say(format!(
        "try_join_all result: {shown} after {:.2} s",
        start.elapsed().as_secs_f64()
    ));

    say("TaskGroup:".to_owned());
    let start = Instant::now();
    let result = task_group_with_failures().await;
    let shown = match &result {
        Ok(values) => format!("Ok({values:?})"),
        // The expected arm: both failures, listed, and fetch 2 cancelled.
        Err(e) => format!("Err({e})"),
    };
    say(format!(
        "TaskGroup result: {shown} after {:.2} s",
        start.elapsed().as_secs_f64()
    ));
}

/// Runs the lesson, then the failure drills, each timed, on fresh runtimes.
pub fn main() -> ExitCode {
    // `--timeline t.svg` and `--trace t.json` draw what the loop did (the
    // book's chapter "Seeing the loop"); without them this is `evloop::run`.
    // The drills run on a second runtime, whose pictures replace the first's.
    let trace = match TraceArgs::from_env() {
        Ok(trace) => trace,
        Err(usage) => {
            // A flag without its file name: a usage error, as clap would say.
            eprintln!("error: {usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = |title: &str| {
        Runtime::builder()
            .trace_output(trace.clone().titled(title))
            .build()
            .expect("the OS gives a new runtime its poller")
    };
    let started = Instant::now();
    println!("{}", runtime("example7").block_on(main_task()));
    println!("Finished in {:.2} seconds", started.elapsed().as_secs_f64());

    println!();
    let started = Instant::now();
    runtime("example7: failures").block_on(failure_drills());
    println!(
        "Failure drills finished in {:.2} seconds",
        started.elapsed().as_secs_f64()
    );
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
