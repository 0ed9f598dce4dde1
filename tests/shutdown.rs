//! Invariant 6: when a runtime ends, every task still alive is cancelled and
//! its future dropped exactly once, on the loop thread; tasks spawned while
//! that happens are cancelled too; `evloop::run` does not wait for spawned
//! tasks (asyncio.run does not either).

mod common;

use std::cell::RefCell;
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use common::{Counters, DropCount, Gate, LIMIT, watchdog};
use evloop::JoinHandle;
use evloop::time::sleep;

fn assert_cancelled<T: std::fmt::Debug>(handle: &mut JoinHandle<T>) {
    match common::poll_once(handle) {
        Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
        other => panic!("expected a cancelled task, got {other:?}"),
    }
}

#[test]
fn dropping_the_runtime_cancels_every_pending_task_on_the_loop_thread() {
    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let rt = common::paused();
        let counters = Counters::new();
        let gate = Gate::new();
        let mut handles = vec![
            rt.spawn(counters.probe(pending::<()>())),
            rt.spawn(counters.probe(sleep(Duration::from_secs(3600)))),
            rt.spawn(counters.probe(gate.wait())),
        ];
        // A short sleep lets the three start (the hour-long timer is not due).
        rt.block_on(async { sleep(Duration::from_millis(1)).await });
        // One more that the loop never gets to poll.
        handles.push(rt.spawn(counters.probe(async {})));
        counters.assert("all pending", 3, 0, 0);
        assert_eq!(rt.task_count(), 4);

        drop(rt);
        counters.assert("runtime dropped", 3, 0, 4);
        assert_eq!(counters.drop_threads(), [loop_thread; 4]);
        for handle in &mut handles {
            assert_cancelled(handle);
        }
        gate.open(); // wakes a task that is gone: nothing happens
        counters.assert("after the gate opened", 3, 1, 4);
    });
}

#[test]
fn a_completed_but_unread_output_survives_the_runtime() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let outputs = DropCount::new();
        let out = outputs.clone();
        let mut handle = rt.spawn(async move { out.token(5) });
        rt.block_on(common::yield_until(|| handle.is_finished()));
        drop(rt);
        assert_eq!(outputs.get(), 0, "the handle still owns the output");
        match common::poll_once(&mut handle) {
            Poll::Ready(Ok(token)) => assert_eq!(token.value, 5),
            other => panic!("expected the output, got {other:?}"),
        }
        assert_eq!(outputs.get(), 1);
    });
}

/// Spawns a task from its `Drop`, and keeps the new task's handle.
struct SpawnOnDrop {
    spawned: Counters,
    handles: Rc<RefCell<Vec<JoinHandle<()>>>>,
    depth: usize,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        let child = SpawnOnDrop {
            spawned: self.spawned.clone(),
            handles: self.handles.clone(),
            depth: self.depth - 1,
        };
        let future = self.spawned.probe(async move {
            let _child = child;
            pending::<()>().await;
        });
        // During shutdown the new task is cancelled inside `spawn`, so its
        // own drop runs (and pushes) before this push: no borrow across it.
        let handle = evloop::spawn(future);
        self.handles.borrow_mut().push(handle);
    }
}

#[test]
fn tasks_spawned_from_drops_during_shutdown_are_cancelled_too() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let first = Counters::new();
        let spawned = Counters::new();
        let handles: Rc<RefCell<Vec<JoinHandle<()>>>> = Rc::default();
        let on_drop = SpawnOnDrop {
            spawned: spawned.clone(),
            handles: handles.clone(),
            depth: 3,
        };
        let mut handle = rt.spawn(first.probe(async move {
            let _on_drop = on_drop;
            pending::<()>().await;
        }));
        rt.block_on(common::yield_until(|| first.polls() == 1));
        first.assert("pending", 1, 0, 0);

        drop(rt);
        first.assert("runtime dropped", 1, 0, 1);
        // Its drop spawned a task whose drop spawned another, three deep:
        // each was cancelled before its first poll.
        spawned.assert("spawned during shutdown", 0, 0, 3);
        assert_cancelled(&mut handle);
        let mut handles = handles.take();
        assert_eq!(handles.len(), 3);
        for handle in &mut handles {
            assert_cancelled(handle);
        }
    });
}

