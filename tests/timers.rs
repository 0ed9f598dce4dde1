//! Timers: `sleep`, `sleep_until`, `timeout`, `interval`, on the paused clock
//! (exact and instant) and, where real time is the point, on the real clock
//! with lower bounds only.
//!
//! The scenarios: busy tasks must not starve a timer; zero, past and endless
//! deadlines; a million pending timers firing in deadline order; the paused
//! clock jumping an hour at once; missed interval ticks; timeouts either way.

mod common;

use std::cell::Cell;
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{Counters, Gate, LIMIT, watchdog};
use evloop::time::{
    Instant, MissedTickBehavior, interval, sleep, sleep_blocking, sleep_until, timeout, timeout_at,
};
use evloop::{Either, select};

/// The limit for scenarios where a starved timer shows up as a hang.
const STARVATION_LIMIT: Duration = Duration::from_secs(5);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Spawns a task that yields forever, counting its turns.
fn spawn_yielder(turns: &Rc<Cell<u64>>) {
    let turns = turns.clone();
    drop(evloop::spawn(async move {
        loop {
            turns.set(turns.get() + 1);
            evloop::yield_now().await;
        }
    }));
}

/// Spawns a task that wakes itself and returns `Pending` forever.
fn spawn_self_waker(turns: &Rc<Cell<u64>>) {
    let turns = turns.clone();
    drop(evloop::spawn(poll_fn(move |cx| {
        turns.set(turns.get() + 1);
        cx.waker().wake_by_ref();
        Poll::<()>::Pending
    })));
}

#[test]
fn a_task_that_yields_forever_does_not_stop_a_timer_on_the_paused_clock() {
    watchdog(STARVATION_LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let turns = Rc::new(Cell::new(0));
            spawn_yielder(&turns);
            let start = Instant::now();
            sleep(ms(10)).await;
            assert_eq!(start.elapsed(), ms(10), "the timer fires at exactly 10 ms");
            assert!(turns.get() > 0, "the yielder ran meanwhile");
        });
    });
}

#[test]
fn a_task_that_wakes_itself_forever_does_not_stop_a_timer_on_the_paused_clock() {
    watchdog(STARVATION_LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let turns = Rc::new(Cell::new(0));
            spawn_self_waker(&turns);
            let start = Instant::now();
            sleep(ms(10)).await;
            assert_eq!(start.elapsed(), ms(10), "the timer fires at exactly 10 ms");
            assert!(turns.get() > 0, "the busy task ran meanwhile");
        });
    });
}

#[test]
fn busy_tasks_do_not_stop_a_timer_on_the_real_clock() {
    watchdog(LIMIT, || {
        let rt = common::real();
        rt.block_on(async {
            let yields = Rc::new(Cell::new(0));
            let wakes = Rc::new(Cell::new(0));
            spawn_yielder(&yields);
            spawn_self_waker(&wakes);
            let start = std::time::Instant::now();
            sleep(ms(10)).await;
            assert!(start.elapsed() >= ms(10), "never early");
            assert!(yields.get() > 0 && wakes.get() > 0, "both busy tasks ran");
        });
    });
}

#[test]
fn a_thousand_zero_sleeps_complete_at_their_first_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..1000 {
                counters.probe(sleep(Duration::ZERO)).await;
            }
            counters.assert("one after another", 1000, 0, 1000);
            let together = (0..1000).map(|_| counters.probe(sleep(Duration::ZERO)));
            assert_eq!(evloop::join_all(together).await.len(), 1000);
            counters.assert("all at once", 2000, 0, 2000);
            assert_eq!(start.elapsed(), Duration::ZERO);
        });
    });
}

#[test]
fn an_endless_sleep_loses_a_race_with_a_short_one() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let start = Instant::now();
            let forever = sleep(Duration::MAX);
            assert_eq!(forever.deadline(), None);
            let won = select(forever, async {
                sleep(ms(5)).await;
                "short"
            })
            .await;
            assert_eq!(won, Either::Right("short"));
            assert_eq!(start.elapsed(), ms(5));

            // A deadline far away but representable: the same.
            let far = Duration::from_secs(100 * 365 * 24 * 3600);
            let won = select(sleep(far), sleep(ms(5))).await;
            assert_eq!(won, Either::Right(()));
            assert_eq!(start.elapsed(), ms(10));
            assert_eq!(
                timeout(ms(1), sleep(Duration::MAX))
                    .await
                    .unwrap_err()
                    .to_string(),
                "deadline elapsed after 1ms"
            );
        });
    });
}

