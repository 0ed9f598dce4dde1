//! [`Task`], a counted reference to a task that schedulers pass around, and
//! [`OwnedTasks`], the loop thread's list of every live task.
//!
//! `OwnedTasks` is deliberately `!Send`: it is created on the loop thread and
//! never leaves it, and only it can poll a task (checking that the task is
//! its own). That is how invariant 1 ("a task's future is polled and dropped
//! only on its loop's thread") holds without asking the futures to be `Send`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering};

use super::raw::{Header, Meta, NewTask, RawTask};
use super::vtable::RunOutcome;
use super::{End, Id, JoinHandle, Schedule};

/// One counted reference to a task, as it sits in a run queue.
///
/// A `Task` is `Send` (as its [`RawTask`] is): wakers on any thread create
/// them and hand them to the scheduler. Only the owning [`OwnedTasks`] can
/// run one.
pub(crate) struct Task {
    /// The reference this entry holds; dropping the entry releases it.
    pub(super) raw: RawTask,
}

impl Task {
    /// Wraps a reference.
    pub(super) fn new(raw: RawTask) -> Task {
        Task { raw }
    }

    fn header(&self) -> &Header {
        self.raw.header()
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.header().meta.id
    }

    /// The task's name, if any.
    pub(crate) fn name(&self) -> Option<&str> {
        self.header().meta.name()
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.header().meta.location
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("state", &self.header().state.snapshot())
            .finish()
    }
}

/// What running a task from the queue did.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Ran {
    /// The task is waiting, or was queued again.
    Pending,
    /// The task finished (output, panic or cancellation).
    Complete(End),
    /// The entry was stale (the task had already completed).
    Stale,
}

/// Every live task of one loop. Holds one reference to each until it
/// completes, so a task's future can only be dropped here, on this thread.
pub(crate) struct OwnedTasks {
    id: u32,
    list: RefCell<Vec<Task>>,
    closed: Cell<bool>,
    _not_send: PhantomData<*const ()>,
}

static NEXT_OWNER: AtomicU32 = AtomicU32::new(1);

impl OwnedTasks {
    /// A new, empty list with a fresh owner id.
    pub(crate) fn new() -> Self {
        OwnedTasks {
            // Never wraps: an id used twice would let one loop run another's
            // task (see `run`), so the 2^32nd list panics instead.
            id: NEXT_OWNER
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| id.checked_add(1))
                .expect("fewer than 2^32 runtimes in one process"),
            list: RefCell::new(Vec::new()),
            closed: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// How many tasks are alive.
    pub(crate) fn len(&self) -> usize {
        self.list.borrow().len()
    }

    /// Creates a task. Returns the reference for the run queue and the handle.
    ///
    /// After [`close`](OwnedTasks::close) the task is cancelled at once (its
    /// future dropped unpolled) and no queue entry is returned.
    pub(crate) fn bind<F, S>(
        &self,
        future: F,
        scheduler: S,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> (Option<Task>, JoinHandle<F::Output>)
    where
        F: Future + 'static,
        F::Output: 'static,
        S: Schedule,
    {
        let meta = Meta {
            id: Id::next(),
            name: name.map(Box::new),
            location,
        };
        let NewTask {
            owned,
            queued,
            handle,
        } = RawTask::allocate(future, scheduler, meta, self.id);
        let (owned, queued) = (Task::new(owned), Task::new(queued));
        if self.closed.get() {
            // SAFETY: the task is ours (its owner id is ours) and this is our
            // thread: `self` is !Send and !Sync, so it never left it.
            unsafe { owned.raw.shutdown() };
            drop(queued);
            drop(owned);
            return (None, handle);
        }
        let mut list = self.list.borrow_mut();
        owned
            .header()
            .owned_index
            .store(index_u32(list.len()), Ordering::Relaxed);
        list.push(owned);
        (Some(queued), handle)
    }

    /// Polls a task taken from a run queue (the caller drops that queue
    /// reference afterwards).
    ///
    /// # Panics
    ///
    /// If the task belongs to another loop (a broken internal invariant).
    pub(crate) fn run(&self, task: &Task) -> Ran {
        assert_eq!(
            task.header().owner,
            self.id,
            "a task was queued on a loop that does not own it"
        );
        // SAFETY: the owner id matches and `self` is !Send and !Sync, so
        // this is the loop thread that owns the task.
        let outcome = unsafe { task.raw.run() };
        match outcome {
            RunOutcome::Pending => Ran::Pending,
            RunOutcome::Stale => Ran::Stale,
            RunOutcome::Complete(end) => {
                self.remove(task);
                Ran::Complete(end)
            }
        }
    }

    fn remove(&self, task: &Task) {
        let mut list = self.list.borrow_mut();
        let index = task.header().owned_index.load(Ordering::Relaxed) as usize;
        // During shutdown the list was taken away: the index no longer points
        // at this task, and the shutdown loop releases the reference itself.
        if index < list.len() && list[index].raw.ptr_eq(&task.raw) {
            let removed = list.swap_remove(index);
            if let Some(moved) = list.get(index) {
                moved
                    .header()
                    .owned_index
                    .store(index_u32(index), Ordering::Relaxed);
            }
            drop(list);
            drop(removed);
        }
    }

    /// Tasks that wait with nobody able to wake them: idle (not queued, not
    /// running, not complete) and referenced only by this list and their
    /// join handle, so no waker for them exists anywhere. Each is a lost
    /// wake-up: it returned `Pending` without storing its waker.
    pub(crate) fn lost_wakeups(&self) -> Vec<(Id, Option<String>, &'static Location<'static>)> {
        self.list
            .borrow()
            .iter()
            .filter(|t| {
                let h = t.header();
                let s = h.state.snapshot();
                let expected = 1 + usize::from(s.has_handle());
                !s.is_running()
                    && !s.is_scheduled()
                    && !s.is_complete()
                    && h.ref_count() <= expected
            })
            .map(|t| (t.id(), t.name().map(str::to_owned), t.location()))
            .collect()
    }

    /// The name and spawn location of the live task `id`, if it is alive.
    pub(crate) fn describe(&self, id: Id) -> Option<(Option<String>, &'static Location<'static>)> {
        self.list
            .borrow()
            .iter()
            .find(|t| t.id() == id)
            .map(|t| (t.name().map(str::to_owned), t.location()))
    }

    /// Refuses new tasks from now on (they are cancelled at spawn).
    pub(crate) fn close(&self) {
        self.closed.set(true);
    }

    /// Closes the list and cancels every task still alive, dropping each
    /// future here. Tasks spawned by those drops are cancelled too.
    pub(crate) fn shutdown(&self) {
        self.close();
        loop {
            let tasks = std::mem::take(&mut *self.list.borrow_mut());
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                // SAFETY: every task in our list is ours, and this is our
                // thread (`self` is !Send and !Sync).
                unsafe { task.raw.shutdown() };
            }
        }
    }
}

impl Drop for OwnedTasks {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("id", &self.id)
            .field("len", &self.len())
            .finish()
    }
}

/// A list position as stored in the header (32 bits, see [`Header`]).
fn index_u32(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 tasks on one loop")
}
