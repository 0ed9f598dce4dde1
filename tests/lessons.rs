//! The tutorial's lessons, proven: each example's own code runs here on a
//! runtime with the paused clock, and its claim ("3 s", "2 s", "the runtime
//! warns", "the sibling is cancelled") is asserted exactly: its result, the
//! lines it printed in their order, and the virtual time it took.
//!
//! The examples are included as modules, so what is tested is what a reader
//! runs with `cargo run --example NAME`.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{SlowPolls, counting_waker, paused_collecting};
use evloop::Runtime;
use evloop::time::{Instant, sleep};

// The examples, as modules: their `main` functions go unused here.
#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/terms.rs"]
mod terms;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example1.rs"]
mod example1;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example2.rs"]
mod example2;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example3.rs"]
mod example3;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example4.rs"]
mod example4;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example5.rs"]
mod example5;

#[allow(dead_code, reason = "the example's `main` is not called here")]
#[path = "../examples/example7.rs"]
mod example7;

const MS: fn(u64) -> Duration = Duration::from_millis;
const SECS: fn(u64) -> Duration = Duration::from_secs;

/// A runtime on the paused clock, collecting slow-poll warnings instead of
/// printing them.
fn paused() -> (Runtime, SlowPolls) {
    paused_collecting(Runtime::builder())
}

/// Runs `future` on `rt` and returns its output with the virtual time it took.
fn timed<F: Future>(rt: &Runtime, future: F) -> (F::Output, Duration) {
    rt.block_on(async {
        let start = Instant::now();
        let out = future.await;
        (out, start.elapsed())
    })
}

fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|s| (*s).to_owned()).collect()
}

fn results(a: &str, b: &str) -> Vec<String> {
    vec![a.to_owned(), b.to_owned()]
}

// ---------------------------------------------------------------------------
// terms

#[test]
fn terms_shows_four_terms_in_a_tenth_of_a_second() {
    let (rt, warnings) = paused();
    terms::take_transcript();
    let (out, took) = timed(&rt, terms::main_task());
    assert_eq!(
        out,
        [
            "ready on poll 3",
            "Async Results: Test",
            "Future Result: Test",
            "Future Result: from a thread"
        ]
    );
    assert_eq!(took, MS(100), "only the coroutine's 0.1 s sleep takes time");
    let printed = terms::take_transcript();
    assert_eq!(printed.len(), 9, "{printed:#?}");
    assert_eq!(printed[0], "A future: Countdown { left: 2, polls: 0 }");
    assert_eq!(
        printed[1],
        "It was ready on poll 3 (Pending, Pending, Ready)"
    );
    // Calling the async fn printed nothing: the next line is ours, and the
    // coroutine's own line comes only after the task was spawned.
    assert_eq!(
        printed[2],
        "A coroutine: calling coroutine_job(\"Test\") ran none of its body yet"
    );
    assert!(printed[3].starts_with("JoinHandle"), "{}", printed[3]);
    assert_eq!(printed[4], "This is an asynchronous coroutine function.");
    assert_eq!(printed[5], "Async Results: Test");
    assert_eq!(printed[6], "Empty Future: SettableFuture { value: None }");
    assert_eq!(printed[7], "Future Result: Test");
    assert_eq!(printed[8], "Future Result: from a thread");
    assert!(warnings.borrow().is_empty());
}

#[test]
fn terms_countdown_is_pending_and_wakes_itself_until_ready() {
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut countdown = pin!(terms::Countdown::new(2));
    assert_eq!(countdown.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(wakes.wakes(), 1, "Pending comes with a wake");
    assert_eq!(countdown.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(wakes.wakes(), 2);
    assert_eq!(countdown.as_mut().poll(&mut cx), Poll::Ready(3));
    assert_eq!(wakes.wakes(), 2, "Ready needs no wake");
}

#[test]
fn terms_settable_future_waits_for_its_value_and_is_woken_by_set() {
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);

    let (setter, fut) = terms::settable::<u32>();
    let mut fut = pin!(fut);
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(wakes.wakes(), 0, "nothing wakes it before it is set");
    setter.set(7);
    assert_eq!(wakes.wakes(), 1, "set wakes the waiting side once");
    assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(7));

    // Set before anyone waits: ready at the first poll, nobody to wake.
    let (setter, fut) = terms::settable::<&str>();
    setter.set("early");
    assert_eq!(pin!(fut).poll(&mut cx), Poll::Ready("early"));
    assert_eq!(wakes.wakes(), 1);
}

// ---------------------------------------------------------------------------
// example1: plain synchronous code

