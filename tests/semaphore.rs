//! Behaviour of `evloop::sync::Semaphore`: the cap holds, waiters are served
//! in arrival order, cancellation (before or after the wake-up) never loses a
//! permit, permits come back whatever way their holder ends, and `close`
//! fails every waiter.
//!
//! Every test runs under a watchdog thread, so a lost wake-up fails the test
//! instead of hanging it. Time comes from the paused clock.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{LIMIT, counting_waker, paused, poll_with, watchdog};
use evloop::sync::{AcquireError, Semaphore, TryAcquireError};
use evloop::time::{Instant, sleep, timeout};
use evloop::{Runtime, spawn, yield_now};

/// A small deterministic pseudo-random sequence (xorshift), for "random-ish"
/// sleeps that are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Spawns `count` tasks that each take a permit, count themselves in, sleep
/// a random-ish while, and count themselves out. Returns the most ever
/// inside at once.
#[test]
fn never_more_than_n_holders() {
    watchdog(LIMIT, || {
        const PERMITS: usize = 3;
        const TASKS: usize = 60;
        let rt = paused();
        let (most, finished) = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(PERMITS));
            let inside = Rc::new(Cell::new(0usize));
            let most = Rc::new(Cell::new(0usize));
            let finished = Rc::new(Cell::new(0usize));
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let mut handles = Vec::new();
            for _ in 0..TASKS {
                let (sem, inside, most, finished) =
                    (sem.clone(), inside.clone(), most.clone(), finished.clone());
                let hold = Duration::from_millis(1 + rng.below(50));
                let arrive = Duration::from_millis(rng.below(200));
                handles.push(spawn(async move {
                    sleep(arrive).await;
                    let _permit = sem.acquire().await.expect("never closed");
                    inside.set(inside.get() + 1);
                    assert!(inside.get() <= PERMITS, "{} holders at once", inside.get());
                    most.set(most.get().max(inside.get()));
                    sleep(hold).await;
                    inside.set(inside.get() - 1);
                    finished.set(finished.get() + 1);
                }));
            }
            for handle in handles {
                handle.await.expect("no task failed");
            }
            assert_eq!(sem.available_permits(), PERMITS, "every permit came back");
            (most.get(), finished.get())
        });
        assert_eq!(most, PERMITS, "the cap was reached, never passed");
        assert_eq!(finished, TASKS);
    });
}

/// Waiters get the permit in the order they started waiting.
#[test]
fn waiters_are_served_in_arrival_order() {
    watchdog(LIMIT, || {
        let rt = paused();
        let order = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut handles = Vec::new();
            for id in 0..6 {
                let (sem, order) = (sem.clone(), order.clone());
                handles.push(spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    order.borrow_mut().push(id);
                    yield_now().await; // hold it across a turn of the loop
                }));
                yield_now().await; // let this one queue before the next
            }
            drop(held);
            for handle in handles {
                handle.await.expect("no task failed");
            }
            order.take()
        });
        assert_eq!(order, [0, 1, 2, 3, 4, 5]);
    });
}

/// A released permit goes to the waiter, not to whoever asks next: a
/// newcomer cannot barge in even though the waiter has not run yet.
#[test]
fn a_newcomer_never_jumps_ahead_of_a_waiter() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let waiter = {
                let sem = sem.clone();
                spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    "waiter got it"
                })
            };
            yield_now().await; // the waiter queues
            drop(held); // the permit is assigned to the waiter, which has not run yet
            assert_eq!(sem.available_permits(), 0);
            assert_eq!(
                sem.try_acquire().unwrap_err(),
                TryAcquireError::NoPermits { requested: 1 }
            );
            assert_eq!(waiter.await.expect("no failure"), "waiter got it");
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

/// A waiter cancelled while still queued leaves the queue; the one behind
/// it gets the permit.
#[test]
fn a_cancelled_head_waiter_is_skipped() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let got = Rc::new(RefCell::new(Vec::new()));
            let spawn_waiter = |name: &'static str| {
                let (sem, got) = (sem.clone(), got.clone());
                spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    got.borrow_mut().push(name);
                })
            };
            let head = spawn_waiter("head");
            yield_now().await;
            let second = spawn_waiter("second");
            yield_now().await;
            head.abort(); // cancelled while queued
            assert!(head.await.expect_err("aborted").is_cancelled());
            drop(held);
            second.await.expect("second ran");
            assert_eq!(*got.borrow(), ["second"]);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

