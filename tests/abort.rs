//! Invariant 4: `abort()` cancels a task. The future is dropped on the loop
//! thread at the loop's next turn, whoever awaits the handle is woken and
//! sees a cancelled `JoinError`, an abort may come from any thread (through an
//! `AbortHandle`), and a task that already finished keeps its output.

mod common;

use std::cell::RefCell;
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::{Counters, DropCount, LIMIT, watchdog};
use evloop::JoinHandle;
use evloop::task::AbortHandle;
use evloop::time::{Instant, sleep};

#[test]
fn abort_wakes_a_task_that_awaits_the_handle() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        let waiter = Counters::new();
        rt.block_on(async {
            let handle = evloop::spawn(target.probe(pending::<()>()));
            let abort = handle.abort_handle();
            let joined = evloop::spawn(waiter.probe(handle));
            common::yield_until(|| target.polls() == 1 && waiter.polls() == 1).await;
            target.assert("both pending", 1, 0, 0);
            waiter.assert("both pending", 1, 0, 0);

            abort.abort();
            let err = joined
                .await
                .expect("the waiter completes")
                .expect_err("the target was aborted");
            assert!(err.is_cancelled(), "{err}");
            target.assert("aborted", 1, 0, 1);
            waiter.assert("woken by the abort", 2, 1, 1);
        });
    });
}

#[test]
fn abort_wakes_the_main_future_that_awaits_the_handle() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let handle = evloop::spawn(target.probe(sleep(Duration::from_secs(3600))));
            let abort = handle.abort_handle();
            drop(evloop::spawn(async move {
                sleep(Duration::from_secs(1)).await;
                abort.abort();
            }));
            let err = handle.await.expect_err("aborted after 1 s");
            assert!(err.is_cancelled(), "{err}");
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            target.assert("aborted", 1, 0, 1);
        });
    });
}

#[test]
fn the_future_is_dropped_at_the_next_turn_of_the_loop() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        rt.block_on(async {
            let handle = evloop::spawn(target.probe(pending::<()>()));
            evloop::yield_now().await;
            target.assert("pending", 1, 0, 0);

            handle.abort();
            // abort() only marks the task; the loop drops the future.
            target.assert("abort() returned", 1, 0, 0);
            assert!(!handle.is_finished());

            evloop::yield_now().await;
            target.assert("the loop went round", 1, 0, 1);
            assert!(handle.is_finished());
            assert!(handle.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn abort_before_the_first_poll_drops_the_future_unpolled() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        let handle = rt.spawn(target.probe(async { 1 }));
        handle.abort();
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
        target.assert("cancelled", 0, 0, 1);
    });
}

#[test]
fn abort_from_another_thread_cancels_a_task_while_the_loop_is_parked() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    send_sync_clone::<AbortHandle>();

    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let rt = common::real();
        let target = Counters::new();
        let handle = rt.spawn(target.probe(pending::<()>()));
        let abort = handle.abort_handle();
        let polled = target.clone();
        let aborter = thread::spawn(move || {
            while polled.polls() == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            // Let the loop park in the OS poller first; nothing is timed.
            thread::sleep(Duration::from_millis(20));
            abort.clone().abort();
            abort.abort(); // twice: harmless
        });
        let err = rt
            .block_on(handle)
            .expect_err("aborted from the other thread");
        assert!(err.is_cancelled(), "{err}");
        target.assert("aborted", 1, 0, 1);
        assert_eq!(target.drop_threads(), [loop_thread]);
        aborter.join().expect("the aborting thread does not panic");
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let outputs = DropCount::new();
        rt.block_on(async {
            let out = outputs.clone();
            let handle = evloop::spawn(async move { out.token(9) });
            let abort = handle.abort_handle();
            common::yield_until(|| handle.is_finished()).await;
            assert!(abort.is_finished());
            handle.abort();
            abort.abort();
            evloop::yield_now().await;
            assert_eq!(outputs.get(), 0);
            let token = handle.await.expect("the output survives the abort");
            assert_eq!(token.value, 9);
        });
        assert_eq!(outputs.get(), 1);
    });
}

/// Spawns on `rt` a task, probed by `target`, whose every poll aborts the
/// task through its own abort handle and then returns `then()`.
fn spawn_self_aborting<T: 'static>(
    rt: &evloop::Runtime,
    target: &Counters,
    then: impl Fn() -> Poll<T> + 'static,
) -> JoinHandle<T> {
    let me: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
    let mine = me.clone();
    let handle = rt.spawn(target.probe(poll_fn(move |_| {
        mine.borrow()
            .as_ref()
            .expect("set before the first poll")
            .abort();
        then()
    })));
    *me.borrow_mut() = Some(handle.abort_handle());
    handle
}

#[test]
fn a_task_that_aborts_itself_and_returns_pending_is_cancelled() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        let handle = spawn_self_aborting(&rt, &target, || Poll::<()>::Pending);
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
        target.assert("cancelled at the end of its own poll", 1, 0, 1);
    });
}

#[test]
fn a_task_that_aborts_itself_and_returns_ready_keeps_its_output() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let target = Counters::new();
        let handle = spawn_self_aborting(&rt, &target, || Poll::Ready("too late to cancel"));
        assert_eq!(rt.block_on(handle).unwrap(), "too late to cancel");
        target.assert("completed", 1, 0, 1);
    });
}

#[test]
fn aborting_a_task_detaches_the_tasks_it_was_awaiting() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let inner = Counters::new();
        let outer = Counters::new();
        let outputs = DropCount::new();
        let (tx, rx) = mpsc::channel();
        let out = outputs.clone();
        rt.block_on(async {
            let start = Instant::now();
            let inner_probe = inner.probe(async move {
                sleep(Duration::from_secs(2)).await;
                out.token(1)
            });
            let outer_task = evloop::spawn(outer.probe(async move {
                let inner_handle = evloop::spawn(inner_probe);
                tx.send(inner_handle.abort_handle()).unwrap();
                inner_handle.await
            }));
            // Sleeping (not yielding) lets both tasks start without
            // asking the paused clock to stand still during a yield.
            sleep(Duration::from_millis(1)).await;
            inner.assert("inner sleeping", 1, 0, 0);
            outer_task.abort();
            assert!(outer_task.await.unwrap_err().is_cancelled());
            outer.assert("outer aborted", 1, 0, 1);
            inner.assert("inner still sleeping", 1, 0, 0);

            let inner_abort = rx.recv().unwrap();
            sleep(Duration::from_millis(1998)).await;
            assert!(!inner_abort.is_finished());
            sleep(Duration::from_millis(1)).await;
            evloop::yield_now().await; // the inner task runs after the timer fired
            assert!(inner_abort.is_finished());
            assert_eq!(start.elapsed(), Duration::from_secs(2));
            inner.assert("inner finished on its own", 2, 1, 1);
            assert_eq!(
                outputs.get(),
                1,
                "the detached output was dropped by the loop"
            );
        });
    });
}
