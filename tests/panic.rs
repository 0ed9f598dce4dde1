//! Invariant 5: a panic inside a task is caught and handed to its
//! `JoinHandle` as a `JoinError`; the loop and the other tasks go on.
//!
//! Every panic provoked here carries [`EXPECTED`](common::EXPECTED) in its
//! message, so the test output stays quiet about it.

mod common;

use std::time::Duration;

use common::{Counters, DropCount, EXPECTED, LIMIT, watchdog};
use evloop::time::{Instant, sleep};

#[test]
fn a_panicking_task_leaves_the_others_running() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let bystanders = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let before = evloop::spawn(bystanders.probe(async {
                sleep(Duration::from_secs(1)).await;
                1
            }));
            let bad = evloop::spawn(async {
                sleep(Duration::from_millis(500)).await;
                panic!("boom {EXPECTED}");
            });
            let after = evloop::spawn(bystanders.probe(async {
                sleep(Duration::from_secs(2)).await;
                2
            }));
            let err = bad.await.expect_err("the task panicked");
            assert!(err.is_panic() && !err.is_cancelled());
            assert_eq!(start.elapsed(), Duration::from_millis(500));
            bystanders.assert("the panic", 2, 0, 0);

            assert_eq!(before.await.expect("unharmed"), 1);
            assert_eq!(after.await.expect("unharmed"), 2);
            assert_eq!(start.elapsed(), Duration::from_secs(2));
            bystanders.assert("both bystanders finished", 4, 2, 2);
        });
    });
}

#[test]
fn into_panic_gives_back_the_payload() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let literal = evloop::spawn(async { std::panic::panic_any("literal payload") });
            let formatted = evloop::spawn(async { panic!("formatted {} {EXPECTED}", 42) });
            let typed = evloop::spawn(async { std::panic::panic_any(7_u32) });

            let payload = literal.await.unwrap_err().into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"literal payload"));

            let payload = formatted.await.unwrap_err().into_panic();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some(format!("formatted 42 {EXPECTED}").as_str())
            );

            let err = typed.await.unwrap_err();
            assert!(err.is_panic());
            let payload = err.try_into_panic().expect("a panic, not a cancellation");
            assert_eq!(payload.downcast_ref::<u32>(), Some(&7));
        });
    });
}

#[test]
fn a_resumed_panic_carries_the_original_payload() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let payload = rt.block_on(async {
            let err = evloop::spawn(async { std::panic::panic_any(99_i64) })
                .await
                .unwrap_err();
            std::panic::catch_unwind(|| std::panic::resume_unwind(err.into_panic()))
                .expect_err("resume_unwind panics")
        });
        assert_eq!(payload.downcast_ref::<i64>(), Some(&99));
    });
}

#[test]
fn display_names_the_task_and_the_message() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let named = evloop::task::Builder::new()
                .name("download 3")
                .spawn(async { panic!("bad image {EXPECTED}") });
            let unnamed = evloop::spawn(async { panic!("no name {EXPECTED}") });
            let opaque = evloop::spawn(async { std::panic::panic_any(1_u8) });
            let (named_id, unnamed_id, opaque_id) = (named.id(), unnamed.id(), opaque.id());

            let err = named.await.unwrap_err();
            assert_eq!(err.name(), Some("download 3"));
            assert_eq!(err.id(), named_id);
            assert_eq!(
                err.to_string(),
                format!("task 'download 3' ({named_id}) panicked: bad image {EXPECTED}")
            );
            assert!(format!("{err:?}").contains("download 3"), "{err:?}");

            let err = unnamed.await.unwrap_err();
            assert_eq!(err.name(), None);
            assert_eq!(
                err.to_string(),
                format!("{unnamed_id} panicked: no name {EXPECTED}")
            );
            assert_eq!(
                unnamed_id.to_string(),
                format!("task {}", unnamed_id.as_u64())
            );

            let err = opaque.await.unwrap_err();
            assert_eq!(err.to_string(), format!("{opaque_id} panicked"));
        });
    });
}

#[test]
fn a_cancelled_task_is_not_a_panic() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let handle = evloop::task::Builder::new()
                .name("sleeper")
                .spawn(sleep(Duration::from_secs(10)));
            let id = handle.id();
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            assert_eq!(
                err.to_string(),
                format!("task 'sleeper' ({id}) was cancelled")
            );
            let err = err
                .try_into_panic()
                .expect_err("a cancellation has no payload");
            assert!(err.is_cancelled());
        });
    });
}

#[test]
#[should_panic(expected = "into_panic called on a cancelled task")]
fn into_panic_on_a_cancellation_panics() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let err = rt.block_on(async {
            let handle = evloop::spawn(std::future::pending::<()>());
            handle.abort();
            handle.await.unwrap_err()
        });
        drop(err.into_panic());
    });
}

#[test]
fn a_panic_nobody_awaits_does_not_stop_the_loop() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            // Detached: the loop reports it on stderr and goes on.
            drop(evloop::spawn(
                counters.probe(async { panic!("unobserved {EXPECTED}") }),
            ));
            sleep(Duration::from_millis(1)).await;
            counters.assert("the detached task panicked", 1, 0, 1);
            let fine = evloop::spawn(async { "still running" });
            assert_eq!(fine.await.unwrap(), "still running");
        });
    });
}

#[test]
fn a_panic_in_the_drop_of_an_aborted_future_becomes_the_error() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panic {EXPECTED}");
        }
    }
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let handle = evloop::spawn(counters.probe(async {
                let _bomb = PanicOnDrop;
                std::future::pending::<()>().await;
            }));
            common::yield_until(|| counters.polls() == 1).await;
            handle.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_panic(), "{err}");
            assert!(err.to_string().contains("drop panic"), "{err}");
            counters.assert("aborted", 1, 0, 1);
        });
    });
}

#[test]
fn a_panic_in_the_drop_of_a_detached_output_does_not_stop_the_loop() {
    struct PanicOnDrop(DropCount);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            drop(self.0.token(0));
            panic!("output drop panic {EXPECTED}");
        }
    }
    watchdog(LIMIT, || {
        let rt = common::paused();
        let outputs = DropCount::new();
        let out = outputs.clone();
        rt.block_on(async move {
            drop(evloop::spawn(async move { PanicOnDrop(out) }));
            sleep(Duration::from_millis(1)).await;
            assert_eq!(outputs.get(), 1, "the loop dropped the output");
            assert_eq!(evloop::spawn(async { 3 }).await.unwrap(), 3);
        });
    });
}

#[test]
#[should_panic(expected = "the main future panics")]
fn a_panic_in_the_main_future_propagates_out_of_block_on() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            panic!("the main future panics");
        });
    });
}

#[test]
fn after_a_panic_in_block_on_the_runtime_drops_its_tasks() {
    watchdog(LIMIT, || {
        let counters = Counters::new();
        let inner = counters.clone();
        let caught = std::panic::catch_unwind(move || {
            let rt = common::paused();
            rt.block_on(async move {
                drop(evloop::spawn(inner.probe(std::future::pending::<()>())));
                evloop::yield_now().await;
                panic!("main fails {EXPECTED}");
            });
        });
        assert!(caught.is_err());
        counters.assert("the runtime unwound", 1, 0, 1);
    });
}
