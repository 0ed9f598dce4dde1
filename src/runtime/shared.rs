//! The part of a runtime that other threads can reach: the remote run queue
//! and the means to wake a parked loop.
//!
//! A waker fired on the loop thread pushes its task straight into the local
//! run queue. A waker fired anywhere else pushes into the remote queue under a
//! mutex and, if the loop is parked in `mio::Poll::poll`, wakes it through a
//! `mio::Waker` (one `write` to an eventfd on Linux). The `parked` flag keeps
//! that syscall off the path when the loop is awake anyway.
//!
//! # Parking without losing a wake
//!
//! The loop announces that it is about to block ([`Shared::begin_park`]:
//! set `parked`, then look at `remote_pending`); a pusher publishes its task
//! and then looks at `parked` ([`Shared::unpark`]). Each side writes its own
//! flag, fences, then reads the other's. The two `SeqCst` fences are ordered
//! one way or the other, and the side whose fence comes second sees the
//! first side's write: either the loop sees the task and does not block, or
//! the pusher sees `parked` and wakes it. Both may happen (a spurious wake,
//! harmless); neither is what the fences rule out.
//!
//! The fences say what `SeqCst` on the four accesses alone would also
//! guarantee, in the form loom can check: loom models `fence(SeqCst)` but
//! treats `SeqCst` loads and stores as acquire/release, which would make
//! this protocol look broken to it. The model `remote_wake_is_never_lost`
//! at the bottom plays it, with a stand-in for `mio::Waker`.

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;

use super::context;
use crate::task::sync_prims::{AtomicBool, AtomicUsize, Mutex, fence};
use crate::task::{Schedule, Task};

/// What wakes a parked loop: mio's waker (an eventfd write on Linux).
#[cfg(not(evloop_loom))]
type LoopWaker = mio::Waker;
/// What wakes a parked loop: in the loom models, a stand-in for mio's waker.
#[cfg(evloop_loom)]
type LoopWaker = loom_waker::LoopWaker;

/// Shared between the loop thread and every waker.
#[derive(Debug)]
pub(crate) struct Shared {
    remote: Mutex<Vec<Task>>,
    /// Set when `remote` is non-empty, so the loop can skip the lock.
    remote_pending: AtomicBool,
    /// The loop is inside (or about to enter) a blocking `poll`.
    parked: AtomicBool,
    /// The runtime is gone: drop whatever is pushed.
    closed: AtomicBool,
    /// Offloaded jobs not yet finished: the paused clock waits for them.
    pub(super) jobs_in_flight: AtomicUsize,
    waker: LoopWaker,
    /// With tracing on: which thread woke which task, for the record.
    pub(super) remote_sources: Option<Mutex<Vec<(u64, String)>>>,
}

impl Shared {
    pub(crate) fn new(waker: mio::Waker, tracing: bool) -> Shared {
        // The loom models never poll mio: they park on the stand-in instead.
        #[cfg(evloop_loom)]
        let waker = {
            drop(waker);
            LoopWaker::new()
        };
        Shared::with_waker(waker, tracing)
    }

    fn with_waker(waker: LoopWaker, tracing: bool) -> Shared {
        Shared {
            remote: Mutex::new(Vec::new()),
            remote_pending: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            jobs_in_flight: AtomicUsize::new(0),
            waker,
            remote_sources: tracing.then(|| Mutex::new(Vec::new())),
        }
    }

    /// Queues a task woken on another thread and wakes the loop if parked.
    pub(crate) fn push_remote(&self, task: Task) {
        if let Some(sources) = &self.remote_sources {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("an unnamed thread").to_owned();
            sources
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((task.id().as_u64(), name));
        }
        {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            if self.closed.load(SeqCst) {
                drop(remote);
                drop(task);
                return;
            }
            remote.push(task);
            self.remote_pending.store(true, SeqCst);
        }
        self.unpark();
    }

    /// Wakes the loop if it is parked (or about to park).
    ///
    /// Whatever the caller published before (a task in the remote queue, the
    /// main future's woken flag) is ordered before the look at `parked` by
    /// the fence, which pairs with the one in [`begin_park`](Shared::begin_park).
    pub(crate) fn unpark(&self) {
        fence(SeqCst);
        if self.parked.load(SeqCst) {
            // A failed wake means the eventfd counter is saturated: the loop
            // is already due to wake, so there is nothing to do.
            let _ = self.waker.wake();
        }
    }

    /// Whether the remote queue has tasks.
    pub(crate) fn has_remote(&self) -> bool {
        self.remote_pending.load(SeqCst)
    }

    /// Takes every task from the remote queue.
    pub(crate) fn take_remote(&self, into: &mut Vec<Task>) {
        if self.remote_pending.load(SeqCst) {
            let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            self.remote_pending.store(false, SeqCst);
            into.append(&mut remote);
        }
    }

    /// Announces that the loop is about to block. Returns false if work
    /// arrived meanwhile, in which case the loop must not block.
    pub(crate) fn begin_park(&self) -> bool {
        self.parked.store(true, SeqCst);
        // Pairs with the fence in `unpark`: from here on, a pusher either
        // sees `parked` or has its task seen below (module docs).
        fence(SeqCst);
        !self.remote_pending.load(SeqCst)
    }

    /// The loop is running again.
    pub(crate) fn end_park(&self) {
        self.parked.store(false, SeqCst);
    }

    /// Refuses further remote pushes (runtime shutdown) and returns what was queued.
    pub(crate) fn close(&self) -> Vec<Task> {
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, SeqCst);
        self.remote_pending.store(false, SeqCst);
        std::mem::take(&mut *remote)
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Task) {
        if let Some(task) = context::push_local(self, task) {
            self.push_remote(task);
        }
    }
}

