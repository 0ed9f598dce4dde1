//! The waker of a task: a `RawWaker` whose data pointer is a task reference.
//!
//! A waker owns one reference to its task, kept as the bare pointer of
//! [`RawTask::into_raw`]. Cloning a waker adds a reference; dropping it
//! removes one; waking runs the `notified` transition and, if the task was
//! idle, hands a new reference to the scheduler. Wakers are `Send + Sync`:
//! the header is all atomics, and the scheduler decides whether the push goes
//! to the loop's local queue or, from another thread, to the remote queue.
//!
//! While the loop polls a task it lends the poll a [`WakerRef`], a waker that
//! borrows the runner's reference instead of holding one, so that a poll
//! that never clones its waker costs no reference counting at all.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::RawTask;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// # Safety
///
/// `data` is the data pointer of a waker made with [`VTABLE`]: a task
/// reference owned by that waker, or lent to it by a [`WakerRef`]. The std
/// `RawWaker` contract guarantees this for every call through the table.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned keeps its reference, so we only borrow
    // it (ManuallyDrop: this copy must not release it).
    let task = ManuallyDrop::new(unsafe { RawTask::from_raw(data) });
    RawWaker::new(RawTask::clone(&task).into_raw(), &VTABLE)
}

/// # Safety
///
/// As for [`clone`]; the waker is consumed, so its reference is ours to drop
/// (a `WakerRef` never reaches here: it only lends `&Waker`).
unsafe fn wake(data: *const ()) {
    // SAFETY: the waker gives us its reference.
    let task = unsafe { RawTask::from_raw(data) };
    task.wake_by_ref();
}

/// # Safety
///
/// As for [`clone`].
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker keeps its reference, so we only borrow it.
    let task = ManuallyDrop::new(unsafe { RawTask::from_raw(data) });
    task.wake_by_ref();
}

/// # Safety
///
/// As for [`wake`].
unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker gives us its reference, which dropping releases.
    drop(unsafe { RawTask::from_raw(data) });
}

/// A waker that borrows a task reference instead of holding one.
///
/// It derefs to `&Waker` only, so whoever uses it can wake it by reference or
/// clone it (the clone holds a reference of its own), but never drop the
/// borrowed reference; the lifetime keeps it from outliving the lender.
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a RawTask>,
}

/// A waker for `task` that borrows its reference.
pub(crate) fn waker_ref(task: &RawTask) -> WakerRef<'_> {
    // SAFETY: the data pointer is a live task reference, which is what every
    // function of VTABLE expects. It is lent, not given: the waker sits in a
    // ManuallyDrop that is never dropped or moved out, and WakerRef's
    // lifetime ends before `task` can release the reference.
    let waker = unsafe { Waker::from_raw(RawWaker::new(task.as_ptr(), &VTABLE)) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
        _task: PhantomData,
    }
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}
