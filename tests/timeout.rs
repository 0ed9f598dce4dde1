//! `time::timeout` returns a named future, [`Timeout`]: what it resolves to
//! and when, on the paused clock (exact and instant); what happens to the
//! inner future and to the timer when the timeout ends either way or is
//! dropped midway; and the deadline counted from the call, as tokio counts
//! it. (The older scenarios of `timeout` sit in `tests/timers.rs`.)

mod common;

use std::future::{pending, poll_fn};
use std::task::Poll;
use std::time::Duration;

use common::{Counters, LIMIT, paused, watchdog};
use evloop::time::{Instant, Timeout, sleep, timeout, timeout_at};
use evloop::{Either, select};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `Timeout` is a nameable type: it can be a struct field or a return type.
/// It is `Unpin` whatever it wraps (the inner future is boxed).
#[test]
fn timeout_is_a_named_unpin_future() {
    fn assert_unpin<T: Unpin>(_: &T) {}
    struct Step<F> {
        limited: Timeout<F>,
    }
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            // An `async` block is not `Unpin`; its `Timeout` is.
            let step = Step {
                limited: timeout(ms(10), async { 1 }),
            };
            assert_unpin(&step.limited);
            assert_eq!(step.limited.await, Ok(1));
        });
    });
}

/// The inner future finishes first: `Ok(output)` at exactly its virtual
/// time, the inner future polled twice and dropped once, and the deadline's
/// timer disarmed at once: a finished `Timeout` kept alive does not wake its
/// task at the old deadline.
#[test]
fn completes_before_the_deadline() {
    watchdog(LIMIT, || {
        let rt = paused();
        let inner = Counters::new();
        let after = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut limited = timeout(
                Duration::from_secs(10),
                inner.probe(async {
                    sleep(ms(500)).await;
                    "in time"
                }),
            );
            assert_eq!((&mut limited).await, Ok("in time"));
            assert_eq!(start.elapsed(), ms(500));
            inner.assert("the inner future finished", 2, 1, 1);

            // `limited` is still alive. Had its 10 s timer stayed armed, it
            // would wake this task at 10 s and poll the probe a third time.
            after.probe(sleep(Duration::from_secs(20))).await;
            assert_eq!(start.elapsed(), ms(20_500));
            after.assert("the 20 s sleep, woken once", 2, 1, 1);
            drop(limited);
        });
    });
}

/// The deadline comes first: `Err(Elapsed)` at exactly the deadline. Awaited
/// by value, the inner future is dropped as the `.await` ends; awaited by
/// `&mut`, it stays inside until the `Timeout` is dropped.
#[test]
fn times_out_at_the_deadline() {
    watchdog(LIMIT, || {
        let rt = paused();
        let by_value = Counters::new();
        let by_ref = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let err = timeout(ms(750), by_value.probe(pending::<()>()))
                .await
                .unwrap_err();
            assert_eq!(start.elapsed(), ms(750));
            assert_eq!(err.to_string(), "deadline elapsed after 750ms");
            by_value.assert("awaited by value", 2, 0, 1);

            let mut limited = timeout(ms(250), by_ref.probe(pending::<()>()));
            assert!((&mut limited).await.is_err());
            assert_eq!(start.elapsed(), ms(1000));
            by_ref.assert("awaited by &mut: still inside", 2, 0, 0);
            // Polled again past the deadline: the inner future once more,
            // then `Err` again, without waiting.
            let again = (&mut limited).await.unwrap_err();
            assert_eq!(again.to_string(), "deadline elapsed after 250ms");
            assert_eq!(start.elapsed(), ms(1000));
            by_ref.assert("polled again", 3, 0, 0);
            drop(limited);
            by_ref.assert("dropped with the Timeout", 3, 0, 1);
        });
    });
}

/// Exact virtual times: the deadline counts from the call to `timeout`
/// (tokio's rule, and `sleep`'s), not from the first poll; `timeout_at`
/// ends at its instant; a future ready at the deadline's instant wins.
#[test]
fn exact_virtual_time_under_the_paused_clock() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let start = Instant::now();
            // Made at 0, first polled at 1.5 s: it has 0.5 s left, not 2 s.
            let limited = timeout(Duration::from_secs(2), pending::<()>());
            sleep(ms(1500)).await;
            assert!(limited.await.is_err());
            assert_eq!(start.elapsed(), Duration::from_secs(2));

            let at = start + Duration::from_secs(5);
            assert!(timeout_at(at, pending::<()>()).await.is_err());
            assert_eq!(start.elapsed(), Duration::from_secs(5));

            // A sleep ending at the same instant as the deadline wins: the
            // inner future is polled before the timer.
            assert_eq!(timeout(ms(300), sleep(ms(300))).await, Ok(()));
            assert_eq!(start.elapsed(), ms(5300));

            // Many timeouts in a row keep exact time: 1 ms short each.
            for i in 1..=100u64 {
                let out = timeout(ms(i + 1), sleep(ms(i))).await;
                assert_eq!(out, Ok(()));
            }
            assert_eq!(start.elapsed(), ms(5300 + 5050));
        });
    });
}

