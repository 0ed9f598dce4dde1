//! The part of a runtime that other threads can reach: the remote run queue
//! and the means to wake a parked loop.
//!
//! A waker fired on the loop thread pushes its task straight into the local
//! run queue. A waker fired anywhere else pushes into the remote queue under a
//! mutex and, if the loop is parked in `mio::Poll::poll`, wakes it through a
//! `mio::Waker` (one `write` to an eventfd on Linux). The `parked` flag keeps
//! that syscall off the path when the loop is awake anyway.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use super::context;
use crate::task::{Schedule, Task};

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
    waker: mio::Waker,
    /// With tracing on: which thread woke which task, for the record.
    pub(super) remote_sources: Option<Mutex<Vec<(u64, String)>>>,
}

impl Shared {
    pub(crate) fn new(waker: mio::Waker, tracing: bool) -> Shared {
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
    pub(crate) fn unpark(&self) {
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