#[test]
fn example1_synchronous_code_takes_one_plus_two_seconds() {
    // example1 has no runtime: `main` calls `main_task()` directly, and
    // `sleep_blocking` is `std::thread::sleep`. Here it runs inside a paused
    // runtime only so that `sleep_blocking` moves a virtual clock instead of
    // the real one; the code is the same synchronous code. (Holding the loop
    // for 3 s is what example5 is about, so the warning is switched off.)
    let rt = Runtime::builder()
        .paused_clock(true)
        .slow_poll_threshold(None)
        .build()
        .expect("a runtime can be built");
    example1::take_transcript();
    let (out, took) = timed(&rt, async { example1::main_task() });
    assert_eq!(out, results("Result of 1", "Result of 2"));
    assert_eq!(took, SECS(3));
    assert_eq!(
        example1::take_transcript(),
        lines(&[
            "Do something with 1...",
            "Done with 1",
            "Fetch 1 fully completed",
            "Do something with 2...",
            "Done with 2",
            "Fetch 2 fully completed",
        ])
    );
}

// ---------------------------------------------------------------------------
// example2: futures are lazy

#[test]
fn example2_awaiting_futures_one_by_one_takes_three_seconds() {
    let (rt, warnings) = paused();
    example2::take_transcript();
    let (out, took) = timed(&rt, example2::main_task());
    assert_eq!(out, results("Result of 1", "Result of 2"));
    assert_eq!(took, SECS(3), "1 s then 2 s: nothing overlapped");
    // Fetch 2 does not even start until fetch 1 is over and awaited.
    assert_eq!(
        example2::take_transcript(),
        lines(&[
            "Do something with 1...",
            "Done with 1",
            "Task 1 fully completed",
            "Do something with 2...",
            "Done with 2",
            "Task 2 fully completed",
        ])
    );
    assert!(warnings.borrow().is_empty(), "nothing blocked the loop");
}

#[test]
fn example2_calling_an_async_fn_runs_none_of_its_body() {
    let (rt, _warnings) = paused();
    example2::take_transcript();
    let took = rt.block_on(async {
        let start = Instant::now();
        let never_awaited = example2::fetch_data(1);
        drop(never_awaited);
        start.elapsed()
    });
    assert!(
        example2::take_transcript().is_empty(),
        "no line was printed"
    );
    assert_eq!(took, Duration::ZERO, "no timer was ever set");
}

// ---------------------------------------------------------------------------
// example3 and example4: spawn

#[test]
fn example3_spawned_tasks_overlap_in_two_seconds() {
    let (rt, warnings) = paused();
    example3::take_transcript();
    let (out, took) = timed(&rt, example3::main_task());
    assert_eq!(out, results("Result of 1", "Result of 2"));
    assert_eq!(took, SECS(2), "max(1 s, 2 s), not the sum");
    // Both start before either finishes.
    assert_eq!(
        example3::take_transcript(),
        lines(&[
            "Do something with 1...",
            "Do something with 2...",
            "Done with 1",
            "Task 1 fully completed",
            "Done with 2",
            "Task 2 fully completed",
        ])
    );
    assert!(warnings.borrow().is_empty(), "nothing blocked the loop");
}

#[test]
fn example3_task_1_is_reported_at_one_second_and_task_2_at_two() {
    // The same two spawns as example3, with the clock read after each await.
    let (rt, _warnings) = paused();
    let (times, took) = timed(&rt, async {
        let start = Instant::now();
        let t1 = evloop::spawn(example3::fetch_data(1));
        let t2 = evloop::spawn(example3::fetch_data(2));
        t1.await.expect("fetch 1 completes");
        let first = start.elapsed();
        t2.await.expect("fetch 2 completes");
        (first, start.elapsed())
    });
    assert_eq!(times, (SECS(1), SECS(2)));
    assert_eq!(took, SECS(2));
    example3::take_transcript();
}

#[test]
fn example4_awaiting_the_slow_task_first_changes_nothing() {
    let (rt, warnings) = paused();
    example4::take_transcript();
    let (out, took) = timed(&rt, example4::main_task());
    assert_eq!(out, results("Result of 1", "Result of 2"));
    assert_eq!(took, SECS(2), "the same 2 s as example3");
    // Fetch 1 still finishes first; we only hear about it after task 2.
    assert_eq!(
        example4::take_transcript(),
        lines(&[
            "Do something with 1...",
            "Do something with 2...",
            "Done with 1",
            "Done with 2",
            "Task 2 fully completed",
            "Task 1 fully completed",
        ])
    );
    assert!(warnings.borrow().is_empty());
}

// ---------------------------------------------------------------------------
// example5: a blocking call holds the loop

