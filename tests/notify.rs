//! Behaviour of `evloop::sync::Notify` and `Event`: the missed-notification
//! rule (a `notify_one` with nobody waiting is kept as one permit, never
//! two; `notify_waiters` keeps nothing), waiters are woken oldest first,
//! `notify_waiters` reaches every current waiter and no later one, and a
//! waiter cancelled at any point loses no notification: one picked by
//! `notify_one` and dropped before it ran passes it on. `Event` follows
//! asyncio: set, clear, wait.
//!
//! Futures are polled by hand (counting every wake) where the exact order of
//! events matters, and on the loop under a watchdog elsewhere.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{LIMIT, counting_waker, paused, poll_with, watchdog};
use evloop::sync::{Event, Notify};
use evloop::time::{Instant, sleep, timeout};
use evloop::{spawn, yield_now};

/// Polls a pinned future once with a waker that does nothing.
fn poll_noop<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_notify_one_before_anyone_waits_is_not_lost() {
    let notify = Notify::new();
    notify.notify_one(); // nobody waits: kept as the permit
    assert!(notify.has_permit());
    let mut first = pin!(notify.notified());
    assert_eq!(poll_noop(first.as_mut()), Poll::Ready(()));
    assert!(!notify.has_permit(), "the permit was consumed");
}

#[test]
fn two_notify_ones_before_waiting_store_only_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    let mut first = pin!(notify.notified());
    let mut second = pin!(notify.notified());
    assert_eq!(poll_noop(first.as_mut()), Poll::Ready(()));
    assert_eq!(poll_noop(second.as_mut()), Poll::Pending, "only one permit");
    notify.notify_one(); // goes to the waiting `second`, not to a permit
    assert!(!notify.has_permit());
    assert_eq!(poll_noop(second.as_mut()), Poll::Ready(()));
}

#[test]
fn notify_waiters_wakes_all_current_waiters_but_not_later_ones() {
    let notify = Notify::new();
    let wakers: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut waiting: Vec<_> = (0..3).map(|_| Box::pin(notify.notified())).collect();
    for (w, (_, waker)) in waiting.iter_mut().zip(&wakers) {
        assert!(poll_with(w, waker).is_pending());
    }
    // Created before the call, polled only after it: it counts too.
    let mut created_before = pin!(notify.notified());

    notify.notify_waiters();
    let wakes: Vec<_> = wakers.iter().map(|(c, _)| c.wakes()).collect();
    assert_eq!(wakes, [1, 1, 1], "each current waiter woken once");
    assert!(!notify.has_permit(), "notify_waiters stores nothing");

    let mut later = pin!(notify.notified());
    assert_eq!(poll_noop(later.as_mut()), Poll::Pending, "later ones wait");
    for (w, (_, waker)) in waiting.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(w, waker), Poll::Ready(()));
    }
    assert_eq!(poll_noop(created_before.as_mut()), Poll::Ready(()));
    assert_eq!(poll_noop(later.as_mut()), Poll::Pending, "still waiting");
}

#[test]
fn notify_waiters_leaves_a_stored_permit_alone() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    assert!(notify.has_permit(), "the notify_one permit is still there");
    let mut next = pin!(notify.notified());
    assert_eq!(poll_noop(next.as_mut()), Poll::Ready(()));
}

#[test]
fn waiters_are_woken_oldest_first() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let notify = Rc::new(Notify::new());
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut handles = Vec::new();
            for id in 0..5 {
                let (notify, order) = (notify.clone(), order.clone());
                handles.push(spawn(async move {
                    notify.notified().await;
                    order.borrow_mut().push(id);
                }));
                yield_now().await; // queues before the next one is spawned
            }
            for woken in 1..=5 {
                notify.notify_one();
                yield_now().await; // the woken one runs
                assert_eq!(order.borrow().len(), woken, "one per notify_one");
            }
            for handle in handles {
                handle.await.expect("no task failed");
            }
            assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
        });
    });
}

