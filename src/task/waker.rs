//! The waker of a task: a `RawWaker` whose data pointer is the task header.
//!
//! Cloning a waker adds a reference to the task; dropping it removes one; waking
//! runs the `notified` transition and, if the task was idle, hands a new
//! reference to the scheduler. Wakers are `Send + Sync`: the header is all
//! atomics, and the scheduler decides whether the push goes to the loop's local
//! queue or, from another thread, to the remote queue.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::Header;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn header(data: *const ()) -> NonNull<Header> {
    NonNull::new(data as *mut Header).expect("a task waker's data pointer is never null")
}

fn clone(data: *const ()) -> RawWaker {
    // SAFETY: a waker exists, so it holds (or borrows) a reference: the task is alive.
    unsafe { header(data).as_ref() }.ref_inc();
    RawWaker::new(data, &VTABLE)
}

fn wake(data: *const ()) {
    let ptr = header(data);
    Header::wake_by_ref(ptr);
    Header::ref_dec(ptr);
}

fn wake_by_ref(data: *const ()) {
    Header::wake_by_ref(header(data));
}

fn drop_waker(data: *const ()) {
    Header::ref_dec(header(data));
}

/// A waker that borrows the caller's reference: it must never be dropped
/// (wrap it in `ManuallyDrop`).
///
/// # Safety
///
/// `ptr` is a live task header and the caller keeps its reference for as long
/// as the returned waker (or anything borrowing it) is used.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: as for `owned`, except that no reference was added: the caller
    // guarantees it outlives the waker and never drops it.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}
