//! The task cell's cross-thread protocols under loom (`.ci/loom` runs them):
//!
//! * the join handle's result hand-off: the task completes on the loop
//!   thread while another thread awaits, drops or aborts the handle;
//! * the reference count: a waker cloned, woken and dropped on another
//!   thread while the task completes and is freed.
//!
//! The main thread of each model plays the loop: it owns the task list and
//! runs the tasks that a small run queue hands it, blocking while the queue
//! is empty. So a lost wake or a lost abort leaves it blocked for ever,
//! which loom reports as a deadlock. Each model ends by checking that the
//! future and the output were dropped exactly once and the cell freed
//! exactly once (the scheduler stored in the cell counts its own drop). The
//! stage is loom's checked cell (see `sync_prims`), so a read or write of
//! the future or the result that is not ordered after the other thread's
//! access fails the model too, and so does a free not ordered after them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize as Count;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::Notify;
use loom::thread;

use super::sync_prims::{Arc, Mutex, model};
use super::{End, JoinHandle, OwnedTasks, Ran, Schedule, Task};

/// Counts drops: of futures, of outputs, of task cells. (std's atomic:
/// bookkeeping of the model, not part of the protocol under test.)
#[derive(Clone, Default)]
struct Counter(std::sync::Arc<Count>);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(Relaxed)
    }
}

/// Adds one to its counter when dropped.
struct Counted(Counter);

impl Drop for Counted {
    fn drop(&mut self) {
        (self.0).0.fetch_add(1, Relaxed);
    }
}

/// The run queue that every model thread may push to.
#[derive(Default)]
struct Queue {
    tasks: Mutex<VecDeque<Task>>,
    pushed: Notify,
}

impl Queue {
    fn push(&self, task: Task) {
        self.tasks.lock().expect("the queue's lock").push_back(task);
        self.pushed.notify();
    }

    fn pop(&self) -> Option<Task> {
        self.tasks.lock().expect("the queue's lock").pop_front()
    }
}

/// The scheduler stored in each task cell; its drop is the cell's free.
struct Sched {
    queue: Arc<Queue>,
    _freed: Counted,
}

impl Schedule for Sched {
    fn schedule(&self, task: Task) {
        self.queue.push(task);
    }
}

/// One loop and the counters of its task.
struct Loop {
    owned: OwnedTasks,
    queue: Arc<Queue>,
    futures_dropped: Counter,
    outputs_dropped: Counter,
    cells_freed: Counter,
}

impl Loop {
    fn new() -> Loop {
        Loop {
            owned: OwnedTasks::new(),
            queue: Arc::new(Queue::default()),
            futures_dropped: Counter::default(),
            outputs_dropped: Counter::default(),
            cells_freed: Counter::default(),
        }
    }

    /// Spawns a task that returns Pending `pendings` times, leaving its
    /// waker in the returned stash each time, then returns a `Counted`.
    fn spawn(&self, pendings: usize) -> (JoinHandle<Counted>, Rc<RefCell<Option<Waker>>>) {
        let stash: Rc<RefCell<Option<Waker>>> = Rc::default();
        let kept = stash.clone();
        let alive = Counted(self.futures_dropped.clone());
        let outputs = self.outputs_dropped.clone();
        let mut left = pendings;
        let future = poll_fn(move |cx| {
            let _alive = &alive;
            if left == 0 {
                return Poll::Ready(Counted(outputs.clone()));
            }
            left -= 1;
            *kept.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        });
        let sched = Sched {
            queue: self.queue.clone(),
            _freed: Counted(self.cells_freed.clone()),
        };
        let (queued, handle) = self.owned.bind(future, sched, None, Location::caller());
        let queued = queued.expect("the list is open");
        self.queue.push(queued);
        (handle, stash)
    }

    /// Runs queued tasks until one completes, blocking while the queue is
    /// empty. Returns how it ended.
    fn run_until_complete(&self) -> End {
        loop {
            match self.queue.pop() {
                Some(task) => {
                    if let Ran::Complete(end) = self.owned.run(&task) {
                        return end;
                    }
                }
                None => self.queue.pushed.wait(),
            }
        }
    }

    /// Runs one queued task (it must be there) and returns what it did.
    fn run_one(&self) -> Ran {
        let task = self.queue.pop().expect("a queued task");
        self.owned.run(&task)
    }

    /// Drops what is left in the queue (stale entries) and checks the
    /// counts: the future dropped once, the output `outputs` times, the cell
    /// freed once.
    fn finish(self, outputs: usize) {
        while let Some(task) = self.queue.pop() {
            assert_eq!(self.owned.run(&task), Ran::Stale);
        }
        assert_eq!(self.owned.len(), 0, "the task left the list");
        assert_eq!(self.futures_dropped.get(), 1, "the future dropped once");
        assert_eq!(self.outputs_dropped.get(), outputs, "outputs dropped");
        assert_eq!(self.cells_freed.get(), 1, "the cell freed once");
    }
}

