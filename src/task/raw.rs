//! One allocation per task: a [`Header`] followed by the scheduler and the
//! future (later its result), reached through [`RawTask`], a counted pointer
//! to it.
//!
//! The layout is `#[repr(C)]` with the header first, so a pointer to the
//! whole cell is also a pointer to its header. Everything outside this file
//! holds a [`RawTask`] and calls its methods, which go through a type-erased
//! [`Vtable`]; only the functions in [`super::vtable`] know the concrete
//! future type `F` and scheduler type `S`.
//!
//! # References
//!
//! The header counts references, and the allocation is freed when the count
//! drops to zero. Each reference has exactly one owner: a `RawTask` value
//! (inside the owner list's [`Task`](super::Task), each run-queue `Task`,
//! the [`JoinHandle`], each [`AbortHandle`](super::AbortHandle)), or a
//! `Waker`, which keeps its reference as a bare data pointer between
//! [`RawTask::into_raw`] and [`RawTask::from_raw`]. (The waker that the loop
//! lends a poll, a [`WakerRef`](super::waker::WakerRef), borrows the
//! runner's reference and owns none.) So holding a `RawTask` is holding a
//! reference: cloning one adds a reference, dropping one releases it, and
//! the last drop frees the task. Because of that rule, every `&self`
//! method of `RawTask` may assume the allocation is alive, and the methods
//! that need nothing more (the header, waking, aborting) are safe. The ones
//! that touch the future or the stored result are `unsafe`: they also need
//! the right thread or the right state, which the type cannot know.
//!
//! (tokio's `RawTask` is a plain `Copy` pointer whose wrappers own the
//! counts; here the pointer owns its count, as async-task's `Runnable` does,
//! so that releasing a reference twice cannot be written without `unsafe`.)
//!
//! # Who may touch what
//!
//! * the header's atomics: any thread;
//! * the future (stage `Running`): only the loop thread, while the state has
//!   `RUNNING` set; the loop thread is the one holding the task's
//!   [`OwnedTasks`](super::owned::OwnedTasks), checked by `owner` ids;
//! * the stored result (stage `Finished`): whoever the state machine names:
//!   the join handle after it saw `COMPLETE`, or the runner if the handle is
//!   gone (see [`super::state`]);
//! * the allocation itself: freed by whichever thread releases the last
//!   reference. By then the stage holds neither future nor result: the owner
//!   list keeps its reference until the future is dropped, and the result's
//!   owner drops it before releasing its own reference.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Poll, Waker};

use super::join::{JoinError, JoinHandle};
use super::state::{State, TransitionToNotified};
use super::sync_prims::{AtomicBool, AtomicUsize, Mutex, UnsafeCell};
use super::vtable::{RunOutcome, Vtable, vtable};
use super::{Id, Schedule};

/// The part of a task that every thread may read, whatever its future.
#[repr(C)]
pub(crate) struct Header {
    /// Flags; see [`super::state`].
    pub(crate) state: State,
    /// Reference count: one per live [`RawTask`] (see the module docs).
    refs: AtomicUsize,
    /// The functions that know the concrete types.
    vtable: &'static Vtable,
    /// The id of the `OwnedTasks` (the runtime) this task belongs to.
    /// 32 bits: with `owned_index` it fills one word (ids are never reused:
    /// making the 2^32nd owner list panics).
    pub(crate) owner: u32,
    /// Position in the owner's list; read and written only on the loop
    /// thread (std's atomic, not the shim's: no protocol reads it across
    /// threads, so the loom models need not see it). `u32::MAX` until bound.
    pub(crate) owned_index: std::sync::atomic::AtomicU32,
    /// The task's id and name, and where it was spawned.
    pub(crate) meta: Meta,
    /// The waker of whoever awaits the join handle.
    pub(crate) join_waker: Mutex<Option<Waker>>,
    /// Set by the handle once it has stored a waker: most tasks finish
    /// before anyone awaits them, and then completion skips the lock.
    pub(crate) join_waker_set: AtomicBool,
}

/// What a task is called and where it came from.
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) id: Id,
    /// The name, boxed twice so the header holds a thin pointer (8 bytes,
    /// not 16): most tasks have no name, and every task pays for the field.
    pub(crate) name: Option<Box<Box<str>>>,
    pub(crate) location: &'static Location<'static>,
}