#[test]
fn an_endless_sleep_loses_a_race_on_the_real_clock() {
    watchdog(LIMIT, || {
        let rt = common::real();
        rt.block_on(async {
            let start = std::time::Instant::now();
            let far = Duration::from_secs(100 * 365 * 24 * 3600);
            assert_eq!(
                select(sleep(Duration::MAX), sleep(ms(5))).await,
                Either::Right(())
            );
            assert_eq!(select(sleep(far), sleep(ms(5))).await, Either::Right(()));
            assert!(start.elapsed() >= ms(10));
        });
    });
}

#[test]
fn a_deadline_in_the_past_completes_at_once() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let past = sleep_until(start - Duration::from_secs(1));
            assert!(past.is_elapsed());
            counters.probe(past).await;
            counters.probe(sleep_until(start)).await;
            counters.assert("two past deadlines", 2, 0, 2);
            assert_eq!(start.elapsed(), Duration::ZERO);
        });
        let rt = common::real();
        rt.block_on(async {
            let past = Instant::now() - ms(1);
            counters.probe(sleep_until(past)).await;
            counters.assert("on the real clock", 3, 0, 3);
        });
    });
}

#[test]
fn the_paused_clock_sleeps_an_hour_exactly_and_at_once() {
    watchdog(LIMIT, || {
        let real_start = std::time::Instant::now();
        let rt = common::paused();
        let virtual_elapsed = rt.block_on(async {
            let start = Instant::now();
            sleep(Duration::from_secs(3600)).await;
            start.elapsed()
        });
        assert_eq!(virtual_elapsed, Duration::from_secs(3600));
        // Generous, and only meaningful inside the watchdog: no real hour passed.
        assert!(real_start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn a_sleep_made_outside_block_on_runs_on_the_paused_clock() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        // Virtual time moves an hour ahead of real time.
        rt.block_on(async { sleep(Duration::from_secs(3600)).await });
        let start = rt.block_on(async { Instant::now() });
        // Made here, outside the loop, and awaited inside it.
        let nap = sleep(Duration::from_secs(2));
        rt.block_on(nap);
        let end = rt.block_on(async { Instant::now() });
        assert_eq!(
            end - start,
            Duration::from_secs(2),
            "a 2 s sleep passed to block_on takes 2 s of the runtime's clock"
        );
    });
}

#[test]
fn a_thousand_timers_with_one_deadline_fire_together() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..1000)
                .map(|_| {
                    evloop::spawn(counters.probe(async move {
                        sleep_until(start + Duration::from_secs(1)).await;
                        Instant::now()
                    }))
                })
                .collect();
            for handle in handles {
                assert_eq!(handle.await.unwrap(), start + Duration::from_secs(1));
            }
            counters.assert("all fired", 2000, 1000, 1000);
        });
    });
}

#[test]
fn a_million_pending_timers_fire_in_deadline_order() {
    const N: u64 = 1_000_000;
    // A permutation of 0..N: task i fires rank(i)-th. 7919 is prime and does
    // not divide N, so i -> i * 7919 mod N is one-to-one.
    fn rank(i: u64) -> u64 {
        i * 7919 % N
    }
    #[derive(Default)]
    struct Tally {
        armed: Cell<u64>,
        fired: Cell<u64>,
        early: Cell<u64>,
        out_of_order: Cell<u64>,
        off_time: Cell<u64>,
    }
    watchdog(Duration::from_secs(300), || {
        let rt = common::paused();
        let tally = Rc::new(Tally::default());
        rt.block_on(async {
            let start = Instant::now();
            for i in 0..N {
                let tally = tally.clone();
                let deadline = start + Duration::from_micros(rank(i) + 1);
                drop(evloop::spawn(async move {
                    tally.armed.set(tally.armed.get() + 1);
                    sleep_until(deadline).await;
                    let fired = tally.fired.get();
                    if fired == 0 && tally.armed.get() != N {
                        // The first timer fired before all were pending.
                        tally.early.set(1);
                    }
                    if fired != rank(i) {
                        tally.out_of_order.set(tally.out_of_order.get() + 1);
                    }
                    if Instant::now() != deadline {
                        tally.off_time.set(tally.off_time.get() + 1);
                    }
                    tally.fired.set(fired + 1);
                }));
            }
            assert_eq!(rt.task_count() as u64, N);
            sleep_until(start + Duration::from_micros(N + 1)).await;
        });
        assert_eq!(tally.armed.get(), N);
        assert_eq!(tally.early.get(), 0, "all the timers were pending at once");
        assert_eq!(tally.fired.get(), N, "every timer fired");
        assert_eq!(
            tally.out_of_order.get(),
            0,
            "timers fired out of deadline order"
        );
        assert_eq!(tally.off_time.get(), 0, "timers fired off their deadline");
        assert_eq!(rt.task_count(), 0);
    });
}