/// The same, where the head gives up by a timeout.
#[test]
fn a_head_waiter_that_times_out_is_skipped() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let impatient = {
                let sem = sem.clone();
                spawn(async move {
                    timeout(Duration::from_secs(1), sem.acquire())
                        .await
                        .map(|permit| permit.map(|p| p.num_permits()))
                })
            };
            let patient = {
                let sem = sem.clone();
                spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    Instant::now()
                })
            };
            let start = Instant::now();
            assert!(impatient.await.expect("no failure").is_err(), "timed out");
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            sleep(Duration::from_secs(1)).await;
            drop(held); // at t = 2 s
            let got_at = patient.await.expect("the patient waiter got the permit");
            assert_eq!(got_at.duration_since(start), Duration::from_secs(2));
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

/// The bug asyncio once had: a waiter woken with the permit, then cancelled
/// before it runs, must hand the permit to the next waiter. Polled by hand,
/// so every wake-up is counted.
#[test]
fn cancel_after_wake_passes_the_permit_on() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().expect("one free permit");
        let (a_wakes, a_waker) = counting_waker();
        let (b_wakes, b_waker) = counting_waker();
        let mut a = sem.acquire();
        let mut b = sem.acquire();
        assert!(poll_with(&mut a, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (0, 0));

        drop(held); // handed to A, who is woken
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 0));
        assert_eq!(sem.available_permits(), 0);

        drop(a); // A is cancelled before it runs: the permit passes to B
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 1));
        let permit = match poll_with(&mut b, &b_waker) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("B should hold the permit now, got {other:?}"),
        };
        assert_eq!(sem.available_permits(), 0);
        drop(permit);
        drop(b);
        assert_eq!(sem.available_permits(), 1, "nothing leaked");
    });
}

/// The same on the loop: the woken task is aborted before it runs, and the
/// next one still finishes (nobody hangs).
#[test]
fn abort_after_wake_passes_the_permit_on() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let ran = Rc::new(Cell::new(0));
            let spawn_waiter = || {
                let (sem, ran) = (sem.clone(), ran.clone());
                spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    ran.set(ran.get() + 1);
                })
            };
            let first = spawn_waiter();
            let second = spawn_waiter();
            yield_now().await; // both queue
            drop(held); // `first` is granted and scheduled...
            first.abort(); // ...and cancelled before it runs
            assert!(first.await.expect_err("aborted").is_cancelled());
            second.await.expect("the second waiter got the permit");
            assert_eq!(ran.get(), 1);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

/// How a holder ends.
#[derive(Debug, Clone, Copy)]
enum Exit {
    Return,
    Error,
    Panic,
    Abort,
}

/// Permits come back on every way out: return, `?` error, panic, abort; with
/// the join handle awaited or dropped (detached); with a waiter queued or not.
#[test]
fn permits_come_back_however_the_holder_ends() {
    for exit in [Exit::Return, Exit::Error, Exit::Panic, Exit::Abort] {
        for await_handle in [true, false] {
            for waiter_queued in [true, false] {
                watchdog(LIMIT, move || {
                    permit_comes_back(exit, await_handle, waiter_queued);
                });
            }
        }
    }
}

fn permit_comes_back(exit: Exit, await_handle: bool, waiter_queued: bool) {
    let what = format!("{exit:?}, handle awaited: {await_handle}, waiter: {waiter_queued}");
    let rt = Runtime::builder()
        .paused_clock(true)
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(1));
        let holder = {
            let sem = sem.clone();
            spawn(async move {
                let _permit = sem.acquire().await.map_err(|e| e.to_string())?;
                sleep(Duration::from_secs(1)).await;
                match exit {
                    Exit::Return => Ok(()),
                    Exit::Error => Err("failed while holding".to_string()),
                    Exit::Panic => panic!("panicked while holding"),
                    Exit::Abort => {
                        sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    }
                }
            })
        };
        yield_now().await; // the holder takes the permit
        assert_eq!(sem.available_permits(), 0, "{what}");
        let waiter = waiter_queued.then(|| {
            let sem = sem.clone();
            spawn(async move { sem.acquire().await.map(|p| p.num_permits()) })
        });
        sleep(Duration::from_millis(1500)).await;
        if let Exit::Abort = exit {
            holder.abort();
        }
        if await_handle {
            let result = holder.await;
            match exit {
                Exit::Return => assert_eq!(result.expect("returned"), Ok(()), "{what}"),
                Exit::Error => assert!(result.expect("returned").is_err(), "{what}"),
                Exit::Panic => assert!(result.expect_err("panicked").is_panic(), "{what}"),
                Exit::Abort => assert!(result.expect_err("aborted").is_cancelled(), "{what}"),
            }
        } else {
            drop(holder);
            sleep(Duration::from_secs(1)).await;
        }
        if let Some(waiter) = waiter {
            assert_eq!(waiter.await.expect("waiter ran"), Ok(1), "{what}");
        }
        assert_eq!(sem.available_permits(), 1, "{what}");
    });
}

