//! Waking a task that is already finished (completed, detached then
//! completed, aborted, or cancelled with its runtime) does nothing: no panic,
//! no poll, and the future and the output are each dropped exactly once.

mod common;

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use common::{Counters, DropCount, LIMIT, Token, watchdog};

type Slot = Arc<Mutex<Option<Waker>>>;

/// A future that stores a clone of its waker in `slot` and completes at once
/// with a counted output.
fn keep_waker_and_finish(
    slot: Slot,
    outputs: DropCount,
) -> impl std::future::Future<Output = Token> {
    poll_fn(move |cx| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(outputs.token(1))
    })
}

/// A future that stores a clone of its waker in `slot` and never completes.
fn keep_waker_forever(slot: Slot) -> impl std::future::Future<Output = Token> {
    poll_fn(move |cx| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    })
}

fn take(slot: &Slot) -> Waker {
    slot.lock()
        .unwrap()
        .take()
        .expect("the task stored its waker")
}

/// Wakes `waker` every way there is, on this thread and on another one.
fn wake_every_way(waker: Waker) {
    waker.wake_by_ref();
    // By value, through a clone (wake consumes its waker).
    let spare = waker.clone();
    spare.wake();
    let other = waker.clone();
    thread::spawn(move || {
        other.wake_by_ref();
        other.wake();
    })
    .join()
    .expect("the waking thread does not panic");
    waker.wake();
}

#[test]
fn waking_a_completed_task_is_a_no_op() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let outputs = DropCount::new();
        let slot = Slot::default();
        let handle = rt.spawn(counters.probe(keep_waker_and_finish(slot.clone(), outputs.clone())));
        rt.block_on(async {
            let output = handle.await.expect("the task completes");
            counters.assert("completion", 1, 0, 1);
            assert_eq!(outputs.get(), 0, "the output is ours now");
            drop(output);
            assert_eq!(outputs.get(), 1);

            wake_every_way(take(&slot));
            for _ in 0..3 {
                evloop::yield_now().await;
            }
            counters.assert("five wakes of the finished task", 1, 5, 1);
            assert_eq!(outputs.get(), 1);
            assert_eq!(rt.task_count(), 0);
        });
    });
}

#[test]
fn waking_a_completed_task_leaves_its_unread_output_alone() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let outputs = DropCount::new();
        let slot = Slot::default();
        let handle = rt.spawn(counters.probe(keep_waker_and_finish(slot.clone(), outputs.clone())));
        rt.block_on(async {
            common::yield_until(|| handle.is_finished()).await;
            wake_every_way(take(&slot));
            evloop::yield_now().await;
            counters.assert("wakes after completion", 1, 5, 1);
            assert_eq!(outputs.get(), 0, "the handle still holds the output");
            let output = handle.await.expect("the output survived the wakes");
            assert_eq!(output.value, 1);
        });
        assert_eq!(outputs.get(), 1);
    });
}

#[test]
fn waking_a_detached_task_after_it_completed_is_a_no_op() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let outputs = DropCount::new();
        let slot = Slot::default();
        let handle = rt.spawn(counters.probe(keep_waker_and_finish(slot.clone(), outputs.clone())));
        drop(handle);
        rt.block_on(async {
            common::yield_until(|| counters.drops() == 1).await;
            counters.assert("completion", 1, 0, 1);
            assert_eq!(
                outputs.get(),
                1,
                "nobody holds the output: the loop dropped it"
            );
            wake_every_way(take(&slot));
            evloop::yield_now().await;
            counters.assert("wakes after completion", 1, 5, 1);
            assert_eq!(outputs.get(), 1);
        });
    });
}

#[test]
fn waking_an_aborted_task_is_a_no_op() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let slot = Slot::default();
        let handle = rt.spawn(counters.probe(keep_waker_forever(slot.clone())));
        rt.block_on(async {
            common::yield_until(|| counters.polls() == 1).await;
            handle.abort();
            let err = handle.await.expect_err("aborted");
            assert!(err.is_cancelled());
            counters.assert("aborted", 1, 0, 1);
            wake_every_way(take(&slot));
            evloop::yield_now().await;
            counters.assert("wakes after the abort", 1, 5, 1);
        });
    });
}

#[test]
fn waking_a_task_after_its_runtime_is_gone_is_a_no_op() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let slot = Slot::default();
        let mut handle = rt.spawn(counters.probe(keep_waker_forever(slot.clone())));
        rt.block_on(common::yield_until(|| counters.polls() == 1));
        drop(rt);
        counters.assert("runtime dropped", 1, 0, 1);
        wake_every_way(take(&slot));
        counters.assert("wakes after the runtime is gone", 1, 5, 1);
        match common::poll_once(&mut handle) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
            other => panic!("expected a cancelled task, got {other:?}"),
        }
    });
}