impl Meta {
    /// The task's name, if it was given one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref().map(|name| &**name)
    }

    /// `'download 3'` or `task 7`, for messages.
    pub(crate) fn describe(&self) -> String {
        match self.name() {
            Some(name) => format!("task '{name}' ({})", self.id),
            None => format!("{}", self.id),
        }
    }
}

impl Header {
    /// How many references exist now (for the lost wake-up check).
    pub(crate) fn ref_count(&self) -> usize {
        self.refs.load(Ordering::Acquire)
    }
}

/// What the cell holds: the future, then its result, then nothing.
pub(super) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The allocation of a task. Only the functions of [`super::vtable`] see
/// it with its types; everyone else sees the header through a [`RawTask`].
#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) scheduler: S,
    pub(super) stage: UnsafeCell<Stage<F>>,
}

/// One counted reference to a task allocation.
///
/// Invariant: `ptr` points at a live `Cell` made by [`RawTask::allocate`],
/// and this value owns one of the references counted in its header, so the
/// allocation outlives it. `allocate` makes the first ones; [`Clone`] adds
/// one; [`Drop`] releases one and frees the task with the last. The only
/// other way to get a `RawTask` is the `unsafe` [`RawTask::from_raw`].
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the safe methods touch only the header (atomics, a Mutex, data
// fixed at spawn); the future and the result are reached only through
// `unsafe` methods whose contracts name the thread or the state. The last
// drop frees the cell on any thread, which drops only the header, the
// scheduler (`Send + Sync` by `Schedule`'s bounds) and an emptied stage (see
// "Who may touch what" in the module docs).
unsafe impl Send for RawTask {}
// SAFETY: as above: `&RawTask` gives the same access from every thread.
unsafe impl Sync for RawTask {}

/// The references a new task starts with.
pub(crate) struct NewTask<T> {
    /// The reference of the owner list.
    pub(crate) owned: RawTask,
    /// The reference of the run-queue entry.
    pub(crate) queued: RawTask,
    /// The reference of the join handle.
    pub(crate) handle: JoinHandle<T>,
}

impl RawTask {
    /// Allocates a task, queued (`SCHEDULED`) and with a live join handle,
    /// and returns its three references.
    pub(crate) fn allocate<F, S>(
        future: F,
        scheduler: S,
        meta: Meta,
        owner: u32,
    ) -> NewTask<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                // The three returned below.
                refs: AtomicUsize::new(3),
                vtable: vtable::<F, S>(),
                owner,
                owned_index: std::sync::atomic::AtomicU32::new(u32::MAX),
                meta,
                join_waker: Mutex::new(None),
                join_waker_set: AtomicBool::new(false),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        // Cell is repr(C) with the header first: the cell pointer is a header pointer.
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        let handle = RawTask { ptr };
        NewTask {
            owned: RawTask { ptr },
            queued: RawTask { ptr },
            // SAFETY: the future's output is `F::Output`, and this is the
            // one handle of the task: `State::new` set `HANDLE` for it.
            handle: unsafe { JoinHandle::new(handle) },
        }
    }

    /// Takes back a reference given up by [`into_raw`](RawTask::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` came from [`into_raw`](RawTask::into_raw) (or from
    /// [`as_ptr`](RawTask::as_ptr)), and one of these holds:
    ///
    /// * the caller owns the reference that `into_raw` gave up, and hands it
    ///   to the returned value; or
    /// * the caller only borrows a reference that someone else keeps alive
    ///   for as long as the returned value is used, and never drops it
    ///   (it wraps it in `ManuallyDrop`).
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: *const ()) -> RawTask {
        // SAFETY: `into_raw` and `as_ptr` never return null.
        let ptr = unsafe { NonNull::new_unchecked(ptr.cast_mut().cast::<Header>()) };
        RawTask { ptr }
    }

    /// Gives up the value without releasing its reference, which now travels
    /// with the returned pointer until [`from_raw`](RawTask::from_raw).
    #[inline]
    pub(crate) fn into_raw(self) -> *const () {
        let ptr = self.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// The pointer, without giving up the reference (for a borrowed waker).
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr().cast_const().cast()
    }

    /// The task's header.
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we own a reference, so the allocation lives at least as
        // long as this borrow of us.
        unsafe { self.ptr.as_ref() }
    }

    /// Whether both point at the same task.
    pub(crate) fn ptr_eq(&self, other: &RawTask) -> bool {
        self.ptr == other.ptr
    }

    /// Wakes the task (`Waker::wake_by_ref`; `Waker::wake` is this, then
    /// the drop of the waker's reference).
    #[inline]
    pub(crate) fn wake_by_ref(&self) {
        // Set SCHEDULED; only the wake that set it on an idle task queues it.
        if self.header().state.transition_to_notified() == TransitionToNotified::Submit {
            self.schedule();
        }
    }

    /// Requests cancellation (`JoinHandle::abort`).
    pub(crate) fn abort(&self) {
        // Set CANCELLED (and SCHEDULED if idle); an idle task is queued so
        // that the loop drops its future.
        if self.header().state.transition_to_cancelled() == TransitionToNotified::Submit {
            self.schedule();
        }
    }

    /// Hands a new reference to the task's scheduler.
    ///
    /// We keep our own reference through the call, on purpose: the scheduler
    /// lives in the cell, and it may drop the new reference at once (a closed
    /// runtime does), which must not free the cell under it.
    fn schedule(&self) {
        // SAFETY: the table is this task's own.
        unsafe { (self.header().vtable.schedule)(self) }
    }

    /// Polls the task once (or drops its future, if it was aborted).
    ///
    /// # Safety
    ///
    /// The caller is the loop thread that owns the task (the thread of its
    /// [`OwnedTasks`](super::owned::OwnedTasks)). The future need not be
    /// `Send`, so no other thread may poll or drop it. (Two runs at once are
    /// excluded by the state machine, which refuses to start a run while
    /// `RUNNING` is set.)
    pub(crate) unsafe fn run(&self) -> RunOutcome {
        // SAFETY: the table is this task's own; the thread is the caller's promise.
        unsafe { (self.header().vtable.run)(self) }
    }

    /// Cancels the task at runtime shutdown, dropping its future here.
    ///
    /// # Safety
    ///
    /// As for [`run`](RawTask::run).
    pub(crate) unsafe fn shutdown(&self) {
        // SAFETY: the table is this task's own; the thread is the caller's promise.
        unsafe { (self.header().vtable.shutdown)(self) }
    }

    /// Moves the stored result into `dst`.
    ///
    /// # Safety
    ///
    /// `T` is the output type of the task's future; the caller is the task's
    /// join handle (which owns the result while `HANDLE` is set) and has seen
    /// `COMPLETE`.
    ///
    /// # Panics
    ///
    /// If the result was taken already (a `JoinHandle` polled after it
    /// returned `Ready`).
    pub(crate) unsafe fn take_output<T>(&self, dst: &mut Poll<Result<T, JoinError>>) {
        let dst = (dst as *mut Poll<Result<T, JoinError>>).cast::<()>();
        // SAFETY: the table is this task's own; the output type, the
        // ownership of the result and `COMPLETE` are the caller's promises.
        unsafe { (self.header().vtable.take_output)(self, dst) }
    }

    /// Drops the stored result, if it is still there.
    ///
    /// # Safety
    ///
    /// The caller is the task's join handle, and the state machine gave it
    /// the result to drop ([`HandleDropped::HandleDropsResult`](super::state::HandleDropped)).
    pub(crate) unsafe fn drop_output(&self) {
        // SAFETY: the table is this task's own; the ownership of the result
        // is the caller's promise.
        unsafe { (self.header().vtable.drop_output)(self) }
    }

    /// The task's cell with its concrete types.
    ///
    /// # Safety
    ///
    /// The task was allocated with these same `F` and `S`, which holds when
    /// the caller was reached through the task's own vtable.
    pub(super) unsafe fn cell<F: Future, S>(&self) -> &Cell<F, S> {
        // SAFETY: the header is the first field of a repr(C) cell, so the
        // cast gets the cell back (its types are the caller's promise), and
        // our reference keeps it alive for the borrow of `self`.
        unsafe { self.ptr.cast::<Cell<F, S>>().as_ref() }
    }
}