#[test]
fn run_returns_while_a_spawned_task_still_sleeps_and_that_task_is_dropped() {
    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let counters = Counters::new();
        let finished = Arc::new(Mutex::new(false));
        let (mut handle, value) = evloop::run(async {
            let flag = finished.clone();
            let handle = evloop::spawn(counters.probe(async move {
                sleep(Duration::from_secs(3600)).await;
                *flag.lock().unwrap() = true;
            }));
            evloop::yield_now().await;
            (handle, 42)
        });
        // A real one-hour sleep: if run waited for it, the watchdog fires.
        assert_eq!(value, 42);
        counters.assert("run returned", 1, 0, 1);
        assert_eq!(counters.drop_threads(), [loop_thread]);
        assert!(!*finished.lock().unwrap());
        assert_cancelled(&mut handle);
    });
}

#[test]
fn a_task_woken_from_another_thread_but_never_run_is_dropped_once() {
    watchdog(LIMIT, || {
        let rt = common::real();
        let counters = Counters::new();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let stored = slot.clone();
        let mut handle = rt.spawn(counters.probe(poll_fn(move |cx| {
            *stored.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })));
        rt.block_on(common::yield_until(|| counters.polls() == 1));
        let waker = slot.lock().unwrap().take().expect("stored");
        // The loop is not running: this wake goes to the remote queue.
        thread::spawn(move || waker.wake())
            .join()
            .expect("the waking thread does not panic");
        counters.assert("woken, not yet run", 1, 1, 0);
        drop(rt);
        counters.assert("runtime dropped", 1, 1, 1);
        assert_cancelled(&mut handle);
    });
}

#[test]
fn a_runtime_dropped_inside_another_runtime_still_cancels_its_tasks() {
    watchdog(LIMIT, || {
        let loop_thread = thread::current().id();
        let inner = common::paused();
        let counters = Counters::new();
        let mut handle = inner.spawn(counters.probe(sleep(Duration::from_secs(60))));
        inner.block_on(async { sleep(Duration::from_millis(1)).await });
        let outer = common::paused();
        outer.block_on(async move {
            drop(inner);
            counters.assert("inner runtime dropped", 1, 0, 1);
            assert_eq!(counters.drop_threads(), [loop_thread]);
            // The outer loop is unaffected.
            sleep(Duration::from_millis(10)).await;
            assert_eq!(evloop::spawn(async { 1 }).await.unwrap(), 1);
        });
        assert_cancelled(&mut handle);
    });
}

#[test]
fn dropping_a_runtime_inside_another_leaves_the_outer_one_current() {
    // Minimal form of the scenario above: after the inner runtime is gone,
    // the outer loop must still be the current one on this thread.
    watchdog(LIMIT, || {
        let outer = common::paused();
        let out = outer.block_on(async {
            drop(common::paused());
            evloop::spawn(async { 7 }).await.unwrap()
        });
        assert_eq!(out, 7);
    });
}

#[test]
fn tasks_keep_running_across_block_on_calls_until_the_runtime_drops() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let mut handle = rt.spawn(counters.probe(async {
            sleep(Duration::from_secs(1)).await;
            "done"
        }));
        // The sleeps are made inside block_on, so they read the paused clock.
        rt.block_on(async { sleep(Duration::from_millis(500)).await });
        counters.assert("first block_on", 1, 0, 0);
        rt.block_on(async { sleep(Duration::from_millis(600)).await });
        counters.assert("second block_on", 2, 1, 1);
        assert!(handle.is_finished());
        drop(rt);
        match common::poll_once(&mut handle) {
            Poll::Ready(Ok(out)) => assert_eq!(out, "done"),
            other => panic!("expected the output, got {other:?}"),
        }
    });
}
