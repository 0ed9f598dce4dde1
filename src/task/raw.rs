//! One allocation per task: a [`Header`] followed by the scheduler and the
//! future (later its result), reached through [`RawTask`], a counted pointer
//! to it.
//!
//! The layout is `#[repr(C)]` with the header first, so a pointer to the
//! whole cell is also a pointer to its header. Everything outside this file
//! holds a [`RawTask`] and calls its methods, which go through a type-erased
//! [`Vtable`]; only the functions here know the concrete future type `F` and
//! scheduler type `S`.
//!
//! # References
//!
//! The header counts references, and the allocation is freed when the count
//! drops to zero. Each reference is owned by exactly one `RawTask` value:
//! the owner list's [`Task`], each run-queue `Task`, the
//! [`JoinHandle`](super::JoinHandle), each [`AbortHandle`](super::AbortHandle),
//! and each `Waker`, which keeps its reference as a bare data pointer between
//! [`RawTask::into_raw`] and [`RawTask::from_raw`]. So holding a `RawTask` is
//! holding a reference: cloning one adds a reference, dropping one releases
//! it, and the last drop frees the task. Because of that rule, every `&self`
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
//!   gone (see [`super::state`]).

use std::any::Any;
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::task::{Context, Poll, Waker};

use super::join::{JoinError, JoinHandle};
use super::state::{
    State, TransitionToComplete, TransitionToIdle, TransitionToNotified, TransitionToRunning,
};
use super::{End, Id, Schedule, Task};

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
    pub(crate) owner: u64,
    /// Position in the owner's list; read and written only on the loop thread.
    pub(crate) owned_index: AtomicUsize,
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
    pub(crate) name: Option<Box<str>>,
    pub(crate) location: &'static Location<'static>,
}