/// `close` wakes every waiter with an error; later acquires fail too;
/// permits held at the time stay valid and still come back.
#[test]
fn close_fails_every_waiter() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("one free permit");
            let failed = Rc::new(Cell::new(0));
            let mut waiters = Vec::new();
            for n in 1..=5 {
                let (sem, failed) = (sem.clone(), failed.clone());
                waiters.push(spawn(async move {
                    let err: AcquireError = sem.acquire_many(n).await.expect_err("closed");
                    assert_eq!(err.requested(), n);
                    failed.set(failed.get() + 1);
                }));
            }
            yield_now().await; // all five queue
            assert_eq!(failed.get(), 0);
            sem.close();
            for waiter in waiters {
                waiter.await.expect("the waiter saw the error");
            }
            assert_eq!(failed.get(), 5);
            assert!(sem.is_closed());
            assert!(sem.acquire().await.is_err());
            assert_eq!(
                sem.try_acquire().unwrap_err(),
                TryAcquireError::Closed { requested: 1 }
            );
            assert_eq!(held.num_permits(), 1, "a held permit stays valid");
            drop(held);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

/// A waiter granted its permit but not yet run when `close` comes also sees
/// the error, and the permit is not lost.
#[test]
fn close_after_grant_fails_the_granted_waiter_too() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().expect("one free permit");
        let (wakes, waker) = counting_waker();
        let mut waiting = sem.acquire();
        assert!(poll_with(&mut waiting, &waker).is_pending());
        drop(held);
        assert_eq!(wakes.wakes(), 1, "granted and woken");
        sem.close();
        assert!(matches!(
            poll_with(&mut waiting, &waker),
            Poll::Ready(Err(_))
        ));
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A big request at the head is not starved by a stream of small ones:
/// permits released meanwhile are set aside for it.
#[test]
fn acquire_many_at_the_head_is_not_starved() {
    watchdog(LIMIT, || {
        let rt = paused();
        let log = rt.block_on(async {
            let sem = Arc::new(Semaphore::new(3));
            let log = Rc::new(RefCell::new(Vec::new()));
            // Three small holders, each for a different while.
            let mut handles = Vec::new();
            for secs in 1..=3 {
                let (sem, log) = (sem.clone(), log.clone());
                handles.push(spawn(async move {
                    let _permit = sem.acquire().await.expect("never closed");
                    sleep(Duration::from_secs(secs)).await;
                    log.borrow_mut().push(format!("small {secs} done"));
                }));
            }
            yield_now().await;
            assert_eq!(sem.available_permits(), 0);
            // The big one queues first...
            let big = {
                let (sem, log) = (sem.clone(), log.clone());
                spawn(async move {
                    let permit = sem.acquire_many(3).await.expect("never closed");
                    log.borrow_mut()
                        .push(format!("big got {}", permit.num_permits()));
                    sleep(Duration::from_secs(1)).await;
                })
            };
            yield_now().await;
            // ...then small ones keep arriving while permits trickle back.
            for i in 0..4u64 {
                let (sem, log) = (sem.clone(), log.clone());
                handles.push(spawn(async move {
                    sleep(Duration::from_millis(500 * i)).await;
                    let _permit = sem.acquire().await.expect("never closed");
                    log.borrow_mut().push(format!("late small {i}"));
                }));
            }
            sleep(Duration::from_millis(1500)).await;
            // One small holder is done; its permit waits for the big one.
            assert_eq!(sem.available_permits(), 0, "set aside for the big request");
            big.await.expect("big ran");
            for handle in handles {
                handle.await.expect("no task failed");
            }
            assert_eq!(sem.available_permits(), 3);
            log.take()
        });
        let big_at = log.iter().position(|l| l == "big got 3").expect("big ran");
        for (i, line) in log.iter().enumerate() {
            if line.starts_with("late small") {
                assert!(i > big_at, "{line} ran before the big request: {log:?}");
            }
        }
        assert_eq!(
            &log[..big_at],
            ["small 1 done", "small 2 done", "small 3 done"]
        );
    });
}

