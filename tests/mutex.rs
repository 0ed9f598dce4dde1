//! Behaviour of `evloop::sync::Mutex`: waiters get the lock in arrival
//! order, a guard held across `.await` keeps the others waiting (in virtual
//! time), cancellation at every point of a `lock()` leaves the lock usable
//! and hands it on, `try_lock` never jumps the queue, a panicking holder
//! releases it, and a thread on another runtime is woken when it is freed.
//!
//! Every test runs under a watchdog, so a lost hand-off fails the test
//! instead of hanging it. Time comes from the paused clock.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{EXPECTED, LIMIT, counting_waker, paused, poll_with, watchdog};
use evloop::sync::Mutex;
use evloop::time::{Instant, sleep, timeout};
use evloop::{spawn, yield_now};

/// Spawns a task that locks `mutex`, records `id` in `order`, and holds the
/// lock for `hold` (virtual time).
fn spawn_locker(
    mutex: &Rc<Mutex<Vec<u32>>>,
    id: u32,
    hold: Duration,
) -> evloop::JoinHandle<Instant> {
    let mutex = mutex.clone();
    spawn(async move {
        let mut order = mutex.lock().await;
        let got_at = Instant::now();
        order.push(id);
        sleep(hold).await;
        got_at
    })
}

#[test]
fn five_waiters_get_the_lock_in_arrival_order() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let held = mutex.try_lock().expect("free at first");
            let mut handles = Vec::new();
            for id in 0..5 {
                handles.push(spawn_locker(&mutex, id, Duration::ZERO));
                yield_now().await; // this one queues before the next is spawned
            }
            assert!(held.is_empty(), "nobody got in while the lock was held");
            drop(held);
            for handle in handles {
                handle.await.expect("no task failed");
            }
            assert_eq!(*mutex.lock().await, [0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn a_guard_held_across_a_sleep_keeps_the_others_waiting() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            let hold = Duration::from_secs(2);
            let handles: Vec<_> = (0..3).map(|id| spawn_locker(&mutex, id, hold)).collect();
            let mut got_at = Vec::new();
            for handle in handles {
                got_at.push(handle.await.expect("no task failed").duration_since(start));
            }
            // Each waited for the whole sleep of the one before it.
            assert_eq!(
                got_at,
                [
                    Duration::ZERO,
                    Duration::from_secs(2),
                    Duration::from_secs(4)
                ]
            );
            assert_eq!(start.elapsed(), Duration::from_secs(6));
            assert_eq!(*mutex.try_lock().expect("free at the end"), [0, 1, 2]);
        });
    });
}

#[test]
fn try_lock_fails_while_held_and_while_others_wait() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(0));
            let held = mutex.try_lock().expect("free at first");
            assert!(mutex.try_lock().is_err(), "held");
            let waiter = {
                let mutex = mutex.clone();
                spawn(async move {
                    *mutex.lock().await += 1;
                })
            };
            yield_now().await; // the waiter queues
            drop(held); // handed to the waiter, which has not run yet
            assert!(
                mutex.try_lock().is_err(),
                "a newcomer must not take a lock handed to a waiter"
            );
            waiter.await.expect("the waiter ran");
            assert_eq!(*mutex.try_lock().expect("free again"), 1);
        });
    });
}

#[test]
fn cancelling_the_head_waiter_hands_the_lock_to_the_next() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let held = mutex.try_lock().expect("free at first");
            let head = spawn_locker(&mutex, 1, Duration::ZERO);
            yield_now().await;
            let second = spawn_locker(&mutex, 2, Duration::ZERO);
            yield_now().await;
            head.abort(); // cancelled while first in the queue
            assert!(head.await.expect_err("aborted").is_cancelled());
            drop(held);
            second.await.expect("the second waiter got the lock");
            assert_eq!(*mutex.try_lock().expect("free at the end"), [2]);
        });
    });
}

#[test]
fn a_head_waiter_that_times_out_is_skipped() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            let held = mutex.try_lock().expect("free at first");
            let impatient = {
                let mutex = mutex.clone();
                spawn(async move { timeout(Duration::from_secs(1), mutex.lock()).await.is_ok() })
            };
            yield_now().await;
            let patient = spawn_locker(&mutex, 2, Duration::ZERO);
            assert!(!impatient.await.expect("no failure"), "it timed out");
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            sleep(Duration::from_secs(1)).await;
            drop(held); // at 2 s
            let got_at = patient.await.expect("the patient waiter got the lock");
            assert_eq!(got_at.duration_since(start), Duration::from_secs(2));
        });
    });
}