#[test]
fn example5_blocking_sleep_takes_three_seconds_and_is_reported() {
    let (rt, warnings) = paused();
    example5::take_transcript();
    let (out, took) = timed(&rt, example5::main_task());
    assert_eq!(out, results("Result of 1", "Result of 2"));
    assert_eq!(took, SECS(3), "spawned, yet back to 1 s + 2 s");
    // Task 2 could not even start while task 1 held the loop.
    assert_eq!(
        example5::take_transcript(),
        lines(&[
            "Do something with 1...",
            "Done with 1",
            "Do something with 2...",
            "Done with 2",
            "Task 1 fully completed",
            "Task 2 fully completed",
        ])
    );

    let warnings = warnings.borrow();
    assert_eq!(
        warnings.len(),
        2,
        "one warning per blocking task: {warnings:#?}"
    );
    for (warning, (name, held)) in warnings
        .iter()
        .zip([("fetch_data(1)", SECS(1)), ("fetch_data(2)", SECS(2))])
    {
        assert_eq!(warning.name.as_deref(), Some(name));
        assert!(warning.task.is_some(), "a task, not the main future");
        assert_eq!(warning.duration, held);
        assert_eq!(
            warning.threshold,
            evloop::runtime::DEFAULT_SLOW_POLL_THRESHOLD
        );
        let location = warning.location.expect("a task's spawn location is known");
        assert!(
            location.file().ends_with("example5.rs"),
            "spawned in the example, not in evloop: {location}"
        );
        let text = warning.to_string();
        assert!(text.contains(&format!("'{name}'")), "{text}");
        assert!(text.contains("example5.rs"), "{text}");
    }
}

#[test]
fn example5_the_two_tasks_are_spawned_on_different_lines() {
    let (rt, warnings) = paused();
    rt.block_on(example5::main_task());
    example5::take_transcript();
    let warnings = warnings.borrow();
    let lines: Vec<u32> = warnings
        .iter()
        .map(|w| w.location.expect("known").line())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0] < lines[1], "task 1 is spawned first: {lines:?}");
}

// ---------------------------------------------------------------------------
// example7: four ways, and failures

#[test]
fn example7_four_ways_take_two_seconds_each_eight_in_all() {
    let (rt, warnings) = paused();
    example7::take_transcript();
    let (out, took) = timed(&rt, example7::main_task());
    assert_eq!(out, "Main Coroutine Done");
    assert_eq!(took, SECS(8));
    assert_eq!(
        example7::take_transcript(),
        lines(&[
            r#"Task 1 and 2 awaited results: ["Result of 1", "Result of 2"]"#,
            r#"Coroutine Results: ["Result of 1", "Result of 2"]"#,
            r#"Task Results: [Ok("Result of 1"), Ok("Result of 2")]"#,
            r#"Task Group Results: ["Result of 1", "Result of 2"]"#,
        ])
    );
    assert!(warnings.borrow().is_empty());
}

#[test]
fn example7_each_way_alone_takes_two_seconds() {
    let (rt, _warnings) = paused();
    let both = results("Result of 1", "Result of 2");

    let (out, took) = timed(&rt, example7::awaited_in_turn());
    assert_eq!((out, took), (both.clone(), SECS(2)));

    let (out, took) = timed(&rt, example7::join_all_futures());
    assert_eq!((out, took), (both.clone(), SECS(2)));

    let (out, took) = timed(&rt, example7::join_all_handles());
    let out: Vec<String> = out
        .into_iter()
        .map(|r| r.expect("no task panics"))
        .collect();
    assert_eq!((out, took), (both.clone(), SECS(2)));

    let (out, took) = timed(&rt, example7::task_group());
    let out = out.expect("no task of the group fails");
    assert_eq!((out, took), (both, SECS(2)));
    assert_eq!(rt.task_count(), 0, "every task finished");
}

/// How many tasks `rt` has at 0.5 s, halfway through a 1 s + 2 s way.
async fn tasks_midway(rt: &Runtime) -> usize {
    sleep(MS(500)).await;
    rt.task_count()
}

#[test]
fn example7_join_all_over_futures_runs_them_inside_the_caller() {
    // Halfway through each way, count the runtime's tasks.
    let (rt, _warnings) = paused();
    let over_futures = rt.block_on(evloop::select(
        example7::join_all_futures(),
        tasks_midway(&rt),
    ));
    assert_eq!(
        over_futures,
        evloop::Either::Right(0),
        "no task: one task polls both"
    );
    let over_handles = rt.block_on(evloop::select(
        example7::join_all_handles(),
        tasks_midway(&rt),
    ));
    assert!(
        matches!(over_handles, evloop::Either::Right(2)),
        "two spawned tasks"
    );
}