/// A big request cancelled at the head returns the permits set aside for
/// it, and the small waiters behind it go ahead.
#[test]
fn cancelled_big_request_releases_what_was_set_aside() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(2);
        let one = sem.try_acquire().expect("free");
        let (_, waker) = counting_waker();
        let mut big = sem.acquire_many(2);
        assert!(poll_with(&mut big, &waker).is_pending());
        assert_eq!(sem.available_permits(), 0, "the free permit is set aside");
        let (small_wakes, small_waker) = counting_waker();
        let mut small = sem.acquire();
        assert!(poll_with(&mut small, &small_waker).is_pending());
        drop(big);
        assert_eq!(
            small_wakes.wakes(),
            1,
            "the small waiter got the set-aside permit"
        );
        let permit = match poll_with(&mut small, &small_waker) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("expected the permit, got {other:?}"),
        };
        drop((one, permit));
        assert_eq!(sem.available_permits(), 2);
    });
}

/// Owned permits move into tasks and threads; a permit dropped on another
/// thread wakes a waiter on the parked loop.
#[test]
fn owned_permit_released_from_a_thread_wakes_the_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().expect("a runtime");
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let permit = sem.clone().acquire_owned().await.expect("free");
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                drop(permit);
            });
            let again = sem
                .clone()
                .acquire_owned()
                .await
                .expect("released by the thread");
            assert_eq!(again.num_permits(), 1);
            thread.join().expect("the thread finished");
        });
    });
}

/// `add_permits` serves waiters first; `forget` shrinks the count; zero
/// permits are granted at once.
#[test]
fn add_permits_forget_and_zero() {
    watchdog(LIMIT, || {
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(0));
            let waiter = {
                let sem = sem.clone();
                spawn(async move { sem.acquire_many(2).await.map(|p| p.num_permits()) })
            };
            yield_now().await;
            sem.add_permits(1);
            assert_eq!(sem.available_permits(), 0, "set aside for the waiter");
            sem.add_permits(2);
            assert_eq!(waiter.await.expect("ran"), Ok(2));
            assert_eq!(sem.available_permits(), 3);
            sem.acquire().await.expect("free").forget();
            assert_eq!(sem.available_permits(), 2);
            let none = sem.acquire_many(0).await.expect("zero is always free");
            assert_eq!(none.num_permits(), 0);
            sem.add_permits(usize::MAX);
            assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        });
    });
}

/// Many tasks that give up at random (timeouts) while others hold: the cap
/// holds, and at the end every permit is back.
#[test]
fn random_cancellation_never_leaks_or_breaks_the_cap() {
    watchdog(LIMIT, || {
        const PERMITS: usize = 2;
        let rt = paused();
        rt.block_on(async {
            let sem = Arc::new(Semaphore::new(PERMITS));
            let inside = Rc::new(Cell::new(0usize));
            let (got, gave_up) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let mut rng = Rng(12345);
            let mut handles = Vec::new();
            for _ in 0..100 {
                let (sem, inside, got, gave_up) =
                    (sem.clone(), inside.clone(), got.clone(), gave_up.clone());
                let arrive = Duration::from_millis(rng.below(300));
                let patience = Duration::from_millis(rng.below(40));
                let hold = Duration::from_millis(1 + rng.below(10));
                handles.push(spawn(async move {
                    sleep(arrive).await;
                    match timeout(patience, sem.acquire()).await {
                        Ok(permit) => {
                            let _permit = permit.expect("never closed");
                            inside.set(inside.get() + 1);
                            assert!(inside.get() <= PERMITS);
                            sleep(hold).await;
                            inside.set(inside.get() - 1);
                            got.set(got.get() + 1);
                        }
                        Err(_) => gave_up.set(gave_up.get() + 1),
                    }
                }));
            }
            for handle in handles {
                handle.await.expect("no task failed");
            }
            assert_eq!(got.get() + gave_up.get(), 100);
            assert!(got.get() > 0 && gave_up.get() > 0, "both paths taken");
            assert_eq!(sem.available_permits(), PERMITS);
        });
    });
}