/// Polled by hand, so every wake-up is counted: A is handed the lock and
/// woken, then dropped before it polls again; the lock passes to B.
#[test]
fn a_waiter_cancelled_after_being_handed_the_lock_passes_it_on() {
    watchdog(LIMIT, || {
        let mutex = Mutex::new(0);
        let held = mutex.try_lock().expect("free at first");
        let (a_wakes, a_waker) = counting_waker();
        let (b_wakes, b_waker) = counting_waker();
        let mut a = mutex.lock();
        let mut b = mutex.lock();
        assert!(poll_with(&mut a, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (0, 0));

        drop(held); // handed to A, who is woken
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 0));
        assert!(mutex.try_lock().is_err(), "A owns it now");

        drop(a); // A gives up before it runs: B gets the lock and is woken
        assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 1));
        let mut guard = match poll_with(&mut b, &b_waker) {
            Poll::Ready(guard) => guard,
            Poll::Pending => panic!("B should hold the lock now"),
        };
        *guard += 1;
        drop(guard);
        drop(b);
        assert_eq!(*mutex.try_lock().expect("nothing leaked"), 1);
    });
}

/// The same on the loop: the task handed the lock is aborted before it runs,
/// and the next one still gets in.
#[test]
fn an_abort_after_the_hand_off_passes_the_lock_on() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let held = mutex.try_lock().expect("free at first");
            let first = spawn_locker(&mutex, 1, Duration::ZERO);
            let second = spawn_locker(&mutex, 2, Duration::ZERO);
            yield_now().await; // both queue
            drop(held); // `first` is handed the lock and scheduled...
            first.abort(); // ...and cancelled before it runs
            assert!(first.await.expect_err("aborted").is_cancelled());
            second.await.expect("the second waiter got the lock");
            assert_eq!(*mutex.try_lock().expect("free at the end"), [2]);
        });
    });
}

/// Where a `lock()` future is when it is dropped.
#[derive(Debug, Clone, Copy)]
enum DropPoint {
    /// Created, never polled.
    NeverPolled,
    /// Polled once, waiting in the queue (first or second in line).
    Queued { ahead_of_other: bool },
    /// Handed the lock and woken, not polled since.
    HandedOff,
    /// Completed: the guard was taken and is dropped with it.
    Completed,
}

/// Cancellation at every point: after a `lock()` future is dropped at each
/// point, with another waiter queued or not, nothing is lost: the other
/// waiter (if any) gets the lock and is woken exactly once, and afterwards
/// the lock is free.
#[test]
fn dropping_a_lock_future_at_any_point_loses_nothing() {
    let points = [
        DropPoint::NeverPolled,
        DropPoint::Queued {
            ahead_of_other: true,
        },
        DropPoint::Queued {
            ahead_of_other: false,
        },
        DropPoint::HandedOff,
        DropPoint::Completed,
    ];
    for point in points {
        for other_waits in [false, true] {
            watchdog(LIMIT, move || drop_at(point, other_waits));
        }
    }
}

fn drop_at(point: DropPoint, other_waits: bool) {
    let what = format!("{point:?}, another waiter: {other_waits}");
    let mutex = Mutex::new(0u32);
    let (_, waker) = counting_waker();
    let (other_wakes, other_waker) = counting_waker();
    let mut other = mutex.lock();
    let mut queue_other = || {
        if other_waits {
            assert!(poll_with(&mut other, &other_waker).is_pending(), "{what}");
        }
    };

    let holder = mutex.try_lock().expect("free at first");
    let mut victim = mutex.lock();
    match point {
        DropPoint::NeverPolled => {
            queue_other();
            drop(victim);
            drop(holder);
        }
        DropPoint::Queued { ahead_of_other } => {
            if !ahead_of_other {
                queue_other();
            }
            assert!(poll_with(&mut victim, &waker).is_pending(), "{what}");
            if ahead_of_other {
                queue_other();
            }
            drop(victim); // cancelled while queued: the holder keeps the lock
            assert!(mutex.try_lock().is_err(), "{what}: still held");
            drop(holder);
        }
        DropPoint::HandedOff => {
            assert!(poll_with(&mut victim, &waker).is_pending(), "{what}");
            queue_other();
            drop(holder); // handed to the victim
            assert!(mutex.try_lock().is_err(), "{what}: the victim owns it");
            drop(victim);
        }
        DropPoint::Completed => {
            assert!(poll_with(&mut victim, &waker).is_pending(), "{what}");
            queue_other();
            drop(holder);
            let guard = match poll_with(&mut victim, &waker) {
                Poll::Ready(guard) => guard,
                Poll::Pending => panic!("{what}: the victim should have the lock"),
            };
            assert_eq!(other_wakes.wakes(), 0, "{what}: not yet");
            drop(victim);
            drop(guard);
        }
    }

    if other_waits {
        assert_eq!(
            other_wakes.wakes(),
            1,
            "{what}: the other waiter was woken once"
        );
        match poll_with(&mut other, &other_waker) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("{what}: the other waiter should have the lock"),
        }
        drop(other);
        assert_eq!(*mutex.try_lock().expect("free"), 1, "{what}");
    } else {
        drop(other);
        assert_eq!(other_wakes.wakes(), 0, "{what}");
        assert_eq!(*mutex.try_lock().expect("free"), 0, "{what}");
    }
}

