//! One allocation per task: a [`Header`] followed by the scheduler and the
//! future (later its result), reached through a type-erased vtable.
//!
//! The layout is `#[repr(C)]` with the header first, so a pointer to the
//! whole cell is also a pointer to its header. Everything outside this file
//! holds a `NonNull<Header>` and calls through [`Vtable`]; only the functions
//! here know the concrete future type `F` and scheduler type `S`.
//!
//! Who may touch what:
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
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::task::{Context, Poll, Waker};

use super::join::JoinError;
use super::state::{
    State, TransitionToComplete, TransitionToIdle, TransitionToNotified, TransitionToRunning,
};
use super::{End, Id, Schedule, Task};

/// The part of a task that every thread may read, whatever its future.
#[repr(C)]
pub(crate) struct Header {
    /// Flags; see [`super::state`].
    pub(crate) state: State,
    /// Reference count: the owner list, each queue entry, each waker, the handle.
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

/// The type-erased functions of one `(F, S)` pair.
pub(crate) struct Vtable {
    /// Poll (or cancel) the task. The caller lends its reference.
    pub(crate) run: unsafe fn(NonNull<Header>) -> RunOutcome,
    /// Cancel at shutdown. The caller lends its reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
    /// Give one reference to the scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Move the result out into `*dst` (a `Poll<Result<T, JoinError>>`).
    pub(crate) take_result: unsafe fn(NonNull<Header>, dst: *mut ()),
    /// Drop the stored result (handle dropped after completion).
    pub(crate) drop_result: unsafe fn(NonNull<Header>),
    /// Free the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
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

impl Header {
    pub(crate) fn ref_inc(&self) {
        // Relaxed is enough to add a reference when one is already held (as
        // with Arc::clone); the guard against overflow mirrors Arc's.
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; frees the task if it was the last.
    pub(crate) fn ref_dec(ptr: NonNull<Header>) {
        // SAFETY: the caller owns a reference, so the allocation is alive.
        let header = unsafe { ptr.as_ref() };
        if header.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: that was the last reference: nobody else can reach the
            // task, and the vtable matches the allocation it was built with.
            unsafe { (header.vtable.dealloc)(ptr) }
        }
    }

    /// How many references exist now (for the lost wake-up check).
    pub(crate) fn ref_count(&self) -> usize {
        self.refs.load(Ordering::Acquire)
    }

    pub(crate) fn vtable(&self) -> &'static Vtable {
        self.vtable
    }

    /// Wakes the task through a borrowed reference (`Waker::wake_by_ref`).
    pub(crate) fn wake_by_ref(ptr: NonNull<Header>) {
        // SAFETY: the caller holds a reference, so the header is alive.
        let header = unsafe { ptr.as_ref() };
        if header.state.transition_to_notified() == TransitionToNotified::Submit {
            header.ref_inc();
            // SAFETY: we just created the reference that `schedule` consumes.
            unsafe { (header.vtable.schedule)(ptr) }
        }
    }

    /// Requests cancellation (`JoinHandle::abort`).
    pub(crate) fn abort(ptr: NonNull<Header>) {
        // SAFETY: the caller holds a reference, so the header is alive.
        let header = unsafe { ptr.as_ref() };
        if header.state.transition_to_cancelled() == TransitionToNotified::Submit {
            header.ref_inc();
            // SAFETY: we just created the reference that `schedule` consumes.
            unsafe { (header.vtable.schedule)(ptr) }
        }
    }
}

/// Allocates a task. Returns a pointer carrying `refs` references.
pub(crate) fn allocate<F, S>(future: F, scheduler: S, meta: Meta, owner: u64) -> NonNull<Header>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(),
            // The owner list, the run queue and the join handle.
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
    NonNull::from(Box::leak(cell)).cast::<Header>()
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
            take_result: take_result::<F, S>,
            drop_result: drop_result::<F, S>,
            dealloc: dealloc::<F, S>,
        };
    }
    &Table::<F, S>::VTABLE
}

/// # Safety
///
/// `ptr` must point to a live `Cell<F, S>` built by [`allocate`] with these
/// same type parameters.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: guaranteed by the caller; the header is the first field of a
    // repr(C) cell, so the cast gets the cell back.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// # Safety
///
/// As for [`cell`]; in addition the caller must be the loop thread owning the
/// task, holding a reference, with no other run of this task in progress.
unsafe fn run<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) -> RunOutcome {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        TransitionToRunning::Stale => return RunOutcome::Stale,
        TransitionToRunning::Cancel => {
            // SAFETY: RUNNING is set by us: we have the stage to ourselves.
            let end = unsafe { cancel(cell) };
            return RunOutcome::Complete(end);
        }
        TransitionToRunning::Poll => {}
    }

    // A waker that borrows our reference: it must not drop it, hence ManuallyDrop.
    // SAFETY: the data pointer is a live task header and the vtable is the
    // task waker vtable, whose clone adds a reference of its own.
    let waker = ManuallyDrop::new(unsafe { super::waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);

    let polled = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is set by us, so nobody else touches the stage; the
        // future never moves (it lives in a heap cell until it is dropped).
        let stage = unsafe { &mut *cell.stage.get() };
        let Stage::Running(future) = stage else {
            unreachable!("a task that is not complete still holds its future")
        };
        // SAFETY: see above: the cell is pinned in the heap.
        unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
    }));

    match polled {
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            TransitionToIdle::Idle => RunOutcome::Pending,
            TransitionToIdle::Reschedule => {
                cell.header.ref_inc();
                cell.scheduler.schedule(Task::from_raw(ptr));
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
unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() == TransitionToRunning::Cancel {
        // SAFETY: the transition set RUNNING: the stage is ours.
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
        // SAFETY: RUNNING is set by the caller: the stage is ours.
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
/// `ptr` is a live cell of these types and the caller gives up one reference.
unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.scheduler.schedule(Task::from_raw(ptr));
}

/// # Safety
///
/// `ptr` is a live cell of these types, the state says `COMPLETE` and the
/// caller is the join handle (which owns the result), and `dst` points to a
/// valid `Poll<Result<F::Output, JoinError>>`.
unsafe fn take_result<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
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
/// As for [`take_result`], without `dst`.
unsafe fn drop_result<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: as in take_result: the handle owns the stored result.
    let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
    drop_stage_reporting(stage, &cell.header.meta);
}

/// # Safety
///
/// `ptr` is a cell of these types whose last reference was just released.
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