#[test]
fn real_clock_sleeps_are_never_early() {
    watchdog(LIMIT, || {
        let rt = common::real();
        rt.block_on(async {
            for d in [
                Duration::from_micros(1),
                Duration::from_micros(1500),
                ms(10),
                ms(25),
            ] {
                let start = std::time::Instant::now();
                sleep(d).await;
                assert!(start.elapsed() >= d, "sleep({d:?}) ended early");

                let start = std::time::Instant::now();
                let deadline = Instant::now() + d;
                sleep_until(deadline).await;
                assert!(std::time::Instant::now() >= deadline.into_std());
                assert!(start.elapsed() >= d, "sleep_until ended early");

                let start = std::time::Instant::now();
                assert!(timeout(d, pending::<()>()).await.is_err());
                assert!(start.elapsed() >= d, "timeout({d:?}) fired early");
            }
        });
    });
}

/// Ticks `every` after the loop was held for 35 ms past the first tick; returns
/// each tick's scheduled time and when it completed, in ms since the start.
fn late_ticks(behavior: Option<MissedTickBehavior>, ticks: usize) -> Vec<(u64, u64)> {
    let rt = common::paused();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(ms(10));
        if let Some(behavior) = behavior {
            every.set_missed_tick_behavior(behavior);
        }
        assert_eq!(every.period(), ms(10));
        let since = |t: Instant| u64::try_from((t - start).as_millis()).unwrap();
        let mut seen = Vec::new();
        for n in 0..ticks {
            let scheduled = every.tick().await;
            seen.push((since(scheduled), since(Instant::now())));
            if n == 0 {
                // Hold the loop past three more ticks (at 10, 20 and 30 ms).
                sleep_blocking(ms(35));
            }
        }
        seen
    })
}

#[test]
fn interval_burst_fires_missed_ticks_at_once_then_keeps_the_schedule() {
    watchdog(LIMIT, || {
        let expected = [(0, 0), (10, 35), (20, 35), (30, 35), (40, 40), (50, 50)];
        assert_eq!(late_ticks(Some(MissedTickBehavior::Burst), 6), expected);
        assert_eq!(late_ticks(None, 6), expected, "Burst is the default");
    });
}

#[test]
fn interval_delay_fires_once_then_restarts_the_period_from_now() {
    watchdog(LIMIT, || {
        assert_eq!(
            late_ticks(Some(MissedTickBehavior::Delay), 4),
            [(0, 0), (10, 35), (45, 45), (55, 55)]
        );
    });
}

#[test]
fn interval_skip_fires_once_then_rejoins_the_schedule() {
    watchdog(LIMIT, || {
        assert_eq!(
            late_ticks(Some(MissedTickBehavior::Skip), 4),
            [(0, 0), (10, 35), (40, 40), (50, 50)]
        );
    });
}

#[test]
fn an_interval_tick_cancelled_midway_loses_no_tick() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let start = Instant::now();
            let mut every = interval(ms(10));
            assert_eq!(every.tick().await, start);
            assert!(timeout(ms(5), every.tick()).await.is_err());
            assert_eq!(start.elapsed(), ms(5));
            assert_eq!(every.tick().await, start + ms(10));
            assert_eq!(start.elapsed(), ms(10));
        });
    });
}

#[test]
fn timeout_returns_the_output_when_the_future_wins() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let out = timeout(
                Duration::from_secs(1),
                counters.probe(async {
                    sleep(ms(500)).await;
                    7
                }),
            )
            .await;
            assert_eq!(out, Ok(7));
            assert_eq!(start.elapsed(), ms(500));
            counters.assert("the future won", 2, 1, 1);

            // A future that is ready at once wins even a zero timeout.
            assert_eq!(timeout(Duration::ZERO, async { 3 }).await, Ok(3));
            // At the same instant, the future is polled first.
            assert_eq!(timeout(ms(100), sleep(ms(100))).await, Ok(()));
            assert_eq!(start.elapsed(), ms(600));
        });
    });
}