/// The cancellation rule: A is picked by `notify_one` and woken, then dropped
/// before it polls again; B gets the notification instead.
#[test]
fn a_notified_picked_then_dropped_passes_the_notification_on() {
    let notify = Notify::new();
    let (a_wakes, a_waker) = counting_waker();
    let (b_wakes, b_waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll_with(&mut a, &a_waker).is_pending());
    assert!(poll_with(&mut b, &b_waker).is_pending());

    notify.notify_one(); // picks A, the oldest
    assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 0));
    drop(a); // never saw it: it goes to B
    assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (1, 1));
    assert_eq!(poll_with(&mut b, &b_waker), Poll::Ready(()));
    assert!(!notify.has_permit(), "used once, not duplicated");
}

/// With nobody else waiting, the passed-on notification becomes the permit.
#[test]
fn a_notified_picked_then_dropped_with_nobody_behind_leaves_the_permit() {
    let notify = Notify::new();
    let (a_wakes, a_waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    assert!(poll_with(&mut a, &a_waker).is_pending());
    notify.notify_one();
    assert_eq!(a_wakes.wakes(), 1);
    drop(a);
    assert!(notify.has_permit(), "kept for the next waiter");
    let mut next = pin!(notify.notified());
    assert_eq!(poll_noop(next.as_mut()), Poll::Ready(()));
}

/// A waiter released by `notify_waiters` and dropped unpolled has nothing to
/// pass on: that wake-up was for everyone, and the others got theirs.
#[test]
fn a_notified_released_by_notify_waiters_then_dropped_passes_nothing() {
    let notify = Notify::new();
    let (_, a_waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    assert!(poll_with(&mut a, &a_waker).is_pending());
    notify.notify_waiters();
    drop(a);
    assert!(!notify.has_permit());
    let mut next = pin!(notify.notified());
    assert_eq!(poll_noop(next.as_mut()), Poll::Pending);
}

/// A waiter dropped while still queued just leaves: the next `notify_one`
/// goes to the one behind it, and nothing is stored.
#[test]
fn a_queued_notified_dropped_leaves_the_queue() {
    let notify = Notify::new();
    let (a_wakes, a_waker) = counting_waker();
    let (b_wakes, b_waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll_with(&mut a, &a_waker).is_pending());
    assert!(poll_with(&mut b, &b_waker).is_pending());
    drop(a);
    assert!(!notify.has_permit());
    notify.notify_one();
    assert_eq!((a_wakes.wakes(), b_wakes.wakes()), (0, 1));
    assert_eq!(poll_with(&mut b, &b_waker), Poll::Ready(()));
}

/// A completed `Notified` (or one never polled) dropped has nothing to pass.
#[test]
fn dropping_a_completed_or_unpolled_notified_changes_nothing() {
    let notify = Notify::new();
    drop(notify.notified());
    assert!(!notify.has_permit());
    notify.notify_one();
    {
        let mut done = pin!(notify.notified());
        assert_eq!(poll_noop(done.as_mut()), Poll::Ready(()));
        assert_eq!(
            poll_noop(done.as_mut()),
            Poll::Ready(()),
            "ready stays ready"
        );
    }
    assert!(!notify.has_permit(), "the used permit did not come back");
}

/// On the loop: a task that timed out waiting is gone from the queue, and a
/// task aborted right after being picked passes its wake-up on.
#[test]
fn timeouts_and_aborts_on_the_loop_lose_no_notification() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let notify = Rc::new(Notify::new());
            let start = Instant::now();
            let impatient = {
                let notify = notify.clone();
                spawn(async move {
                    timeout(Duration::from_secs(1), notify.notified())
                        .await
                        .is_ok()
                })
            };
            let aborted = {
                let notify = notify.clone();
                spawn(async move { notify.notified().await })
            };
            let patient = {
                let notify = notify.clone();
                spawn(async move {
                    notify.notified().await;
                    Instant::now()
                })
            };
            assert!(!impatient.await.expect("no failure"), "timed out");
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            notify.notify_one(); // picks `aborted`...
            aborted.abort(); // ...which is cancelled before it runs
            assert!(aborted.await.expect_err("aborted").is_cancelled());
            let woken_at = patient
                .await
                .expect("the patient task got the notification");
            assert_eq!(woken_at.duration_since(start), Duration::from_secs(1));
            assert!(!notify.has_permit());
        });
    });
}