impl Meta {
    /// `'download 3'` or `task 7`, for messages.
    pub(crate) fn describe(&self) -> String {
        match &self.name {
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

/// The type-erased functions of one `(F, S)` pair.
///
/// Each function casts the task back to its `Cell<F, S>`, so each is
/// `unsafe`: it may only be called for a task whose header holds this very
/// table. [`RawTask`]'s methods are the only callers, and they always take
/// the table from the task's own header.
struct Vtable {
    /// Poll (or cancel) the task. The caller lends its reference.
    run: unsafe fn(&RawTask) -> RunOutcome,
    /// Cancel at shutdown. The caller lends its reference.
    shutdown: unsafe fn(&RawTask),
    /// Hand a new reference to the scheduler. The caller's reference keeps
    /// the cell (and so the scheduler in it) alive during the call.
    schedule: unsafe fn(&RawTask),
    /// Move the result out into `*dst` (a `Poll<Result<T, JoinError>>`).
    take_output: unsafe fn(&RawTask, dst: *mut ()),
    /// Drop the stored result (handle dropped after completion).
    drop_output: unsafe fn(&RawTask),
    /// Free the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// What a run of the task did.
#[must_use]
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum RunOutcome {
    /// The task is waiting (or was re-queued).
    Pending,
    /// The task completed now: remove it from its owner's list.
    Complete(End),
    /// The queue entry was stale; nothing happened.
    Stale,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    stage: UnsafeCell<Stage<F>>,
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

// SAFETY: the safe methods touch only the header, which is atomics, a Mutex
// and data fixed at spawn, all of which may be shared between threads. The
// future and the result are reached only through `unsafe` methods whose
// contracts name the thread (`run`, `shutdown`) or the state (`take_output`,
// `drop_output`). Dropping the last reference frees the cell on whatever
// thread that is: that drops the scheduler, which is `Send + Sync` by the
// `Schedule` bounds, and a stage that holds neither future nor result any
// more (the owner list keeps its reference until the future is dropped, and
// the result is dropped by its owner before that party releases its own).
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
        owner: u64,
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
                owned_index: AtomicUsize::new(usize::MAX),
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
    pub(crate) unsafe fn from_raw(ptr: *const ()) -> RawTask {
        // SAFETY: `into_raw` and `as_ptr` never return null.
        let ptr = unsafe { NonNull::new_unchecked(ptr.cast_mut().cast::<Header>()) };
        RawTask { ptr }
    }

    /// Gives up the value without releasing its reference, which now travels
    /// with the returned pointer until [`from_raw`](RawTask::from_raw).
    pub(crate) fn into_raw(self) -> *const () {
        let ptr = self.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// The pointer, without giving up the reference (for a borrowed waker).
    pub(crate) fn as_ptr(&self) -> *const () {
        self.ptr.as_ptr().cast_const().cast()
    }

    /// The task's header.
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
    unsafe fn cell<F: Future, S>(&self) -> &Cell<F, S> {
        // SAFETY: the header is the first field of a repr(C) cell, so the
        // cast gets the cell back (its types are the caller's promise), and
        // our reference keeps it alive for the borrow of `self`.
        unsafe { self.ptr.cast::<Cell<F, S>>().as_ref() }
    }
}

impl Clone for RawTask {
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

fn vtable<F, S>() -> &'static Vtable
where
    F: Future + 'static,
    S: Schedule,
{
    struct Table<F, S>(std::marker::PhantomData<(F, S)>);
    impl<F: Future + 'static, S: Schedule> Table<F, S> {
        const VTABLE: Vtable = Vtable {
            run: run::<F, S>,
            shutdown: shutdown::<F, S>,
            schedule: schedule::<F, S>,
            take_output: take_output::<F, S>,
            drop_output: drop_output::<F, S>,
            dealloc: dealloc::<F, S>,
        };
    }
    &Table::<F, S>::VTABLE
}

/// # Safety
///
/// `task` was allocated with these `F` and `S`, and the caller is the loop
/// thread that owns it ([`RawTask::run`]).
unsafe fn run<F: Future + 'static, S: Schedule>(task: &RawTask) -> RunOutcome {
    // SAFETY: the types are the caller's promise.
    let cell = unsafe { task.cell::<F, S>() };
    // Take the stage: sets RUNNING, or says the entry is stale or aborted.
    match cell.header.state.transition_to_running() {
        TransitionToRunning::Stale => return RunOutcome::Stale,
        TransitionToRunning::Cancel => {
            // SAFETY: RUNNING is set by us, on the owning thread: the stage
            // is ours.
            let end = unsafe { cancel(cell) };
            return RunOutcome::Complete(end);
        }
        TransitionToRunning::Poll => {}
    }

    // A waker that borrows our reference for the length of the poll.
    let waker = super::waker::waker_ref(task);
    let mut cx = Context::from_waker(&waker);

    let polled = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is set by us, so nobody else touches the stage, and
        // this is the owning thread; the future never moves (it lives in a
        // heap cell until it is dropped).
        let stage = unsafe { &mut *cell.stage.get() };
        let Stage::Running(future) = stage else {
            unreachable!("a task that is not complete still holds its future")
        };
        // SAFETY: see above: the cell is pinned in the heap.
        unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
    }));

    match polled {
        // Give the stage back (clears RUNNING), learning of wakes and aborts
        // that came during the poll.
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            TransitionToIdle::Idle => RunOutcome::Pending,
            TransitionToIdle::Reschedule => {
                // Woken during its own poll: queue it again, with a new
                // reference (our lent one keeps the cell alive meanwhile).
                cell.scheduler.schedule(Task::new(task.clone()));
                RunOutcome::Pending
            }
            TransitionToIdle::Cancel => {
                // SAFETY: RUNNING is still set: the stage is ours.
                RunOutcome::Complete(unsafe { cancel(cell) })
            }
        },
        Ok(Poll::Ready(output)) => {
            // SAFETY: RUNNING is set: the stage is ours.
            RunOutcome::Complete(unsafe { complete(cell, Ok(output)) })
        }
        Err(payload) => {
            let error = JoinError::panic(&cell.header.meta, payload);
            // SAFETY: RUNNING is set: the stage is ours.
            RunOutcome::Complete(unsafe { complete(cell, Err(error)) })
        }
    }
}

/// # Safety
///
/// As for [`run`], for a task the runtime is shutting down.
unsafe fn shutdown<F: Future + 'static, S: Schedule>(task: &RawTask) {
    // SAFETY: the types are the caller's promise.
    let cell = unsafe { task.cell::<F, S>() };
    if cell.header.state.transition_to_shutdown() == TransitionToRunning::Cancel {
        // SAFETY: the transition set RUNNING, on the owning thread: the stage
        // is ours.
        let _end = unsafe { cancel(cell) };
    }
}

/// Drops the future and completes with `Cancelled` (or with the panic its
/// drop raised).
///
/// # Safety
///
/// The caller set `RUNNING` and is the owning loop thread.
unsafe fn cancel<F: Future + 'static, S: Schedule>(cell: &Cell<F, S>) -> End {
    let result = Err(JoinError::cancelled(&cell.header.meta));
    // SAFETY: forwarded from the caller.
    unsafe { complete(cell, result) }
}