impl Clone for RawTask {
    #[inline]
    fn clone(&self) -> RawTask {
        // Relaxed is enough to add a reference when one is already held (as
        // with Arc::clone); the guard against overflow mirrors Arc's.
        let old = self.header().refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
        RawTask { ptr: self.ptr }
    }
}

impl Drop for RawTask {
    #[inline]
    fn drop(&mut self) {
        let header = self.header();
        if header.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: that was the last reference: nobody else can reach the
            // task, and the table is the one built for this allocation.
            unsafe { (header.vtable.dealloc)(self.ptr) }
        }
    }
}

impl fmt::Debug for RawTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTask")
            .field("id", &self.header().meta.id)
            .field("state", &self.header().state.snapshot())
            .finish()
    }
}

/// The panic payload type used by [`JoinError`].
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

#[cfg(test)]
mod tests {
    //! The reference rule of the module docs, step by step: who adds a
    //! reference, who releases one, and that the last release frees the
    //! task exactly once. Each test runs the task on its own thread, which
    //! plays the owning loop thread.
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::task::{Context, Poll};

    use super::super::waker::waker_ref;
    use super::super::{End, Task};
    use super::*;

    /// Every task pays for its header, idle or not: 88 bytes on 64-bit
    /// Linux (the idle-memory row of `benches/runtimes` counts it). A field
    /// that grows it should say what it buys.
    #[test]
    #[cfg(all(target_pointer_width = "64", target_os = "linux", not(evloop_loom)))]
    fn header_is_88_bytes() {
        assert_eq!(std::mem::size_of::<Meta>(), 24, "id, thin name, location");
        assert_eq!(std::mem::size_of::<Header>(), 88);
    }