/// The loom models' stand-in for `mio::Waker`.
#[cfg(evloop_loom)]
mod loom_waker {
    /// Stands in for `mio::Waker`: [`wake`](LoopWaker::wake) leaves a
    /// permit, as a write to mio's eventfd does, and the model's loop takes
    /// it in [`wait`](LoopWaker::wait) where the real loop blocks in
    /// `mio::Poll::poll`. Like `poll`, `wait` may also return for nothing
    /// (loom explores that too), so the loop must look again after it.
    #[derive(Debug)]
    pub(crate) struct LoopWaker(loom::sync::Notify);

    impl LoopWaker {
        pub(crate) fn new() -> LoopWaker {
            LoopWaker(loom::sync::Notify::new())
        }

        /// Wakes the parked loop (or the next park).
        pub(crate) fn wake(&self) -> std::io::Result<()> {
            self.0.notify();
            Ok(())
        }

        /// Blocks until woken, or spuriously.
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) fn wait(&self) {
            self.0.wait();
        }
    }
}

#[cfg(all(evloop_loom, test))]
mod loom_tests {
    //! The remote queue and the park protocol under loom: a task woken on
    //! another thread reaches the loop whether the wake comes before,
    //! during or after the loop's decision to park, and a push that meets
    //! a closed runtime leaks nothing.
    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::panic::Location;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::Ordering::{Acquire, Release};
    use std::task::{Poll, Waker};

    use super::{LoopWaker, Shared};
    use crate::task::sync_prims::{self, AtomicBool, model};

    /// Set by the waking thread before its last wake (loom's atomic, so
    /// that the task sees it only through the wake's ordering).
    type Flag = sync_prims::Arc<AtomicBool>;
    use crate::task::{End, JoinHandle, OwnedTasks, Ran, Task};

    /// A loop with one task that returns Pending until `done` is set,
    /// leaving its waker in the stash at each poll. Returns the runtime's
    /// shared half, the task list, the queue entry for the first poll, the
    /// stash, and the handle.
    fn one_waiting_task(
        done: &Flag,
    ) -> (
        Arc<Shared>,
        OwnedTasks,
        Task,
        Rc<RefCell<Option<Waker>>>,
        JoinHandle<()>,
    ) {
        let shared = Arc::new(Shared::with_waker(LoopWaker::new(), false));
        let owned = OwnedTasks::new();
        let stash: Rc<RefCell<Option<Waker>>> = Rc::default();
        let kept = stash.clone();
        let done = done.clone();
        let future = poll_fn(move |cx| {
            if done.load(Acquire) {
                Poll::Ready(())
            } else {
                *kept.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        let (queued, handle) = owned.bind(future, shared.clone(), None, Location::caller());
        let queued = queued.expect("the list is open");
        (shared, owned, queued, stash, handle)
    }

    #[test]
    fn remote_wake_is_never_lost() {
        model("remote_wake_is_never_lost", || {
            let done = Flag::new(AtomicBool::new(false));
            let (shared, owned, queued, stash, handle) = one_waiting_task(&done);
            drop(handle);
            assert_eq!(owned.run(&queued), Ran::Pending);
            drop(queued);
            let waker = stash.take().expect("the first poll kept its waker");

            // Another thread wakes the task twice: the first wake may find
            // it idle, queued or running; the second comes after `done`, so
            // the poll it causes completes the task. Each wake that finds
            // the task idle pushes it to the remote queue and unparks the
            // loop if it is parked.
            let set = done.clone();
            let waking = loom::thread::spawn(move || {
                waker.wake_by_ref();
                set.store(true, Release);
                waker.wake();
            });

            // The loop, as `Core` runs it: take what the remote queue has;
            // with nothing to do, announce the park, and block unless work
            // arrived meanwhile. A lost wake leaves it blocked for ever,
            // which loom reports as a deadlock.
            let mut ready = Vec::new();
            'run: loop {
                shared.take_remote(&mut ready);
                for task in ready.drain(..) {
                    if owned.run(&task) == Ran::Complete(End::Output) {
                        break 'run;
                    }
                }
                if shared.begin_park() {
                    shared.waker.wait();
                }
                shared.end_park();
            }
            waking.join().expect("the waking thread");
            drop(stash.take());
            // Whatever is still queued is stale now.
            shared.take_remote(&mut ready);
            for task in ready.drain(..) {
                assert_eq!(owned.run(&task), Ran::Stale);
            }
            assert_eq!(owned.len(), 0);
            // The task's cell held the other reference: it was freed.
            assert_eq!(Arc::strong_count(&shared), 1);
        });
    }

    #[test]
    fn a_push_that_meets_shutdown_leaks_nothing() {
        model("a_push_that_meets_shutdown_leaks_nothing", || {
            let done = Flag::new(AtomicBool::new(false));
            let (shared, owned, queued, stash, handle) = one_waiting_task(&done);
            assert_eq!(owned.run(&queued), Ran::Pending);
            drop(queued);
            let waker = stash.take().expect("the first poll kept its waker");

            let waking = loom::thread::spawn(move || waker.wake());

            // The runtime shuts down meanwhile: the remote queue closes
            // (a later push is dropped by the pusher), then the tasks are
            // cancelled on the loop thread.
            let queued_before_close = shared.close();
            owned.shutdown();
            drop(queued_before_close);
            waking.join().expect("the waking thread");

            assert!(handle.is_finished());
            assert!(!shared.has_remote());
            drop(stash.take());
            drop(handle);
            assert_eq!(Arc::strong_count(&shared), 1, "the task was freed");
        });
    }
}