/// Many tasks, some of them giving up at random-ish times: every task that
/// got the lock did its increment inside it, none overlapped, and the lock
/// is free at the end.
#[test]
fn nothing_is_lost_when_many_waiters_give_up() {
    watchdog(LIMIT, || {
        const TASKS: u64 = 200;
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(0u64));
            let inside = Rc::new(Cell::new(false));
            let mut handles = Vec::new();
            for i in 0..TASKS {
                let (mutex, inside) = (mutex.clone(), inside.clone());
                // Some give up after a while, some wait as long as it takes.
                let patience = Duration::from_millis(if i % 3 == 0 { 5 + i % 40 } else { 100_000 });
                handles.push(spawn(async move {
                    let locked = timeout(patience, mutex.lock()).await;
                    let Ok(mut count) = locked else {
                        return false;
                    };
                    assert!(!inside.replace(true), "two holders at once");
                    sleep(Duration::from_millis(1)).await;
                    *count += 1;
                    inside.set(false);
                    true
                }));
            }
            let mut got_in = 0;
            for handle in handles {
                if handle.await.expect("no task failed") {
                    got_in += 1;
                }
            }
            assert!(got_in < TASKS, "some gave up");
            assert!(got_in > TASKS / 2, "most waited it out");
            assert_eq!(*mutex.try_lock().expect("free at the end"), got_in);
        });
    });
}

#[test]
fn a_panicking_holder_releases_the_lock_without_poisoning_it() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let panicker = {
                let mutex = mutex.clone();
                spawn(async move {
                    let mut v = mutex.lock().await;
                    v.push("before the panic");
                    yield_now().await;
                    panic!("{EXPECTED}");
                })
            };
            let next = {
                let mutex = mutex.clone();
                spawn(async move { mutex.lock().await.clone() })
            };
            assert!(panicker.await.expect_err("it panicked").is_panic());
            assert_eq!(
                next.await.expect("the next holder got in"),
                ["before the panic"]
            );
        });
    });
}

/// `Mutex` is `Sync`: a thread with its own runtime waits for a lock held by
/// a task on this loop, and is woken across threads when it is released.
#[test]
fn a_waiter_on_another_thread_is_woken_when_the_lock_is_released() {
    watchdog(LIMIT, || {
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let rt = paused();
        rt.block_on(async {
            let mut guard = mutex.lock().await;
            guard.push("loop");
            let queued = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let thread = {
                let (mutex, queued) = (mutex.clone(), queued.clone());
                std::thread::spawn(move || {
                    evloop::run(async move {
                        let mut lock = std::pin::pin!(mutex.lock());
                        // Poll once by hand to be sure it queued before the release.
                        std::future::poll_fn(|cx| {
                            assert!(lock.as_mut().poll(cx).is_pending(), "held by the loop");
                            Poll::Ready(())
                        })
                        .await;
                        queued.store(true, std::sync::atomic::Ordering::SeqCst);
                        lock.await.push("thread");
                    })
                })
            };
            while !queued.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::yield_now();
            }
            drop(guard);
            thread.join().expect("the thread got the lock");
        });
        let order = Arc::into_inner(mutex).expect("one owner left").into_inner();
        assert_eq!(order, ["loop", "thread"]);
    });
}

/// `get_mut` and `into_inner` need no lock; the guard derefs both ways.
#[test]
fn get_mut_into_inner_and_the_guard_reach_the_value() {
    let mut mutex = Mutex::new(RefCell::new(1));
    *mutex.get_mut().get_mut() += 1;
    {
        let guard = mutex.try_lock().expect("free");
        *guard.borrow_mut() += 1;
    }
    assert_eq!(mutex.into_inner().into_inner(), 3);
}
