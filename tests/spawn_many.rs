//! Spawning 10,000 tasks at awkward moments: from inside a task's poll, from
//! a `Drop` that runs while the loop is busy completing or cancelling another
//! task, and from a `Drop` that runs while the runtime shuts down. Every task
//! is accounted for: polled as often as it should be, dropped exactly once.

mod common;

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;

use common::{Counters, DropCount, LIMIT, watchdog};
use evloop::JoinHandle;

const MANY: usize = 10_000;

type Handles = Rc<RefCell<Vec<JoinHandle<u64>>>>;

/// Spawns `MANY` probed tasks when dropped, keeping their handles.
struct SpawnOnDrop {
    counters: Counters,
    handles: Handles,
}

impl SpawnOnDrop {
    /// A spawner, the counters its tasks report to, and the list their
    /// handles go to.
    fn new() -> (SpawnOnDrop, Counters, Handles) {
        let (counters, handles) = (Counters::new(), Handles::default());
        let on_drop = SpawnOnDrop {
            counters: counters.clone(),
            handles: handles.clone(),
        };
        (on_drop, counters, handles)
    }
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let mut spawned = Vec::with_capacity(MANY);
        for i in 0..MANY as u64 {
            spawned.push(evloop::spawn(self.counters.probe(async move {
                evloop::yield_now().await;
                i
            })));
        }
        self.handles.borrow_mut().extend(spawned);
    }
}

/// Awaits every handle and checks the outputs are 0..MANY in order.
async fn collect(handles: &Handles) {
    let handles = handles.take();
    assert_eq!(handles.len(), MANY);
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.await.expect("a spawned task completes"), i as u64);
    }
}

#[test]
fn ten_thousand_tasks_spawned_from_inside_a_poll() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let counters = Counters::new();
        let spawner = {
            let counters = counters.clone();
            rt.spawn(async move {
                (0..MANY as u64)
                    .map(|i| evloop::spawn(counters.probe(async move { i * 2 })))
                    .collect::<Vec<_>>()
            })
        };
        rt.block_on(async {
            let handles = spawner.await.expect("the spawner completes");
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.expect("a spawned task completes");
            }
            assert_eq!(sum, (MANY as u64 - 1) * MANY as u64);
        });
        counters.assert("all done", MANY, 0, MANY);
        assert_eq!(rt.task_count(), 0);
    });
}

#[test]
fn ten_thousand_tasks_spawned_from_the_drop_of_a_completing_task() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let (on_drop, counters, handles) = SpawnOnDrop::new();
        // The future is dropped by the loop when the task returns.
        let task = rt.spawn(async move {
            let _on_drop = on_drop;
            "returned"
        });
        rt.block_on(async {
            assert_eq!(task.await.unwrap(), "returned");
            assert_eq!(
                handles.borrow().len(),
                MANY,
                "the drop ran when the task returned"
            );
            collect(&handles).await;
        });
        // One yield each: two polls, one wake.
        counters.assert("all done", 2 * MANY, MANY, MANY);
        assert_eq!(rt.task_count(), 0);
    });
}

#[test]
fn ten_thousand_tasks_spawned_from_the_drop_of_an_aborted_task() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let (on_drop, counters, handles) = SpawnOnDrop::new();
        let task = rt.spawn(async move {
            let _on_drop = on_drop;
            pending::<()>().await;
        });
        rt.block_on(async {
            evloop::yield_now().await;
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            collect(&handles).await;
        });
        counters.assert("all done", 2 * MANY, MANY, MANY);
    });
}

#[test]
fn ten_thousand_tasks_spawned_from_the_drop_of_a_detached_output() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let (on_drop, counters, handles) = SpawnOnDrop::new();
        // Detached: the loop drops the output as soon as the task returns.
        drop(rt.spawn(async move { on_drop }));
        rt.block_on(async {
            common::yield_until(|| handles.borrow().len() == MANY).await;
            collect(&handles).await;
        });
        counters.assert("all done", 2 * MANY, MANY, MANY);
    });
}

#[test]
fn ten_thousand_tasks_spawned_from_a_drop_during_shutdown_are_all_cancelled() {
    watchdog(LIMIT, || {
        let rt = common::paused();
        let (on_drop, counters, handles) = SpawnOnDrop::new();
        let outputs = DropCount::new();
        let out = outputs.clone();
        let task = rt.spawn(async move {
            let _on_drop = on_drop;
            pending::<()>().await;
            out.token(0)
        });
        rt.block_on(evloop::yield_now());
        drop(task);
        drop(rt);
        counters.assert("shutdown", 0, 0, MANY);
        assert_eq!(outputs.get(), 0, "no output was ever made");
        let mut handles = handles.take();
        assert_eq!(handles.len(), MANY);
        for handle in &mut handles {
            match common::poll_once(handle) {
                std::task::Poll::Ready(Err(e)) => assert!(e.is_cancelled(), "{e}"),
                other => panic!("expected a cancelled task, got {other:?}"),
            }
        }
    });
}