/// Awaits `handle` on this (model) thread; loom's `block_on` blocks until
/// the handle's waker fires, so a lost join wake is a deadlock.
fn await_handle<T>(handle: JoinHandle<T>) -> Result<T, super::JoinError> {
    block_on(handle)
}

#[test]
fn join_handle_awaits_the_output_on_another_thread() {
    model("join_handle_awaits_the_output_on_another_thread", || {
        let rt = Loop::new();
        let (handle, _) = rt.spawn(0);
        let awaiting = thread::spawn(move || {
            let output = await_handle(handle).expect("the task returned");
            drop(output);
        });
        assert_eq!(rt.run_until_complete(), End::Output);
        awaiting.join().expect("the awaiting thread");
        rt.finish(1);
    });
}

#[test]
fn join_handle_awaited_across_a_pending_poll() {
    model("join_handle_awaited_across_a_pending_poll", || {
        let rt = Loop::new();
        let (handle, stash) = rt.spawn(1);
        let awaiting = thread::spawn(move || {
            let output = await_handle(handle).expect("the task returned");
            drop(output);
        });
        // The first poll waits; the loop itself wakes it, as a timer would.
        assert_eq!(rt.run_one(), Ran::Pending);
        stash.take().expect("the waker").wake();
        assert_eq!(rt.run_until_complete(), End::Output);
        awaiting.join().expect("the awaiting thread");
        rt.finish(1);
    });
}

#[test]
fn join_handle_dropped_while_the_task_completes() {
    model("join_handle_dropped_while_the_task_completes", || {
        let rt = Loop::new();
        let (handle, _) = rt.spawn(0);
        let dropping = thread::spawn(move || drop(handle));
        assert_eq!(rt.run_until_complete(), End::Output);
        dropping.join().expect("the dropping thread");
        rt.finish(1);
    });
}

#[test]
fn join_handle_polled_then_dropped_while_the_task_completes() {
    model(
        "join_handle_polled_then_dropped_while_the_task_completes",
        || {
            let rt = Loop::new();
            let (handle, _) = rt.spawn(0);
            // The handle stores a waker (or finds the output), then is
            // dropped: its drop takes the waker back under the lock that
            // completion takes it from.
            let dropping = thread::spawn(move || {
                let mut handle = handle;
                let mut cx = Context::from_waker(Waker::noop());
                if let Poll::Ready(output) = Pin::new(&mut handle).poll(&mut cx) {
                    drop(output.expect("the task returned"));
                }
            });
            assert_eq!(rt.run_until_complete(), End::Output);
            dropping.join().expect("the dropping thread");
            rt.finish(1);
        },
    );
}

#[test]
fn abort_races_completion() {
    model("abort_races_completion", || {
        let rt = Loop::new();
        let (handle, _) = rt.spawn(0);
        let aborting = thread::spawn(move || {
            handle.abort();
            match await_handle(handle) {
                Ok(output) => {
                    drop(output);
                    End::Output
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "{e}");
                    End::Cancelled
                }
            }
        });
        let end = rt.run_until_complete();
        let seen = aborting.join().expect("the aborting thread");
        assert_eq!(seen, end, "the handle saw how the task ended");
        rt.finish(usize::from(end == End::Output));
    });
}

#[test]
fn abort_wakes_an_idle_task() {
    model("abort_wakes_an_idle_task", || {
        let rt = Loop::new();
        // Pending for ever: only the abort can end it.
        let (handle, stash) = rt.spawn(usize::MAX);
        let abort = handle.abort_handle();
        let aborting = thread::spawn(move || abort.abort());
        assert_eq!(rt.run_until_complete(), End::Cancelled);
        aborting.join().expect("the aborting thread");
        // The waker its one poll (if the abort came after it) left behind.
        drop(stash.take());
        let error = await_handle(handle).err().expect("the task was aborted");
        assert!(error.is_cancelled(), "{error}");
        rt.finish(0);
    });
}

#[test]
fn waker_clone_wake_and_drop_race_the_task_end() {
    model("waker_clone_wake_and_drop_race_the_task_end", || {
        let rt = Loop::new();
        let (handle, stash) = rt.spawn(1);
        assert_eq!(rt.run_one(), Ran::Pending);
        let waker = stash.take().expect("the first poll kept its waker");
        drop(handle);
        // Another thread clones the waker, wakes the task through one copy
        // and drops the other, while the loop runs the task to its end and
        // releases its own references: whichever reference goes last frees
        // the cell, on whichever thread.
        let waking = thread::spawn(move || {
            let copy = waker.clone();
            waker.wake();
            drop(copy);
        });
        assert_eq!(rt.run_until_complete(), End::Output);
        waking.join().expect("the waking thread");
        rt.finish(1);
    });
}