/// `Notify` is `Sync`: a plain thread notifies a task parked on the loop.
#[test]
fn a_thread_can_notify_a_task_on_the_loop() {
    watchdog(LIMIT, || {
        evloop::run(async {
            let notify = Arc::new(Notify::new());
            let waiter = {
                let notify = notify.clone();
                spawn(async move { notify.notified().await })
            };
            yield_now().await; // it waits
            let notifier = notify.clone();
            std::thread::spawn(move || notifier.notify_one());
            waiter.await.expect("woken from the thread");
        });
    });
}

#[test]
fn event_set_releases_every_waiter_and_stays_set() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let event = Rc::new(Event::new());
            let start = Instant::now();
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let event = event.clone();
                    spawn(async move {
                        event.wait().await;
                        Instant::now()
                    })
                })
                .collect();
            sleep(Duration::from_secs(2)).await;
            assert!(!event.is_set());
            event.set();
            for w in waiters {
                let at = w.await.expect("released");
                assert_eq!(at.duration_since(start), Duration::from_secs(2));
            }
            // Set stays set: a later wait returns at once.
            assert!(event.is_set());
            let mut late = pin!(event.wait());
            assert_eq!(poll_noop(late.as_mut()), Poll::Ready(()));
        });
    });
}

#[test]
fn event_clear_makes_later_waits_wait() {
    watchdog(LIMIT, || {
        paused().block_on(async {
            let event = Event::new();
            event.set();
            event.wait().await; // at once
            event.clear();
            assert!(!event.is_set());
            let start = Instant::now();
            assert!(timeout(Duration::from_secs(3), event.wait()).await.is_err());
            assert_eq!(start.elapsed(), Duration::from_secs(3));
        });
    });
}

/// asyncio's rule: a waiter released by `set` returns even if `clear` comes
/// before it runs; it does not go back to waiting.
#[test]
fn an_event_waiter_released_by_set_returns_even_after_clear() {
    let event = Event::new();
    let (wakes, waker) = counting_waker();
    let mut wait = Box::pin(event.wait());
    assert!(poll_with(&mut wait, &waker).is_pending());
    event.set();
    event.clear();
    assert_eq!(wakes.wakes(), 1);
    assert_eq!(poll_with(&mut wait, &waker), Poll::Ready(()));
    // A wait begun after the clear does wait.
    let mut after = pin!(event.wait());
    assert_eq!(poll_noop(after.as_mut()), Poll::Pending);
}

/// A `wait()` created before a set-and-clear, and polled only after it,
/// still counts as released: it was waiting from the moment it was created.
#[test]
fn an_event_wait_counts_from_its_creation() {
    let event = Event::new();
    let mut wait = pin!(event.wait());
    event.set();
    event.clear();
    assert_eq!(poll_noop(wait.as_mut()), Poll::Ready(()));
}

/// A dropped `wait()` leaves nothing behind: the next set and waits work.
#[test]
fn a_dropped_event_wait_leaves_nothing_behind() {
    let event = Event::new();
    let (wakes, waker) = counting_waker();
    let mut gone = Box::pin(event.wait());
    assert!(poll_with(&mut gone, &waker).is_pending());
    drop(gone);
    event.set();
    assert_eq!(wakes.wakes(), 0, "the dropped waiter is not woken");
    let mut next = pin!(event.wait());
    assert_eq!(poll_noop(next.as_mut()), Poll::Ready(()));
}
