//! A pool of threads fed through a crossbeam channel.
//!
//! The same type serves both pools: the blocking pool grows on demand up to a
//! cap and lets idle threads go after a timeout; the CPU pool has a fixed
//! size and keeps its threads. The queue is unbounded, so the loop thread
//! never blocks when it submits (invariant 7); the cap bounds threads, not
//! jobs.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};

use super::PoolKind;

/// A unit of work for a pool thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A snapshot of a pool's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Threads alive.
    pub threads: usize,
    /// Threads running a job right now.
    pub busy: usize,
    /// Jobs waiting for a thread.
    pub queued: usize,
}

#[derive(Debug, Default)]
struct Counts {
    threads: AtomicUsize,
    busy: AtomicUsize,
    idle: AtomicUsize,
    queued: AtomicUsize,
}

/// One pool of threads.
pub(crate) struct Pool {
    kind: PoolKind,
    sender: RefCell<Option<Sender<Job>>>,
    receiver: Receiver<Job>,
    counts: Arc<Counts>,
    cap: usize,
    idle_timeout: Option<Duration>,
    spawned: AtomicUsize,
}

impl Pool {
    pub(crate) fn new(kind: PoolKind, cap: usize, idle_timeout: Option<Duration>) -> Pool {
        let (sender, receiver) = unbounded();
        Pool {
            kind,
            sender: RefCell::new(Some(sender)),
            receiver,
            counts: Arc::new(Counts::default()),
            cap,
            idle_timeout,
            spawned: AtomicUsize::new(0),
        }
    }

    /// Queues a job, starting a thread if none is idle and the cap allows.
    /// Never blocks. After shutdown the job is dropped unrun.
    pub(crate) fn submit(&self, job: Job) {
        let sender = self.sender.borrow();
        let Some(sender) = sender.as_ref() else {
            return;
        };
        self.counts.queued.fetch_add(1, SeqCst);
        if sender.send(job).is_err() {
            self.counts.queued.fetch_sub(1, SeqCst);
            return;
        }
        let threads = self.counts.threads.load(SeqCst);
        // More jobs waiting than idle threads to take them: start one (an
        // idle thread only stops counting as idle once it has a job).
        if self.counts.queued.load(SeqCst) > self.counts.idle.load(SeqCst) && threads < self.cap {
            self.spawn_thread();
        }
    }

    fn spawn_thread(&self) {
        self.counts.threads.fetch_add(1, SeqCst);
        let n = self.spawned.fetch_add(1, SeqCst) + 1;
        let name = match self.kind {
            PoolKind::Blocking => format!("evloop-blocking-{n}"),
            PoolKind::Cpu => format!("evloop-cpu-{n}"),
        };
        let receiver = self.receiver.clone();
        let counts = self.counts.clone();
        let idle_timeout = self.idle_timeout;
        let started = thread::Builder::new()
            .name(name)
            .spawn(move || worker(receiver, counts, idle_timeout));
        if started.is_err() {
            // The OS refused a thread: the job waits for an existing one.
            self.counts.threads.fetch_sub(1, SeqCst);
        }
    }

    /// The pool's counts now.
    pub(crate) fn stats(&self) -> PoolStats {
        PoolStats {
            threads: self.counts.threads.load(SeqCst),
            busy: self.counts.busy.load(SeqCst),
            queued: self.counts.queued.load(SeqCst),
        }
    }
}

fn worker(receiver: Receiver<Job>, counts: Arc<Counts>, idle_timeout: Option<Duration>) {
    loop {
        counts.idle.fetch_add(1, SeqCst);
        let next = match idle_timeout {
            Some(t) => receiver.recv_timeout(t),
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        counts.idle.fetch_sub(1, SeqCst);
        match next {
            Ok(job) => {
                counts.queued.fetch_sub(1, SeqCst);
                counts.busy.fetch_add(1, SeqCst);
                // Jobs catch their own panics (see `offload::submit`), so the
                // thread survives and the pool keeps its size.
                job();
                counts.busy.fetch_sub(1, SeqCst);
            }
            Err(RecvTimeoutError::Timeout) => {
                counts.threads.fetch_sub(1, SeqCst);
                // A job may have been queued just as we gave up, by a submitter
                // that saw us idle: take it back up rather than strand it.
                if receiver.is_empty() {
                    return;
                }
                counts.threads.fetch_add(1, SeqCst);
            }
            Err(RecvTimeoutError::Disconnected) => {
                counts.threads.fetch_sub(1, SeqCst);
                return;
            }
        }
    }
}

impl Pool {
    /// The runtime is shutting down: no more jobs.
    pub(crate) fn shutdown(&self) {
        // Dropping the only sender: idle threads exit at once, busy ones
        // after their job; jobs still queued are dropped by the last receiver.
        self.sender.borrow_mut().take();
        while self.receiver.try_recv().is_ok() {
            self.counts.queued.fetch_sub(1, SeqCst);
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("kind", &self.kind)
            .field("stats", &self.stats())
            .field("cap", &self.cap)
            .finish()
    }
}