    /// A run queue that counts how often its scheduler is dropped (which
    /// happens exactly when the task's cell is freed).
    #[derive(Default)]
    struct Probe {
        queue: Mutex<Vec<Task>>,
        freed: AtomicUsize,
        polls: AtomicUsize,
        ready: AtomicBool,
    }

    struct TestScheduler(Arc<Probe>);

    impl Schedule for TestScheduler {
        fn schedule(&self, task: Task) {
            self.0.queue.lock().unwrap().push(task);
        }
    }

    impl Drop for TestScheduler {
        fn drop(&mut self) {
            self.0.freed.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Probe {
        fn queued(&self) -> usize {
            self.queue.lock().unwrap().len()
        }
    }

    /// A task whose future counts its polls and is ready once
    /// `probe.ready` is set.
    fn spawn(probe: &Arc<Probe>) -> NewTask<u32> {
        let p = probe.clone();
        let future = std::future::poll_fn(move |_| {
            p.polls.fetch_add(1, Ordering::SeqCst);
            if p.ready.load(Ordering::SeqCst) {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        });
        let meta = Meta {
            id: Id::next(),
            name: None,
            location: Location::caller(),
        };
        RawTask::allocate(future, TestScheduler(probe.clone()), meta, 0)
    }

    /// Polls once, as the owning loop thread.
    fn run(task: &RawTask) -> RunOutcome {
        // SAFETY: the test thread plays the loop thread, and it is the only
        // thread that ever runs this task.
        unsafe { task.run() }
    }

    #[test]
    fn clones_add_and_drops_release_references() {
        let probe = Arc::new(Probe::default());
        let NewTask {
            owned,
            queued,
            handle,
        } = spawn(&probe);
        assert_eq!(owned.header().ref_count(), 3, "owner list, queue, handle");
        let extra = owned.clone();
        assert!(extra.ptr_eq(&owned));
        assert_eq!(owned.header().ref_count(), 4);
        drop(extra);
        assert_eq!(owned.header().ref_count(), 3);
        let abort = handle.abort_handle();
        let abort2 = abort.clone();
        assert_eq!(owned.header().ref_count(), 5);
        drop((abort, abort2));
        assert_eq!(owned.header().ref_count(), 3);

        // Run to completion, then release the three: the last one frees.
        probe.ready.store(true, Ordering::SeqCst);
        assert_eq!(run(&queued), RunOutcome::Complete(End::Output));
        drop(queued);
        assert_eq!(owned.header().ref_count(), 2);
        drop(handle);
        assert_eq!(owned.header().ref_count(), 1);
        assert_eq!(
            probe.freed.load(Ordering::SeqCst),
            0,
            "one reference is left"
        );
        drop(owned);
        assert_eq!(probe.freed.load(Ordering::SeqCst), 1, "freed with the last");
    }

    #[test]
    fn into_raw_and_from_raw_carry_one_reference() {
        let probe = Arc::new(Probe::default());
        let task = spawn(&probe);
        let ptr = task.owned.clone().into_raw();
        assert_eq!(ptr, task.owned.as_ptr());
        assert_eq!(task.owned.header().ref_count(), 4, "the pointer holds one");
        // SAFETY: `ptr` came from `into_raw`, and we hand its reference back.
        let back = unsafe { RawTask::from_raw(ptr) };
        assert!(back.ptr_eq(&task.owned));
        assert_eq!(task.owned.header().ref_count(), 4);
        drop(back);
        assert_eq!(task.owned.header().ref_count(), 3);
        // Follow the protocol to the end: the future is dropped by a run.
        probe.ready.store(true, Ordering::SeqCst);
        assert_eq!(run(&task.queued), RunOutcome::Complete(End::Output));
        drop(task);
        assert_eq!(probe.freed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_lent_waker_costs_nothing_and_its_clones_own_a_reference() {
        let probe = Arc::new(Probe::default());
        let task = spawn(&probe);
        assert_eq!(run(&task.queued), RunOutcome::Pending);
        drop(task.queued);
        assert_eq!(task.owned.header().ref_count(), 2, "owner list and handle");

        let owned_waker = {
            let lent = waker_ref(&task.owned);
            assert_eq!(task.owned.header().ref_count(), 2, "lending adds nothing");
            let owned_waker = Waker::clone(&lent);
            assert_eq!(task.owned.header().ref_count(), 3);
            assert!(owned_waker.will_wake(&lent));

            // Waking by reference queues the idle task with a new reference.
            lent.wake_by_ref();
            assert_eq!(probe.queued(), 1);
            assert_eq!(task.owned.header().ref_count(), 4);
            // A second wake finds it queued already: nothing changes.
            lent.wake_by_ref();
            assert_eq!(probe.queued(), 1);
            assert_eq!(task.owned.header().ref_count(), 4);
            owned_waker
        };
        // The lend ended: it released nothing.
        assert_eq!(task.owned.header().ref_count(), 4);

        // Waking by value releases the waker's reference.
        owned_waker.wake();
        assert_eq!(probe.queued(), 1);
        assert_eq!(task.owned.header().ref_count(), 3);

        let entry = probe.queue.lock().unwrap().pop().unwrap();
        probe.ready.store(true, Ordering::SeqCst);
        assert_eq!(run(&entry.raw), RunOutcome::Complete(End::Output));
        assert_eq!(probe.polls.load(Ordering::SeqCst), 2);
        drop(entry);
        let mut handle = task.handle;
        let out = Pin::new(&mut handle).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(out, Poll::Ready(Ok(7))));
        drop(handle);
        drop(task.owned);
        assert_eq!(probe.freed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_wake_during_the_poll_queues_the_task_once_after_it() {
        let probe = Arc::new(Probe::default());
        let p = probe.clone();
        let future = std::future::poll_fn(move |cx| {
            p.polls.fetch_add(1, Ordering::SeqCst);
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
            assert_eq!(p.queued(), 0, "nothing is queued while the poll runs");
            Poll::<()>::Pending
        });
        let meta = Meta {
            id: Id::next(),
            name: None,
            location: Location::caller(),
        };
        let task = RawTask::allocate(future, TestScheduler(probe.clone()), meta, 0);
        assert_eq!(run(&task.queued), RunOutcome::Pending);
        assert_eq!(probe.queued(), 1, "queued again, once");
        assert_eq!(task.owned.header().ref_count(), 4);
        drop(task.queued);

        // Abort, then let the queue entry drop the future.
        task.handle.abort();
        assert_eq!(probe.queued(), 1, "already queued: abort adds no entry");
        let entry = probe.queue.lock().unwrap().pop().unwrap();
        assert_eq!(run(&entry.raw), RunOutcome::Complete(End::Cancelled));
        assert_eq!(
            probe.polls.load(Ordering::SeqCst),
            1,
            "cancelled, not polled"
        );
        drop((entry, task.handle));
        assert_eq!(probe.freed.load(Ordering::SeqCst), 0);
        drop(task.owned);
        assert_eq!(probe.freed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn abort_queues_an_idle_task_once() {
        let probe = Arc::new(Probe::default());
        let task = spawn(&probe);
        assert_eq!(run(&task.queued), RunOutcome::Pending);
        assert_eq!(task.owned.header().ref_count(), 3);
        task.handle.abort();
        task.handle.abort();
        assert_eq!(probe.queued(), 1);
        assert_eq!(task.owned.header().ref_count(), 4);
        let entry = probe.queue.lock().unwrap().pop().unwrap();
        assert_eq!(run(&entry.raw), RunOutcome::Complete(End::Cancelled));
        assert_eq!(
            run(&task.queued),
            RunOutcome::Stale,
            "a stale entry does nothing"
        );
        assert_eq!(probe.polls.load(Ordering::SeqCst), 1);
        drop((entry, task));
        assert_eq!(probe.freed.load(Ordering::SeqCst), 1);
    }
}