/// Drops the future, stores the result, and tells the handle.
///
/// # Safety
///
/// The caller set `RUNNING` and is the owning loop thread.
unsafe fn complete<F: Future + 'static, S: Schedule>(
    cell: &Cell<F, S>,
    mut result: Result<F::Output, JoinError>,
) -> End {
    // Drop the future first, on this thread. Its destructor may panic: then
    // the task ends as a panic (unless it already is one).
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is set by the caller, on the owning thread: the
        // stage is ours.
        unsafe { *cell.stage.get() = Stage::Consumed };
    }));
    if let Err(payload) = dropped
        && !matches!(&result, Err(e) if e.is_panic())
    {
        result = Err(JoinError::panic(&cell.header.meta, payload));
    }
    let end = match &result {
        Ok(_) => End::Output,
        Err(e) if e.is_panic() => End::Panic,
        Err(_) => End::Cancelled,
    };
    // SAFETY: still ours until the transition below publishes it.
    unsafe { *cell.stage.get() = Stage::Finished(result) };

    // Publish the result (clears RUNNING, sets COMPLETE) and learn who owns it.
    match cell.header.state.transition_to_complete() {
        TransitionToComplete::HandleOwnsResult => {
            // Pairs with the fence in `JoinHandle::poll`: either the handle
            // sees COMPLETE after storing its waker, or we see its flag here.
            fence(Ordering::SeqCst);
            if cell.header.join_waker_set.load(Ordering::Acquire) {
                let waker = cell
                    .header
                    .join_waker
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
        TransitionToComplete::RunnerDropsResult => {
            // SAFETY: the handle is gone; the state machine gave the result to us.
            let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
            drop_stage_reporting(stage, &cell.header.meta);
        }
    }
    end
}

/// Drops a stage holding a result nobody will read, reporting an unobserved
/// panic (asyncio's "Task exception was never retrieved").
fn drop_stage_reporting<F: Future>(stage: Stage<F>, meta: &Meta) {
    if let Stage::Finished(Err(error)) = &stage
        && error.is_panic()
    {
        eprintln!(
            "evloop: {} (spawned at {}) panicked and nobody awaited its JoinHandle: {}",
            meta.describe(),
            meta.location,
            error
                .panic_message()
                .unwrap_or_else(|| "<non-string panic payload>".into())
        );
    }
    // The output's own destructor may panic; never let that unwind into the loop.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(stage)));
}

/// # Safety
///
/// `task` was allocated with these `F` and `S`.
unsafe fn schedule<F: Future + 'static, S: Schedule>(task: &RawTask) {
    // SAFETY: the types are the caller's promise.
    let cell = unsafe { task.cell::<F, S>() };
    cell.scheduler.schedule(Task::new(task.clone()));
}

/// # Safety
///
/// `task` was allocated with these `F` and `S`, the caller is its join handle
/// and has seen `COMPLETE`, and `dst` points to a valid
/// `Poll<Result<F::Output, JoinError>>` ([`RawTask::take_output`]).
unsafe fn take_output<F: Future + 'static, S: Schedule>(task: &RawTask, dst: *mut ()) {
    // SAFETY: the types are the caller's promise.
    let cell = unsafe { task.cell::<F, S>() };
    // SAFETY: COMPLETE was observed with Acquire, so the stage write is
    // visible, and the handle is the only party allowed to touch it now.
    let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
    let Stage::Finished(result) = stage else {
        panic!("JoinHandle polled after it returned its result");
    };
    // SAFETY: the caller promises `dst` has this type.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(result) };
}

/// # Safety
///
/// `task` was allocated with these `F` and `S`, and the caller is its join
/// handle, which the state machine gave the result to drop
/// ([`RawTask::drop_output`]).
unsafe fn drop_output<F: Future + 'static, S: Schedule>(task: &RawTask) {
    // SAFETY: the types are the caller's promise.
    let cell = unsafe { task.cell::<F, S>() };
    // SAFETY: as in take_output: the handle owns the stored result.
    let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
    drop_stage_reporting(stage, &cell.header.meta);
}

/// # Safety
///
/// `ptr` is a task allocated with these `F` and `S` whose last reference was
/// just released.
unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the allocation came from Box::new in `allocate` with this type,
    // and no reference to it remains. The stage holds no future by now (the
    // owner list keeps a reference until the future is dropped), so nothing
    // of `F` runs here, whatever thread this is.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    drop(cell);
}

/// The panic payload type used by [`JoinError`].
pub(crate) type Payload = Box<dyn Any + Send + 'static>;
