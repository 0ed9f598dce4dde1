//! Misuse that can only be caught at run time fails loudly and points at the
//! caller: spawning outside a runtime, starting a runtime inside a running
//! one, polling a timer outside a runtime. The messages name the call site
//! (file:line) so the reader can find the mistake.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;
use std::time::Duration;

use common::{Counters, LIMIT, watchdog};
use evloop::TaskGroup;

/// Runs `f`, expecting a panic; returns its message.
fn panic_message(f: impl FnOnce()) -> String {
    common::quiet_expected_panics();
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    common::panic_text(&*payload).expect("the panic message is text")
}

#[test]
fn spawn_outside_a_runtime_panics_naming_the_call_site() {
    let counters = Counters::new();
    let probe = counters.probe(async {});
    #[rustfmt::skip]
    let (message, line) = (panic_message(|| drop(evloop::spawn(probe))), line!());
    assert!(message.contains("outside a runtime"), "{message}");
    assert!(
        message.contains(&format!("{}:{line}", file!())),
        "{message:?} does not name {}:{line}",
        file!()
    );
    counters.assert("the refused future was dropped, never polled", 0, 0, 1);
}

#[test]
fn builder_spawn_outside_a_runtime_panics_naming_the_call_site() {
    #[rustfmt::skip]
    let (message, line) = (panic_message(|| drop(evloop::task::Builder::new().name("orphan").spawn(async {}))), line!());
    assert!(
        message.contains(&format!("{}:{line}", file!())),
        "{message}"
    );
}

#[test]
fn task_group_spawn_outside_a_runtime_panics_naming_the_call_site() {
    let mut group: TaskGroup<(), ()> = TaskGroup::new();
    #[rustfmt::skip]
    let (message, line) = (panic_message(|| group.spawn(async { Ok(()) })), line!());
    assert!(
        message.contains(&format!("{}:{line}", file!())),
        "{message}"
    );
    assert!(group.is_empty());
}

#[test]
fn block_on_inside_block_on_panics_with_a_clear_message() {
    watchdog(LIMIT, || {
        let outer = common::paused();
        let inner = common::paused();
        rt_block_on_nested(&outer, &inner);
        drop(inner);
    });
}

fn rt_block_on_nested(outer: &evloop::Runtime, inner: &evloop::Runtime) {
    outer.block_on(async {
        #[rustfmt::skip]
        let (message, line) = (panic_message(|| inner.block_on(async {})), line!());
        assert!(
            message.contains("cannot start a runtime (block_on) from inside a running runtime"),
            "{message}"
        );
        assert!(
            message.contains(&format!("{}:{line}", file!())),
            "{message}"
        );
        assert!(message.contains("await the future instead"), "{message}");
        // The outer loop is unharmed.
        assert_eq!(evloop::spawn(async { 5 }).await.unwrap(), 5);
        evloop::time::sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn run_inside_a_task_panics_and_the_outer_loop_goes_on() {
    watchdog(LIMIT, || {
        let outer = common::paused();
        outer.block_on(async {
            let nested = evloop::spawn(async {
                #[rustfmt::skip]
                let (message, line) = (panic_message(|| evloop::run(async {})), line!());
                (message, line)
            });
            let (message, line) = nested.await.expect("the panic was caught in the task");
            assert!(
                message.contains("from inside a running runtime"),
                "{message}"
            );
            assert!(
                message.contains(&format!("{}:{line}", file!())),
                "{message}"
            );
            // The outer loop is unharmed.
            assert_eq!(evloop::spawn(async { 6 }).await.unwrap(), 6);
        });
    });
}

#[test]
fn a_sleep_polled_outside_a_runtime_panics_with_a_clear_message() {
    let mut nap = Box::pin(evloop::time::sleep(Duration::from_secs(1)));
    let message = panic_message(|| {
        let _ = common::poll_once(&mut nap);
    });
    assert!(message.contains("polled outside a runtime"), "{message}");
}

#[test]
fn yield_now_and_instant_work_outside_a_runtime() {
    let start = evloop::time::Instant::now();
    let mut yielding = evloop::yield_now();
    assert!(common::poll_once(&mut yielding).is_pending());
    assert_eq!(common::poll_once(&mut yielding), Poll::Ready(()));
    assert!(evloop::time::Instant::now() >= start);
}
