//! The typed half of a task: the functions behind its [`Vtable`], the only
//! code of evloop that knows the concrete future type `F` and scheduler type
//! `S` of a task.
//!
//! Each one casts the task back to its `Cell<F, S>` and does one job: poll
//! the future (and complete the task when it ends), cancel it at shutdown,
//! queue it, hand out or drop the stored result, free the allocation.
//! [`RawTask`]'s methods are their only callers; the `# Safety` section of
//! each says what the caller must guarantee beyond "this is the task's own
//! table".

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::join::JoinError;
use super::raw::{Cell, Header, Meta, RawTask, Stage};
use super::state::{TransitionToComplete, TransitionToIdle, TransitionToRunning};
use super::sync_prims::fence;
use super::{End, Schedule, Task};

/// The type-erased functions of one `(F, S)` pair.
///
/// Each function casts the task back to its `Cell<F, S>`, so each is
/// `unsafe`: it may only be called for a task whose header holds this very
/// table. [`RawTask`]'s methods are the only callers, and they always take
/// the table from the task's own header.
pub(super) struct Vtable {
    /// Poll (or cancel) the task. The caller lends its reference.
    pub(super) run: unsafe fn(&RawTask) -> RunOutcome,
    /// Cancel at shutdown. The caller lends its reference.
    pub(super) shutdown: unsafe fn(&RawTask),
    /// Hand a new reference to the scheduler. The caller's reference keeps
    /// the cell (and so the scheduler in it) alive during the call.
    pub(super) schedule: unsafe fn(&RawTask),
    /// Move the result out into `*dst` (a `Poll<Result<T, JoinError>>`).
    pub(super) take_output: unsafe fn(&RawTask, dst: *mut ()),
    /// Drop the stored result (handle dropped after completion).
    pub(super) drop_output: unsafe fn(&RawTask),
    /// Free the allocation.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
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

/// The table of one `(F, S)` pair, built at compile time.
pub(super) fn vtable<F, S>() -> &'static Vtable
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
        cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING is set by us, so nobody else touches the stage,
            // and this is the owning thread; the future never moves (it lives
            // in a heap cell until it is dropped).
            let stage = unsafe { &mut *stage };
            let Stage::Running(future) = stage else {
                unreachable!("a task that is not complete still holds its future")
            };
            // SAFETY: see above: the cell is pinned in the heap.
            unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
        })
    }));

    match polled {
        // The poll is over: clear RUNNING (unless an abort came during it),
        // learning whether a wake came during it.
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
        cell.stage.with_mut(|stage| {
            // SAFETY: RUNNING is set by the caller, on the owning thread: the
            // stage is ours.
            unsafe { *stage = Stage::Consumed }
        });
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
    cell.stage.with_mut(|stage| {
        // SAFETY: still ours until the transition below publishes it.
        unsafe { *stage = Stage::Finished(result) }
    });

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
            let stage = cell.stage.with_mut(|stage| {
                // SAFETY: the handle is gone; the state machine gave the
                // result to us.
                unsafe { std::mem::replace(&mut *stage, Stage::Consumed) }
            });
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
    let stage = cell.stage.with_mut(|stage| {
        // SAFETY: COMPLETE was observed with Acquire, so the stage write is
        // visible, and the handle is the only party allowed to touch it now.
        unsafe { std::mem::replace(&mut *stage, Stage::Consumed) }
    });
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
    let stage = cell.stage.with_mut(|stage| {
        // SAFETY: as in take_output: the handle owns the stored result.
        unsafe { std::mem::replace(&mut *stage, Stage::Consumed) }
    });
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
    // Freeing the stage is a write to it: every thread's access must come
    // before it. Nothing in a normal build; in the loom models, the access
    // that lets loom check that the last reference was released with the
    // ordering that makes it so.
    cell.stage.with_mut(|_| ());
    drop(cell);
}