#[test]
fn timeout_cancels_the_future_when_the_deadline_wins() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let err = timeout(Duration::from_secs(1), counters.probe(sleep(ms(2000))))
                .await
                .unwrap_err();
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            // Polled at the start, and once more when the deadline's wake
            // came (the future is always polled before the clock is read).
            counters.assert("the deadline won", 2, 0, 1);
            assert_eq!(err.to_string(), "deadline elapsed after 1s");

            let err = timeout(Duration::ZERO, pending::<()>()).await.unwrap_err();
            assert_eq!(err.to_string(), "deadline elapsed after 0ns");

            let err = timeout_at(start, counters.probe(pending::<()>()))
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "deadline elapsed");
            counters.assert("a past deadline", 3, 0, 2);
            assert_eq!(start.elapsed(), Duration::from_secs(1));
        });
    });
}

#[test]
fn a_cancelled_timer_does_not_move_the_paused_clock() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let gate = Gate::new();
        let opener = {
            let gate = gate.clone();
            thread::spawn(move || {
                while !gate.has_waiter() {
                    thread::sleep(ms(1));
                }
                thread::sleep(ms(20));
                gate.open();
            })
        };
        rt.block_on(async {
            let start = Instant::now();
            // The hour-long timer is armed, then dropped with the select.
            assert_eq!(
                select(sleep(Duration::from_secs(3600)), async {}).await,
                Either::Right(())
            );
            // With no timer left, the paused clock cannot move while the
            // loop waits for the other thread.
            gate.wait().await;
            assert_eq!(start.elapsed(), Duration::ZERO);
        });
        opener.join().expect("the opener does not panic");
    });
}

/// A task whose timer fires while a long queue of other tasks is waiting runs
/// before that queue, not behind it: it has waited already. Here a poll
/// spawns 500 tasks and then holds the loop past the timer's deadline (the
/// paused clock's `sleep_blocking`); the sleeper must run after at most one
/// tick's budget of them, not after all 500.
#[test]
fn a_task_woken_by_its_timer_runs_ahead_of_the_queue() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let ran_before_sleeper = rt.block_on(async {
            let counter = Rc::new(Cell::new(0usize));
            let seen = counter.clone();
            let sleeper = evloop::spawn(async move {
                evloop::time::sleep(Duration::from_millis(1)).await;
                seen.get()
            });
            let queued = counter.clone();
            let spawner = evloop::spawn(async move {
                for _ in 0..500 {
                    let c = queued.clone();
                    drop(evloop::spawn(async move { c.set(c.get() + 1) }));
                }
                // Hold the loop past the sleeper's deadline.
                evloop::time::sleep_blocking(Duration::from_millis(2));
            });
            spawner.await.expect("the spawner finishes");
            let ran = sleeper.await.expect("the sleeper finishes");
            // The queue still runs, after the sleeper.
            while counter.get() < 500 {
                evloop::yield_now().await;
            }
            ran
        });
        assert!(
            ran_before_sleeper < 500,
            "the sleeper waited behind all {ran_before_sleeper} queued tasks"
        );
    });
}

/// A sleep polled again and again before its deadline (here by a task that
/// polls it by hand every turn, waking itself in between) stays pending and
/// still completes exactly at its deadline on the paused clock (the re-poll
/// path that trusts the armed timer instead of reading the clock); a sleep
/// whose deadline the clock has passed completes on its next poll.
#[test]
fn a_sleep_polled_before_its_deadline_stays_pending_and_fires_exactly() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        rt.block_on(async {
            let start = Instant::now();
            let mut nap = std::pin::pin!(sleep(ms(30)));
            let mut polls = 0u32;
            poll_fn(|cx| {
                polls += 1;
                match nap.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(()),
                    Poll::Pending => {
                        // Ask to be polled again next tick, as a select
                        // whose other branch is busy would.
                        if polls < 50 {
                            cx.waker().wake_by_ref();
                        }
                        Poll::Pending
                    }
                }
            })
            .await;
            assert_eq!(start.elapsed(), ms(30), "exactly at the deadline");
            assert!(polls >= 50, "polled {polls} times while pending");

            // A deadline passed by a blocking call: ready at the next poll.
            let mut late = std::pin::pin!(sleep(ms(5)));
            assert!(futures_poll_once(late.as_mut()).await.is_pending());
            sleep_blocking(ms(10));
            assert!(futures_poll_once(late.as_mut()).await.is_ready());
        });
    });
}

/// Polls `fut` once, with the task's waker.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut fut: F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut fut).poll(cx))).await
}
