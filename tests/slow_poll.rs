//! The slow-poll warning (asyncio debug mode's "Executing <Task …> took
//! 0.250 seconds"): a poll that holds the loop longer than the threshold is
//! reported once, naming the task and where it was spawned; faster polls are
//! not; `slow_poll_threshold(None)` turns the check off.
//!
//! `sleep_blocking` on the paused clock moves virtual time as a blocking call
//! would move real time, so every duration here is exact.

mod common;

use std::time::Duration;

use common::{LIMIT, SlowPolls, paused_collecting, watchdog};
use evloop::Runtime;
use evloop::runtime::DEFAULT_SLOW_POLL_THRESHOLD;
use evloop::time::sleep_blocking;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A paused-clock runtime whose slow-poll reports land in the returned list.
fn collecting(threshold: Option<Duration>) -> (Runtime, SlowPolls) {
    paused_collecting(Runtime::builder().slow_poll_threshold(threshold))
}

#[test]
fn a_slow_poll_is_reported_once_with_the_task_name_and_spawn_location() {
    watchdog(LIMIT, || {
        let (rt, reports) = collecting(Some(ms(100)));
        let (id, line) = rt.block_on(async {
            #[rustfmt::skip]
            let (handle, line) = (evloop::task::Builder::new().name("hog").spawn(async { sleep_blocking(ms(250)) }), line!());
            let id = handle.id();
            handle.await.expect("the hog completes");
            (id, line)
        });
        let reports = reports.borrow();
        assert_eq!(reports.len(), 1, "{reports:?}");
        let report = &reports[0];
        assert_eq!(report.task, Some(id));
        assert_eq!(report.name.as_deref(), Some("hog"));
        let location = report.location.expect("a task has a spawn location");
        assert_eq!((location.file(), location.line()), (file!(), line));
        assert_eq!(report.duration, ms(250));
        assert_eq!(report.threshold, ms(100));

        let text = report.to_string();
        for part in [
            format!("task 'hog' ({id})"),
            format!("spawned at {}:{line}", file!()),
            "0.250 s".to_owned(),
            "threshold 100 ms".to_owned(),
            "spawn_blocking".to_owned(),
        ] {
            assert!(text.contains(&part), "{part:?} missing from {text:?}");
        }
    });
}

#[test]
fn polls_at_or_under_the_threshold_are_not_reported() {
    watchdog(LIMIT, || {
        let (rt, reports) = collecting(Some(ms(100)));
        rt.block_on(async {
            let quick = evloop::spawn(async { sleep_blocking(ms(50)) });
            let exact = evloop::spawn(async { sleep_blocking(ms(100)) });
            // Many polls adding up to a second, none of them slow.
            let patient = evloop::spawn(async {
                for _ in 0..10 {
                    sleep_blocking(ms(99));
                    evloop::yield_now().await;
                }
            });
            quick.await.unwrap();
            exact.await.unwrap();
            patient.await.unwrap();
        });
        assert!(reports.borrow().is_empty(), "{:?}", reports.borrow());
    });
}

#[test]
fn each_slow_poll_is_reported_and_blamed_on_its_own_task() {
    watchdog(LIMIT, || {
        let (rt, reports) = collecting(Some(ms(100)));
        let (slow_id, fast_id) = rt.block_on(async {
            let slow = evloop::spawn(async {
                sleep_blocking(ms(150));
                evloop::yield_now().await;
                sleep_blocking(ms(300));
            });
            // Polled right after the slow one, in the same turn of the loop.
            let fast = evloop::spawn(async {
                evloop::yield_now().await;
            });
            let ids = (slow.id(), fast.id());
            slow.await.unwrap();
            fast.await.unwrap();
            ids
        });
        let reports = reports.borrow();
        let seen: Vec<_> = reports.iter().map(|r| (r.task, r.duration)).collect();
        assert_eq!(seen, [(Some(slow_id), ms(150)), (Some(slow_id), ms(300))]);
        assert!(reports.iter().all(|r| r.task != Some(fast_id)));
    });
}

#[test]
fn a_slow_main_future_is_reported_as_such() {
    watchdog(LIMIT, || {
        let (rt, reports) = collecting(Some(ms(100)));
        rt.block_on(async { sleep_blocking(ms(120)) });
        let reports = reports.borrow();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].task, None);
        assert_eq!(reports[0].location, None);
        assert_eq!(
            reports[0].name.as_deref(),
            Some("the main future (block_on)")
        );
        assert_eq!(reports[0].duration, ms(120));
    });
}

#[test]
fn the_default_threshold_is_100_ms() {
    watchdog(LIMIT, || {
        assert_eq!(DEFAULT_SLOW_POLL_THRESHOLD, ms(100));
        // The builder's own threshold: none is set here.
        let (rt, reports) = paused_collecting(Runtime::builder());
        rt.block_on(async {
            evloop::spawn(async { sleep_blocking(ms(100)) })
                .await
                .unwrap();
            evloop::spawn(async { sleep_blocking(ms(101)) })
                .await
                .unwrap();
        });
        let reports = reports.borrow();
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].threshold, ms(100));
        assert_eq!(reports[0].duration, ms(101));
    });
}

#[test]
fn no_threshold_turns_the_check_off() {
    watchdog(LIMIT, || {
        let (rt, reports) = collecting(None);
        rt.block_on(async {
            sleep_blocking(Duration::from_secs(1));
            evloop::spawn(async { sleep_blocking(Duration::from_secs(5)) })
                .await
                .unwrap();
        });
        assert!(reports.borrow().is_empty(), "{:?}", reports.borrow());
    });
}