/// Dropped while it waits: the inner future is dropped at once, on the loop
/// thread, and the timer goes with it: the paused clock does not jump to
/// the dropped deadline, and nothing wakes the task there.
#[test]
fn dropped_mid_wait() {
    watchdog(LIMIT, || {
        let rt = paused();
        let inner = Counters::new();
        let later = Counters::new();
        let loop_thread = rt.block_on(async {
            let start = Instant::now();
            let mut limited = timeout(Duration::from_secs(10), inner.probe(pending::<()>()));
            // It waits, and loses a race against a 1 s sleep.
            match select(&mut limited, sleep(Duration::from_secs(1))).await {
                Either::Left(_) => panic!("the inner future never finishes"),
                Either::Right(()) => {}
            }
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            // Polled at the start and when the sleep's wake came at 1 s
            // (`select` polls its left side first).
            inner.assert("waiting", 2, 0, 0);
            assert!(inner.waiting());
            drop(limited);
            inner.assert("dropped mid-wait", 2, 0, 1);

            // Had the 10 s timer stayed armed, it would wake this task at
            // 10 s (a third poll of the 30 s sleep's probe).
            later.probe(sleep(Duration::from_secs(30))).await;
            assert_eq!(start.elapsed(), Duration::from_secs(31));
            later.assert("the 30 s sleep, woken once", 2, 1, 1);
            std::thread::current().id()
        });
        assert_eq!(inner.drop_threads(), [loop_thread], "dropped on the loop");
    });
}

/// `get_ref`, `get_mut` and `into_inner` reach the inner future: a
/// `Timeout` that is part-way through can be given up and its future
/// awaited on without a limit, losing none of its progress.
#[test]
fn the_inner_future_can_be_reached_and_taken_back() {
    watchdog(LIMIT, || {
        let rt = paused();
        let inner = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let mut limited = timeout(
                ms(100),
                inner.probe(async {
                    sleep(ms(300)).await;
                    "slow but done"
                }),
            );
            assert_eq!(inner.polls(), 0, "get_ref does not poll");
            let _: &common::Probe<_> = limited.get_ref();

            assert!((&mut limited).await.is_err());
            assert_eq!(start.elapsed(), ms(100));
            inner.assert("late: polled at the deadline too", 2, 0, 0);

            // Poll it in place once: still sleeping.
            let polled = poll_fn(|cx| Poll::Ready(limited.get_mut().poll(cx))).await;
            assert!(polled.is_pending());
            inner.assert("polled through get_mut", 3, 0, 0);

            // Give up the limit and wait on: it finishes at its own 300 ms
            // (one poll as the await starts, one at its sleep's wake).
            assert_eq!(limited.into_inner().await, "slow but done");
            assert_eq!(start.elapsed(), ms(300));
            inner.assert("finished without the limit", 5, 1, 1);
        });
    });
}

/// After `Ok`, the inner future is gone: reaching for it is a bug, and the
/// panic says so.
#[test]
#[should_panic(expected = "Timeout::into_inner called after the inner future finished")]
fn into_inner_after_ok_panics() {
    let rt = paused();
    rt.block_on(async {
        let mut limited = timeout(ms(10), async { 3 });
        assert_eq!((&mut limited).await, Ok(3));
        drop(limited.into_inner());
    });
}

/// A `Timeout` made outside a runtime fixes its deadline at the first poll,
/// as `sleep` does.
#[test]
fn made_outside_a_runtime_counts_from_the_first_poll() {
    watchdog(LIMIT, || {
        let limited = timeout(Duration::from_secs(3), pending::<()>());
        let rt = paused();
        rt.block_on(async {
            let start = Instant::now();
            assert!(limited.await.is_err());
            assert_eq!(start.elapsed(), Duration::from_secs(3));
        });
    });
}