#[test]
fn example7_join_all_returns_every_result_errors_included() {
    let (rt, _warnings) = paused();
    example7::take_transcript();
    let (out, took) = timed(&rt, example7::join_all_with_failures());
    assert_eq!(
        out,
        [
            Err(example7::FetchError {
                id: 1,
                reason: "the server closed the connection"
            }),
            Ok("Result of 2".to_owned()),
            Err(example7::FetchError {
                id: 3,
                reason: "the server closed the connection"
            }),
        ]
    );
    assert_eq!(took, SECS(2), "it waits for the slowest");
    // The failures at 1 s (in poll order), then the success at 2 s; nothing
    // was cancelled.
    assert_eq!(
        example7::take_transcript(),
        lines(&["Fetch 1 failed", "Fetch 3 failed", "Done with 2"])
    );
}

#[test]
fn example7_try_join_all_returns_the_first_error_and_drops_the_rest() {
    let (rt, _warnings) = paused();
    example7::take_transcript();
    let (out, took) = timed(&rt, example7::try_join_all_with_failures());
    let err = out.expect_err("fetch 1 fails");
    assert_eq!(err.id, 1);
    assert_eq!(
        err.to_string(),
        "fetch 1 failed: the server closed the connection"
    );
    assert_eq!(took, SECS(1), "it returns at the first error");
    // Give the dropped fetches every chance to finish: they cannot.
    rt.block_on(sleep(SECS(5)));
    assert_eq!(
        example7::take_transcript(),
        lines(&[
            "Fetch 1 failed",
            "Fetch 2 cancelled before it finished",
            "Fetch 3 cancelled before it finished",
        ])
    );
}

#[test]
fn example7_task_group_cancels_the_sibling_and_lists_every_failure() {
    let (rt, _warnings) = paused();
    example7::take_transcript();
    let (out, took) = timed(&rt, example7::task_group_with_failures());
    let err = out.expect_err("two tasks of the group fail");
    assert_eq!(took, SECS(1), "the group ends at the first failures");

    let failed: Vec<(usize, u32)> = err
        .failures()
        .iter()
        .map(|f| match f {
            evloop::Failure::Error { index, error } => (*index, error.id),
            other => panic!("only returned errors here, got {other:?}"),
        })
        .collect();
    assert_eq!(failed, [(0, 1), (2, 3)], "both failures, in spawn order");
    assert_eq!(
        err.to_string(),
        "2 of 3 tasks in the group failed; \
         task #0: fetch 1 failed: the server closed the connection; \
         task #2: fetch 3 failed: the server closed the connection"
    );

    // The sibling never finishes, however long the loop goes on.
    rt.block_on(sleep(SECS(5)));
    let mut printed = example7::take_transcript();
    // Fetches 1 and 3 fail at the same instant, as two tasks: the loop may
    // run them in either order (the group's error is in spawn order anyway).
    printed[..2].sort();
    assert_eq!(
        printed,
        lines(&[
            "Fetch 1 failed",
            "Fetch 3 failed",
            "Fetch 2 cancelled before it finished",
        ])
    );
    assert!(!printed.iter().any(|l| l == "Done with 2"));
    assert_eq!(rt.task_count(), 0, "the cancelled task is gone");
}

#[test]
fn example7_failure_drills_take_two_plus_one_plus_one_seconds() {
    let (rt, _warnings) = paused();
    example7::take_transcript();
    let ((), took) = timed(&rt, example7::failure_drills());
    assert_eq!(took, SECS(4));
    let mut printed = example7::take_transcript();
    // In the TaskGroup, fetches 1 and 3 are tasks failing at the same
    // instant: their two lines may come in either order.
    printed[12..14].sort();
    assert_eq!(
        printed,
        lines(&[
            "When fetches fail (1 fails after 1 s, 2 succeeds after 2 s, 3 fails after 1 s):",
            "join_all:",
            "Fetch 1 failed",
            "Fetch 3 failed",
            "Done with 2",
            "join_all results: [Err(fetch 1 failed: the server closed the connection), \
             Ok(\"Result of 2\"), Err(fetch 3 failed: the server closed the connection)] \
             after 2.00 s",
            "try_join_all:",
            "Fetch 1 failed",
            "Fetch 2 cancelled before it finished",
            "Fetch 3 cancelled before it finished",
            "try_join_all result: Err(fetch 1 failed: the server closed the connection) \
             after 1.00 s",
            "TaskGroup:",
            "Fetch 1 failed",
            "Fetch 3 failed",
            "Fetch 2 cancelled before it finished",
            "TaskGroup result: Err(2 of 3 tasks in the group failed; \
             task #0: fetch 1 failed: the server closed the connection; \
             task #2: fetch 3 failed: the server closed the connection) after 1.00 s",
        ])
    );
}
