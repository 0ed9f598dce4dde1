//! Invariant 3: a task sits in the run queue at most once, and a wake that
//! arrives during the task's own poll schedules it again after that poll, so
//! no wake is lost and no poll runs inside another.
//!
//! Each scenario counts polls and wakes with a [`Probe`](common::Probe) and
//! checks that two polls of one future never overlapped.

mod common;

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use common::{Counters, LIMIT, watchdog};

/// A future that runs `first` on its first poll (returning `Pending`) and
/// completes on the second.
fn pending_once(
    mut first: impl FnMut(&Waker) + 'static,
) -> impl std::future::Future<Output = ()> + 'static {
    let mut polled = false;
    poll_fn(move |cx| {
        if polled {
            return Poll::Ready(());
        }
        polled = true;
        first(cx.waker());
        Poll::Pending
    })
}

#[test]
fn a_wake_by_ref_during_the_poll_polls_the_task_exactly_once_more() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(pending_once(|w| w.wake_by_ref())));
        counters.assert("spawn", 0, 0, 0);
        rt.block_on(handle).expect("the task completes");
        counters.assert("completion", 2, 1, 1);
        assert_eq!(counters.overlaps(), 0, "two polls overlapped");
    });
}

#[test]
fn a_wake_of_a_clone_during_the_poll_polls_the_task_exactly_once_more() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(pending_once(|w| {
            // By value: `wake` consumes a clone of its own.
            let clone = w.clone();
            clone.wake();
        })));
        rt.block_on(handle).expect("the task completes");
        counters.assert("completion", 2, 1, 1);
        assert_eq!(counters.overlaps(), 0);
    });
}

#[test]
fn a_hundred_wakes_during_one_poll_make_one_extra_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(pending_once(|w| {
            for _ in 0..100 {
                w.wake_by_ref();
            }
        })));
        rt.block_on(handle).expect("the task completes");
        counters.assert("completion", 2, 100, 1);
        assert_eq!(counters.overlaps(), 0);
    });
}

#[test]
fn a_wake_from_another_thread_during_the_poll_is_kept_for_after_the_poll() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(pending_once(|w| {
            // The other thread wakes while this poll is still running.
            thread::scope(|s| {
                s.spawn(|| w.wake_by_ref());
            });
        })));
        rt.block_on(handle).expect("the task completes");
        counters.assert("completion", 2, 1, 1);
        assert_eq!(counters.overlaps(), 0);
    });
}

#[test]
fn a_thousand_wakes_while_the_task_is_idle_make_one_extra_poll() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let stored = slot.clone();
        let task = rt.spawn(counters.probe(pending_once(move |w| {
            *stored.lock().unwrap() = Some(w.clone());
        })));
        rt.block_on(async {
            common::yield_until(|| slot.lock().unwrap().is_some()).await;
            counters.assert("the task is pending", 1, 0, 0);
            let waker = slot.lock().unwrap().take().expect("stored");
            // The loop is inside this poll, so the task cannot run between
            // the wakes: 500 from this thread, 500 from another.
            for _ in 0..500 {
                waker.wake_by_ref();
            }
            thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..500 {
                        waker.wake_by_ref();
                    }
                });
            });
            counters.assert("the wakes", 1, 1000, 0);
            task.await.expect("the task completes");
        });
        counters.assert("completion", 2, 1000, 1);
        assert_eq!(counters.overlaps(), 0);
    });
}

#[test]
fn a_self_woken_task_goes_to_the_back_of_the_queue_not_into_a_nested_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let log: Rc<RefCell<Vec<&'static str>>> = Rc::default();
        let a = {
            let log = log.clone();
            let mut polls = 0;
            rt.spawn(poll_fn(move |cx| {
                polls += 1;
                if polls == 1 {
                    log.borrow_mut()
                        .push("a: first poll, wakes itself three times");
                    cx.waker().wake_by_ref();
                    cx.waker().wake_by_ref();
                    cx.waker().wake_by_ref();
                    log.borrow_mut().push("a: first poll ends");
                    Poll::Pending
                } else {
                    log.borrow_mut().push("a: second poll");
                    Poll::Ready(polls)
                }
            }))
        };
        let b = {
            let log = log.clone();
            rt.spawn(async move {
                log.borrow_mut().push("b: polled");
            })
        };
        let polls = rt.block_on(async {
            b.await.expect("b completes");
            a.await.expect("a completes")
        });
        assert_eq!(polls, 2, "three wakes, one extra poll");
        assert_eq!(
            *log.borrow(),
            [
                "a: first poll, wakes itself three times",
                "a: first poll ends",
                "b: polled",
                "a: second poll",
            ]
        );
    });
}

#[test]
fn a_wake_during_a_poll_that_completes_causes_no_further_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(poll_fn(|cx| {
            cx.waker().wake_by_ref();
            Poll::Ready(5)
        })));
        let out = rt.block_on(async {
            let out = handle.await.expect("the task completes");
            // Let the loop go round a few times: the void schedule must not
            // poll the finished task.
            for _ in 0..3 {
                evloop::yield_now().await;
            }
            out
        });
        assert_eq!(out, 5);
        counters.assert("completion", 1, 1, 1);
    });
}

#[test]
fn each_yield_now_costs_exactly_one_extra_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let handle = rt.spawn(counters.probe(async {
            for _ in 0..10 {
                evloop::yield_now().await;
            }
        }));
        rt.block_on(handle).expect("the task completes");
        counters.assert("ten yields", 11, 10, 1);
        assert_eq!(counters.overlaps(), 0);
    });
}

#[test]
fn a_wake_and_an_abort_during_the_same_poll_cancel_without_another_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let abort: Rc<RefCell<Option<evloop::task::AbortHandle>>> = Rc::default();
        let own = abort.clone();
        let handle = rt.spawn(counters.probe(pending_once(move |w| {
            w.wake_by_ref();
            own.borrow()
                .as_ref()
                .expect("set before the first poll")
                .abort();
        })));
        *abort.borrow_mut() = Some(handle.abort_handle());
        let err = rt
            .block_on(handle)
            .expect_err("the task aborted itself while pending");
        assert!(err.is_cancelled(), "{err}");
        counters.assert("cancelled", 1, 1, 1);
    });
}
